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
#include <sys/syscall.h>
#include <dirent.h>
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
    if (f->filetype == WASI_FILETYPE_DIRECTORY) return WASI_EISDIR;
    uint64_t need = (op == OP_READ || op == OP_PREAD) ? WASI_RIGHT_FD_READ : WASI_RIGHT_FD_WRITE;
    if (!(f->rights_base & need)) return WASI_ENOTCAPABLE;
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
    if (f->sync_flags && r > 0 && (op == OP_WRITE || op == OP_PWRITE)) {
        /* fdflags DSYNC/SYNC set after open: Linux cannot add O_SYNC later, so sync here. */
        if ((f->sync_flags & 16) ? fsync(f->host) : fdatasync(f->host)) return HOST_ERR();
    }
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
    /* lseek on a directory "works" on Linux (it rewinds getdents); preview1 hosts refuse it. */
    if (f->filetype == WASI_FILETYPE_DIRECTORY) return WASI_EBADF;
    uint64_t need = (offset == 0 && whence == 1) ? (WASI_RIGHT_FD_TELL | WASI_RIGHT_FD_SEEK) : WASI_RIGHT_FD_SEEK;
    if (!(f->rights_base & need)) return WASI_ENOTCAPABLE;
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
    if (f->filetype == WASI_FILETYPE_DIRECTORY) return WASI_EBADF;
    if (!(f->rights_base & WASI_RIGHT_FD_TELL)) return WASI_ENOTCAPABLE;
    off_t r = lseek(f->host, 0, SEEK_CUR);
    if (r < 0) return HOST_ERR();
    wasi_store64(res, (uint64_t)r);
    return 0;
}

int32_t wasmaot_wasi_fd_close(wasmaot_vmctx *vm, int32_t fd) {
    GET_FD(f, vm, fd);
    int r = close(f->host);
    wasi_fd_release(f); /* the slot is free even if close reported EINTR/EIO */
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
    if ((fl & O_RSYNC) == O_RSYNC && (flags & 16)) flags |= 8; /* O_RSYNC == O_SYNC on Linux */
    flags |= f->sync_flags;
    memset(p, 0, 24);
    p[0] = wasi_filetype_from_mode(st.st_mode, f->host);
    memcpy(p + 2, &flags, 2);
    wasi_store64(p + 8, f->rights_base);
    wasi_store64(p + 16, f->rights_inheriting);
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
    if (f->filetype == WASI_FILETYPE_DIRECTORY) return WASI_EBADF;
    if (off < 0 || len <= 0) return WASI_EINVAL;
    int r = posix_fallocate(f->host, (off_t)off, (off_t)len);
    return r ? wasi_errno_from_host(r) : 0;
}

int32_t wasmaot_wasi_fd_filestat_set_size(wasmaot_vmctx *vm, int32_t fd, int64_t size) {
    GET_FD(f, vm, fd);
    if (f->filetype == WASI_FILETYPE_DIRECTORY) return WASI_EISDIR;
    if (size < 0) return WASI_EINVAL;
    return ftruncate(f->host, (off_t)size) < 0 ? HOST_ERR() : 0;
}

int32_t wasmaot_wasi_fd_fdstat_set_flags(wasmaot_vmctx *vm, int32_t fd, int32_t flags) {
    GET_FD(f, vm, fd);
    int fl = fcntl(f->host, F_GETFL);
    if (fl < 0) return HOST_ERR();
    if (flags & ~0x1f) return WASI_EINVAL;
    /* Linux can only change O_APPEND and O_NONBLOCK after open; DSYNC/RSYNC/SYNC are emulated by
     * syncing after every write (RSYNC alone has nothing to do on reads here). */
    fl = (fl & ~(O_APPEND | O_NONBLOCK)) | ((flags & 1) ? O_APPEND : 0) | ((flags & 4) ? O_NONBLOCK : 0);
    if (fcntl(f->host, F_SETFL, fl) < 0) return HOST_ERR();
    f->sync_flags = (uint16_t)(flags & (2 | 8 | 16));
    return 0;
}

