// The README's example: a WASI program using argv, the environment, a preopened directory
// and libm — compiled to wasm32-wasi by clang, then to a native executable by wasmaot.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    printf("hello from wasm, %d argument(s):", argc - 1);
    for (int i = 1; i < argc; i++) printf(" %s", argv[i]);
    printf("\nsqrt(2) = %.6f, GREETING=%s\n", sqrt(2.0), getenv("GREETING") ? getenv("GREETING") : "(unset)");
    FILE *f = fopen("hello-output.txt", "w");
    if (f) {
        fprintf(f, "written by a Wasm module\n");
        fclose(f);
        puts("wrote hello-output.txt in the preopened directory");
    }
    return argc > 3 ? 3 : 0;
}
