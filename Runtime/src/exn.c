/*
 * exn.c — Wasm exceptions on the platform unwinder (see "Exceptions" in wasmaot_rt.h).
 *
 * A throw that no handler of its own function catches calls wasmaot_exn_throw, which runs a
 * forced unwind (phase 2 only): the unwinder walks the frames with their .eh_frame tables and
 * enters every landing pad on the way (generated functions with handlers have one per try, a
 * cleanup as far as __gcc_personality_v0 knows). The landing pad compares the exception's tag
 * with its catch clauses and either continues in the handler — simply by not resuming, the
 * unwinder keeps no state — or throws again. A forced unwind rather than _Unwind_RaiseException
 * because the C personality only knows cleanups: a search phase would find no handler.
 *
 * The stop function ends the unwind where the Wasm code was entered: at the embedder's trap
 * landing pad (the frame holding the current sigjmp_buf) or at the end of the stack (an
 * executable's _start), as the trap "thrown Wasm exception".
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <unwind.h>

_Static_assert(sizeof(struct _Unwind_Exception) <= sizeof(((wasmaot_exception *)0)->unwind),
               "struct _Unwind_Exception does not fit wasmaot_exception.unwind");
_Static_assert(_Alignof(struct _Unwind_Exception) <= 16, "struct _Unwind_Exception alignment");

/* "WASMAOT\0" — foreign unwinders' exceptions (none exist in our processes) would differ. */
#define WASMAOT_EXN_CLASS 0x5741534d414f5400ull

/* Generated code's personality routine, referenced here so that the pre-linked runtime object
 * holds it (generated objects are linked against that object only). */
extern _Unwind_Reason_Code __gcc_personality_v0(int, _Unwind_Action, _Unwind_Exception_Class,
                                                struct _Unwind_Exception *, struct _Unwind_Context *);
__attribute__((used)) static void *const keep_personality = (void *)__gcc_personality_v0;

/* ---- Lifetime ----
 * Every exception this thread allocated is in `heap` (its slot records where). Caught without a
 * reference it is freed right away. Otherwise, once the thread has `threshold` exceptions, a
 * conservative collection scans the thread's stack — where every exnref of a local or operand
 * lives, in a frame or a saved register — and frees those no word points into, unless pinned. */
static _Thread_local struct {
    wasmaot_exception **items;
    size_t count, cap, threshold;
} heap;

#define MIN_THRESHOLD 1024

static size_t object_size(const wasmaot_exception *e) { return sizeof *e + 8 * (size_t)e->count; }

static int by_address(const void *a, const void *b) {
    uintptr_t x = (uintptr_t)*(wasmaot_exception *const *)a, y = (uintptr_t)*(wasmaot_exception *const *)b;
    return x < y ? -1 : x > y;
}

/* The exception `w` points into (items sorted by address), or NULL. */
static wasmaot_exception *containing(uintptr_t w) {
    size_t lo = 0, hi = heap.count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if ((uintptr_t)heap.items[mid] <= w) lo = mid + 1; else hi = mid;
    }
    if (lo == 0) return NULL;
    wasmaot_exception *e = heap.items[lo - 1];
    return w < (uintptr_t)e + object_size(e) ? e : NULL;
}

#define MARKED 0x80000000u

