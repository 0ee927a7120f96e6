// Loops clang vectorizes for wasm32 with -O3 -msimd128 (i8x16/i16x8/i32x4/i64x2/f32x4/f64x2
// arithmetic, saturation by clamping, min/max, abs, shifts, widening and narrowing, shuffles
// for reversal and interleaving, compares into selects, conversions, reductions); every result
// is printed as a checksum, so the output must equal the native build's bit for bit. No
// floating-point reductions (their order is not fixed without -ffast-math) and no NaNs (fmin
// and friends would differ between the C library and the lane operations).
#include <stdint.h>
#include <stdio.h>
#include <math.h>
#include <string.h>

#define N 4099  // not a multiple of any vector width: the scalar tails run too

static uint8_t u8a[N], u8b[N], u8r[N];
static int8_t s8a[N], s8r[N];
static uint16_t u16a[N], u16r[N];
static int16_t s16a[N], s16b[N], s16r[N];
static int32_t s32a[N], s32b[N], s32r[N];
static uint32_t u32a[N], u32r[N];
static int64_t s64a[N], s64b[N], s64r[N];
static float f32a[N], f32b[N], f32r[N];
static double f64a[N], f64b[N], f64r[N];

static uint32_t state = 12345;
static uint32_t next(void) {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state;
}

static uint64_t hash;
static void mix(const void *p, size_t n) {
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) hash = (hash ^ b[i]) * 0x100000001b3ULL;
}

static void report(const char *what, const void *p, size_t n) {
    hash = 0xcbf29ce484222325ULL;
    mix(p, n);
    printf("%-22s %016llx\n", what, (unsigned long long)hash);
}

__attribute__((noinline)) static void u8_ops(void) {
    for (int i = 0; i < N; i++) u8r[i] = (uint8_t)(u8a[i] + u8b[i]);
    report("u8 add", u8r, N);
    for (int i = 0; i < N; i++) { int s = u8a[i] + u8b[i]; u8r[i] = s > 255 ? 255 : s; }
    report("u8 add_sat", u8r, N);
    for (int i = 0; i < N; i++) { int s = u8a[i] - u8b[i]; u8r[i] = s < 0 ? 0 : s; }
    report("u8 sub_sat", u8r, N);
    for (int i = 0; i < N; i++) u8r[i] = (uint8_t)((u8a[i] + u8b[i] + 1) >> 1);
    report("u8 avgr", u8r, N);
    for (int i = 0; i < N; i++) u8r[i] = u8a[i] < u8b[i] ? u8a[i] : u8b[i];
    report("u8 min", u8r, N);
    for (int i = 0; i < N; i++) u8r[i] = u8a[i] > u8b[i] ? u8a[i] : u8b[i];
    report("u8 max", u8r, N);
    for (int i = 0; i < N; i++) u8r[i] = (uint8_t)(u8a[i] >> 3 | u8b[i] << 2);
    report("u8 shifts", u8r, N);
    for (int i = 0; i < N; i++) u8r[i] = u8a[i] == u8b[i] ? 1 : u8a[i] > 128 ? 2 : 3;
    report("u8 compare/select", u8r, N);
    for (int i = 0; i < N; i++) u8r[i] = u8a[N - 1 - i];
    report("u8 reverse", u8r, N);
    for (int i = 0; i < N; i++) u8r[i] = (uint8_t)__builtin_popcount(u8a[i]);
    report("u8 popcount", u8r, N);
    for (int i = 0; i < N; i++) u8r[i] = (uint8_t)((u8a[i] * u8b[i]) >> 8);
    report("u8 mulhi", u8r, N);
    uint32_t sum = 0;
    for (int i = 0; i < N; i++) sum += u8a[i];
    printf("%-22s %u\n", "u8 sum", sum);
}

__attribute__((noinline)) static void s8_ops(void) {
    for (int i = 0; i < N; i++) { int v = s8a[i]; s8r[i] = (int8_t)(v < 0 ? -v : v); }
    report("s8 abs", s8r, N);
    for (int i = 0; i < N; i++) { int s = s8a[i] + (int8_t)u8b[i]; s8r[i] = s > 127 ? 127 : s < -128 ? -128 : s; }
    report("s8 add_sat", s8r, N);
    for (int i = 0; i < N; i++) s8r[i] = (int8_t)(s8a[i] >> 2);
    report("s8 shr", s8r, N);
    for (int i = 0; i < N; i++) s16r[i] = (int16_t)(s8a[i] * (int8_t)u8b[i]);
    report("s8 widening mul", s16r, 2 * N);
}

