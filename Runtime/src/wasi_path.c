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

/* Splits `path` (already copied out of guest memory) into the directory holding its last
 * component and that component. The directory is resolved beneath `dirfd` like any path (so a
 * symlink in the middle is followed only while it stays inside); the last component is left for
 * the caller's *at() call, which never follows it. Trailing slashes stay on the last component so
 * the host applies its rules ("file/" -> ENOTDIR). Returns the directory fd (close it when it is
 * not `dirfd`) or -1 with *werr set. */
static int open_parent(int dirfd, char *path, char **last, int32_t *werr) {
    int32_t e = check_beneath(path);
    if (e) { *werr = e; return -1; }
    size_t end = strlen(path);
    while (end > 0 && path[end - 1] == '/') end--;
    if (end == 0) { *werr = WASI_ENOTCAPABLE; return -1; } /* "/" : absolute */
    size_t slash = end;
    while (slash > 0 && path[slash - 1] != '/') slash--;
    if (slash == 0) { *last = path; return dirfd; }
    *last = path + slash;
    char saved = path[slash - 1];
    path[slash - 1] = 0;
    int fd = open_beneath(dirfd, path, O_PATH | O_DIRECTORY, 0, werr);
    path[slash - 1] = saved;
    return fd;
}

static void close_parent(int fd, int dirfd) {
    if (fd >= 0 && fd != dirfd) close(fd);
}

/* Looks up the guest's dir fd and requires `right` on it. */
static int32_t get_dir(wasmaot_vmctx *vm, int32_t dirfd, uint64_t right, wasi_fd **out) {
    wasi_fd *d = wasi_fd_get(wasmaot_wasi_of(vm), dirfd);
    if (!d) return WASI_EBADF;
    if (d->filetype != WASI_FILETYPE_DIRECTORY) return WASI_ENOTDIR;
    if (right && !(d->rights_base & right)) return WASI_ENOTCAPABLE;
    *out = d;
    return 0;
}

int32_t wasmaot_wasi_path_open(wasmaot_vmctx *vm, int32_t dirfd, int32_t lookupflags, int32_t path,
                               int32_t path_len, int32_t oflags, int64_t rights_base,
                               int64_t rights_inheriting, int32_t fdflags, int32_t opened_fd) {
    wasmaot_wasi *w = wasmaot_wasi_of(vm);
    wasi_fd *d;
    int32_t e = get_dir(vm, dirfd, WASI_RIGHT_PATH_OPEN, &d);
    if (e) return e;
    uint8_t *res = wasi_mem(vm, (uint32_t)opened_fd, 4);
    if (!res) return WASI_EFAULT;
    if (oflags & ~0xf) return WASI_EINVAL;
    if ((oflags & OFLAGS_CREAT) && !(d->rights_base & WASI_RIGHT_PATH_CREATE_FILE)) return WASI_ENOTCAPABLE;
    if ((oflags & OFLAGS_TRUNC) && !(d->rights_base & WASI_RIGHT_PATH_FILESTAT_SET_SIZE)) return WASI_ENOTCAPABLE;

    /* The new fd gets what was asked for, as far as the directory may hand it down. */
    uint64_t rb = (uint64_t)rights_base & d->rights_inheriting;
    uint64_t ri = (uint64_t)rights_inheriting & d->rights_inheriting;
    /* Access mode from the rights, as wasi-libc encodes O_RDONLY/O_WRONLY/O_RDWR. A directory
     * asked for with write rights fails with EISDIR, as on POSIX. */
    int rd = (rb & (WASI_RIGHT_FD_READ | WASI_RIGHT_FD_READDIR)) != 0;
    int wr = (rb & WASI_RIGHTS_WRITE_ACCESS) != 0;
    int flags = wr ? (rd ? O_RDWR : O_WRONLY) : O_RDONLY;
    if (oflags & OFLAGS_DIRECTORY) flags |= O_DIRECTORY;
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
    e = guest_path(vm, path, path_len, &p);
    if (e) return e;
    if ((oflags & OFLAGS_CREAT) && (oflags & OFLAGS_DIRECTORY)) { free(p); return WASI_EINVAL; }
    int fd = open_beneath(d->host, p, flags, 0666, &e);
    free(p);
    if (fd < 0) return e;
    struct stat st;
    uint8_t ft = fstat(fd, &st) == 0 ? wasi_filetype_from_mode(st.st_mode, fd) : WASI_FILETYPE_UNKNOWN;
    if (ft == WASI_FILETYPE_DIRECTORY) rb &= ~WASI_RIGHTS_NOT_DIR;
    else rb &= ~WASI_RIGHT_FD_READDIR;
    int32_t gfd = wasi_fd_add(w, fd, ft, NULL);
    if (gfd < 0) { close(fd); return WASI_ENOMEM; }
    w->fds[gfd].rights_base = rb;
    w->fds[gfd].rights_inheriting = ri;
    wasi_store32(res, (uint32_t)gfd);
    return 0;
}

