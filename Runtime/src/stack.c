/*
 * stack.c — where the main thread's stack ends, so generated prologues can trap
 * "call stack exhausted" before the kernel's guard page is hit.
 */
#include "internal.h"

#include <string.h>
#include <sys/auxv.h>
#include <sys/resource.h>
#include <unistd.h>

#define KiB ((uintptr_t)1024)
#define MiB (KiB * 1024)
#define GiB (MiB * 1024)
/* Room below the limit for runtime and WASI calls made from the deepest Wasm frame, and slack
 * for our estimate of the stack top. */
#define STACK_MARGIN (256 * KiB)
/* Linux refuses to grow the stack within stack_guard_gap (default 1 MiB) of another mapping;
 * faults down to this far below the rlimit are still the stack's. */
#define GUARD_SPAN (2 * MiB)

extern char **environ;

static uintptr_t max_end(uintptr_t top, const char *s) {
    if (!s) return top;
    uintptr_t e = (uintptr_t)s + strlen(s) + 1;
    return e > top ? e : top;
}

void wasmaot_main_thread_stack_setup(char **argv) {
    volatile char here;
    uintptr_t sp = (uintptr_t)&here;

    /* The kernel's rlimit counts from the top of the stack mapping, above argv/envp strings and
     * the auxv; approximate it by the highest of those strings (the exec file name is last). */
    uintptr_t top = sp;
    for (char **a = argv; a && *a; a++) top = max_end(top, *a);
    for (char **e = environ; e && *e; e++) top = max_end(top, *e);
    top = max_end(top, (const char *)getauxval(AT_EXECFN));
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    top = (top + page - 1) & ~(page - 1);

    /* Stack size: the soft RLIMIT_STACK capped at 1 GiB; 8 MiB if unlimited or unknown. When the
     * kernel would let the stack grow further than that, lower the soft limit to match: the
     * kernel checks it at every growth fault, so native code that overruns the stack without a
     * prologue check then hits a real guard at the bottom we assume (reported as "call stack
     * exhausted") instead of growing until the OOM killer steps in. */
    uintptr_t size = 8 * MiB;
    struct rlimit rl;
    if (getrlimit(RLIMIT_STACK, &rl) == 0) {
        if (rl.rlim_cur != RLIM_INFINITY)
            size = rl.rlim_cur > GiB ? GiB : (uintptr_t)rl.rlim_cur;
        if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > size) {
            rl.rlim_cur = size;
            setrlimit(RLIMIT_STACK, &rl);
        }
    }
    if (size > top) size = top; /* cannot happen in practice; keeps the arithmetic sane */

    uintptr_t bottom = top - size;
    uintptr_t limit = bottom + STACK_MARGIN;
    if (limit > sp || sp - limit < STACK_MARGIN) /* tiny rlimit: guarantee 256 KiB anyway */
        limit = sp - STACK_MARGIN;
    uintptr_t lo = limit < bottom ? limit : bottom;
    lo = lo > GUARD_SPAN ? lo - GUARD_SPAN : 0;
    wasmaot_thread_set_stack(limit, lo, top);
}
