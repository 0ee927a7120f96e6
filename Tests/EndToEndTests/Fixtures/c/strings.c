/* String and stdio conversions: snprintf, strtod, strtol/strtoll, sscanf, string.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <stddef.h>

int main(void) {
    char buf[128];
    int n = snprintf(buf, sizeof buf, "[%5d|%-5d|%05d|%+d|%x|%X|%o|%c|%s|%.3s]", 42, 42, 42, 42, 255, 255, 8, 'Z', "str", "abcdef");
    printf("%s n=%d\n", buf, n);
    n = snprintf(buf, 10, "%s", "this string is longer than ten");
    printf("truncated: '%s' would-be=%d\n", buf, n);
    printf("floats: [%8.3f] [%-10.2e] [%g] [%g] [%g] [%.0f] [%.1f]\n", 3.14159, 12345.678, 0.0001, 1e20, 1e-20, 2.5, 0.05);
    printf("int64: %" PRId64 " %" PRIu64 " %" PRIx64 "\n", INT64_MIN, UINT64_MAX, (uint64_t)0xDEADBEEFCAFEull);
    printf("ptrdiff/size: %zu %td\n", (size_t)12345, (ptrdiff_t)-5);
    printf("percent: 100%%\n");

    const char *doubles[] = {"3.5", "-0.125", "1e10", "  42.5xyz", "0x1.8p1", "inf", "nan(123)", "1e-400", "abc", "2.2250738585072014e-308"};
    for (size_t i = 0; i < sizeof doubles / sizeof *doubles; i++) {
        char *end;
        errno = 0;
        double d = strtod(doubles[i], &end);
        printf("strtod(\"%s\") = %g consumed=%d erange=%d\n", doubles[i], d, (int)(end - doubles[i]), errno == ERANGE);
    }

    const char *longs[] = {"123", "-456", "0x1F", "0755", "  +99rest", "zzz", "2147483647", "-2147483648"};
    int bases[] = {10, 10, 0, 0, 10, 36, 10, 10};
    for (size_t i = 0; i < sizeof longs / sizeof *longs; i++) {
        char *end;
        long v = strtol(longs[i], &end, bases[i]);
        printf("strtol(\"%s\", %d) = %ld consumed=%d\n", longs[i], bases[i], v, (int)(end - longs[i]));
    }
    errno = 0;
    long long big = strtoll("99999999999999999999", NULL, 10);
    printf("strtoll overflow: %lld erange=%d\n", big, errno == ERANGE);
    printf("strtoull: %llu\n", strtoull("18446744073709551615", NULL, 10));
    printf("atoi: %d %d\n", atoi("  -17abc"), atoi("nope"));

    int a, b;
    char word[32];
    double f;
    n = sscanf("12 34 hello 5.5", "%d %d %31s %lf", &a, &b, word, &f);
    printf("sscanf: n=%d a=%d b=%d word=%s f=%g\n", n, a, b, word, f);
    unsigned x;
    n = sscanf("key=0xff;rest", "key=%x;%31s", &x, word);
    printf("sscanf hex: n=%d x=%u rest=%s\n", n, x, word);
    n = sscanf("only 7", "%d", &a);
    printf("sscanf mismatch: n=%d\n", n);
    char c1[8], c2[8];
    n = sscanf("2024-06-30", "%4[0-9]-%2[0-9]-%d", c1, c2, &a);
    printf("sscanf set: n=%d %s %s %d\n", n, c1, c2, a);

    char s[64] = "Hello, WebAssembly World";
    printf("strlen=%zu strchr=%s strrchr=%s strstr=%s\n", strlen(s), strchr(s, 'W'), strrchr(s, 'W'), strstr(s, "Assembly"));
    printf("strcmp: %d %d %d\n", strcmp("abc", "abd") < 0, strcmp("b", "a") > 0, strncmp("abcdef", "abcxyz", 3));
    for (char *p = s; *p; p++) *p = (char)toupper((unsigned char)*p);
    printf("upper: %s\n", s);
    char *tok, *save = NULL, list[] = "a,bb,,ccc,dddd";
    printf("tokens:");
    for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) printf(" [%s]", tok);
    printf("\n");
    memmove(s + 2, s, 10);
    s[12] = 0;
    printf("memmove: %s\n", s);
    return 0;
}
