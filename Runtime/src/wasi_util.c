/*
 * wasi_util.c — errno translation, the guest fd table and filestat encoding shared by the WASI
 * implementation files.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

int32_t wasi_errno_from_host(int e) {
    switch (e) {
    case 0: return WASI_ESUCCESS;
    case E2BIG: return WASI_E2BIG;
    case EACCES: return WASI_EACCES;
    case EADDRINUSE: return WASI_EADDRINUSE;
    case EADDRNOTAVAIL: return WASI_EADDRNOTAVAIL;
    case EAFNOSUPPORT: return WASI_EAFNOSUPPORT;
    case EAGAIN: return WASI_EAGAIN; /* == EWOULDBLOCK on Linux */
    case EALREADY: return WASI_EALREADY;
    case EBADF: return WASI_EBADF;
    case EBADMSG: return WASI_EBADMSG;
    case EBUSY: return WASI_EBUSY;
    case ECANCELED: return WASI_ECANCELED;
    case ECHILD: return WASI_ECHILD;
    case ECONNABORTED: return WASI_ECONNABORTED;
    case ECONNREFUSED: return WASI_ECONNREFUSED;
    case ECONNRESET: return WASI_ECONNRESET;
    case EDEADLK: return WASI_EDEADLK;
    case EDESTADDRREQ: return WASI_EDESTADDRREQ;
    case EDOM: return WASI_EDOM;
    case EDQUOT: return WASI_EDQUOT;
    case EEXIST: return WASI_EEXIST;
    case EFAULT: return WASI_EFAULT;
    case EFBIG: return WASI_EFBIG;
    case EHOSTUNREACH: return WASI_EHOSTUNREACH;
    case EIDRM: return WASI_EIDRM;
    case EILSEQ: return WASI_EILSEQ;
    case EINPROGRESS: return WASI_EINPROGRESS;
    case EINTR: return WASI_EINTR;
    case EINVAL: return WASI_EINVAL;
    case EIO: return WASI_EIO;
    case EISCONN: return WASI_EISCONN;
    case EISDIR: return WASI_EISDIR;
    case ELOOP: return WASI_ELOOP;
    case EMFILE: return WASI_EMFILE;
    case EMLINK: return WASI_EMLINK;
    case EMSGSIZE: return WASI_EMSGSIZE;
    case EMULTIHOP: return WASI_EMULTIHOP;
    case ENAMETOOLONG: return WASI_ENAMETOOLONG;
    case ENETDOWN: return WASI_ENETDOWN;
    case ENETRESET: return WASI_ENETRESET;
    case ENETUNREACH: return WASI_ENETUNREACH;
    case ENFILE: return WASI_ENFILE;
    case ENOBUFS: return WASI_ENOBUFS;
    case ENODEV: return WASI_ENODEV;
    case ENOENT: return WASI_ENOENT;
    case ENOEXEC: return WASI_ENOEXEC;
    case ENOLCK: return WASI_ENOLCK;
    case ENOLINK: return WASI_ENOLINK;
    case ENOMEM: return WASI_ENOMEM;
    case ENOMSG: return WASI_ENOMSG;
    case ENOPROTOOPT: return WASI_ENOPROTOOPT;
    case ENOSPC: return WASI_ENOSPC;
    case ENOSYS: return WASI_ENOSYS;
    case ENOTCONN: return WASI_ENOTCONN;
    case ENOTDIR: return WASI_ENOTDIR;
    case ENOTEMPTY: return WASI_ENOTEMPTY;
    case ENOTRECOVERABLE: return WASI_ENOTRECOVERABLE;
    case ENOTSOCK: return WASI_ENOTSOCK;
    case ENOTSUP: return WASI_ENOTSUP; /* == EOPNOTSUPP on Linux */
    case ENOTTY: return WASI_ENOTTY;
    case ENXIO: return WASI_ENXIO;
    case EOVERFLOW: return WASI_EOVERFLOW;
    case EOWNERDEAD: return WASI_EOWNERDEAD;
    case EPERM: return WASI_EPERM;
    case EPIPE: return WASI_EPIPE;
    case EPROTO: return WASI_EPROTO;
    case EPROTONOSUPPORT: return WASI_EPROTONOSUPPORT;
    case EPROTOTYPE: return WASI_EPROTOTYPE;
    case ERANGE: return WASI_ERANGE;
    case EROFS: return WASI_EROFS;
    case ESPIPE: return WASI_ESPIPE;
    case ESRCH: return WASI_ESRCH;
    case ESTALE: return WASI_ESTALE;
    case ETIMEDOUT: return WASI_ETIMEDOUT;
    case ETXTBSY: return WASI_ETXTBSY;
    case EXDEV: return WASI_EXDEV;
    default: return WASI_EIO; /* no preview1 equivalent */
    }
}

