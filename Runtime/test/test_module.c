/*
 * test_module.c — plays the role of compiler output: defines `wasmaot_module` and a `_start`
 * that reaches WASI only through the imported funcref records, exactly as generated code does.
 * The behaviour is chosen by the guest's argv[1] (read through args_get), so one binary covers
 * all cases; run.sh checks outputs and exit codes.
 * Built with -DBAD_IMPORT=1 (fd_write declared with a wrong type) or 2 (an unknown import) for the
 * instantiation-error tests.
 */
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include "internal.h" /* only for the in-process trap landing pad test ("trapjmp") */
#include "wasmaot_rt.h"

enum {
    I_FD_WRITE, I_PROC_EXIT, I_ARGS_SIZES_GET, I_ARGS_GET, I_PATH_OPEN, I_FD_READ, I_PRESTAT_GET,
    I_PRESTAT_DIR_NAME, I_ENVIRON_SIZES_GET, I_ENVIRON_GET, I_BENCH_START, I_BENCH_END, I_FD_CLOSE,
    I_PATH_FILESTAT_GET, I_FD_SEEK, I_FD_READDIR, I_PATH_CREATE_DIRECTORY, I_PATH_REMOVE_DIRECTORY,
    I_PATH_UNLINK_FILE, I_PATH_RENAME, I_PATH_SYMLINK, I_POLL_ONEOFF, I_PATH_READLINK, I_FD_RENUMBER,
#if BAD_IMPORT == 2
    I_UNKNOWN,
#endif
    NIMP
};

#define OFF_IMPORTS 32
#define OFF_FUNCREFS (OFF_IMPORTS + 8 * NIMP)
#define OFF_TABLES (OFF_FUNCREFS + sizeof(wasmaot_funcref))
#define OFF_MEMORIES (OFF_TABLES + 8)
#define VMCTX_SIZE ((OFF_MEMORIES + 8 + 15) & ~15)

#define W "wasi_snapshot_preview1"
static const wasmaot_import_desc imports[] = {
#if BAD_IMPORT == 1
    {W, "fd_write", WASMAOT_EXTERN_FUNC, I_FD_WRITE, "iii:i", 0, 0},
#else
    {W, "fd_write", WASMAOT_EXTERN_FUNC, I_FD_WRITE, "iiii:i", 0, 0},
#endif
    {W, "proc_exit", WASMAOT_EXTERN_FUNC, I_PROC_EXIT, "i:", 0, 0},
    {W, "args_sizes_get", WASMAOT_EXTERN_FUNC, I_ARGS_SIZES_GET, "ii:i", 0, 0},
    {W, "args_get", WASMAOT_EXTERN_FUNC, I_ARGS_GET, "ii:i", 0, 0},
    {W, "path_open", WASMAOT_EXTERN_FUNC, I_PATH_OPEN, "iiiiiIIii:i", 0, 0},
    {W, "fd_read", WASMAOT_EXTERN_FUNC, I_FD_READ, "iiii:i", 0, 0},
    {W, "fd_prestat_get", WASMAOT_EXTERN_FUNC, I_PRESTAT_GET, "ii:i", 0, 0},
    {W, "fd_prestat_dir_name", WASMAOT_EXTERN_FUNC, I_PRESTAT_DIR_NAME, "iii:i", 0, 0},
    {W, "environ_sizes_get", WASMAOT_EXTERN_FUNC, I_ENVIRON_SIZES_GET, "ii:i", 0, 0},
    {W, "environ_get", WASMAOT_EXTERN_FUNC, I_ENVIRON_GET, "ii:i", 0, 0},
    {"bench", "start", WASMAOT_EXTERN_FUNC, I_BENCH_START, ":", 0, 0},
    {"bench", "end", WASMAOT_EXTERN_FUNC, I_BENCH_END, ":", 0, 0},
    {W, "fd_close", WASMAOT_EXTERN_FUNC, I_FD_CLOSE, "i:i", 0, 0},
    {W, "path_filestat_get", WASMAOT_EXTERN_FUNC, I_PATH_FILESTAT_GET, "iiiii:i", 0, 0},
    {W, "fd_seek", WASMAOT_EXTERN_FUNC, I_FD_SEEK, "iIii:i", 0, 0},
    {W, "fd_readdir", WASMAOT_EXTERN_FUNC, I_FD_READDIR, "iiiIi:i", 0, 0},
    {W, "path_create_directory", WASMAOT_EXTERN_FUNC, I_PATH_CREATE_DIRECTORY, "iii:i", 0, 0},
    {W, "path_remove_directory", WASMAOT_EXTERN_FUNC, I_PATH_REMOVE_DIRECTORY, "iii:i", 0, 0},
    {W, "path_unlink_file", WASMAOT_EXTERN_FUNC, I_PATH_UNLINK_FILE, "iii:i", 0, 0},
    {W, "path_rename", WASMAOT_EXTERN_FUNC, I_PATH_RENAME, "iiiiii:i", 0, 0},
    {W, "path_symlink", WASMAOT_EXTERN_FUNC, I_PATH_SYMLINK, "iiiii:i", 0, 0},
    {W, "poll_oneoff", WASMAOT_EXTERN_FUNC, I_POLL_ONEOFF, "iiii:i", 0, 0},
    {W, "path_readlink", WASMAOT_EXTERN_FUNC, I_PATH_READLINK, "iiiiii:i", 0, 0},
    {W, "fd_renumber", WASMAOT_EXTERN_FUNC, I_FD_RENUMBER, "ii:i", 0, 0},
#if BAD_IMPORT == 2
    {"env", "mystery", WASMAOT_EXTERN_FUNC, I_UNKNOWN, ":", 0, 0},
#endif
};

