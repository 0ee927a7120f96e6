/* Start-up: the smallest useful WASI command (one write to stdout). Built both as wasm32-wasi and as
 * a static native executable (the physical limit). */
#include <stdio.h>

int main(void) {
    puts("hello, world");
    return 0;
}
