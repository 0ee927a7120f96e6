/*
 * internal.h — private interfaces shared between the runtime's C files. Not part of the ABI that
 * generated code sees (that is include/wasmaot_rt.h only).
 */
#ifndef WASMAOT_INTERNAL_H
#define WASMAOT_INTERNAL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* openat2 syscall number, O_PATH, MAP_NORESERVE, getrandom, sigaltstack */
#include "wasi_funcs.h"
#endif
#include <setjmp.h>
#include <stdint.h>
#include <stddef.h>
#include <time.h>
#include "wasmaot_rt.h"

#define WASMAOT_HIDDEN __attribute__((visibility("hidden")))

/* ---- Traps (trap.c) ----
 * An embedder that wants traps to unwind instead of ending the process does
 *     sigjmp_buf jb; sigjmp_buf *prev = wasmaot_trap_set_handler(&jb);
 *     if (sigsetjmp(jb, 1) == 0) { ...call wasm... } else { kind = wasmaot_trap_last_kind(); }
 *     wasmaot_trap_set_handler(prev);
 * The landing pad is per thread. */
sigjmp_buf *wasmaot_trap_set_handler(sigjmp_buf *jb);
int wasmaot_trap_last_kind(void);
/* Where the current landing pad's frame is (the address of its sigjmp_buf, in the frame that
 * called the Wasm code), 0 if none: an exception unwinding past it is uncaught (exn.c). */
uintptr_t wasmaot_trap_boundary(void);

/* Installs the SIGSEGV/SIGBUS handler (on a per-thread alternate stack). Idempotent per process
 * for the handler; call wasmaot_thread_init_altstack() in every other thread that runs Wasm. */
int wasmaot_signals_install(void);
int wasmaot_thread_init_altstack(void);

/* Linear-memory reservations the fault handler turns into "out of bounds memory access". */
int wasmaot_reservation_register(void *base, uint64_t len);
/* A module's generated code [start, end) (wasmaot_module_desc.code_start/end); idempotent. */
int wasmaot_code_register(const void *start, const void *end);
void wasmaot_reservation_unregister(void *base);

/* The current thread's stack: generated code traps below `limit`; a fault in [guard_lo, hi) is
 * treated as stack exhaustion (the real guard page below the stack rlimit). */
void wasmaot_thread_set_stack(uintptr_t limit, uintptr_t guard_lo, uintptr_t hi);
uintptr_t wasmaot_thread_stack_limit(void);
/* The top (highest address) of the current thread's stack, 0 if unknown. */
uintptr_t wasmaot_thread_stack_high(void);
/* An embedder's value that may be an exception of this thread (the letters of canonical types
 * do not tell exnrefs from funcrefs): pins it if it is one. */
void wasmaot_exn_pin_if_exception(void *value);
/* Computes the main thread's stack bounds from RLIMIT_STACK and sets them for this thread. */
void wasmaot_main_thread_stack_setup(char **argv);

/* ---- Instances (instance.c) ---- */
struct wasmaot_wasi;
typedef struct wasmaot_host {
    const wasmaot_module_desc *desc;
    struct wasmaot_wasi *wasi; /* NULL: the process-wide context (wasmaot_wasi_process) */
    wasmaot_memory **own_memories; /* per memory index: the ones this instance defined (freed with it) */
    wasmaot_funcref *host_refs;  /* funcref records made for host imports */
    void *embedder;              /* free for the embedding API */
} wasmaot_host;

void wasmaot_instance_delete(wasmaot_vmctx *vm);

/* ---- WASI (wasi_*.c) ---- */
enum { WASI_FD_FREE = 0, WASI_FD_OPEN = 1 };
struct wasi_dirlist;
typedef struct wasi_fd {
    int host;        /* host file descriptor */
    uint8_t state;   /* WASI_FD_* */
    uint8_t filetype;/* preview1 filetype, cached at open */
    char *preopen;   /* guest name if this is a preopened directory, else NULL */
    uint64_t rights_base, rights_inheriting; /* preview1 rights (only ever shrink) */
    struct wasi_dirlist *dir; /* fd_readdir snapshot (cookie = index), or NULL */
    uint16_t sync_flags; /* DSYNC/RSYNC/SYNC set by fd_fdstat_set_flags (emulated: sync after writes) */
} wasi_fd;

