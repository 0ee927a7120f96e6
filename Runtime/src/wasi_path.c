/*
 * wasi_path.c — preview1 functions that resolve a guest path relative to a directory fd.
 *
 * Sandbox: a guest path may never name anything outside the directory it is resolved against.
 * Two layers: (1) a lexical check rejects absolute paths and any ".." that climbs above the start
 * directory (ENOTCAPABLE); (2) the real resolution must stay beneath too, including through
 * symlinks: openat2(2) with RESOLVE_BENEATH when the kernel has it, else open_walk(), which
 * resolves component by component in user space.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_openat2
#define SYS_openat2 437 /* same number in the generic (aarch64) and x86-64 tables */
#endif
#define RESOLVE_BENEATH_ 0x08
#define RESOLVE_NO_MAGICLINKS_ 0x02

struct open_how_ { uint64_t flags, mode, resolve; };

/* preview1 constants */
#define LOOKUP_SYMLINK_FOLLOW 1
#define OFLAGS_CREAT 1
#define OFLAGS_DIRECTORY 2
#define OFLAGS_EXCL 4
#define OFLAGS_TRUNC 8
#define FDFLAGS_APPEND 1
#define FDFLAGS_DSYNC 2
#define FDFLAGS_NONBLOCK 4
#define FDFLAGS_RSYNC 8
#define FDFLAGS_SYNC 16
#define RIGHT_FD_DATASYNC (1u << 0)
#define RIGHT_FD_READ (1u << 1)
#define RIGHT_FD_WRITE (1u << 6)
#define RIGHT_FD_ALLOCATE (1u << 8)
#define RIGHT_FD_READDIR (1u << 14)
#define RIGHT_FD_FILESTAT_SET_SIZE (1u << 22)

/* Copies a guest path out of memory as a C string. Returns 0 or a WASI errno. */
static int32_t guest_path(wasmaot_vmctx *vm, int32_t ptr, int32_t len, char **out) {
    const uint8_t *p = wasi_mem(vm, (uint32_t)ptr, (uint32_t)len);
    if (!p) return WASI_EFAULT;
    if (memchr(p, 0, (uint32_t)len)) return WASI_EILSEQ;
    char *s = malloc((size_t)(uint32_t)len + 1);
    if (!s) return WASI_ENOMEM;
    memcpy(s, p, (uint32_t)len);
    s[(uint32_t)len] = 0;
    *out = s;
    return 0;
}

/* Lexical containment: 0 if `path` stays beneath its start directory, else a WASI errno. */
static int32_t check_beneath(const char *path) {
    if (!*path) return WASI_ENOENT;
    if (*path == '/') return WASI_ENOTCAPABLE;
    long depth = 0;
    for (const char *p = path; *p;) {
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            if (--depth < 0) return WASI_ENOTCAPABLE;
        } else if (n > 0 && !(n == 1 && p[0] == '.')) {
            depth++;
        }
        p += n;
        while (*p == '/') p++;
    }
    return 0;
}

/* 0 unknown, 1 works, -1 unavailable (old kernel, qemu-user, seccomp). Not static so the
 * runtime's test can force the fallback walker. */
int wasmaot_openat2_state;

#define MAX_SYMLINKS 40 /* as Linux's MAXSYMLINKS */
#define MAX_DEPTH 128

static int open_nointr(int dirfd, const char *path, int flags, mode_t mode) {
    int fd;
    do fd = openat(dirfd, path, flags, mode);
    while (fd < 0 && errno == EINTR);
    return fd;
}

/* Fallback sandbox when openat2 is unavailable: resolve one component at a time, holding an
 * O_PATH fd per directory level. ".." pops our own stack (never asks the filesystem, so it
 * cannot climb above `dirfd`), symlinks are read and spliced into the remaining path (absolute
 * targets are refused), and every open uses O_NOFOLLOW so nothing is followed behind our back.
 * Returns a host fd or -1 with *werr set. */