/* `start` stands for generated code, so it lives where the compiler puts generated code: the
 * fault handler takes a fault for a trap only there (see runtime_fault below). */
#define GENERATED __attribute__((section(WASMAOT_CODE_SECTION)))
extern const char __start_wasmaot_code[], __stop_wasmaot_code[];
GENERATED static void start(wasmaot_vmctx *vm);
static void init(wasmaot_vmctx *vm);

static const wasmaot_export_desc exports[] = {{"_start", WASMAOT_EXTERN_FUNC, NIMP}};
static const wasmaot_func_desc funcs[NIMP + 1] = {[NIMP] = {":"}};
static void *const func_code[] = {(void *)start};
static const wasmaot_table_desc tables[] = {{WASMAOT_REF_FUNC, 0, 2, 4, "r"}};
static const wasmaot_memory_desc memories[] = {{0, 0, 1, 3}};

const wasmaot_module_desc wasmaot_module = {
    .abi_version = WASMAOT_ABI_VERSION,
    .vmctx_size = VMCTX_SIZE,
    .num_imports = NIMP, .imports = imports,
    .num_exports = 1, .exports = exports,
    .num_funcs = NIMP + 1, .num_imported_funcs = NIMP, .funcs = funcs, .func_code = func_code,
    .imported_funcs_offset = OFF_IMPORTS, .funcrefs_offset = OFF_FUNCREFS,
    .num_tables = 1, .tables = tables, .tables_offset = OFF_TABLES,
    .num_memories = 1, .memories_offset = OFF_MEMORIES, .memories = memories,
    .init = init,
    .wasi_defaults = "",
    .code_start = __start_wasmaot_code, .code_end = __stop_wasmaot_code,
};

/* ---- "generated code" helpers ---- */
static wasmaot_funcref *imp(wasmaot_vmctx *vm, int i) {
    return *(wasmaot_funcref **)((char *)vm + OFF_IMPORTS + 8 * i);
}
typedef int32_t (*fn_i)(wasmaot_vmctx *, int32_t);
typedef int32_t (*fn_ii)(wasmaot_vmctx *, int32_t, int32_t);
typedef int32_t (*fn_iii)(wasmaot_vmctx *, int32_t, int32_t, int32_t);
typedef int32_t (*fn_iiii)(wasmaot_vmctx *, int32_t, int32_t, int32_t, int32_t);
typedef int32_t (*fn_iiiii)(wasmaot_vmctx *, int32_t, int32_t, int32_t, int32_t, int32_t);
typedef int32_t (*fn_iiiiii)(wasmaot_vmctx *, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t);
typedef int32_t (*fn_iIii)(wasmaot_vmctx *, int32_t, int64_t, int32_t, int32_t);
typedef int32_t (*fn_iiiIi)(wasmaot_vmctx *, int32_t, int32_t, int32_t, int64_t, int32_t);
typedef int32_t (*fn_open)(wasmaot_vmctx *, int32_t, int32_t, int32_t, int32_t, int32_t, int64_t,
                           int64_t, int32_t, int32_t);
