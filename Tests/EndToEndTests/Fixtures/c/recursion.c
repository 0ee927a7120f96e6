/* Recursion: fib, ackermann, mutual recursion and a deep (10k frames) non-tail recursion.
 * Exit status: fib(20) % 256 (= 109) so the status itself carries a result. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline)) static int fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

__attribute__((noinline)) static int ack(int m, int n) {
    if (m == 0) return n + 1;
    if (n == 0) return ack(m - 1, 1);
    return ack(m - 1, ack(m, n - 1));
}

static volatile int sink;
__attribute__((noinline)) static int is_odd(int n);
__attribute__((noinline)) static int is_even(int n) { sink++; return n == 0 ? 1 : is_odd(n - 1); }
__attribute__((noinline)) static int is_odd(int n) { sink++; return n == 0 ? 0 : is_even(n - 1); }

/* Not a tail call: the result is mixed after the call returns. */
__attribute__((noinline)) static uint32_t deep(uint32_t n) {
    if (n == 0) return 17;
    uint32_t r = deep(n - 1);
    return r * 2654435761u + n;
}

/* Many live values across the recursive call so frames are not trivial. */
__attribute__((noinline)) static double fat(int n, double a, double b, double c, double d) {
    if (n == 0) return a + b + c + d;
    double e = (a + b) * 0.5, f = (b - c) * 0.5 + 1.0, g = (c + d) * 0.25, h = (d - a) * 0.5;
    double r = fat(n - 1, e, f, g, h);
    return r * 0.5 + e - f + g * h;
}

int main(int argc, char **argv) {
    int depth = argc > 1 ? atoi(argv[1]) : 10000;
    printf("fib(25) = %d\n", fib(25));
    printf("ack(2, 300) = %d\n", ack(2, 300));
    printf("ack(3, 5) = %d\n", ack(3, 5));
    int even = is_even(5001);
    printf("is_even(5001) = %d, calls = %d\n", even, sink);
    printf("deep(%d) = %u\n", depth, deep((uint32_t)depth));
    printf("fat(%d) = %.6e\n", depth, fat(depth, 1.0, 2.0, 3.0, 4.0));
    return fib(20) % 256;
}
