/*
 * wasi_poll.c — poll_oneoff, proc_raise and the sock_* functions (on host sockets that a guest fd
 * maps to; preview1 has no way to create one, so they come from the embedder or inherited fds).
 */
#include "internal.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

/* ---- poll_oneoff ----
 * subscription (48 bytes): userdata u64 @0, tag u8 @8, then at @16 either
 *   clock: id u32 @16, timeout u64 @24, precision u64 @32, flags u16 @40 (1 = absolute)
 *   fd_read / fd_write: fd u32 @16
 * event (32 bytes): userdata u64 @0, error u16 @8, type u8 @10, nbytes u64 @16, flags u16 @24
 * (flags 1 = hangup). */
enum { EV_CLOCK = 0, EV_FD_READ = 1, EV_FD_WRITE = 2 };

static int64_t now_ns(clockid_t c) {
    struct timespec t;
    clock_gettime(c, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int wasi_clock(uint32_t id, clockid_t *c) {
    switch (id) {
    case 0: *c = CLOCK_REALTIME; return 0;
    case 1: *c = CLOCK_MONOTONIC; return 0;
    case 2: *c = CLOCK_PROCESS_CPUTIME_ID; return 0;
    case 3: *c = CLOCK_THREAD_CPUTIME_ID; return 0;
    default: return -1;
    }
}

static void put_event(uint8_t *ev, uint64_t userdata, uint16_t err, uint8_t type, uint64_t nbytes,
                      uint16_t flags) {
    memset(ev, 0, 32);
    wasi_store64(ev, userdata);
    memcpy(ev + 8, &err, 2);
    ev[10] = type;
    wasi_store64(ev + 16, nbytes);
    memcpy(ev + 24, &flags, 2);
}

int32_t wasmaot_wasi_poll_oneoff(wasmaot_vmctx *vm, int32_t in, int32_t out, int32_t nsubs, int32_t nevents) {
    uint32_t n = (uint32_t)nsubs;
    if (n == 0) return WASI_EINVAL; /* would block forever */
    const uint8_t *subs = wasi_mem(vm, (uint32_t)in, (uint64_t)n * 48);
    uint8_t *evs = wasi_mem(vm, (uint32_t)out, (uint64_t)n * 32);
    uint8_t *nev = wasi_mem(vm, (uint32_t)nevents, 4);
    if (!subs || !evs || !nev) return WASI_EFAULT;
    wasmaot_wasi *w = wasmaot_wasi_of(vm);

    struct pollfd *pfds = calloc(n, sizeof *pfds);
    uint32_t *pidx = calloc(n, sizeof *pidx); /* pollfd -> subscription */
    if (!pfds || !pidx) { free(pfds); free(pidx); return WASI_ENOMEM; }
    uint32_t npfd = 0, count = 0;
    int64_t timeout = -1; /* ns until the earliest clock fires; -1 = none */
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *s = subs + 48 * i;
        uint64_t ud;
        memcpy(&ud, s, 8);
        uint8_t tag = s[8];
        if (tag == EV_CLOCK) {
            uint32_t id = wasi_load32(s + 16);
            uint64_t t;
            uint16_t fl;
            memcpy(&t, s + 24, 8);
            memcpy(&fl, s + 40, 2);
            clockid_t c;
            if (wasi_clock(id, &c)) {
                put_event(evs + 32 * count++, ud, WASI_EINVAL, EV_CLOCK, 0, 0);
                continue;
            }
            int64_t rel;
            if (fl & 1) {
                int64_t now = now_ns(c);
                rel = (int64_t)t > now ? (int64_t)t - now : 0;
            } else {
                rel = t > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)t;
            }
            if (timeout < 0 || rel < timeout) timeout = rel;
        } else if (tag == EV_FD_READ || tag == EV_FD_WRITE) {
            int32_t fd = (int32_t)wasi_load32(s + 16);
            wasi_fd *f = wasi_fd_get(w, fd);
            if (!f) {
                put_event(evs + 32 * count++, ud, WASI_EBADF, tag, 0, 0);
                continue;
            }
            if (!(f->rights_base & WASI_RIGHT_POLL_FD_READWRITE) &&
                !(f->rights_base & (tag == EV_FD_READ ? WASI_RIGHT_FD_READ : WASI_RIGHT_FD_WRITE))) {
                put_event(evs + 32 * count++, ud, WASI_ENOTCAPABLE, tag, 0, 0);
                continue;
            }
            pfds[npfd].fd = f->host;
            pfds[npfd].events = tag == EV_FD_READ ? POLLIN : POLLOUT;
            pidx[npfd++] = i;
        } else {
            put_event(evs + 32 * count++, ud, WASI_EINVAL, tag, 0, 0);
        }
    }

    /* Errors found while decoding are events already: report them without waiting. */
    if (count == 0) {
        int64_t start = now_ns(CLOCK_MONOTONIC);
        for (;;) {
            int64_t left = -1;
            if (timeout >= 0) {
                left = timeout - (now_ns(CLOCK_MONOTONIC) - start);
                if (left < 0) left = 0;
            }
            struct timespec ts = { (time_t)(left / 1000000000), (long)(left % 1000000000) };
            int r = ppoll(pfds, npfd, left >= 0 ? &ts : NULL, NULL);
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) {
                int e = errno;
                free(pfds);
                free(pidx);
                return wasi_errno_from_host(e);
            }
            for (uint32_t k = 0; k < npfd; k++) {
                short re = pfds[k].revents;
                if (!re) continue;
                const uint8_t *s = subs + 48 * pidx[k];
                uint64_t ud;
                memcpy(&ud, s, 8);
                uint8_t tag = s[8];
                uint16_t err = 0, flags = 0;
                uint64_t nbytes = 0;
                if (re & POLLNVAL) err = WASI_EBADF;
                else if (re & POLLERR) err = WASI_EIO;
                if (re & POLLHUP) flags = 1;
                if (!err && tag == EV_FD_READ) {
                    int avail = 0;
                    struct stat st;
                    if (fstat(pfds[k].fd, &st) == 0 && S_ISREG(st.st_mode)) {
                        off_t pos = lseek(pfds[k].fd, 0, SEEK_CUR);
                        if (pos >= 0 && st.st_size > pos) nbytes = (uint64_t)(st.st_size - pos);
                    } else if (ioctl(pfds[k].fd, FIONREAD, &avail) == 0 && avail > 0) {
                        nbytes = (uint64_t)avail;
                    }
                }
                put_event(evs + 32 * count++, ud, err, tag, nbytes, flags);
            }
            if (count) break;
            if (timeout >= 0 && now_ns(CLOCK_MONOTONIC) - start >= timeout) {
                /* Every clock subscription due by now fires. */
                int64_t elapsed = now_ns(CLOCK_MONOTONIC) - start;
                for (uint32_t i = 0; i < n; i++) {
                    const uint8_t *s = subs + 48 * i;
                    if (s[8] != EV_CLOCK) continue;
                    uint64_t ud, t;
                    uint16_t fl;
                    memcpy(&ud, s, 8);
                    memcpy(&t, s + 24, 8);
                    memcpy(&fl, s + 40, 2);
                    clockid_t c;
                    if (wasi_clock(wasi_load32(s + 16), &c)) continue;
                    int due = (fl & 1) ? now_ns(c) >= (int64_t)t : (t <= (uint64_t)elapsed);
                    if (due || t == (uint64_t)timeout) put_event(evs + 32 * count++, ud, 0, EV_CLOCK, 0, 0);
                }
                if (!count) continue; /* cannot happen; be safe */
                break;
            }
        }
    }
    free(pfds);
    free(pidx);
    wasi_store32(nev, count);
    return 0;
}

