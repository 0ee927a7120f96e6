/* Prints argv[1..] and a few environment variables. Exit status: argc. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    printf("argc=%d\n", argc);
    for (int i = 1; i < argc; i++) printf("argv[%d]=<%s> len=%zu\n", i, argv[i], strlen(argv[i]));
    printf("argv[argc]=%s\n", argv[argc] == NULL ? "NULL" : "non-null");
    const char *names[] = {"E2E_ALPHA", "E2E_BETA", "E2E_EMPTY", "E2E_UNSET", "E2E_WEIRD"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        const char *v = getenv(names[i]);
        printf("%s=%s%s%s\n", names[i], v ? "<" : "", v ? v : "(unset)", v ? ">" : "");
    }
    return argc;
}