int32_t wasmaot_wasi_fd_renumber(wasmaot_vmctx *vm, int32_t from, int32_t to) {
    wasmaot_wasi *w = wasmaot_wasi_of(vm);
    wasi_fd *a = wasi_fd_get(w, from), *b = wasi_fd_get(w, to);
    if (!a || !b) return WASI_EBADF;
    if (a == b) return 0;
    close(b->host);
    wasi_fd_release(b);
    *b = *a;
    memset(a, 0, sizeof *a);
    return 0;
}

int32_t wasmaot_wasi_fd_fdstat_set_rights(wasmaot_vmctx *vm, int32_t fd, int64_t base, int64_t inheriting) {
    GET_FD(f, vm, fd);
    uint64_t b = (uint64_t)base, i = (uint64_t)inheriting;
    /* Rights can only be dropped, never (re)gained. */
    if ((b & ~f->rights_base) || (i & ~f->rights_inheriting)) return WASI_ENOTCAPABLE;
    f->rights_base = b;
    f->rights_inheriting = i;
    return 0;
}

/* ---- Timestamps ---- */

#define FSTFLAGS_ATIM 1
#define FSTFLAGS_ATIM_NOW 2
#define FSTFLAGS_MTIM 4
#define FSTFLAGS_MTIM_NOW 8

int32_t wasi_times_from_fstflags(int64_t atim, int64_t mtim, int32_t fst, struct timespec ts[2]) {
    if (fst & ~0xf) return WASI_EINVAL;
    if ((fst & FSTFLAGS_ATIM) && (fst & FSTFLAGS_ATIM_NOW)) return WASI_EINVAL;
    if ((fst & FSTFLAGS_MTIM) && (fst & FSTFLAGS_MTIM_NOW)) return WASI_EINVAL;
    uint64_t a = (uint64_t)atim, m = (uint64_t)mtim;
    ts[0].tv_sec = 0; ts[1].tv_sec = 0;
    if (fst & FSTFLAGS_ATIM) { ts[0].tv_sec = (time_t)(a / 1000000000u); ts[0].tv_nsec = (long)(a % 1000000000u); }
    else ts[0].tv_nsec = (fst & FSTFLAGS_ATIM_NOW) ? UTIME_NOW : UTIME_OMIT;
    if (fst & FSTFLAGS_MTIM) { ts[1].tv_sec = (time_t)(m / 1000000000u); ts[1].tv_nsec = (long)(m % 1000000000u); }
    else ts[1].tv_nsec = (fst & FSTFLAGS_MTIM_NOW) ? UTIME_NOW : UTIME_OMIT;
    return 0;
}

int32_t wasmaot_wasi_fd_filestat_set_times(wasmaot_vmctx *vm, int32_t fd, int64_t atim, int64_t mtim, int32_t fst) {
    GET_FD(f, vm, fd);
    struct timespec ts[2];
    int32_t e = wasi_times_from_fstflags(atim, mtim, fst, ts);
    if (e) return e;
    return futimens(f->host, ts) < 0 ? HOST_ERR() : 0;
}

/* ---- fd_readdir ----
 * The directory is listed once into a snapshot (on cookie 0, or when there is none yet); a cookie
 * is an index into it, so cookies stay valid however the guest slices its reads. "." and ".."
 * are included, as getdents reports them. */

typedef struct wasi_dirent_ {
    uint64_t ino;
    uint32_t namlen, name_off;
    uint8_t type;
} wasi_dirent_;

struct wasi_dirlist {
    uint32_t n, cap;
    wasi_dirent_ *e;
    char *names;
    size_t names_len, names_cap;
};

void wasi_dirlist_free(struct wasi_dirlist *d) {
    if (!d) return;
    free(d->e);
    free(d->names);
    free(d);
}

struct linux_dirent64_ {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

static uint8_t filetype_from_dtype(int dirfd, const char *name, unsigned char t) {
    switch (t) {
    case DT_BLK: return WASI_FILETYPE_BLOCK_DEVICE;
    case DT_CHR: return WASI_FILETYPE_CHARACTER_DEVICE;
    case DT_DIR: return WASI_FILETYPE_DIRECTORY;
    case DT_REG: return WASI_FILETYPE_REGULAR_FILE;
    case DT_LNK: return WASI_FILETYPE_SYMBOLIC_LINK;
    case DT_SOCK: return WASI_FILETYPE_SOCKET_STREAM;
    case DT_FIFO: return WASI_FILETYPE_UNKNOWN;
    default: {
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) return wasi_filetype_from_mode(st.st_mode, -1);
        return WASI_FILETYPE_UNKNOWN;
    }
    }
}