typedef void (*fn_v)(wasmaot_vmctx *);
#define CALL(T, i, ...) ((T)imp(vm, i)->code)(imp(vm, i)->vmctx, __VA_ARGS__)
#define CALL0(T, i) ((T)imp(vm, i)->code)(imp(vm, i)->vmctx)

/* Guest memory map: 0..4095 scratch, 4096.. strings, 16384.. argv/env. */
#define SCRATCH 0
#define STR 4096
#define PRINTBUF 8192
#define ARGS 16384

static void say(wasmaot_vmctx *vm, const char *s) {
    uint32_t n = (uint32_t)strlen(s);
    memcpy(vm->mem_base + PRINTBUF, s, n);
    uint32_t iov[2] = {PRINTBUF, n};
    memcpy(vm->mem_base + SCRATCH, iov, 8);
    CALL(fn_iiii, I_FD_WRITE, 1, SCRATCH, 1, SCRATCH + 8);
}

static void say_num(wasmaot_vmctx *vm, const char *label, long long v) {
    char buf[96], num[24];
    int i = 0, neg = v < 0;
    unsigned long long u = neg ? -(unsigned long long)v : (unsigned long long)v;
    do num[i++] = (char)('0' + u % 10); while ((u /= 10));
    if (neg) num[i++] = '-';
    size_t l = strlen(label);
    memcpy(buf, label, l);
    while (i) buf[l++] = num[--i];
    buf[l++] = '\n';
    buf[l] = 0;
    say(vm, buf);
}

static uint32_t rd32(wasmaot_vmctx *vm, uint32_t off) {
    uint32_t v;
    memcpy(&v, vm->mem_base + off, 4);
    return v;
}

static const uint8_t data_seg[] = "hello\n";

static void init(wasmaot_vmctx *vm) {
    wasmaot_funcref *self = (wasmaot_funcref *)((char *)vm + OFF_FUNCREFS);
    self->type = wasmaot_intern_type(":");
    self->code = (void *)start;
    self->vmctx = vm;
    wasmaot_memory_init(vm->memory, data_seg, 6, STR, 0, 6); /* an active data segment */
}

/* Recursion with the prologue check generated code has. */
static int checked_recursion(wasmaot_vmctx *vm, int depth) {
    volatile char pad[256];
    if ((uintptr_t)__builtin_frame_address(0) < vm->stack_limit) wasmaot_trap(WASMAOT_TRAP_STACK_EXHAUSTED);
    if (depth < 0) return 0; /* never; keeps -Winfinite-recursion quiet */
    pad[0] = (char)depth;
    return checked_recursion(vm, depth + 1) + pad[0];
}

/* Recursion without any check, in generated code: must still end in "call stack exhausted" via
 * the guard page. */
static volatile int never = 0;
GENERATED __attribute__((noinline)) static int raw_recursion(int depth) {
    volatile char pad[4096];
    pad[0] = (char)depth;
    if (never) return pad[0];
    return raw_recursion(depth + 1) + pad[0];
}

/* The same in the runtime's own code (outside the generated-code section): a runtime bug, so a
 * crash (SIGSEGV), never a trap. */
__attribute__((noinline)) static int runtime_recursion(int depth) {
    volatile char pad[4096];
    pad[0] = (char)depth;
    if (never) return pad[0];
    return runtime_recursion(depth + 1) + pad[0];
}

static int32_t open_file_l(wasmaot_vmctx *vm, int32_t dirfd, int32_t lookup, const char *path, int32_t *fd) {
    uint32_t n = (uint32_t)strlen(path);
    memcpy(vm->mem_base + STR + 512, path, n);
    int32_t e = CALL(fn_open, I_PATH_OPEN, dirfd, lookup, STR + 512, (int32_t)n, 0, (int64_t)0x1fffffff,
                     (int64_t)0x1fffffff, 0, SCRATCH + 64);
    *fd = (int32_t)rd32(vm, SCRATCH + 64);
    return e;
}

static int32_t open_file(wasmaot_vmctx *vm, int32_t dirfd, const char *path, int32_t *fd) {
    return open_file_l(vm, dirfd, 0, path, fd);
}