/* ---- proc_raise ---- */
int32_t wasmaot_wasi_proc_raise(wasmaot_vmctx *vm, int32_t sig) {
    (void)vm;
    static const int map[] = { 0, SIGHUP, SIGINT, SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE,
                               SIGKILL, SIGUSR1, SIGSEGV, SIGUSR2, SIGPIPE, SIGALRM, SIGTERM, SIGCHLD,
                               SIGCONT, SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU, SIGURG, SIGXCPU, SIGXFSZ,
                               SIGVTALRM, SIGPROF, SIGWINCH, SIGPOLL, SIGPWR, SIGSYS };
    if (sig < 0 || (size_t)sig >= sizeof map / sizeof map[0]) return WASI_EINVAL;
    if (sig == 0) return 0;
    int s = map[sig];
    /* The runtime's own SIGSEGV/SIGBUS handlers turn faults into traps; a raised signal must
     * get the default action instead. */
    if (s == SIGSEGV || s == SIGBUS || s == SIGFPE || s == SIGILL) signal(s, SIG_DFL);
    return raise(s) != 0 ? wasi_errno_from_host(errno) : 0;
}

/* ---- sockets ---- */

static int32_t sock_fd(wasmaot_vmctx *vm, int32_t fd, wasi_fd **out) {
    wasi_fd *f = wasi_fd_get(wasmaot_wasi_of(vm), fd);
    if (!f) return WASI_EBADF;
    struct stat st;
    if (fstat(f->host, &st) < 0) return wasi_errno_from_host(errno);
    if (!S_ISSOCK(st.st_mode)) return WASI_ENOTSOCK;
    *out = f;
    return 0;
}

int32_t wasmaot_wasi_sock_accept(wasmaot_vmctx *vm, int32_t fd, int32_t flags, int32_t result) {
    wasi_fd *f;
    int32_t e = sock_fd(vm, fd, &f);
    if (e) return e;
    uint8_t *res = wasi_mem(vm, (uint32_t)result, 4);
    if (!res) return WASI_EFAULT;
    if (flags & ~4) return WASI_EINVAL; /* only FDFLAGS_NONBLOCK makes sense */
    if (!(f->rights_base & WASI_RIGHT_SOCK_ACCEPT)) return WASI_ENOTCAPABLE;
    int c;
    do c = accept4(f->host, NULL, NULL, SOCK_CLOEXEC | ((flags & 4) ? SOCK_NONBLOCK : 0));
    while (c < 0 && errno == EINTR);
    if (c < 0) return wasi_errno_from_host(errno);
    wasmaot_wasi *w = wasmaot_wasi_of(vm);
    int32_t g = wasi_fd_add(w, c, wasi_filetype_from_mode(S_IFSOCK, c), NULL);
    if (g < 0) { close(c); return WASI_ENOMEM; }
    w->fds[g].rights_base = f->rights_inheriting;
    w->fds[g].rights_inheriting = f->rights_inheriting;
    wasi_store32(res, (uint32_t)g);
    return 0;
}

