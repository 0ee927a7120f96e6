/* matmul: dense double-precision matrix multiply C = A·B (i-k-j loop order, the inner loop is a
 * vectorisable axpy), repeated; argv[1] = n (matrices are n×n). Prints a checksum of C. */
#include <stdio.h>
#include <stdlib.h>
#include "bench.h"

static unsigned long long rng = 0x9E3779B97F4A7C15ULL;
static double next(void) {  /* xorshift64*, mapped to [-1, 1) */
    rng ^= rng >> 12; rng ^= rng << 25; rng ^= rng >> 27;
    return (double)((rng * 0x2545F4914F6CDD1DULL) >> 11) / (double)(1ULL << 52) - 1.0;
}

int main(int argc, char **argv) {
    long n = bench_size(argc, argv, 1000);
    double *a = malloc(sizeof(double) * n * n), *b = malloc(sizeof(double) * n * n), *c = malloc(sizeof(double) * n * n);
    if (!a || !b || !c) { fprintf(stderr, "out of memory\n"); return 1; }
    for (long i = 0; i < n * n; i++) { a[i] = next(); b[i] = next(); }
    double checksum = 0;
    bench_start();
    for (int rep = 0; rep < 2; rep++) {
        for (long i = 0; i < n * n; i++) c[i] = 0;
        for (long i = 0; i < n; i++)
            for (long k = 0; k < n; k++) {
                double aik = a[i * n + k];
                double *ci = c + i * n, *bk = b + k * n;
                for (long j = 0; j < n; j++) ci[j] += aik * bk[j];
            }
        for (long i = 0; i < n; i++) checksum += c[i * n + (i * 7) % n];
        /* feed the result back so the repetitions cannot be merged */
        a[rep % (n * n)] += c[n * n - 1] * 1e-9;
    }
    bench_end();
    double trace = 0;
    for (long i = 0; i < n; i++) trace += c[i * n + i];
    printf("n=%ld trace=%.6f checksum=%.6f\n", n, trace, checksum);
    free(a); free(b); free(c);
    return 0;
}