static void mode_wasi(wasmaot_vmctx *vm) {
    /* Preopen at fd 3 named "/data"; fd 4 must not be a preopen. */
    say_num(vm, "prestat3=", CALL(fn_ii, I_PRESTAT_GET, 3, SCRATCH + 32));
    uint32_t len = rd32(vm, SCRATCH + 36);
    CALL(fn_iii, I_PRESTAT_DIR_NAME, 3, STR + 256, (int32_t)len);
    char name[64] = {0};
    memcpy(name, vm->mem_base + STR + 256, len < 63 ? len : 63);
    say(vm, "name=");
    say(vm, name);
    say(vm, "\n");
    say_num(vm, "prestat4=", CALL(fn_ii, I_PRESTAT_GET, 4, SCRATCH + 32));

    int32_t fd = -1;
    int32_t e = open_file(vm, 3, "sub/../hello.txt", &fd);
    say_num(vm, "open=", e);
    if (e == 0) {
        uint32_t iov[2] = {STR + 1024, 100};
        memcpy(vm->mem_base + SCRATCH + 96, iov, 8);
        say_num(vm, "read=", CALL(fn_iiii, I_FD_READ, fd, SCRATCH + 96, 1, SCRATCH + 104));
        uint32_t got = rd32(vm, SCRATCH + 104);
        char content[128] = {0};
        memcpy(content, vm->mem_base + STR + 1024, got < 127 ? got : 127);
        say(vm, "content=");
        say(vm, content);
        say_num(vm, "seek=", CALL(fn_iIii, I_FD_SEEK, fd, (int64_t)0, 2, SCRATCH + 112));
        say_num(vm, "size=", (long long)rd32(vm, SCRATCH + 112));
        say_num(vm, "close=", CALL(fn_i, I_FD_CLOSE, fd));
        say_num(vm, "close_again=", CALL(fn_i, I_FD_CLOSE, fd));
    }
    say_num(vm, "escape=", open_file(vm, 3, "../etc/passwd", &fd));
    say_num(vm, "escape2=", open_file(vm, 3, "sub/../../x", &fd));
    say_num(vm, "absolute=", open_file(vm, 3, "/etc/passwd", &fd));
    say_num(vm, "symlink_escape=", open_file(vm, 3, "link/passwd", &fd));
    say_num(vm, "missing=", open_file(vm, 3, "nope.txt", &fd));
    say_num(vm, "symlink_follow_inside=", open_file_l(vm, 3, 1, "inlink", &fd));
    say_num(vm, "symlink_nofollow=", open_file_l(vm, 3, 0, "inlink", &fd));
    say_num(vm, "symlink_relative_escape=", open_file_l(vm, 3, 1, "esc/etc/passwd", &fd));
    say_num(vm, "symlink_dir_inside=", open_file_l(vm, 3, 1, "sub/up/hello.txt", &fd));
    say_num(vm, "notdir=", open_file_l(vm, 3, 1, "hello.txt/x", &fd));
    say_num(vm, "dot=", open_file_l(vm, 3, 0, "sub/..", &fd)); /* write rights on a dir: EISDIR */
    /* path_filestat_get: 64-byte filestat, size at +32, filetype at +16 */
    memcpy(vm->mem_base + STR + 512, "hello.txt", 9);
    say_num(vm, "stat=", CALL(fn_iiiii, I_PATH_FILESTAT_GET, 3, 0, STR + 512, 9, SCRATCH + 128));
    say_num(vm, "stat_type=", vm->mem_base[SCRATCH + 128 + 16]);
    say_num(vm, "stat_size=", (long long)rd32(vm, SCRATCH + 128 + 32));
    /* bad pointer: EFAULT, not a crash */
    say_num(vm, "efault=", CALL(fn_iiii, I_FD_READ, 0, 70000, 1, SCRATCH));
    int32_t rde = CALL(fn_iiiIi, I_FD_READDIR, 3, STR, 10, (int64_t)0, SCRATCH + 200);
    say_num(vm, "readdir_small=", rde);
    say_num(vm, "readdir_used=", rd32(vm, SCRATCH + 200)); /* a truncated first entry fills the buffer */
    say_num(vm, "badfd=", CALL(fn_iiii, I_FD_READ, 99, SCRATCH + 96, 1, SCRATCH + 104));
}

