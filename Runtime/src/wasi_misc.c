/*
 * wasi_misc.c — args/environ, clocks, randomness, process control and the bench module.
 */
#include "internal.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

/* args_get/environ_get share one shape: an array of u32 pointers plus a buffer of NUL-terminated
 * strings. Sizes are computed in 64 bits so a huge environment cannot wrap the bounds check. */
static int32_t strings_sizes(wasmaot_vmctx *vm, uint32_t n, char **v, int32_t count_ptr, int32_t size_ptr) {
    uint8_t *c = wasi_mem(vm, (uint32_t)count_ptr, 4), *s = wasi_mem(vm, (uint32_t)size_ptr, 4);
    if (!c || !s) return WASI_EFAULT;
    uint64_t total = 0;
    for (uint32_t i = 0; i < n; i++) total += strlen(v[i]) + 1;
    if (total > UINT32_MAX) return WASI_E2BIG;
    wasi_store32(c, n);
    wasi_store32(s, (uint32_t)total);
    return 0;
}

static int32_t strings_get(wasmaot_vmctx *vm, uint32_t n, char **v, int32_t ptrs, int32_t buf) {
    uint8_t *p = wasi_mem(vm, (uint32_t)ptrs, (uint64_t)n * 4);
    if (!p) return WASI_EFAULT;
    uint64_t total = 0;
    for (uint32_t i = 0; i < n; i++) total += strlen(v[i]) + 1;
    uint8_t *b = wasi_mem(vm, (uint32_t)buf, total);
    if (!b) return WASI_EFAULT;
    uint32_t off = 0;
    for (uint32_t i = 0; i < n; i++) {
        size_t len = strlen(v[i]) + 1;
        memcpy(b + off, v[i], len);
        wasi_store32(p + 4 * i, (uint32_t)buf + off);
        off += (uint32_t)len;
    }
    return 0;
}

int32_t wasmaot_wasi_args_sizes_get(wasmaot_vmctx *vm, int32_t argc, int32_t buf_size) {
    wasmaot_wasi *w = wasmaot_wasi_of(vm);
    if (!w) return WASI_ENOMEM;
    return strings_sizes(vm, w->argc, w->argv, argc, buf_size);
}
int32_t wasmaot_wasi_args_get(wasmaot_vmctx *vm, int32_t argv, int32_t buf) {
    wasmaot_wasi *w = wasmaot_wasi_of(vm);
    if (!w) return WASI_ENOMEM;
    return strings_get(vm, w->argc, w->argv, argv, buf);
}
int32_t wasmaot_wasi_environ_sizes_get(wasmaot_vmctx *vm, int32_t count, int32_t buf_size) {
    wasmaot_wasi *w = wasmaot_wasi_of(vm);
    if (!w) return WASI_ENOMEM;
    return strings_sizes(vm, w->envc, w->env, count, buf_size);
}
int32_t wasmaot_wasi_environ_get(wasmaot_vmctx *vm, int32_t environ, int32_t buf) {
    wasmaot_wasi *w = wasmaot_wasi_of(vm);
    if (!w) return WASI_ENOMEM;
    return strings_get(vm, w->envc, w->env, environ, buf);
}

static int host_clock(int32_t id, clockid_t *out) {
    switch (id) {
    case 0: *out = CLOCK_REALTIME; return 0;
    case 1: *out = CLOCK_MONOTONIC; return 0;
    case 2: *out = CLOCK_PROCESS_CPUTIME_ID; return 0;
    case 3: *out = CLOCK_THREAD_CPUTIME_ID; return 0;
    default: return -1;
    }
}

int32_t wasmaot_wasi_clock_res_get(wasmaot_vmctx *vm, int32_t id, int32_t res) {
    clockid_t c;
    if (host_clock(id, &c)) return WASI_EINVAL;
    uint8_t *p = wasi_mem(vm, (uint32_t)res, 8);
    if (!p) return WASI_EFAULT;
    struct timespec ts;
    if (clock_getres(c, &ts) != 0) return wasi_errno_from_host(errno);
    wasi_store64(p, (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
    return 0;
}

int32_t wasmaot_wasi_clock_time_get(wasmaot_vmctx *vm, int32_t id, int64_t precision, int32_t time) {
    (void)precision;
    clockid_t c;
    if (host_clock(id, &c)) return WASI_EINVAL;
    uint8_t *p = wasi_mem(vm, (uint32_t)time, 8);
    if (!p) return WASI_EFAULT;
    struct timespec ts;
    if (clock_gettime(c, &ts) != 0) return wasi_errno_from_host(errno);
    wasi_store64(p, (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
    return 0;
}

int32_t wasmaot_wasi_random_get(wasmaot_vmctx *vm, int32_t buf, int32_t len) {
    uint8_t *p = wasi_mem(vm, (uint32_t)buf, (uint32_t)len);
    if (!p) return WASI_EFAULT;
    size_t done = 0, n = (uint32_t)len;
    while (done < n) {
        ssize_t r = getrandom(p + done, n - done, 0);
        if (r < 0) {
            if (errno == EINTR) continue;
            return wasi_errno_from_host(errno);
        }
        done += (size_t)r;
    }
    return 0;
}

int32_t wasmaot_wasi_sched_yield(wasmaot_vmctx *vm) {
    (void)vm;
    sched_yield();
    return 0;
}

/* Guest output never sits in stdio buffers (fd_write is write(2)), so nothing needs flushing. */
_Noreturn void wasmaot_wasi_proc_exit(wasmaot_vmctx *vm, int32_t code) {
    (void)vm;
    _exit(code);
}

/* ---- bench: brackets the measured region of benchmark programs ---- */
void wasmaot_bench_start(wasmaot_vmctx *vm) {
    wasmaot_wasi *w = wasmaot_wasi_of(vm);
    if (w && w->bench_timing) clock_gettime(CLOCK_MONOTONIC, &w->bench_t0);
}

void wasmaot_bench_end(wasmaot_vmctx *vm) {
    wasmaot_wasi *w = wasmaot_wasi_of(vm);
    if (!w || !w->bench_timing) return;
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    int64_t ns = ((int64_t)t.tv_sec - w->bench_t0.tv_sec) * 1000000000 + (t.tv_nsec - w->bench_t0.tv_nsec);
    char buf[64];
    int n = snprintf(buf, sizeof buf, "bench elapsed: %lld ns\n", (long long)ns);
    ssize_t r = write(2, buf, (size_t)n);
    (void)r;
}