typedef struct wasmaot_wasi {
    uint32_t argc;
    char **argv;
    uint32_t envc;
    char **env;      /* "KEY=VALUE" strings */
    uint32_t nfds;   /* capacity of fds */
    wasi_fd *fds;
    int bench_timing;
    struct timespec bench_t0;
} wasmaot_wasi;

/* The context used by instances whose host->wasi is NULL (the executable's). */
extern wasmaot_wasi *wasmaot_wasi_process;

/* Parses a WASMAOT_WASI-syntax string into a fresh context with the given guest argv. On error
 * returns NULL and sets *error to a malloc'ed message. */
wasmaot_wasi *wasmaot_wasi_from_config(const char *config, int argc, char **argv, char **error);
wasmaot_wasi *wasmaot_wasi_of(wasmaot_vmctx *vm);

/* Guest memory access: pointer to [off, off+len) or NULL if any byte is out of bounds. */
static inline uint8_t *wasi_mem(wasmaot_vmctx *vm, uint32_t off, uint64_t len) {
    if (!vm->memory || (uint64_t)off + len > vm->memory->size) return NULL;
    return vm->mem_base + off;
}
static inline void wasi_store32(uint8_t *p, uint32_t v) { __builtin_memcpy(p, &v, 4); }
static inline void wasi_store64(uint8_t *p, uint64_t v) { __builtin_memcpy(p, &v, 8); }
static inline uint32_t wasi_load32(const uint8_t *p) { uint32_t v; __builtin_memcpy(&v, p, 4); return v; }

/* Preview1 errno values (witx `errno`). */
enum {
    WASI_ESUCCESS = 0, WASI_E2BIG = 1, WASI_EACCES = 2, WASI_EADDRINUSE = 3, WASI_EADDRNOTAVAIL = 4,
    WASI_EAFNOSUPPORT = 5, WASI_EAGAIN = 6, WASI_EALREADY = 7, WASI_EBADF = 8, WASI_EBADMSG = 9,
    WASI_EBUSY = 10, WASI_ECANCELED = 11, WASI_ECHILD = 12, WASI_ECONNABORTED = 13,
    WASI_ECONNREFUSED = 14, WASI_ECONNRESET = 15, WASI_EDEADLK = 16, WASI_EDESTADDRREQ = 17,
    WASI_EDOM = 18, WASI_EDQUOT = 19, WASI_EEXIST = 20, WASI_EFAULT = 21, WASI_EFBIG = 22,
    WASI_EHOSTUNREACH = 23, WASI_EIDRM = 24, WASI_EILSEQ = 25, WASI_EINPROGRESS = 26,
    WASI_EINTR = 27, WASI_EINVAL = 28, WASI_EIO = 29, WASI_EISCONN = 30, WASI_EISDIR = 31,
    WASI_ELOOP = 32, WASI_EMFILE = 33, WASI_EMLINK = 34, WASI_EMSGSIZE = 35, WASI_EMULTIHOP = 36,
    WASI_ENAMETOOLONG = 37, WASI_ENETDOWN = 38, WASI_ENETRESET = 39, WASI_ENETUNREACH = 40,
    WASI_ENFILE = 41, WASI_ENOBUFS = 42, WASI_ENODEV = 43, WASI_ENOENT = 44, WASI_ENOEXEC = 45,
    WASI_ENOLCK = 46, WASI_ENOLINK = 47, WASI_ENOMEM = 48, WASI_ENOMSG = 49, WASI_ENOPROTOOPT = 50,
    WASI_ENOSPC = 51, WASI_ENOSYS = 52, WASI_ENOTCONN = 53, WASI_ENOTDIR = 54, WASI_ENOTEMPTY = 55,
    WASI_ENOTRECOVERABLE = 56, WASI_ENOTSOCK = 57, WASI_ENOTSUP = 58, WASI_ENOTTY = 59,
    WASI_ENXIO = 60, WASI_EOVERFLOW = 61, WASI_EOWNERDEAD = 62, WASI_EPERM = 63, WASI_EPIPE = 64,
    WASI_EPROTO = 65, WASI_EPROTONOSUPPORT = 66, WASI_EPROTOTYPE = 67, WASI_ERANGE = 68,
    WASI_EROFS = 69, WASI_ESPIPE = 70, WASI_ESRCH = 71, WASI_ESTALE = 72, WASI_ETIMEDOUT = 73,
    WASI_ETXTBSY = 74, WASI_EXDEV = 75, WASI_ENOTCAPABLE = 76
};

