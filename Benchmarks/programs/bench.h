/* bench.h — the measured region of a benchmark program, as in sightglass.
 *
 * wasm32-wasi: bench_start/bench_end are the imports `bench.start` / `bench.end` (no params, no
 * results) that sightglass modules use; the engine decides what they do (wasmaot: time the region
 * with `--bench-timing`; wasmtime: the harness preloads a small `bench` module that does the same).
 * Native: the same region timed here, reported in the same format on stderr:
 *     bench elapsed: <ns> ns
 */
#ifndef WASMAOT_BENCH_H
#define WASMAOT_BENCH_H

#if defined(__wasm__)
__attribute__((import_module("bench"), import_name("start"))) void bench_start(void);
__attribute__((import_module("bench"), import_name("end"))) void bench_end(void);
#else
#include <stdio.h>
#include <time.h>
static struct timespec bench_t0;
static void bench_start(void) { clock_gettime(CLOCK_MONOTONIC, &bench_t0); }
static void bench_end(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    long long ns = (long long)(t.tv_sec - bench_t0.tv_sec) * 1000000000LL + (t.tv_nsec - bench_t0.tv_nsec);
    fprintf(stderr, "bench elapsed: %lld ns\n", ns);
}
#endif

#include <stdlib.h>
/* The problem size: argv[1] if given, else the full-mode default. */
static long bench_size(int argc, char **argv, long full) {
    if (argc > 1) {
        long n = strtol(argv[1], NULL, 10);
        if (n > 0) return n;
    }
    return full;
}

#endif