/* Path operations inside the preopen at fd 3 and escape attempts. */
static int32_t path1(wasmaot_vmctx *vm, int i, int32_t dirfd, const char *path) {
    uint32_t n = (uint32_t)strlen(path);
    memcpy(vm->mem_base + STR + 512, path, n);
    return CALL(fn_iii, i, dirfd, STR + 512, (int32_t)n);
}
static int32_t rename2(wasmaot_vmctx *vm, const char *a, const char *b) {
    uint32_t n = (uint32_t)strlen(a), m = (uint32_t)strlen(b);
    memcpy(vm->mem_base + STR + 512, a, n);
    memcpy(vm->mem_base + STR + 768, b, m);
    return CALL(fn_iiiiii, I_PATH_RENAME, 3, STR + 512, (int32_t)n, 3, STR + 768, (int32_t)m);
}
static int32_t symlink2(wasmaot_vmctx *vm, const char *target, const char *path) {
    uint32_t n = (uint32_t)strlen(target), m = (uint32_t)strlen(path);
    memcpy(vm->mem_base + STR + 512, target, n);
    memcpy(vm->mem_base + STR + 768, path, m);
    return CALL(fn_iiiii, I_PATH_SYMLINK, STR + 512, (int32_t)n, 3, STR + 768, (int32_t)m);
}
static int32_t open_flags(wasmaot_vmctx *vm, int32_t dirfd, const char *path, int32_t oflags, int32_t *fd) {
    uint32_t n = (uint32_t)strlen(path);
    memcpy(vm->mem_base + STR + 512, path, n);
    int32_t e = CALL(fn_open, I_PATH_OPEN, dirfd, 0, STR + 512, (int32_t)n, oflags, (int64_t)0x1fffffff & ~(int64_t)0x400141 /* no write access */,
                     (int64_t)0x1fffffff, 0, SCRATCH + 64);
    *fd = (int32_t)rd32(vm, SCRATCH + 64);
    return e;
}

/* Reads a whole directory with a tiny buffer, following cookies; returns the entry count and
 * checks that "." , ".." and `want` are among the names. */
static int readdir_count(wasmaot_vmctx *vm, int32_t fd, const char *want, int *found) {
    int64_t cookie = 0;
    int count = 0, dots = 0;
    *found = 0;
    for (int guard = 0; guard < 100; guard++) {
        /* 40 bytes: one header (24) + a short name, so every call returns at most ~1 entry */
        int32_t e = CALL(fn_iiiIi, I_FD_READDIR, fd, 20000, 40, cookie, SCRATCH + 200);
        if (e) return -e;
        uint32_t used = rd32(vm, SCRATCH + 200), pos = 0;
        int complete = 0;
        while (pos + 24 <= used) {
            uint8_t *h = vm->mem_base + 20000 + pos;
            uint32_t namlen;
            uint64_t next;
            memcpy(&next, h, 8);
            memcpy(&namlen, h + 16, 4);
            if (pos + 24 + namlen > used) break; /* truncated: ask again from its cookie */
            const char *name = (const char *)h + 24;
            if ((namlen == 1 && name[0] == '.') || (namlen == 2 && name[0] == '.' && name[1] == '.')) dots++;
            if (namlen == strlen(want) && !memcmp(name, want, namlen)) *found = 1;
            count++;
            complete++;
            cookie = (int64_t)next;
            pos += 24 + namlen;
        }
        if (used < 40) break; /* end of directory */
        if (!complete) return -1000; /* an entry larger than the buffer: not in this test */
    }
    if (dots != 2) return -2000;
    return count;
}