/* Preview1 filetype values. */
enum {
    WASI_FILETYPE_UNKNOWN = 0, WASI_FILETYPE_BLOCK_DEVICE = 1, WASI_FILETYPE_CHARACTER_DEVICE = 2,
    WASI_FILETYPE_DIRECTORY = 3, WASI_FILETYPE_REGULAR_FILE = 4, WASI_FILETYPE_SOCKET_DGRAM = 5,
    WASI_FILETYPE_SOCKET_STREAM = 6, WASI_FILETYPE_SYMBOLIC_LINK = 7
};
#define WASI_RIGHTS_ALL ((UINT64_C(1) << 30) - 1)

/* Preview1 rights bits (witx `rights`). */
#define WASI_RIGHT_FD_DATASYNC (UINT64_C(1) << 0)
#define WASI_RIGHT_FD_READ (UINT64_C(1) << 1)
#define WASI_RIGHT_FD_SEEK (UINT64_C(1) << 2)
#define WASI_RIGHT_FD_FDSTAT_SET_FLAGS (UINT64_C(1) << 3)
#define WASI_RIGHT_FD_SYNC (UINT64_C(1) << 4)
#define WASI_RIGHT_FD_TELL (UINT64_C(1) << 5)
#define WASI_RIGHT_FD_WRITE (UINT64_C(1) << 6)
#define WASI_RIGHT_FD_ADVISE (UINT64_C(1) << 7)
#define WASI_RIGHT_FD_ALLOCATE (UINT64_C(1) << 8)
#define WASI_RIGHT_PATH_CREATE_DIRECTORY (UINT64_C(1) << 9)
#define WASI_RIGHT_PATH_CREATE_FILE (UINT64_C(1) << 10)
#define WASI_RIGHT_PATH_LINK_SOURCE (UINT64_C(1) << 11)
#define WASI_RIGHT_PATH_LINK_TARGET (UINT64_C(1) << 12)
#define WASI_RIGHT_PATH_OPEN (UINT64_C(1) << 13)
#define WASI_RIGHT_FD_READDIR (UINT64_C(1) << 14)
#define WASI_RIGHT_PATH_READLINK (UINT64_C(1) << 15)
#define WASI_RIGHT_PATH_RENAME_SOURCE (UINT64_C(1) << 16)
#define WASI_RIGHT_PATH_RENAME_TARGET (UINT64_C(1) << 17)
#define WASI_RIGHT_PATH_FILESTAT_GET (UINT64_C(1) << 18)
#define WASI_RIGHT_PATH_FILESTAT_SET_SIZE (UINT64_C(1) << 19)
#define WASI_RIGHT_PATH_FILESTAT_SET_TIMES (UINT64_C(1) << 20)
#define WASI_RIGHT_FD_FILESTAT_GET (UINT64_C(1) << 21)
#define WASI_RIGHT_FD_FILESTAT_SET_SIZE (UINT64_C(1) << 22)
#define WASI_RIGHT_FD_FILESTAT_SET_TIMES (UINT64_C(1) << 23)
#define WASI_RIGHT_PATH_SYMLINK (UINT64_C(1) << 24)
#define WASI_RIGHT_PATH_REMOVE_DIRECTORY (UINT64_C(1) << 25)
#define WASI_RIGHT_PATH_UNLINK_FILE (UINT64_C(1) << 26)
#define WASI_RIGHT_POLL_FD_READWRITE (UINT64_C(1) << 27)
#define WASI_RIGHT_SOCK_SHUTDOWN (UINT64_C(1) << 28)
#define WASI_RIGHT_SOCK_ACCEPT (UINT64_C(1) << 29)
/* Rights that make path_open ask the host for write access. */
#define WASI_RIGHTS_WRITE_ACCESS (WASI_RIGHT_FD_DATASYNC | WASI_RIGHT_FD_WRITE | WASI_RIGHT_FD_ALLOCATE | \
                                  WASI_RIGHT_FD_FILESTAT_SET_SIZE)
