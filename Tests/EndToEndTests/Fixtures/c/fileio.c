/* File I/O in the current directory (a preopened dir under WASI): read a seeded input file,
 * write files, append, read back line by line, seek, stat, binary round trip.
 * Exit status: 0 on success, 1..n for the first failing step. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(void) {
    char line[256];
    FILE *in = fopen("input.txt", "r");
    if (!in) { printf("cannot open input.txt\n"); return 1; }
    int lines = 0, sum = 0;
    while (fgets(line, sizeof line, in)) {
        lines++;
        sum += atoi(line);
        line[strcspn(line, "\n")] = 0;
        printf("in[%d]=%s\n", lines, line);
    }
    fclose(in);
    printf("input: %d lines, sum=%d\n", lines, sum);

    FILE *out = fopen("out.txt", "w");
    if (!out) { printf("cannot create out.txt\n"); return 2; }
    for (int i = 0; i < 100; i++) fprintf(out, "line %d: %d\n", i, i * i);
    if (fclose(out) != 0) return 3;

    out = fopen("out.txt", "a");
    if (!out) return 4;
    fputs("appended\n", out);
    fclose(out);

    in = fopen("out.txt", "r");
    if (!in) return 5;
    int count = 0;
    long total = 0;
    char last[256] = "";
    while (fgets(line, sizeof line, in)) {
        count++;
        total += (long)strlen(line);
        strcpy(last, line);
    }
    printf("out.txt: %d lines, %ld bytes, last=%s", count, total, last);
    if (fseek(in, 10 * 11, SEEK_SET) != 0) return 6;
    if (!fgets(line, sizeof line, in)) return 7;
    printf("after seek: %s", line);
    fseek(in, 0, SEEK_END);
    printf("ftell at end: %ld\n", ftell(in));
    fclose(in);

    struct stat st;
    if (stat("out.txt", &st) != 0) return 8;
    printf("stat size: %lld regular=%d\n", (long long)st.st_size, S_ISREG(st.st_mode));

    FILE *bin = fopen("data.bin", "wb");
    if (!bin) return 9;
    unsigned char bytes[1000];
    for (int i = 0; i < 1000; i++) bytes[i] = (unsigned char)(i * 7);
    fwrite(bytes, 1, sizeof bytes, bin);
    fclose(bin);
    bin = fopen("data.bin", "rb");
    unsigned char back[1000];
    size_t got = fread(back, 1, sizeof back, bin);
    fclose(bin);
    printf("binary roundtrip: %zu bytes, equal=%d\n", got, memcmp(bytes, back, sizeof bytes) == 0);

    errno = 0;
    FILE *missing = fopen("does-not-exist.txt", "r");
    printf("missing: %s enoent=%d\n", missing ? "opened?!" : "NULL", errno == ENOENT);
    return 0;
}