wasi_fd *wasi_fd_get(wasmaot_wasi *w, int32_t fd) {
    if (!w || fd < 0 || (uint32_t)fd >= w->nfds || w->fds[fd].state != WASI_FD_OPEN) return NULL;
    return &w->fds[fd];
}

int32_t wasi_fd_add(wasmaot_wasi *w, int host, uint8_t filetype, char *preopen) {
    uint32_t i = 0;
    while (i < w->nfds && w->fds[i].state != WASI_FD_FREE) i++;
    if (i == w->nfds) {
        uint32_t n = w->nfds ? w->nfds * 2 : 16;
        wasi_fd *f = realloc(w->fds, n * sizeof *f);
        if (!f) return -1;
        memset(f + w->nfds, 0, (n - w->nfds) * sizeof *f);
        w->fds = f;
        w->nfds = n;
    }
    w->fds[i].host = host;
    w->fds[i].state = WASI_FD_OPEN;
    w->fds[i].filetype = filetype;
    w->fds[i].preopen = preopen;
    w->fds[i].rights_base = preopen ? WASI_RIGHTS_PREOPEN_BASE : WASI_RIGHTS_ALL;
    w->fds[i].rights_inheriting = WASI_RIGHTS_ALL;
    w->fds[i].dir = NULL;
    return (int32_t)i;
}

void wasi_fd_release(wasi_fd *f) {
    free(f->preopen);
    wasi_dirlist_free(f->dir);
    memset(f, 0, sizeof *f);
}

uint8_t wasi_filetype_from_mode(unsigned mode, int host_fd) {
    switch (mode & S_IFMT) {
    case S_IFBLK: return WASI_FILETYPE_BLOCK_DEVICE;
    case S_IFCHR: return WASI_FILETYPE_CHARACTER_DEVICE;
    case S_IFDIR: return WASI_FILETYPE_DIRECTORY;
    case S_IFREG: return WASI_FILETYPE_REGULAR_FILE;
    case S_IFLNK: return WASI_FILETYPE_SYMBOLIC_LINK;
    case S_IFSOCK: {
        int type = 0;
        socklen_t len = sizeof type;
        if (host_fd >= 0 && getsockopt(host_fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 &&
            type == SOCK_DGRAM)
            return WASI_FILETYPE_SOCKET_DGRAM;
        return WASI_FILETYPE_SOCKET_STREAM;
    }
    default: return WASI_FILETYPE_UNKNOWN; /* FIFOs have no preview1 filetype */
    }
}

static uint64_t ts_ns(struct timespec t) { return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec; }

void wasi_write_filestat(uint8_t *p, const void *stp) {
    const struct stat *st = stp;
    memset(p, 0, 64);
    wasi_store64(p + 0, (uint64_t)st->st_dev);
    wasi_store64(p + 8, (uint64_t)st->st_ino);
    p[16] = wasi_filetype_from_mode(st->st_mode, -1);
    wasi_store64(p + 24, (uint64_t)st->st_nlink);
    wasi_store64(p + 32, (uint64_t)st->st_size);
    wasi_store64(p + 40, ts_ns(st->st_atim));
    wasi_store64(p + 48, ts_ns(st->st_mtim));
    wasi_store64(p + 56, ts_ns(st->st_ctim));
}