static void mode_wasi_fs(wasmaot_vmctx *vm) {
    int32_t fd = -1, dfd = -1;
    say_num(vm, "mkdir=", path1(vm, I_PATH_CREATE_DIRECTORY, 3, "d"));
    say_num(vm, "mkdir_again=", path1(vm, I_PATH_CREATE_DIRECTORY, 3, "d"));
    say_num(vm, "create=", open_flags(vm, 3, "d/f", 1 /* CREAT */, &fd));
    CALL(fn_i, I_FD_CLOSE, fd);
    say_num(vm, "create_excl=", open_flags(vm, 3, "d/f", 1 | 4 /* CREAT|EXCL */, &fd));
    say_num(vm, "open_dir_notdir=", open_flags(vm, 3, "d/f", 2 /* DIRECTORY */, &fd));
    say_num(vm, "open_dir=", open_flags(vm, 3, "d", 2, &dfd));
    int found = 0;
    say_num(vm, "readdir_count=", readdir_count(vm, dfd, "f", &found));
    say_num(vm, "readdir_found=", found);
    say_num(vm, "seek_dir=", CALL(fn_iIii, I_FD_SEEK, dfd, (int64_t)0, 1, SCRATCH + 112));
    say_num(vm, "rename=", rename2(vm, "d/f", "d/g"));
    say_num(vm, "readdir_after_rename=", readdir_count(vm, dfd, "g", &found) * 10 + found);
    say_num(vm, "unlink_missing=", path1(vm, I_PATH_UNLINK_FILE, 3, "d/f"));
    say_num(vm, "unlink_trailing_slash=", path1(vm, I_PATH_UNLINK_FILE, 3, "d/g/"));
    say_num(vm, "rmdir_nonempty=", path1(vm, I_PATH_REMOVE_DIRECTORY, 3, "d"));
    say_num(vm, "unlink_dir=", path1(vm, I_PATH_UNLINK_FILE, 3, "d"));
    say_num(vm, "unlink=", path1(vm, I_PATH_UNLINK_FILE, 3, "d/g"));
    say_num(vm, "rmdir=", path1(vm, I_PATH_REMOVE_DIRECTORY, 3, "d/"));
    say_num(vm, "readdir_removed_dir=", readdir_count(vm, dfd, "", &found)); /* listing a deleted dir: "." and ".." at most */
    CALL(fn_i, I_FD_CLOSE, dfd);
    /* escapes */
    say_num(vm, "mkdir_dotdot=", path1(vm, I_PATH_CREATE_DIRECTORY, 3, "../x"));
    say_num(vm, "mkdir_abs=", path1(vm, I_PATH_CREATE_DIRECTORY, 3, "/tmp/x"));
    say_num(vm, "unlink_dotdot=", path1(vm, I_PATH_UNLINK_FILE, 3, "sub/../../x"));
    say_num(vm, "rmdir_root=", path1(vm, I_PATH_REMOVE_DIRECTORY, 3, "/"));
    say_num(vm, "rename_out=", rename2(vm, "hello.txt", "../h"));
    say_num(vm, "symlink_abs=", symlink2(vm, "/etc", "abs"));
    say_num(vm, "symlink_up=", symlink2(vm, "../..", "up2"));
    say_num(vm, "follow_up=", open_file_l(vm, 3, 1, "up2/etc/passwd", &fd));
    say_num(vm, "mkdir_via_link=", path1(vm, I_PATH_CREATE_DIRECTORY, 3, "up2/x"));
    say_num(vm, "mkdir_via_link_abs=", path1(vm, I_PATH_CREATE_DIRECTORY, 3, "link/x")); /* link -> /etc */
    say_num(vm, "unlink_via_link=", path1(vm, I_PATH_UNLINK_FILE, 3, "link/passwd"));
    {
        uint32_t n = 3;
        memcpy(vm->mem_base + STR + 512, "up2", n);
        say_num(vm, "readlink=", CALL(fn_iiiiii, I_PATH_READLINK, 3, STR + 512, (int32_t)n, 20000, 64, SCRATCH + 200));
        say_num(vm, "readlink_len=", rd32(vm, SCRATCH + 200));
    }
    say_num(vm, "unlink_link=", path1(vm, I_PATH_UNLINK_FILE, 3, "up2"));
    say_num(vm, "rename_back=", rename2(vm, "hello.txt", "sub/h") * 100 + rename2(vm, "sub/h", "hello.txt"));
    /* renumber onto a preopen closes it */
    say_num(vm, "renumber_badfd=", CALL(fn_ii, I_FD_RENUMBER, 3, 77));
    /* poll_oneoff: no subscriptions; a 1 ms relative monotonic clock */
    say_num(vm, "poll_none=", CALL(fn_iiii, I_POLL_ONEOFF, 21000, 22000, 0, SCRATCH + 200));
    uint8_t *sub = vm->mem_base + 21000;
    memset(sub, 0, 96);
    uint64_t ud = 0x1234, timeout = 1000000, big = 60000000000ull;
    memcpy(sub, &ud, 8);
    sub[8] = 0;       /* clock */
    sub[16] = 1;      /* monotonic */
    memcpy(sub + 24, &timeout, 8);
    memcpy(sub + 48, &ud, 8); /* second: a 60 s realtime clock that must not fire */
    sub[48] = 0x99;
    sub[56] = 0;
    sub[64] = 0;
    memcpy(sub + 72, &big, 8);
    say_num(vm, "poll_clock=", CALL(fn_iiii, I_POLL_ONEOFF, 21000, 22000, 2, SCRATCH + 200));
    say_num(vm, "poll_nevents=", rd32(vm, SCRATCH + 200));
    say_num(vm, "poll_userdata=", vm->mem_base[22000] + 256 * vm->mem_base[22001]);
    say_num(vm, "poll_type=", vm->mem_base[22000 + 10]);
}

