/*
 * wasi_fd.c — preview1 functions that operate on an already open fd.
 * Every guest pointer is checked with wasi_mem() before use (EFAULT otherwise).
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define HOST_ERR() wasi_errno_from_host(errno)
#define GET_FD(var, vm, fd)                                 \
    wasi_fd *var = wasi_fd_get(wasmaot_wasi_of(vm), (fd));  \
    if (!var) return WASI_EBADF

/* Larger vectors are truncated: a short read/write is always a valid answer. */
#define MAX_IOVS 1024
#define STACK_IOVS 64

/* Translates the guest's ciovec/iovec array ({u32 buf, u32 len} each) into host iovecs.
 * Returns 0 and sets *out (maybe heap) and *count, or a WASI errno. */
static int32_t get_iovs(wasmaot_vmctx *vm, uint32_t iovs, uint32_t n, struct iovec *stack,
                        struct iovec **out, int *count) {
    if (n > MAX_IOVS) n = MAX_IOVS;
    const uint8_t *src = wasi_mem(vm, iovs, (uint64_t)n * 8);
    if (!src) return WASI_EFAULT;
    struct iovec *v = n <= STACK_IOVS ? stack : malloc(n * sizeof *v);
    if (!v) return WASI_ENOMEM;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t off = wasi_load32(src + 8 * i), len = wasi_load32(src + 8 * i + 4);
        uint8_t *p = wasi_mem(vm, off, len);
        if (!p) {
            if (v != stack) free(v);
            return WASI_EFAULT;
        }
        v[i].iov_base = p;
        v[i].iov_len = len;
    }
    *out = v;
    *count = (int)n;
    return 0;
}

enum { OP_READ, OP_WRITE, OP_PREAD, OP_PWRITE };

static int32_t do_io(wasmaot_vmctx *vm, int op, int32_t fd, int32_t iovs, int32_t n, int64_t off,
                     int32_t result_ptr) {
    GET_FD(f, vm, fd);
    uint8_t *res = wasi_mem(vm, (uint32_t)result_ptr, 4);
    if (!res) return WASI_EFAULT;
    if ((op == OP_PREAD || op == OP_PWRITE) && off < 0) return WASI_EINVAL;
    struct iovec stack[STACK_IOVS], *v;
    int cnt;
    int32_t e = get_iovs(vm, (uint32_t)iovs, (uint32_t)n, stack, &v, &cnt);
    if (e) return e;
    ssize_t r;
    do {
        switch (op) {
        case OP_READ: r = readv(f->host, v, cnt); break;
        case OP_WRITE: r = writev(f->host, v, cnt); break;
        case OP_PREAD: r = preadv(f->host, v, cnt, off); break;
        default: r = pwritev(f->host, v, cnt, off); break;
        }
    } while (r < 0 && errno == EINTR);
    int saved = errno;
    if (v != stack) free(v);
    if (r < 0) return wasi_errno_from_host(saved);
    wasi_store32(res, (uint32_t)r);
    return 0;
}

int32_t wasmaot_wasi_fd_read(wasmaot_vmctx *vm, int32_t fd, int32_t iovs, int32_t n, int32_t nread) {
    return do_io(vm, OP_READ, fd, iovs, n, 0, nread);
}
int32_t wasmaot_wasi_fd_write(wasmaot_vmctx *vm, int32_t fd, int32_t iovs, int32_t n, int32_t nwritten) {
    return do_io(vm, OP_WRITE, fd, iovs, n, 0, nwritten);
}
int32_t wasmaot_wasi_fd_pread(wasmaot_vmctx *vm, int32_t fd, int32_t iovs, int32_t n, int64_t off,
                              int32_t nread) {
    return do_io(vm, OP_PREAD, fd, iovs, n, off, nread);
}
int32_t wasmaot_wasi_fd_pwrite(wasmaot_vmctx *vm, int32_t fd, int32_t iovs, int32_t n, int64_t off,
                               int32_t nwritten) {
    return do_io(vm, OP_PWRITE, fd, iovs, n, off, nwritten);
}