__attribute__((noinline)) static void collect(void) {
    /* Callee-saved registers into this frame, so that the scan sees values callers keep there. */
    __builtin_unwind_init();
    volatile uintptr_t here = 0;
    uintptr_t lo = ((uintptr_t)&here) & ~(uintptr_t)7, hi = wasmaot_thread_stack_high();
    if (!hi || hi <= lo) { heap.threshold *= 2; return; }  /* unknown stack: never free */
    qsort(heap.items, heap.count, sizeof *heap.items, by_address);
    for (uintptr_t p = lo; p + sizeof(uintptr_t) <= hi; p += sizeof(uintptr_t)) {
        wasmaot_exception *e = containing(*(volatile uintptr_t *)p);
        if (e) e->flags |= MARKED;
    }
    size_t kept = 0;
    for (size_t i = 0; i < heap.count; i++) {
        wasmaot_exception *e = heap.items[i];
        if (e->flags & (MARKED | WASMAOT_EXN_PINNED)) {
            e->flags &= ~MARKED;
            e->slot = kept;
            heap.items[kept++] = e;
        } else {
            free(e);
        }
    }
    heap.count = kept;
    heap.threshold = kept * 2 > MIN_THRESHOLD ? kept * 2 : MIN_THRESHOLD;
}

static _Noreturn void out_of_memory(void) {
    static const char msg[] = "wasmaot: out of memory allocating an exception\n";
    ssize_t r = write(2, msg, sizeof msg - 1);
    (void)r;
    abort();
}

wasmaot_exception *wasmaot_exn_new(const void *tag, uint32_t count) {
    if (heap.threshold == 0) heap.threshold = MIN_THRESHOLD;
    if (heap.count >= heap.threshold) collect();
    if (heap.count == heap.cap) {
        size_t cap = heap.cap ? 2 * heap.cap : 256;
        wasmaot_exception **items = realloc(heap.items, cap * sizeof *items);
        if (!items) out_of_memory();
        heap.items = items;
        heap.cap = cap;
    }
    wasmaot_exception *e = aligned_alloc(16, (sizeof *e + 8 * (size_t)count + 15) & ~(size_t)15);
    if (!e) out_of_memory();
    memset(e, 0, sizeof *e);
    e->tag = tag;
    e->count = count;
    e->slot = heap.count;
    heap.items[heap.count++] = e;
    return e;
}

void wasmaot_exn_free(wasmaot_exception *e) {
    if (e->flags & (WASMAOT_EXN_EXPOSED | WASMAOT_EXN_PINNED)) return;
    /* Only this thread's own (an exception that crossed threads was pinned by the embedder). */
    if (e->slot >= heap.count || heap.items[e->slot] != e) return;
    wasmaot_exception *last = heap.items[--heap.count];
    heap.items[e->slot] = last;
    last->slot = e->slot;
    free(e);
}

void wasmaot_exn_pin(wasmaot_exception *e) {
    if (e) e->flags |= WASMAOT_EXN_PINNED;
}

void wasmaot_exn_pin_if_exception(void *value) {
    for (size_t i = 0; value && i < heap.count; i++)
        if (heap.items[i] == value) { heap.items[i]->flags |= WASMAOT_EXN_PINNED; return; }
}

static _Unwind_Reason_Code stop_at_boundary(int version, _Unwind_Action actions, _Unwind_Exception_Class cls,
                                            struct _Unwind_Exception *ue, struct _Unwind_Context *ctx,
                                            void *param) {
    (void)version; (void)cls; (void)ue;
    uintptr_t boundary = (uintptr_t)param;
    /* Frames above the landing pad's sigjmp_buf belong to the embedder (CFA grows upwards). */
    if ((actions & _UA_END_OF_STACK) || (boundary && _Unwind_GetCFA(ctx) > boundary))
        wasmaot_trap(WASMAOT_TRAP_UNCAUGHT_EXCEPTION);
    return _URC_NO_REASON;
}

_Noreturn void wasmaot_exn_throw(wasmaot_exception *e) {
    struct _Unwind_Exception *ue = (struct _Unwind_Exception *)(void *)e->unwind;
    memset(ue, 0, sizeof *ue);
    ue->exception_class = WASMAOT_EXN_CLASS;
    _Unwind_ForcedUnwind(ue, stop_at_boundary, (void *)wasmaot_trap_boundary());
    /* Only when the unwinder itself failed (no unwind tables on the way). */
    wasmaot_trap(WASMAOT_TRAP_UNCAUGHT_EXCEPTION);
}
