/* Integer and floating-point arithmetic, libm, formatted output. Exit status: 0 if the
 * self-checks hold, else the number of failed checks. */
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>

static int failures;
static void check(int ok, const char *what) {
    if (!ok) { printf("FAIL %s\n", what); failures++; }
}

/* Keep the optimizer from folding everything at compile time. */
static volatile int32_t vi32[] = {7, -7, 2147483647, -2147483647 - 1, 3, 0x12345678};
static volatile int64_t vi64[] = {1000000000007LL, -98765432123LL, INT64_MAX, INT64_MIN, 97};
static volatile double vd[] = {2.0, 0.5, 1e300, -0.0, 3.141592653589793, 10.0, 1e-310};

int main(void) {
    int32_t a = vi32[0], b = vi32[1], imax = vi32[2], imin = vi32[3];
    printf("i32: %d %d %d %d\n", a / 2, b / 2, a % 3, b % 3);
    printf("i32 shifts: %d %u %d\n", b >> 1, (uint32_t)b >> 1, (int32_t)((uint32_t)a << 29));
    printf("i32 wrap: %d %d\n", (int32_t)((uint32_t)imax + 1u), (int32_t)((uint32_t)imin - 1u));
    printf("i32 mul wrap: %u\n", (uint32_t)vi32[5] * 0x9E3779B9u);
    uint32_t x = (uint32_t)vi32[5];
    printf("bits: clz=%d ctz=%d pop=%d rotl=%08x\n", __builtin_clz(x), __builtin_ctz(x),
           __builtin_popcount(x), (x << 13) | (x >> 19));

    int64_t p = vi64[0], q = vi64[1], lmax = vi64[2], lmin = vi64[3], m = vi64[4];
    printf("i64 div: %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 "\n", p / m, p % m, q / m, q % m);
    printf("i64 udiv: %" PRIu64 " %" PRIu64 "\n", (uint64_t)q / 1000u, (uint64_t)q % 1000u);
    printf("i64 wrap: %" PRId64 " %" PRId64 "\n", (int64_t)((uint64_t)lmax + 1u), (int64_t)((uint64_t)lmin - 1u));
    printf("i64 mul: %" PRIu64 "\n", (uint64_t)p * (uint64_t)0x9E3779B97F4A7C15ull);
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < 1000; i++) h = (h ^ (uint64_t)i) * 1099511628211ull;
    printf("fnv: %016" PRIx64 "\n", h);

    double two = vd[0], half = vd[1], big = vd[2], nzero = vd[3], pi = vd[4], ten = vd[5], tiny = vd[6];
    printf("sqrt: %.6f %.6f %g\n", sqrt(two), sqrt(half), sqrt(big));
    printf("trig: %.6f %.6f %.6f %.6f\n", sin(pi / 6), cos(pi / 3), tan(pi / 4), atan2(1.0, two));
    printf("pow: %.6f %g %g %.6f\n", pow(two, 0.5), pow(ten, 20.0), pow(two, -3.0), pow(pi, pi));
    printf("exp/log: %.6f %.6f %.6f %.6f\n", exp(1.0 * half), log(ten), log10(1000.0 * half * two), log2(1024.0));
    printf("fmod: %g %g %g\n", fmod(10.5, 3.0), fmod(-10.5, 3.0), fmod(pi * 100, two));
    printf("round: %g %g %g %g %g %g\n", floor(-2.5), ceil(-2.5), round(2.5), rint(2.5), trunc(-2.7), nearbyint(3.5));
    printf("special: %g %g %g %g\n", big * big, -big * big, nzero, 1.0 / nzero);
    printf("nan: %d %d\n", isnan(sqrt(-two)), isinf(big * ten * big));
    printf("tiny: %g %d\n", tiny, fpclassify(tiny) == FP_SUBNORMAL);
    printf("g: %g %g %g %g %g\n", 0.1 + 0.2, 1e-5, 123456789.0, 1.5e-7, 100000.0);
    printf("e: %e %.3e %.10f\n", pi, 6.02214076e23, 1.0 / 3.0);
    float f = (float)pi;
    printf("float: %.6f %.6f %.6f\n", (double)f, (double)sqrtf(f), (double)(f * f));
    printf("conv: %d %d %" PRId64 " %u\n", (int)-2.9, (int)2.9, (int64_t)-1e15, (unsigned)4e9);

    double sum = 0;
    for (int i = 1; i <= 100000; i++) sum += 1.0 / ((double)i * i);
    printf("basel: %.6f (pi^2/6 = %.6f)\n", sum, pi * pi / 6);

    check(sqrt(two) * sqrt(two) - two < 1e-15, "sqrt");
    check((int32_t)((uint32_t)imax + 1u) == imin, "i32 wrap");
    check(fmod(10.5, 3.0) == 1.5, "fmod");
    check(signbit(nzero), "signbit");
    return failures;
}