int32_t wasmaot_wasi_fd_seek(wasmaot_vmctx *vm, int32_t fd, int64_t offset, int32_t whence,
                             int32_t newoffset) {
    GET_FD(f, vm, fd);
    uint8_t *res = wasi_mem(vm, (uint32_t)newoffset, 8);
    if (!res) return WASI_EFAULT;
    /* preview1 whence: 0 = set, 1 = cur, 2 = end — must be translated, not assumed. */
    int w;
    switch (whence) {
    case 0: w = SEEK_SET; break;
    case 1: w = SEEK_CUR; break;
    case 2: w = SEEK_END; break;
    default: return WASI_EINVAL;
    }
    off_t r = lseek(f->host, (off_t)offset, w);
    if (r < 0) return HOST_ERR();
    wasi_store64(res, (uint64_t)r);
    return 0;
}

int32_t wasmaot_wasi_fd_tell(wasmaot_vmctx *vm, int32_t fd, int32_t offset) {
    GET_FD(f, vm, fd);
    uint8_t *res = wasi_mem(vm, (uint32_t)offset, 8);
    if (!res) return WASI_EFAULT;
    off_t r = lseek(f->host, 0, SEEK_CUR);
    if (r < 0) return HOST_ERR();
    wasi_store64(res, (uint64_t)r);
    return 0;
}

int32_t wasmaot_wasi_fd_close(wasmaot_vmctx *vm, int32_t fd) {
    GET_FD(f, vm, fd);
    int r = close(f->host);
    free(f->preopen);
    memset(f, 0, sizeof *f); /* the slot is free even if close reported EINTR/EIO */
    return r < 0 && errno != EINTR ? HOST_ERR() : 0;
}

int32_t wasmaot_wasi_fd_fdstat_get(wasmaot_vmctx *vm, int32_t fd, int32_t buf) {
    GET_FD(f, vm, fd);
    uint8_t *p = wasi_mem(vm, (uint32_t)buf, 24);
    if (!p) return WASI_EFAULT;
    struct stat st;
    if (fstat(f->host, &st) < 0) return HOST_ERR();
    int fl = fcntl(f->host, F_GETFL);
    if (fl < 0) return HOST_ERR();
    uint16_t flags = 0;
    if (fl & O_APPEND) flags |= 1;
    if (fl & O_NONBLOCK) flags |= 4;
    if ((fl & O_SYNC) == O_SYNC) flags |= 16; /* O_SYNC includes the O_DSYNC bit on Linux */
    else if (fl & O_DSYNC) flags |= 2;
    memset(p, 0, 24);
    p[0] = wasi_filetype_from_mode(st.st_mode, f->host);
    memcpy(p + 2, &flags, 2);
    wasi_store64(p + 8, WASI_RIGHTS_ALL);
    wasi_store64(p + 16, WASI_RIGHTS_ALL);
    return 0;
}

int32_t wasmaot_wasi_fd_filestat_get(wasmaot_vmctx *vm, int32_t fd, int32_t buf) {
    GET_FD(f, vm, fd);
    uint8_t *p = wasi_mem(vm, (uint32_t)buf, 64);
    if (!p) return WASI_EFAULT;
    struct stat st;
    if (fstat(f->host, &st) < 0) return HOST_ERR();
    wasi_write_filestat(p, &st);
    if (p[16] == WASI_FILETYPE_SOCKET_STREAM) p[16] = wasi_filetype_from_mode(st.st_mode, f->host);
    return 0;
}

int32_t wasmaot_wasi_fd_prestat_get(wasmaot_vmctx *vm, int32_t fd, int32_t buf) {
    GET_FD(f, vm, fd);
    if (!f->preopen) return WASI_EBADF; /* wasi-libc scans fds 3.. until EBADF */
    uint8_t *p = wasi_mem(vm, (uint32_t)buf, 8);
    if (!p) return WASI_EFAULT;
    memset(p, 0, 8); /* tag 0 = directory */
    wasi_store32(p + 4, (uint32_t)strlen(f->preopen));
    return 0;
}

