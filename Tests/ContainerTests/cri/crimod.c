// The CRI suite's test program (Tests/ContainerTests/cri/cri_test.py). Built at test time twice:
// clang-14 --target=wasm32-wasi (the Wasm image) and gcc -static (the native image of the bench),
// so both pods run the same program.
//
//   hello [ARGS...]  "hello from wasm" (or "native") and argv on stdout, a line on stderr; exit 0
//   exit N           exit status N
//   trap             __builtin_trap() (a compiled Wasm module then dies with status 134)
//   serve            "serving", then sleeps 1 s at a time forever (stopped by SIGTERM: 143)
//   cat FILE         FILE's contents (a relative path resolves against the working directory)
//   env              the environment, sorted, one variable a line
//   pwd              the working directory
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef __wasm__
#define KIND "wasm"
#else
#define KIND "native"
#endif

extern char **environ;

static int by_string(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int usage(void) {
    fputs("usage: crimod hello [ARGS...] | exit N | trap | serve | cat FILE | env | pwd\n", stderr);
    return 2;
}

int main(int argc, char **argv) {
    if (argc < 2) return usage();
    const char *mode = argv[1];
    if (!strcmp(mode, "hello")) {
        printf("hello from " KIND "\n");
        printf("argc=%d", argc);
        for (int i = 0; i < argc; i++) printf(" [%s]", argv[i]);
        printf("\n");
        fflush(stdout);
        fprintf(stderr, "to stderr from " KIND "\n");
        return 0;
    }
    if (!strcmp(mode, "exit") && argc > 2) return atoi(argv[2]);
    if (!strcmp(mode, "trap")) {
        fflush(stdout);
        __builtin_trap();
    }
    if (!strcmp(mode, "serve")) {
        printf("serving\n");
        fflush(stdout);
        for (;;) sleep(1);
    }
    if (!strcmp(mode, "cat") && argc > 2) {
        FILE *f = fopen(argv[2], "rb");
        if (!f) {
            fprintf(stderr, "cat: %s: %s\n", argv[2], strerror(errno));
            return 1;
        }
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0) fwrite(buf, 1, n, stdout);
        fclose(f);
        return 0;
    }
    if (!strcmp(mode, "env")) {
        size_t n = 0;
        while (environ && environ[n]) n++;
        char **sorted = malloc((n + 1) * sizeof *sorted);
        if (!sorted) return 1;
        memcpy(sorted, environ, n * sizeof *sorted);
        qsort(sorted, n, sizeof *sorted, by_string);
        for (size_t i = 0; i < n; i++) puts(sorted[i]);
        return 0;
    }
    if (!strcmp(mode, "pwd")) {
        char buf[4096];
        if (!getcwd(buf, sizeof buf)) {
            fprintf(stderr, "pwd: %s\n", strerror(errno));
            return 1;
        }
        puts(buf);
        return 0;
    }
    return usage();
}
