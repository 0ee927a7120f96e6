// SwiftPM links every executable with swiftrt.o, whose constructor registers the image's Swift
// metadata with the Swift runtime. This program has no Swift in it, yet those two references would
// pull libswiftCore into the static link, and its start-up work (backtracer set-up, parsing
// /proc/self/maps: ~0.4 ms) into every `wasmaot run`. Defining them here satisfies swiftrt.o, so
// the linker leaves the Swift runtime out and the launcher starts like a plain static C program.
// wasmaot-oci uses the same file (Sources/wasmaot-oci/no_swift_runtime.c is a symlink to it).
#include <stdbool.h>

void swift_addNewDSOImage(const void *header) { (void)header; }

bool _swift_backtrace_isThunkFunction(const char *name) {
    (void)name;
    return false;
}
