/* Start-up: the native counterpart of sightglass `noop` (same output, empty measured region). */
#include <stdio.h>

__attribute__((noinline)) void bench_start(void) { __asm__ volatile(""); }
__attribute__((noinline)) void bench_end(void) { __asm__ volatile(""); }

int main(void) {
    printf("[noop] calls bench_start and bench_end with no intervening code\n");
    bench_start();
    bench_end();
    printf("[noop] complete\n");
    return 0;
}