static int open_walk(int dirfd, const char *path, int flags, mode_t mode, int32_t *werr) {
    int follow_last = !(flags & O_NOFOLLOW);
    flags &= ~O_NOFOLLOW;
    int stack[MAX_DEPTH], depth = 0, links = 0, result = -1;
    char *rest = strdup(path), *comp = NULL;
    *werr = WASI_ENOMEM;
    if (!rest) return -1;
    for (;;) {
        int cur = depth ? stack[depth - 1] : dirfd;
        char *p = rest;
        while (*p == '/') p++;
        if (!*p) { /* the path named the current directory itself ("." or "a/..") */
            result = open_nointr(cur, ".", flags | O_NOFOLLOW, mode);
            if (result < 0) *werr = wasi_errno_from_host(errno);
            break;
        }
        char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        char *after = p + n;
        const char *q = after;
        while (*q == '/') q++;
        int last = !*q, trailing_slash = last && *after == '/';
        free(comp);
        if (!(comp = strndup(p, n))) break;
        memmove(rest, q, strlen(q) + 1); /* rest = what follows this component */

        if (!strcmp(comp, ".")) continue;
        if (!strcmp(comp, "..")) {
            if (depth == 0) { *werr = WASI_ENOTCAPABLE; break; }
            close(stack[--depth]);
            continue;
        }
        int probe = open_nointr(cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0);
        struct stat st;
        if (probe < 0 || fstat(probe, &st) < 0) {
            int e = errno;
            if (probe >= 0) close(probe);
            if (last && e == ENOENT) goto final; /* may be created by O_CREAT */
            *werr = wasi_errno_from_host(e);
            break;
        }
        if (S_ISLNK(st.st_mode) && (!last || follow_last)) {
            char target[4096];
            ssize_t tl = readlinkat(probe, "", target, sizeof target - 1);
            close(probe);
            if (tl < 0) { *werr = wasi_errno_from_host(errno); break; }
            target[tl] = 0;
            if (++links > MAX_SYMLINKS) { *werr = WASI_ELOOP; break; }
            if (target[0] == '/') { *werr = WASI_ENOTCAPABLE; break; }
            size_t rl = strlen(rest);
            char *nr = malloc((size_t)tl + rl + 3);
            if (!nr) break;
            /* keep a trailing slash meaningful: "link/" must resolve to a directory */
            snprintf(nr, (size_t)tl + rl + 3, "%s%s%s", target, (rl || trailing_slash) ? "/" : "", rest);
            free(rest);
            rest = nr;
            continue;
        }
        if (!last) {
            if (!S_ISDIR(st.st_mode)) { close(probe); *werr = WASI_ENOTDIR; break; }
            if (depth == MAX_DEPTH) { close(probe); *werr = WASI_ENAMETOOLONG; break; }
            stack[depth++] = probe;
            continue;
        }
        close(probe);
    final:
        /* O_NOFOLLOW: if the last component became a symlink since the probe, fail (ELOOP)
         * rather than follow it out of the sandbox. */
        result = open_nointr(cur, comp, flags | O_NOFOLLOW | (trailing_slash ? O_DIRECTORY : 0), mode);
        if (result < 0) *werr = wasi_errno_from_host(errno);
        break;
    }
    while (depth) close(stack[--depth]);
    free(comp);
    free(rest);
    return result;
}

/* Opens `path` beneath `dirfd`. Returns a host fd, or -1 with *werr set to a WASI errno. */
static int open_beneath(int dirfd, const char *path, int flags, mode_t mode, int32_t *werr) {
    int32_t e = check_beneath(path);
    if (e) { *werr = e; return -1; }
    flags |= O_CLOEXEC;
    if (wasmaot_openat2_state >= 0) {
        struct open_how_ how = { (uint64_t)flags, (flags & O_CREAT) ? mode : 0,
                                 RESOLVE_BENEATH_ | RESOLVE_NO_MAGICLINKS_ };
        int fd;
        do fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
        while (fd < 0 && errno == EINTR);
        if (fd >= 0) { wasmaot_openat2_state = 1; return fd; }
        if (errno == EXDEV) { *werr = WASI_ENOTCAPABLE; return -1; } /* escape attempt */
        int enosys = errno == ENOSYS;
        if (enosys || (errno == EPERM && wasmaot_openat2_state == 0)) {
            /* ENOSYS, or EPERM on first use (some seccomp profiles): use the walker; if it
             * succeeds the EPERM came from a filter, so stop trying openat2. */
            int fd2 = open_walk(dirfd, path, flags, mode, werr);
            if (fd2 >= 0 || enosys) wasmaot_openat2_state = -1;
            return fd2;
        }
        *werr = wasi_errno_from_host(errno);
        return -1;
    }
    return open_walk(dirfd, path, flags, mode, werr);
}

