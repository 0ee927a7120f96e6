/*
 * trap.c — trap delivery and the fault handler that turns hardware faults into Wasm traps.
 *
 * Generated code never bounds-checks loads/stores: an access outside the accessible part of a
 * memory's 8 GiB reservation faults, and the SIGSEGV handler below maps that fault to
 * "out of bounds memory access" — when the faulting instruction is in generated code (the
 * registered code ranges); the runtime's own faults there are real crashes. A fault just below
 * the thread's stack is "call stack exhausted", and so is a fault at (or just below) the
 * interrupted stack pointer. Everything else is passed on to whatever handler was installed
 * before us.
 */
#include "internal.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>


const char *wasmaot_trap_message(int kind) { return wasmaot_trap_text(kind); }

/* Per-thread landing pad for the embedding API; NULL means "report and exit". */
static _Thread_local sigjmp_buf *trap_jmp;
static _Thread_local volatile int trap_last_kind = -1;

sigjmp_buf *wasmaot_trap_set_handler(sigjmp_buf *jb) {
    sigjmp_buf *prev = trap_jmp;
    trap_jmp = jb;
    return prev;
}

int wasmaot_trap_last_kind(void) { return trap_last_kind; }

uintptr_t wasmaot_trap_boundary(void) { return (uintptr_t)trap_jmp; }


/* Async-signal-safe: only write(2), _exit and siglongjmp. */
_Noreturn void wasmaot_trap(int kind) {
    trap_last_kind = kind;
    if (trap_jmp) siglongjmp(*trap_jmp, 1);
    const char *msg = wasmaot_trap_message(kind);
    char buf[128];
    size_t n = 0;
    /* An uncaught exception is not a trap: wasmtime reports "thrown Wasm exception", status 1. */
    int uncaught = kind == WASMAOT_TRAP_UNCAUGHT_EXCEPTION;
    const char *prefix = uncaught ? "wasm exception: " : "wasm trap: ";
    if (uncaught) msg = "thrown Wasm exception, not caught";
    for (const char *s = prefix; *s && n < sizeof buf - 1; s++) buf[n++] = *s;
    for (const char *s = msg; *s && n < sizeof buf - 1; s++) buf[n++] = *s;
    buf[n++] = '\n';
    ssize_t r = write(2, buf, n);
    (void)r;
    _exit(uncaught ? 1 : 134);
}

/* ---- Memory reservations ----
 * A fixed array claimed with CAS so registration never takes a lock the signal handler could be
 * waiting on. */
/* 4096 x 8 GiB = 32 TiB of the 128 TiB user address space: room for a spec script's worth of
 * never-freed embedding instances. */
#define MAX_RESERVATIONS 4096
static struct { uintptr_t base, end; } reservations[MAX_RESERVATIONS];