static void mode_env(wasmaot_vmctx *vm) {
    CALL(fn_ii, I_ENVIRON_SIZES_GET, SCRATCH, SCRATCH + 4);
    uint32_t n = rd32(vm, SCRATCH);
    say_num(vm, "envc=", n);
    CALL(fn_ii, I_ENVIRON_GET, ARGS, ARGS + 4096);
    for (uint32_t i = 0; i < n; i++) {
        say(vm, "env:");
        say(vm, (const char *)vm->mem_base + rd32(vm, ARGS + 4 * i));
        say(vm, "\n");
    }
}

static void mode_tables(wasmaot_vmctx *vm) {
    wasmaot_table *t = *(wasmaot_table **)((char *)vm + OFF_TABLES);
    void *self = (char *)vm + OFF_FUNCREFS;
    say_num(vm, "size=", t->size);
    say_num(vm, "grow=", wasmaot_table_grow(t, self, 1));
    say_num(vm, "grow=", wasmaot_table_grow(t, NULL, 1));
    say_num(vm, "grow_over=", wasmaot_table_grow(t, NULL, 1));
    say_num(vm, "slot2_is_self=", t->elems[2] == self);
    wasmaot_table_fill(t, 0, self, 2);
    wasmaot_table_copy(t, t, 1, 2, 2); /* overlapping: [1]=self(from 2), [2]=NULL(from 3) */
    say_num(vm, "after_copy=", (t->elems[0] == self) + 2 * (t->elems[1] == self) + 4 * (t->elems[2] == self) + 8 * (t->elems[3] == self));
    void *seg[2] = {NULL, self};
    wasmaot_table_init(t, seg, 2, 3, 1, 1);
    wasmaot_table_init(t, seg, 2, 4, 2, 0); /* n == 0 at exactly the end: fine */
    say_num(vm, "slot3_is_self=", t->elems[3] == self);
    wasmaot_table_fill(t, 3, NULL, 2); /* 3 + 2 > 4: traps */
    say(vm, "not reached\n");
}

static void mode_memops(wasmaot_vmctx *vm) {
    uint8_t *m = vm->mem_base;
    wasmaot_memory_fill(vm->memory, 100, 0x41, 4);
    wasmaot_memory_copy(vm->memory, vm->memory, 102, 100, 4); /* overlap forward */
    m[106] = 0;
    say(vm, (const char *)m + 100);
    say(vm, "\n");
    wasmaot_memory_copy(vm->memory, vm->memory, 65536, 0, 0); /* n == 0 at the end: fine */
    wasmaot_memory_fill(vm->memory, 65536, 0, 0);
    say(vm, "zero ok\n");
    wasmaot_memory_copy(vm->memory, vm->memory, 65535, 0, 2);
    say(vm, "not reached\n");
}

/* Runtime code (outside the generated-code section) that touches a memory's guard region: a
 * runtime bug, which must crash with SIGSEGV rather than pass for a Wasm trap. */
__attribute__((noinline)) static void runtime_fault(volatile uint8_t *p) { *p = 1; }