#define MAX_IOVS 1024

static int32_t sock_iovs(wasmaot_vmctx *vm, uint32_t iovs, uint32_t n, struct iovec **out) {
    if (n > MAX_IOVS) n = MAX_IOVS;
    const uint8_t *src = wasi_mem(vm, iovs, (uint64_t)n * 8);
    if (!src) return WASI_EFAULT;
    struct iovec *v = calloc(n ? n : 1, sizeof *v);
    if (!v) return WASI_ENOMEM;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t off = wasi_load32(src + 8 * i), len = wasi_load32(src + 8 * i + 4);
        uint8_t *p = wasi_mem(vm, off, len);
        if (!p) { free(v); return WASI_EFAULT; }
        v[i].iov_base = p;
        v[i].iov_len = len;
    }
    *out = v;
    return 0;
}

int32_t wasmaot_wasi_sock_recv(wasmaot_vmctx *vm, int32_t fd, int32_t iovs, int32_t niovs, int32_t riflags,
                               int32_t ro_datalen, int32_t ro_flags) {
    wasi_fd *f;
    int32_t e = sock_fd(vm, fd, &f);
    if (e) return e;
    uint8_t *len_out = wasi_mem(vm, (uint32_t)ro_datalen, 4), *flags_out = wasi_mem(vm, (uint32_t)ro_flags, 2);
    if (!len_out || !flags_out) return WASI_EFAULT;
    if (riflags & ~3) return WASI_EINVAL;
    if (!(f->rights_base & WASI_RIGHT_FD_READ)) return WASI_ENOTCAPABLE;
    struct iovec *v;
    uint32_t n = (uint32_t)niovs > MAX_IOVS ? MAX_IOVS : (uint32_t)niovs;
    if ((e = sock_iovs(vm, (uint32_t)iovs, n, &v))) return e;
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = v;
    m.msg_iovlen = n;
    int fl = ((riflags & 1) ? MSG_PEEK : 0) | ((riflags & 2) ? MSG_WAITALL : 0);
    ssize_t r;
    do r = recvmsg(f->host, &m, fl);
    while (r < 0 && errno == EINTR);
    int saved = errno;
    free(v);
    if (r < 0) return wasi_errno_from_host(saved);
    uint16_t of = (m.msg_flags & MSG_TRUNC) ? 1 : 0; /* ROFLAGS_RECV_DATA_TRUNCATED */
    wasi_store32(len_out, (uint32_t)r);
    memcpy(flags_out, &of, 2);
    return 0;
}

int32_t wasmaot_wasi_sock_send(wasmaot_vmctx *vm, int32_t fd, int32_t iovs, int32_t niovs, int32_t siflags,
                               int32_t so_datalen) {
    wasi_fd *f;
    int32_t e = sock_fd(vm, fd, &f);
    if (e) return e;
    uint8_t *len_out = wasi_mem(vm, (uint32_t)so_datalen, 4);
    if (!len_out) return WASI_EFAULT;
    if (siflags != 0) return WASI_EINVAL; /* no siflags are defined */
    if (!(f->rights_base & WASI_RIGHT_FD_WRITE)) return WASI_ENOTCAPABLE;
    struct iovec *v;
    uint32_t n = (uint32_t)niovs > MAX_IOVS ? MAX_IOVS : (uint32_t)niovs;
    if ((e = sock_iovs(vm, (uint32_t)iovs, n, &v))) return e;
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = v;
    m.msg_iovlen = n;
    ssize_t r;
    do r = sendmsg(f->host, &m, MSG_NOSIGNAL);
    while (r < 0 && errno == EINTR);
    int saved = errno;
    free(v);
    if (r < 0) return wasi_errno_from_host(saved);
    wasi_store32(len_out, (uint32_t)r);
    return 0;
}

int32_t wasmaot_wasi_sock_shutdown(wasmaot_vmctx *vm, int32_t fd, int32_t how) {
    wasi_fd *f;
    int32_t e = sock_fd(vm, fd, &f);
    if (e) return e;
    int h;
    switch (how) {
    case 1: h = SHUT_RD; break;
    case 2: h = SHUT_WR; break;
    case 3: h = SHUT_RDWR; break;
    default: return WASI_EINVAL;
    }
    if (!(f->rights_base & WASI_RIGHT_SOCK_SHUTDOWN)) return WASI_ENOTCAPABLE;
    return shutdown(f->host, h) < 0 ? wasi_errno_from_host(errno) : 0;
}