int wasmaot_reservation_register(void *base, uint64_t len) {
    for (int i = 0; i < MAX_RESERVATIONS; i++) {
        uintptr_t expected = 0;
        /* Claim the slot by its end first (base==0 && end!=0 never matches an address). */
        if (__atomic_compare_exchange_n(&reservations[i].end, &expected, (uintptr_t)base + len, 0,
                                        __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
            __atomic_store_n(&reservations[i].base, (uintptr_t)base, __ATOMIC_SEQ_CST);
            return 0;
        }
    }
    return -1;
}

void wasmaot_reservation_unregister(void *base) {
    for (int i = 0; i < MAX_RESERVATIONS; i++) {
        if (__atomic_load_n(&reservations[i].base, __ATOMIC_SEQ_CST) == (uintptr_t)base) {
            __atomic_store_n(&reservations[i].base, 0, __ATOMIC_SEQ_CST);
            __atomic_store_n(&reservations[i].end, 0, __ATOMIC_SEQ_CST);
            return;
        }
    }
}

static int in_reservation(uintptr_t a) {
    for (int i = 0; i < MAX_RESERVATIONS; i++) {
        uintptr_t b = __atomic_load_n(&reservations[i].base, __ATOMIC_RELAXED);
        uintptr_t e = __atomic_load_n(&reservations[i].end, __ATOMIC_RELAXED);
        if (b && a >= b && a < e) return 1;
    }
    return 0;
}

/* ---- Generated code ----
 * The code ranges of the loaded modules (static executable: one; embeddings: one per shared
 * object), claimed like reservations. Never unregistered: a range outlives the instances of its
 * module, and a stale range only keeps treating faults there as traps. */
#define MAX_CODE_RANGES 4096
static struct { uintptr_t start, end; } code_ranges[MAX_CODE_RANGES];

int wasmaot_code_register(const void *start, const void *end) {
    uintptr_t s = (uintptr_t)start, e = (uintptr_t)end;
    for (int i = 0; i < MAX_CODE_RANGES; i++) {
        uintptr_t expected = 0;
        if (__atomic_load_n(&code_ranges[i].start, __ATOMIC_SEQ_CST) == s) return 0;
        if (__atomic_compare_exchange_n(&code_ranges[i].end, &expected, e, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
            __atomic_store_n(&code_ranges[i].start, s, __ATOMIC_SEQ_CST);
            return 0;
        }
    }
    return -1;
}

static int in_generated_code(uintptr_t pc) {
    for (int i = 0; i < MAX_CODE_RANGES; i++) {
        uintptr_t s = __atomic_load_n(&code_ranges[i].start, __ATOMIC_RELAXED);
        uintptr_t e = __atomic_load_n(&code_ranges[i].end, __ATOMIC_RELAXED);
        if (!e) return 0; /* claimed in order: nothing after the first free slot */
        if (s && pc >= s && pc < e) return 1;
    }
    return 0;
}

/* ---- Thread stack bounds ---- */
static _Thread_local uintptr_t stack_limit, stack_guard_lo, stack_hi;

void wasmaot_thread_set_stack(uintptr_t limit, uintptr_t guard_lo, uintptr_t hi) {
    stack_limit = limit;
    stack_guard_lo = guard_lo;
    stack_hi = hi;
}

uintptr_t wasmaot_thread_stack_limit(void) { return stack_limit; }
uintptr_t wasmaot_thread_stack_high(void) { return stack_hi; }

/* ---- Fault handler ---- */
static struct sigaction prev_segv, prev_bus;

/* The stack pointer of the interrupted code (0 where we do not know how to read it). */
static uintptr_t interrupted_sp(void *uctx) {
    const ucontext_t *uc = uctx;
#if defined(__x86_64__)
    return (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
#elif defined(__aarch64__)
    return (uintptr_t)uc->uc_mcontext.sp;
#else
    (void)uc;
    return 0;
#endif
}

/* The PC of the interrupted instruction (0 where we do not know how to read it). */
static uintptr_t interrupted_pc(void *uctx) {
    const ucontext_t *uc = uctx;
#if defined(__x86_64__)
    return (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
    return (uintptr_t)uc->uc_mcontext.pc;
#else
    (void)uc;
    return 0;
#endif
}

/* How far below the stack pointer a stack access may land: a push/call (x86-64), a pre-indexed
 * store pair (aarch64), a stack probe (one page below). Generous; nothing else addresses there. */
#define SP_FAULT_SLACK ((uintptr_t)64 * 1024)

static void fault_handler(int sig, siginfo_t *info, void *uctx) {
    uintptr_t a = (uintptr_t)info->si_addr;
    /* An access outside a memory is a trap only when generated code made it: the runtime
     * bounds-checks guest pointers itself, so a fault of its own there is a bug, not a trap. */
    uintptr_t pc = interrupted_pc(uctx);
    int generated = !pc || in_generated_code(pc);
    if (in_reservation(a) && generated) wasmaot_trap(WASMAOT_TRAP_MEMORY_OOB);
    /* The stack likewise: generated code keeps STACK_MARGIN (256 KiB) free for what it calls, so
     * the runtime's own code reaching the guard is a runtime bug — a crash, never a trap. */
    if (stack_hi && a < stack_hi && generated) {
        /* The guard region below the stack we computed from RLIMIT_STACK... */
        if (a >= stack_guard_lo) wasmaot_trap(WASMAOT_TRAP_STACK_EXHAUSTED);
        /* ...or wherever the stack really ends: an unmapped page between just below the stack
         * pointer and the top of the stack can only be the end of the stack. This matters where
         * the stack is not the size RLIMIT_STACK says: qemu-user gives the guest a fixed stack of
         * max(8 MiB, rlimit) with one guard page, whatever the guest's rlimit. */
        uintptr_t sp = interrupted_sp(uctx);
        if (sp && sp <= stack_hi && a + SP_FAULT_SLACK >= sp) wasmaot_trap(WASMAOT_TRAP_STACK_EXHAUSTED);
    }

    /* Not ours: chain to the previous disposition. */
    struct sigaction *prev = sig == SIGBUS ? &prev_bus : &prev_segv;
    if (prev->sa_flags & SA_SIGINFO) {
        if (prev->sa_sigaction) { prev->sa_sigaction(sig, info, uctx); return; }
    } else if (prev->sa_handler != SIG_DFL && prev->sa_handler != SIG_IGN) {
        prev->sa_handler(sig);
        return;
    }
    /* Default action: reinstall it and return; the faulting instruction re-executes and the
     * process dies with the real signal (core dump and all). */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
}

/* The alternate stack must hold the handler plus anything it chains to; 64 KiB minimum, and at
 * least SIGSTKSZ (which is a runtime value on newer glibc, e.g. large on aarch64 SVE). */
int wasmaot_thread_init_altstack(void) {
    stack_t cur;
    if (sigaltstack(NULL, &cur) == 0 && !(cur.ss_flags & SS_DISABLE) && cur.ss_size >= 65536)
        return 0; /* something (us or the embedder) already gave this thread one */
    size_t size = 64 * 1024;
    if ((size_t)SIGSTKSZ * 4 > size) size = (size_t)SIGSTKSZ * 4;
    stack_t ss;
    ss.ss_sp = malloc(size);
    if (!ss.ss_sp) return -1;
    ss.ss_size = size;
    ss.ss_flags = 0;
    if (sigaltstack(&ss, NULL) != 0) { free(ss.ss_sp); return -1; }
    return 0;
}

int wasmaot_signals_install(void) {
    static int installed;
    if (wasmaot_thread_init_altstack() != 0) return -1;
    if (__atomic_exchange_n(&installed, 1, __ATOMIC_SEQ_CST)) return 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = fault_handler;
    /* SA_NODEFER: a landing pad reached by siglongjmp without mask restore must not leave
     * SIGSEGV blocked (the next fault would then kill the process). */
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSEGV, &sa, &prev_segv) != 0) return -1;
    if (sigaction(SIGBUS, &sa, &prev_bus) != 0) return -1;
    return 0;
}