GENERATED static void start(wasmaot_vmctx *vm) {
    /* argv[1] selects the mode */
    CALL(fn_ii, I_ARGS_SIZES_GET, SCRATCH, SCRATCH + 4);
    uint32_t argc = rd32(vm, SCRATCH);
    CALL(fn_ii, I_ARGS_GET, ARGS, ARGS + 1024);
    const char *mode = argc > 1 ? (const char *)vm->mem_base + rd32(vm, ARGS + 4) : "hello";

    if (!strcmp(mode, "hello")) {
        /* the data segment copied by init */
        uint32_t iov[2] = {STR, 6};
        memcpy(vm->mem_base + SCRATCH, iov, 8);
        CALL(fn_iiii, I_FD_WRITE, 1, SCRATCH, 1, SCRATCH + 8);
        if (rd32(vm, SCRATCH + 8) != 6) CALL(fn_i, I_PROC_EXIT, 3);
    } else if (!strcmp(mode, "args")) {
        say_num(vm, "argc=", argc);
        for (uint32_t i = 0; i < argc; i++) {
            say(vm, (const char *)vm->mem_base + rd32(vm, ARGS + 4 * i));
            say(vm, "|");
        }
        say(vm, "\n");
    } else if (!strcmp(mode, "exit42")) {
        CALL(fn_i, I_PROC_EXIT, 42);
    } else if (!strcmp(mode, "oob")) {
        *(volatile uint8_t *)(vm->mem_base + (5ull << 30)) = 1;
    } else if (!strcmp(mode, "oob_after_grow")) {
        wasmaot_memory_grow(vm->memory, 1);
        vm->mem_base[2 * 65536 - 1] = 1;
        say(vm, "in bounds ok\n");
        *(volatile uint8_t *)(vm->mem_base + 2 * 65536) = 1;
    } else if (!strcmp(mode, "sigcheck")) {
        /* Type identities: equal texts (at different addresses) give one pointer, others differ. */
        static char same[] = "iI:f";
        const char *a = wasmaot_intern_type(same), *b = wasmaot_intern_type("iI:f"), *c = wasmaot_intern_type("iI:F");
        if (a && a == b && a != same && c && c != a && !strcmp(a, "iI:f")) say(vm, "equal texts match\n");
        if (a != c) wasmaot_trap(WASMAOT_TRAP_INDIRECT_CALL_MISMATCH);
    } else if (!strcmp(mode, "runtime_stack")) {
        say_num(vm, "depth", runtime_recursion(0));
    } else if (!strcmp(mode, "runtime_oob")) {
        runtime_fault(vm->mem_base + (5ull << 30));
    } else if (!strcmp(mode, "null")) {
        /* A fault that is not Wasm's: must reach the default action (SIGSEGV), not a trap. */
        *(volatile int *)(uintptr_t)never = 1;
    } else if (!strcmp(mode, "stack")) {
        checked_recursion(vm, 0);
    } else if (!strcmp(mode, "stackguard")) {
        raw_recursion(0);
    } else if (!strcmp(mode, "grow")) {
        say_num(vm, "grow1=", wasmaot_memory_grow(vm->memory, 1));
        say_num(vm, "grow1=", wasmaot_memory_grow(vm->memory, 1));
        say_num(vm, "grow_over=", wasmaot_memory_grow(vm->memory, 1));
        say_num(vm, "grow0=", wasmaot_memory_grow(vm->memory, 0));
        say_num(vm, "big=", wasmaot_memory_grow(vm->memory, 0xffffffffu));
        vm->mem_base[3 * 65536 - 1] = 7;
        say_num(vm, "size=", (long long)vm->memory->size);
    } else if (!strcmp(mode, "wasi")) {
        mode_wasi(vm);
    } else if (!strcmp(mode, "wasi_walk")) {
        wasmaot_openat2_state = -1; /* exercise the user-space resolver */
        mode_wasi(vm);
    } else if (!strcmp(mode, "wasi_fs")) {
        mode_wasi_fs(vm);
    } else if (!strcmp(mode, "wasi_fs_walk")) {
        wasmaot_openat2_state = -1;
        mode_wasi_fs(vm);
    } else if (!strcmp(mode, "env")) {
        mode_env(vm);
    } else if (!strcmp(mode, "bench")) {
        CALL0(fn_v, I_BENCH_START);
        CALL0(fn_v, I_BENCH_END);
    } else if (!strcmp(mode, "tables")) {
        mode_tables(vm);
    } else if (!strcmp(mode, "memops")) {
        mode_memops(vm);
    } else if (!strcmp(mode, "trapjmp")) {
        /* In-process landing pad (what the embedding API will use). */
        static sigjmp_buf jb;
        static volatile int round;
        sigjmp_buf *prev = wasmaot_trap_set_handler(&jb);
        if (sigsetjmp(jb, 1) == 0) {
            round = 1;
            *(volatile uint8_t *)(vm->mem_base + 70000) = 1;
        }
        say_num(vm, "kind=", wasmaot_trap_last_kind());
        if (round == 1 && sigsetjmp(jb, 0) == 0) { /* no mask restore: SA_NODEFER matters */
            round = 2;
            *(volatile uint8_t *)(vm->mem_base + 80000) = 1;
        }
        say_num(vm, "kind=", wasmaot_trap_last_kind());
        if (round == 2 && sigsetjmp(jb, 1) == 0) {
            round = 3;
            wasmaot_trap(WASMAOT_TRAP_UNREACHABLE);
        }
        say_num(vm, "kind=", wasmaot_trap_last_kind());
        wasmaot_trap_set_handler(prev);
        wasmaot_trap(WASMAOT_TRAP_DIV_BY_ZERO); /* no pad any more: exits 134 */
    } else {
        say(vm, "unknown mode\n");
        CALL(fn_i, I_PROC_EXIT, 2);
    }
}