/* What a directory can never do (dropped from its base rights whatever was asked). */
#define WASI_RIGHTS_NOT_DIR (WASI_RIGHT_FD_SEEK | WASI_RIGHT_FD_TELL | WASI_RIGHT_FD_WRITE | \
                             WASI_RIGHT_FD_DATASYNC | WASI_RIGHT_FD_ALLOCATE | WASI_RIGHT_FD_FILESTAT_SET_SIZE)
/* Base rights of a preopened directory: the set wasmtime reports (which userlands expect) plus
 * PATH_FILESTAT_SET_SIZE (path_open with OFLAGS_TRUNC). Its inheriting rights are all rights. */
#define WASI_RIGHTS_PREOPEN_BASE                                                                    \
    (WASI_RIGHT_PATH_CREATE_DIRECTORY | WASI_RIGHT_PATH_CREATE_FILE | WASI_RIGHT_PATH_LINK_SOURCE |   \
     WASI_RIGHT_PATH_LINK_TARGET | WASI_RIGHT_PATH_OPEN | WASI_RIGHT_FD_READDIR |                    \
     WASI_RIGHT_PATH_READLINK | WASI_RIGHT_PATH_RENAME_SOURCE | WASI_RIGHT_PATH_RENAME_TARGET |       \
     WASI_RIGHT_PATH_SYMLINK | WASI_RIGHT_PATH_REMOVE_DIRECTORY | WASI_RIGHT_PATH_UNLINK_FILE |       \
     WASI_RIGHT_PATH_FILESTAT_GET | WASI_RIGHT_PATH_FILESTAT_SET_TIMES | WASI_RIGHT_FD_FILESTAT_GET |  \
     WASI_RIGHT_FD_FILESTAT_SET_TIMES | WASI_RIGHT_PATH_FILESTAT_SET_SIZE)

int32_t wasi_errno_from_host(int err);
/* openat2 availability: 0 unknown, 1 yes, -1 no (use the user-space walker). Tests set -1. */
extern int wasmaot_openat2_state;
/* Guest fd -> table entry, or NULL if not open. */
wasi_fd *wasi_fd_get(wasmaot_wasi *w, int32_t fd);
/* Adds a host fd to the table at the lowest free guest fd; returns the guest fd or -1 (ENOMEM).
 * Rights start as all rights (base and inheriting); preopens get WASI_RIGHTS_PREOPEN_BASE. */
int32_t wasi_fd_add(wasmaot_wasi *w, int host, uint8_t filetype, char *preopen);
/* Frees what the entry owns (not the host fd) and marks it free. */
void wasi_fd_release(wasi_fd *f);
void wasi_dirlist_free(struct wasi_dirlist *d);
/* fstflags + times -> utimensat times (UTIME_OMIT/UTIME_NOW); 0 or EINVAL. */
int32_t wasi_times_from_fstflags(int64_t atim, int64_t mtim, int32_t fst, struct timespec ts[2]);
uint8_t wasi_filetype_from_mode(unsigned mode, int host_fd);
/* Writes the 64-byte preview1 filestat for `st` (a struct stat *) to p. */
void wasi_write_filestat(uint8_t *p, const void *st);

#include "wasi_funcs.h"
#endif
