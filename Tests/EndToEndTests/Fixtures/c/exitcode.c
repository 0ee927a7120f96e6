/* Exit-status paths chosen by argv[1]. Output written before exit must still be flushed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void bye(void) { printf("atexit handler ran\n"); }

int main(int argc, char **argv) {
    atexit(bye);
    const char *mode = argc > 1 ? argv[1] : "none";
    printf("mode %s (no newline yet)", mode);
    if (strcmp(mode, "exit3") == 0) exit(3);
    if (strcmp(mode, "ret42") == 0) return 42;
    if (strcmp(mode, "exit0") == 0) exit(0);
    if (strcmp(mode, "exit255") == 0) exit(255);
    if (strcmp(mode, "exit300") == 0) exit(300); /* status is taken modulo 256 -> 44 */
    if (strcmp(mode, "quick7") == 0) _Exit(7);   /* no atexit handlers, but stdout is unflushed */
    printf("\n");
    return 0;
}