__attribute__((noinline)) static void i16_ops(void) {
    for (int i = 0; i < N; i++) s16r[i] = (int16_t)(s16a[i] * s16b[i]);
    report("i16 mul", s16r, 2 * N);
    for (int i = 0; i < N; i++) { int s = s16a[i] + s16b[i]; s16r[i] = s > 32767 ? 32767 : s < -32768 ? -32768 : s; }
    report("i16 add_sat", s16r, 2 * N);
    for (int i = 0; i < N; i++) s16r[i] = (int16_t)(((int32_t)s16a[i] * s16b[i]) >> 16);
    report("i16 mulhi", s16r, 2 * N);
    for (int i = 0; i < N; i++) u16r[i] = (uint16_t)(u16a[i] >> 5 | u16a[i] << 11);
    report("u16 rotate", u16r, 2 * N);
    for (int i = 0; i < N; i++) u16r[i] = u16a[i] > 40000 ? u16a[i] : (uint16_t)(u16a[i] * 3);
    report("u16 select", u16r, 2 * N);
    for (int i = 0; i < N; i++) { int v = s16a[i] >> 4; u8r[i] = v < 0 ? 0 : v > 255 ? 255 : v; }
    report("i16 narrow u8", u8r, N);
    uint32_t dot = 0;  // unsigned: the sum wraps, and signed overflow would be undefined
    for (int i = 0; i < N; i++) dot += (uint32_t)(s16a[i] * s16b[i]);
    printf("%-22s %u\n", "i16 dot", dot);
    for (int i = 0; i < N; i++) s32r[i] = s16a[i] + u16a[i];
    report("i16 widen add", s32r, 4 * N);
}