int32_t wasmaot_wasi_fd_prestat_dir_name(wasmaot_vmctx *vm, int32_t fd, int32_t path, int32_t len) {
    GET_FD(f, vm, fd);
    if (!f->preopen) return WASI_EBADF;
    size_t n = strlen(f->preopen);
    if ((uint32_t)len < n) return WASI_ENAMETOOLONG;
    uint8_t *p = wasi_mem(vm, (uint32_t)path, n);
    if (!p) return WASI_EFAULT;
    memcpy(p, f->preopen, n);
    return 0;
}

/* ---- Small fd operations that map 1:1 onto a host call ---- */

int32_t wasmaot_wasi_fd_sync(wasmaot_vmctx *vm, int32_t fd) {
    GET_FD(f, vm, fd);
    return fsync(f->host) < 0 ? HOST_ERR() : 0;
}

int32_t wasmaot_wasi_fd_datasync(wasmaot_vmctx *vm, int32_t fd) {
    GET_FD(f, vm, fd);
    return fdatasync(f->host) < 0 ? HOST_ERR() : 0;
}

int32_t wasmaot_wasi_fd_advise(wasmaot_vmctx *vm, int32_t fd, int64_t off, int64_t len, int32_t advice) {
    GET_FD(f, vm, fd);
    /* preview1 numbers sequential=1/random=2, the reverse of Linux's POSIX_FADV_*. */
    static const int map[] = { POSIX_FADV_NORMAL, POSIX_FADV_SEQUENTIAL, POSIX_FADV_RANDOM,
                               POSIX_FADV_WILLNEED, POSIX_FADV_DONTNEED, POSIX_FADV_NOREUSE };
    if (advice < 0 || advice > 5) return WASI_EINVAL;
    int r = posix_fadvise(f->host, (off_t)off, (off_t)len, map[advice]);
    return r ? wasi_errno_from_host(r) : 0;
}

int32_t wasmaot_wasi_fd_allocate(wasmaot_vmctx *vm, int32_t fd, int64_t off, int64_t len) {
    GET_FD(f, vm, fd);
    int r = posix_fallocate(f->host, (off_t)off, (off_t)len);
    return r ? wasi_errno_from_host(r) : 0;
}

int32_t wasmaot_wasi_fd_filestat_set_size(wasmaot_vmctx *vm, int32_t fd, int64_t size) {
    GET_FD(f, vm, fd);
    return ftruncate(f->host, (off_t)size) < 0 ? HOST_ERR() : 0;
}

int32_t wasmaot_wasi_fd_fdstat_set_flags(wasmaot_vmctx *vm, int32_t fd, int32_t flags) {
    GET_FD(f, vm, fd);
    int fl = fcntl(f->host, F_GETFL);
    if (fl < 0) return HOST_ERR();
    /* Linux can only change O_APPEND and O_NONBLOCK after open. */
    if (flags & ~(1 | 4)) return WASI_ENOTSUP;
    fl = (fl & ~(O_APPEND | O_NONBLOCK)) | ((flags & 1) ? O_APPEND : 0) | ((flags & 4) ? O_NONBLOCK : 0);
    return fcntl(f->host, F_SETFL, fl) < 0 ? HOST_ERR() : 0;
}

int32_t wasmaot_wasi_fd_renumber(wasmaot_vmctx *vm, int32_t from, int32_t to) {
    wasmaot_wasi *w = wasmaot_wasi_of(vm);
    wasi_fd *a = wasi_fd_get(w, from), *b = wasi_fd_get(w, to);
    if (!a || !b) return WASI_EBADF;
    if (a == b) return 0;
    close(b->host);
    free(b->preopen);
    *b = *a;
    memset(a, 0, sizeof *a);
    return 0;
}
