#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <inttypes.h>

/* clang's musttail makes these guaranteed tail calls (wasm32 with -mtail-call: return_call and
 * return_call_indirect); gcc -O2 turns them into sibling calls natively. */
#if defined(__clang__)
#define MUSTTAIL __attribute__((musttail))
#else
#define MUSTTAIL
#endif
/* 10^8 calls through tail calls: direct (even <-> odd), through a function pointer
 * (return_call_indirect), and into a function of another signature (bridge -> even). Without
 * guaranteed tail calls this needs gigabytes of stack. */
typedef int64_t (*stepfn)(int64_t n, int64_t acc, int k);
static int64_t even(int64_t n, int64_t acc, int k);
static stepfn table[2];
__attribute__((noinline)) static int64_t odd(int64_t n, int64_t acc, int k) {
    if (n == 0) return acc;
    MUSTTAIL return table[k & 1](n - 1, acc ^ n, k + 1);
}
__attribute__((noinline)) static int64_t bridge(int64_t n, int64_t acc) { return even(n, acc + 1, 0); }
__attribute__((noinline)) static int64_t to_bridge(int64_t n, int64_t acc, int k) { (void)k; return bridge(n, acc * 3); }
__attribute__((noinline)) static int64_t even(int64_t n, int64_t acc, int k) {
    if (n == 0) return acc;
    MUSTTAIL return odd(n - 1, acc + 1, k);
}
int main(int argc, char **argv) {
    table[0] = even; table[1] = to_bridge;
    int64_t n = argc > 1 ? atoll(argv[1]) : 100000000LL;
    printf("%" PRId64 "\n", even(n, 0, 0));
    return 0;
}