__attribute__((noinline)) static void i32_ops(void) {
    for (int i = 0; i < N; i++) s32r[i] = (int32_t)((uint32_t)s32a[i] * (uint32_t)s32b[i] + (uint32_t)(s32a[i] >> 7));
    report("i32 mul add shr", s32r, 4 * N);
    for (int i = 0; i < N; i++) s32r[i] = s32a[i] < s32b[i] ? s32a[i] : s32b[i];
    report("i32 min", s32r, 4 * N);
    for (int i = 0; i < N; i++) { int32_t v = s32a[i]; s32r[i] = (int32_t)(v < 0 ? 0u - (uint32_t)v : (uint32_t)v); }
    report("i32 abs", s32r, 4 * N);
    for (int i = 0; i < N; i++) u32r[i] = u32a[i] >> (i & 31) ^ u32a[i] << ((i + 3) & 31);
    report("u32 variable shifts", u32r, 4 * N);
    for (int i = 0; i < N; i++) u32r[i] = u32a[i] > 0x80000000u ? u32a[i] / 2 : u32a[i] & 0xff00ff;
    report("u32 compare/select", u32r, 4 * N);
    for (int i = 0; i < N; i++) { int32_t v = s32a[i] >> 12; s16r[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v; }
    report("i32 narrow i16", s16r, 2 * N);
    for (int i = 0; i < N / 2; i++) { s32r[2 * i] = s32a[i]; s32r[2 * i + 1] = s32b[i]; }
    report("i32 interleave", s32r, 4 * (N / 2) * 2);
    int64_t sum = 0;  // at most 4099 * 2^31: no overflow
    for (int i = 0; i < N; i++) sum += s32a[i];
    printf("%-22s %lld\n", "i32 widening sum", (long long)sum);
    uint32_t x = 0;
    for (int i = 0; i < N; i++) x ^= u32a[i] * 2654435761u;
    printf("%-22s %u\n", "u32 xor reduce", x);
}

__attribute__((noinline)) static void i64_ops(void) {
    for (int i = 0; i < N; i++) s64r[i] = (int64_t)((uint64_t)s64a[i] * (uint64_t)s64b[i] - (uint64_t)(s64a[i] >> 3));
    report("i64 mul sub shr", s64r, 8 * N);
    for (int i = 0; i < N; i++) s64r[i] = s64a[i] > s64b[i] ? s64a[i] : s64b[i];
    report("i64 max", s64r, 8 * N);
    for (int i = 0; i < N; i++) s64r[i] = (int64_t)s32a[i] * s32b[i];
    report("i32xi32 -> i64", s64r, 8 * N);
    for (int i = 0; i < N; i++) s64r[i] = (uint64_t)u32a[i] << 7;
    report("u32 -> u64 shl", s64r, 8 * N);
}

__attribute__((noinline)) static void f32_ops(void) {
    for (int i = 0; i < N; i++) f32r[i] = f32a[i] * f32b[i] + 0.5f;
    report("f32 mul add", f32r, 4 * N);
    for (int i = 0; i < N; i++) f32r[i] = f32a[i] / (f32b[i] + 3.0f) - f32a[i];
    report("f32 div sub", f32r, 4 * N);
    for (int i = 0; i < N; i++) f32r[i] = sqrtf(fabsf(f32a[i]));
    report("f32 sqrt abs", f32r, 4 * N);
    for (int i = 0; i < N; i++) f32r[i] = f32a[i] < f32b[i] ? f32a[i] : f32b[i];
    report("f32 min", f32r, 4 * N);
    for (int i = 0; i < N; i++) f32r[i] = -f32a[i];
    report("f32 neg", f32r, 4 * N);
    for (int i = 0; i < N; i++) f32r[i] = floorf(f32a[i]) + ceilf(f32b[i]) + truncf(f32a[i] * 3.0f) + rintf(f32b[i] * 7.0f);
    report("f32 rounding", f32r, 4 * N);
    for (int i = 0; i < N; i++) s32r[i] = (int32_t)(f32a[i] * 1000.0f);
    report("f32 -> i32", s32r, 4 * N);
    for (int i = 0; i < N; i++) f32r[i] = (float)s32a[i] * 0.25f;
    report("i32 -> f32", f32r, 4 * N);
    for (int i = 0; i < N; i++) f32r[i] = (float)u32a[i];
    report("u32 -> f32", f32r, 4 * N);
    for (int i = 0; i < N; i++) u32r[i] = f32a[i] > f32b[i] ? 0xffffffffu : 0;
    report("f32 compare", u32r, 4 * N);
}

__attribute__((noinline)) static void f64_ops(void) {
    for (int i = 0; i < N; i++) f64r[i] = f64a[i] * f64b[i] + f64a[i] / 3.0;
    report("f64 mul div add", f64r, 8 * N);
    for (int i = 0; i < N; i++) f64r[i] = sqrt(f64a[i] * f64a[i] + f64b[i] * f64b[i]);
    report("f64 hypot-ish", f64r, 8 * N);
    for (int i = 0; i < N; i++) f64r[i] = f64a[i] > f64b[i] ? f64a[i] : f64b[i];
    report("f64 max", f64r, 8 * N);
    for (int i = 0; i < N; i++) f64r[i] = (double)f32a[i] * 1.25;
    report("f32 -> f64", f64r, 8 * N);
    for (int i = 0; i < N; i++) f32r[i] = (float)(f64a[i] * 0.1);
    report("f64 -> f32", f32r, 4 * N);
    for (int i = 0; i < N; i++) f64r[i] = (double)s32a[i] + 0.5;
    report("i32 -> f64", f64r, 8 * N);
    for (int i = 0; i < N; i++) f64r[i] = floor(f64a[i]) - ceil(f64b[i]) + trunc(f64a[i] * 1.5) + nearbyint(f64b[i] * 2.5);
    report("f64 rounding", f64r, 8 * N);
    for (int i = 0; i < N; i++) s64r[i] = (int64_t)(f64a[i] * 1e6);
    report("f64 -> i64", s64r, 8 * N);
}

// A small image filter: 3-tap blur on bytes, widened to 16 bits and narrowed back.
__attribute__((noinline)) static void blur(void) {
    for (int i = 1; i < N - 1; i++) u8r[i] = (uint8_t)((u8a[i - 1] + 2 * u8a[i] + u8a[i + 1] + 2) >> 2);
    report("blur", u8r, N);
}

// memcpy/memset-shaped loops and string work the vectorizer turns into vector loads and stores.
__attribute__((noinline)) static void bytes(void) {
    char text[1024];
    for (int i = 0; i < 1023; i++) text[i] = (char)('a' + i % 26);
    text[1023] = 0;
    int upper = 0;
    for (int i = 0; i < 1023; i++) {
        char c = text[i];
        text[i] = (c >= 'a' && c <= 'z') && (i % 3 == 0) ? (char)(c - 32) : c;
    }
    for (int i = 0; i < 1023; i++) upper += text[i] >= 'A' && text[i] <= 'Z';
    printf("%-22s %d %.20s %zu\n", "text", upper, text + 100, strlen(text));
}

int main(void) {
    for (int i = 0; i < N; i++) {
        uint32_t r = next();
        u8a[i] = (uint8_t)r;
        u8b[i] = (uint8_t)(r >> 8);
        s8a[i] = (int8_t)(r >> 16);
        u16a[i] = (uint16_t)next();
        s16a[i] = (int16_t)next();
        s16b[i] = (int16_t)next();
        s32a[i] = (int32_t)next();
        s32b[i] = (int32_t)next() >> 3;
        u32a[i] = next();
        s64a[i] = (int64_t)((uint64_t)next() << 32 | next());
        s64b[i] = (int64_t)next() - 0x7fffffff;
        f32a[i] = (float)((int32_t)next() % 100000) / 137.0f;
        f32b[i] = (float)(next() % 100000) / 311.0f;
        f64a[i] = (double)((int32_t)next() % 1000000) / 1337.0;
        f64b[i] = (double)(next() % 1000000) / 7.0;
    }
    u8_ops();
    s8_ops();
    i16_ops();
    i32_ops();
    i64_ops();
    f32_ops();
    f64_ops();
    blur();
    bytes();
    return 0;
}