int32_t wasmaot_wasi_path_open(wasmaot_vmctx *vm, int32_t dirfd, int32_t lookupflags, int32_t path,
                               int32_t path_len, int32_t oflags, int64_t rights_base,
                               int64_t rights_inheriting, int32_t fdflags, int32_t opened_fd) {
    (void)rights_inheriting;
    wasmaot_wasi *w = wasmaot_wasi_of(vm);
    wasi_fd *d = wasi_fd_get(w, dirfd);
    if (!d) return WASI_EBADF;
    uint8_t *res = wasi_mem(vm, (uint32_t)opened_fd, 4);
    if (!res) return WASI_EFAULT;

    /* Access mode from the requested rights, as wasi-libc encodes O_RDONLY/O_WRONLY/O_RDWR. */
    uint64_t rb = (uint64_t)rights_base;
    int rd = (rb & (RIGHT_FD_READ | RIGHT_FD_READDIR)) != 0;
    int wr = (rb & (RIGHT_FD_DATASYNC | RIGHT_FD_WRITE | RIGHT_FD_ALLOCATE |
                    RIGHT_FD_FILESTAT_SET_SIZE)) != 0;
    int flags = wr ? (rd ? O_RDWR : O_WRONLY) : O_RDONLY;
    if (oflags & OFLAGS_DIRECTORY) flags = O_RDONLY | O_DIRECTORY; /* directories open read-only */
    if (oflags & OFLAGS_CREAT) flags |= O_CREAT;
    if (oflags & OFLAGS_EXCL) flags |= O_EXCL;
    if (oflags & OFLAGS_TRUNC) flags |= O_TRUNC;
    if (fdflags & FDFLAGS_APPEND) flags |= O_APPEND;
    if (fdflags & FDFLAGS_DSYNC) flags |= O_DSYNC;
    if (fdflags & FDFLAGS_NONBLOCK) flags |= O_NONBLOCK;
    if (fdflags & FDFLAGS_RSYNC) flags |= O_RSYNC;
    if (fdflags & FDFLAGS_SYNC) flags |= O_SYNC;
    if (!(lookupflags & LOOKUP_SYMLINK_FOLLOW)) flags |= O_NOFOLLOW;
    flags |= O_NOCTTY;

    char *p;
    int32_t e = guest_path(vm, path, path_len, &p);
    if (e) return e;
    int fd = open_beneath(d->host, p, flags, 0666, &e);
    free(p);
    if (fd < 0) return e;
    struct stat st;
    uint8_t ft = fstat(fd, &st) == 0 ? wasi_filetype_from_mode(st.st_mode, fd) : WASI_FILETYPE_UNKNOWN;
    int32_t gfd = wasi_fd_add(w, fd, ft, NULL);
    if (gfd < 0) { close(fd); return WASI_ENOMEM; }
    wasi_store32(res, (uint32_t)gfd);
    return 0;
}

int32_t wasmaot_wasi_path_filestat_get(wasmaot_vmctx *vm, int32_t dirfd, int32_t lookupflags,
                                       int32_t path, int32_t path_len, int32_t buf) {
    wasi_fd *d = wasi_fd_get(wasmaot_wasi_of(vm), dirfd);
    if (!d) return WASI_EBADF;
    uint8_t *out = wasi_mem(vm, (uint32_t)buf, 64);
    if (!out) return WASI_EFAULT;
    char *p;
    int32_t e = guest_path(vm, path, path_len, &p);
    if (e) return e;
    /* O_PATH resolves through the same sandbox; with O_NOFOLLOW it yields the link itself. */
    int flags = O_PATH | ((lookupflags & LOOKUP_SYMLINK_FOLLOW) ? 0 : O_NOFOLLOW);
    int fd = open_beneath(d->host, p, flags, 0, &e);
    free(p);
    if (fd < 0) return e;
    struct stat st;
    int r = fstat(fd, &st);
    int saved = errno;
    close(fd);
    if (r < 0) return wasi_errno_from_host(saved);
    wasi_write_filestat(out, &st);
    return 0;
}