static int32_t dirlist_build(int fd, struct wasi_dirlist **out) {
    struct wasi_dirlist *d = calloc(1, sizeof *d);
    if (!d) return WASI_ENOMEM;
    if (lseek(fd, 0, SEEK_SET) < 0) { int e = errno; free(d); return wasi_errno_from_host(e); }
    char buf[8192] __attribute__((aligned(8)));
    for (;;) {
        long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) { int e = errno; wasi_dirlist_free(d); return wasi_errno_from_host(e); }
        if (n == 0) break;
        for (long off = 0; off < n;) {
            struct linux_dirent64_ *de = (struct linux_dirent64_ *)(buf + off);
            off += de->d_reclen;
            size_t len = strlen(de->d_name);
            if (d->n == d->cap) {
                uint32_t nc = d->cap ? d->cap * 2 : 64;
                wasi_dirent_ *ne = realloc(d->e, nc * sizeof *ne);
                if (!ne) { wasi_dirlist_free(d); return WASI_ENOMEM; }
                d->e = ne;
                d->cap = nc;
            }
            if (d->names_len + len > d->names_cap) {
                size_t nc = d->names_cap ? d->names_cap * 2 : 4096;
                while (nc < d->names_len + len) nc *= 2;
                char *nn = realloc(d->names, nc);
                if (!nn) { wasi_dirlist_free(d); return WASI_ENOMEM; }
                d->names = nn;
                d->names_cap = nc;
            }
            memcpy(d->names + d->names_len, de->d_name, len);
            wasi_dirent_ *e = &d->e[d->n++];
            e->ino = de->d_ino;
            e->namlen = (uint32_t)len;
            e->name_off = (uint32_t)d->names_len;
            e->type = filetype_from_dtype(fd, de->d_name, de->d_type);
            d->names_len += len;
        }
    }
    *out = d;
    return 0;
}

int32_t wasmaot_wasi_fd_readdir(wasmaot_vmctx *vm, int32_t fd, int32_t buf, int32_t buf_len, int64_t cookie,
                                int32_t bufused) {
    GET_FD(f, vm, fd);
    uint8_t *out = wasi_mem(vm, (uint32_t)buf, (uint32_t)buf_len);
    uint8_t *used = wasi_mem(vm, (uint32_t)bufused, 4);
    if (!out || !used) return WASI_EFAULT;
    if (f->filetype != WASI_FILETYPE_DIRECTORY) return WASI_ENOTDIR;
    if (!(f->rights_base & WASI_RIGHT_FD_READDIR)) return WASI_ENOTCAPABLE;
    if (cookie == 0 || !f->dir) {
        struct wasi_dirlist *d;
        int32_t e = dirlist_build(f->host, &d);
        if (e) return e;
        wasi_dirlist_free(f->dir);
        f->dir = d;
    }
    struct wasi_dirlist *d = f->dir;
    uint64_t cap = (uint32_t)buf_len, pos = 0;
    for (uint64_t i = (uint64_t)cookie; i < d->n && pos < cap; i++) {
        wasi_dirent_ *e = &d->e[i];
        uint8_t hdr[24];
        memset(hdr, 0, sizeof hdr);
        wasi_store64(hdr, i + 1);
        wasi_store64(hdr + 8, e->ino);
        wasi_store32(hdr + 16, e->namlen);
        hdr[20] = e->type;
        /* A truncated last entry is allowed: the guest sees bufused == buf_len and retries. */
        uint64_t n = cap - pos < 24 ? cap - pos : 24;
        memcpy(out + pos, hdr, n);
        pos += n;
        n = cap - pos < e->namlen ? cap - pos : e->namlen;
        memcpy(out + pos, d->names + e->name_off, n);
        pos += n;
    }
    wasi_store32(used, (uint32_t)pos);
    return 0;
}