int32_t wasmaot_wasi_path_filestat_get(wasmaot_vmctx *vm, int32_t dirfd, int32_t lookupflags,
                                       int32_t path, int32_t path_len, int32_t buf) {
    wasi_fd *d;
    int32_t e = get_dir(vm, dirfd, WASI_RIGHT_PATH_FILESTAT_GET, &d);
    if (e) return e;
    uint8_t *out = wasi_mem(vm, (uint32_t)buf, 64);
    if (!out) return WASI_EFAULT;
    char *p;
    e = guest_path(vm, path, path_len, &p);
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

int32_t wasmaot_wasi_path_filestat_set_times(wasmaot_vmctx *vm, int32_t dirfd, int32_t lookupflags,
                                             int32_t path, int32_t path_len, int64_t atim, int64_t mtim,
                                             int32_t fst) {
    wasi_fd *d;
    int32_t e = get_dir(vm, dirfd, WASI_RIGHT_PATH_FILESTAT_SET_TIMES, &d);
    if (e) return e;
    struct timespec ts[2];
    if ((e = wasi_times_from_fstflags(atim, mtim, fst, ts))) return e;
    char *p;
    if ((e = guest_path(vm, path, path_len, &p))) return e;
    int r, saved;
    if (lookupflags & LOOKUP_SYMLINK_FOLLOW) {
        int fd = open_beneath(d->host, p, O_PATH, 0, &e);
        free(p);
        if (fd < 0) return e;
        r = utimensat(fd, "", ts, AT_EMPTY_PATH);
        if (r < 0 && errno == EINVAL) { /* kernels without AT_EMPTY_PATH here */
            char proc[64];
            snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
            r = utimensat(AT_FDCWD, proc, ts, 0);
        }
        saved = errno;
        close(fd);
    } else {
        char *last;
        int pfd = open_parent(d->host, p, &last, &e);
        if (pfd < 0) { free(p); return e; }
        r = utimensat(pfd, last, ts, AT_SYMLINK_NOFOLLOW);
        saved = errno;
        close_parent(pfd, d->host);
        free(p);
    }
    return r < 0 ? wasi_errno_from_host(saved) : 0;
}

/* One-path operations on the last component: mkdir, rmdir, unlink, readlink, symlink. */
enum { OP_MKDIR, OP_RMDIR, OP_UNLINK };

static int32_t path_simple(wasmaot_vmctx *vm, int op, int32_t dirfd, int32_t path, int32_t path_len) {
    static const uint64_t need[] = { WASI_RIGHT_PATH_CREATE_DIRECTORY, WASI_RIGHT_PATH_REMOVE_DIRECTORY,
                                     WASI_RIGHT_PATH_UNLINK_FILE };
    wasi_fd *d;
    int32_t e = get_dir(vm, dirfd, need[op], &d);
    if (e) return e;
    char *p, *last;
    if ((e = guest_path(vm, path, path_len, &p))) return e;
    int pfd = open_parent(d->host, p, &last, &e);
    if (pfd < 0) { free(p); return e; }
    int r;
    switch (op) {
    case OP_MKDIR: r = mkdirat(pfd, last, 0777); break;
    case OP_RMDIR: r = unlinkat(pfd, last, AT_REMOVEDIR); break;
    default: r = unlinkat(pfd, last, 0); break;
    }
    int saved = errno;
    close_parent(pfd, d->host);
    free(p);
    return r < 0 ? wasi_errno_from_host(saved) : 0;
}

int32_t wasmaot_wasi_path_create_directory(wasmaot_vmctx *vm, int32_t fd, int32_t path, int32_t len) {
    return path_simple(vm, OP_MKDIR, fd, path, len);
}
int32_t wasmaot_wasi_path_remove_directory(wasmaot_vmctx *vm, int32_t fd, int32_t path, int32_t len) {
    return path_simple(vm, OP_RMDIR, fd, path, len);
}
int32_t wasmaot_wasi_path_unlink_file(wasmaot_vmctx *vm, int32_t fd, int32_t path, int32_t len) {
    return path_simple(vm, OP_UNLINK, fd, path, len);
}

int32_t wasmaot_wasi_path_readlink(wasmaot_vmctx *vm, int32_t dirfd, int32_t path, int32_t path_len,
                                   int32_t buf, int32_t buf_len, int32_t bufused) {
    wasi_fd *d;
    int32_t e = get_dir(vm, dirfd, WASI_RIGHT_PATH_READLINK, &d);
    if (e) return e;
    uint8_t *out = wasi_mem(vm, (uint32_t)buf, (uint32_t)buf_len);
    uint8_t *used = wasi_mem(vm, (uint32_t)bufused, 4);
    if (!out || !used) return WASI_EFAULT;
    char *p, *last;
    if ((e = guest_path(vm, path, path_len, &p))) return e;
    int pfd = open_parent(d->host, p, &last, &e);
    if (pfd < 0) { free(p); return e; }
    char target[4096];
    ssize_t n = readlinkat(pfd, last, target, sizeof target);
    int saved = errno;
    close_parent(pfd, d->host);
    free(p);
    if (n < 0) return wasi_errno_from_host(saved);
    /* The contents are returned truncated to the buffer, as readlink(2) does. */
    size_t m = (size_t)n < (uint32_t)buf_len ? (size_t)n : (uint32_t)buf_len;
    memcpy(out, target, m);
    wasi_store32(used, (uint32_t)m);
    return 0;
}

int32_t wasmaot_wasi_path_symlink(wasmaot_vmctx *vm, int32_t old_path, int32_t old_len, int32_t dirfd,
                                  int32_t new_path, int32_t new_len) {
    wasi_fd *d;
    int32_t e = get_dir(vm, dirfd, WASI_RIGHT_PATH_SYMLINK, &d);
    if (e) return e;
    char *target, *p, *last;
    if ((e = guest_path(vm, old_path, old_len, &target))) return e;
    if ((e = guest_path(vm, new_path, new_len, &p))) { free(target); return e; }
    /* An absolute target could never be followed inside the sandbox: refuse it up front with
     * EPERM, as wasmtime does. Other contents are just data: following the link later goes
     * through the sandbox, which refuses anything that climbs out of the preopen. */
    if (target[0] == '/') { free(target); free(p); return WASI_EPERM; }
    int pfd = open_parent(d->host, p, &last, &e);
    int r = -1, saved = 0;
    if (pfd >= 0) {
        r = symlinkat(target, pfd, last);
        saved = errno;
        close_parent(pfd, d->host);
    }
    free(target);
    free(p);
    if (pfd < 0) return e;
    return r < 0 ? wasi_errno_from_host(saved) : 0;
}

/* Two-path operations: rename and link. */
int32_t wasmaot_wasi_path_rename(wasmaot_vmctx *vm, int32_t fd1, int32_t path1, int32_t len1, int32_t fd2,
                                 int32_t path2, int32_t len2) {
    wasi_fd *d1, *d2;
    int32_t e = get_dir(vm, fd1, WASI_RIGHT_PATH_RENAME_SOURCE, &d1);
    if (e) return e;
    if ((e = get_dir(vm, fd2, WASI_RIGHT_PATH_RENAME_TARGET, &d2))) return e;
    char *p1, *p2, *l1, *l2;
    if ((e = guest_path(vm, path1, len1, &p1))) return e;
    if ((e = guest_path(vm, path2, len2, &p2))) { free(p1); return e; }
    int a = open_parent(d1->host, p1, &l1, &e), b = -1, r = -1, saved = 0;
    if (a >= 0) b = open_parent(d2->host, p2, &l2, &e);
    if (a >= 0 && b >= 0) {
        r = renameat(a, l1, b, l2);
        saved = errno;
    }
    close_parent(a, d1->host);
    close_parent(b, d2->host);
    free(p1);
    free(p2);
    if (a < 0 || b < 0) return e;
    return r < 0 ? wasi_errno_from_host(saved) : 0;
}

int32_t wasmaot_wasi_path_link(wasmaot_vmctx *vm, int32_t fd1, int32_t lookupflags, int32_t path1, int32_t len1,
                               int32_t fd2, int32_t path2, int32_t len2) {
    wasi_fd *d1, *d2;
    int32_t e = get_dir(vm, fd1, WASI_RIGHT_PATH_LINK_SOURCE, &d1);
    if (e) return e;
    if ((e = get_dir(vm, fd2, WASI_RIGHT_PATH_LINK_TARGET, &d2))) return e;
    char *p1, *p2, *l1, *l2;
    if ((e = guest_path(vm, path1, len1, &p1))) return e;
    if ((e = guest_path(vm, path2, len2, &p2))) { free(p1); return e; }
    int a = -1, b = -1, r = -1, saved = 0, src_fd = -1;
    if (lookupflags & LOOKUP_SYMLINK_FOLLOW) {
        /* Follow inside the sandbox, then link what it resolved to (through /proc, which needs
         * no privilege, unlike linkat(AT_EMPTY_PATH)). */
        src_fd = open_beneath(d1->host, p1, O_PATH, 0, &e);
    } else {
        a = open_parent(d1->host, p1, &l1, &e);
    }
    if (src_fd >= 0 || a >= 0) b = open_parent(d2->host, p2, &l2, &e);
    if (b >= 0) {
        if (src_fd >= 0) {
            char proc[64];
            snprintf(proc, sizeof proc, "/proc/self/fd/%d", src_fd);
            r = linkat(AT_FDCWD, proc, b, l2, AT_SYMLINK_FOLLOW);
        } else {
            r = linkat(a, l1, b, l2, 0);
        }
        saved = errno;
    }
    if (src_fd >= 0) close(src_fd);
    close_parent(a, d1->host);
    close_parent(b, d2->host);
    free(p1);
    free(p2);
    if (b < 0) return e;
    return r < 0 ? wasi_errno_from_host(saved) : 0;
}
