/*
 * test_module.c — plays the role of compiler output: defines `wasmaot_module` and a `_start`
 * that reaches WASI only through the imported funcref records, exactly as generated code does.
 * The behaviour is chosen by the guest's argv[1] (read through args_get), so one binary covers
 * all cases; run.sh checks outputs and exit codes.
 * Built with -DBAD_IMPORT=1 (fd_write declared with a wrong type) or 2 (an unknown import) for the
 * instantiation-error tests.
 */
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include "internal.h" /* only for the in-process trap landing pad test ("trapjmp") */
#include "wasmaot_rt.h"

enum {
    I_FD_WRITE, I_PROC_EXIT, I_ARGS_SIZES_GET, I_ARGS_GET, I_PATH_OPEN, I_FD_READ, I_PRESTAT_GET,
    I_PRESTAT_DIR_NAME, I_ENVIRON_SIZES_GET, I_ENVIRON_GET, I_BENCH_START, I_BENCH_END, I_FD_CLOSE,
    I_PATH_FILESTAT_GET, I_FD_SEEK, I_FD_READDIR,
#if BAD_IMPORT == 2
    I_UNKNOWN,
#endif
    NIMP
};

#define OFF_IMPORTS 32
#define OFF_FUNCREFS (OFF_IMPORTS + 8 * NIMP)
#define OFF_TABLES (OFF_FUNCREFS + 24)
#define VMCTX_SIZE ((OFF_TABLES + 8 + 15) & ~15)

#define W "wasi_snapshot_preview1"
static const wasmaot_import_desc imports[] = {
#if BAD_IMPORT == 1
    {W, "fd_write", WASMAOT_EXTERN_FUNC, I_FD_WRITE, "iii:i", 0, 0, 0},
#else
    {W, "fd_write", WASMAOT_EXTERN_FUNC, I_FD_WRITE, "iiii:i", 0, 0, 0},
#endif
    {W, "proc_exit", WASMAOT_EXTERN_FUNC, I_PROC_EXIT, "i:", 0, 0, 0},
    {W, "args_sizes_get", WASMAOT_EXTERN_FUNC, I_ARGS_SIZES_GET, "ii:i", 0, 0, 0},
    {W, "args_get", WASMAOT_EXTERN_FUNC, I_ARGS_GET, "ii:i", 0, 0, 0},
    {W, "path_open", WASMAOT_EXTERN_FUNC, I_PATH_OPEN, "iiiiiIIii:i", 0, 0, 0},
    {W, "fd_read", WASMAOT_EXTERN_FUNC, I_FD_READ, "iiii:i", 0, 0, 0},
    {W, "fd_prestat_get", WASMAOT_EXTERN_FUNC, I_PRESTAT_GET, "ii:i", 0, 0, 0},
    {W, "fd_prestat_dir_name", WASMAOT_EXTERN_FUNC, I_PRESTAT_DIR_NAME, "iii:i", 0, 0, 0},
    {W, "environ_sizes_get", WASMAOT_EXTERN_FUNC, I_ENVIRON_SIZES_GET, "ii:i", 0, 0, 0},
    {W, "environ_get", WASMAOT_EXTERN_FUNC, I_ENVIRON_GET, "ii:i", 0, 0, 0},
    {"bench", "start", WASMAOT_EXTERN_FUNC, I_BENCH_START, ":", 0, 0, 0},
    {"bench", "end", WASMAOT_EXTERN_FUNC, I_BENCH_END, ":", 0, 0, 0},
    {W, "fd_close", WASMAOT_EXTERN_FUNC, I_FD_CLOSE, "i:i", 0, 0, 0},
    {W, "path_filestat_get", WASMAOT_EXTERN_FUNC, I_PATH_FILESTAT_GET, "iiiii:i", 0, 0, 0},
    {W, "fd_seek", WASMAOT_EXTERN_FUNC, I_FD_SEEK, "iIii:i", 0, 0, 0},
    {W, "fd_readdir", WASMAOT_EXTERN_FUNC, I_FD_READDIR, "iiiIi:i", 0, 0, 0},
#if BAD_IMPORT == 2
    {"env", "mystery", WASMAOT_EXTERN_FUNC, I_UNKNOWN, ":", 0, 0, 0},
#endif
};

static void start(wasmaot_vmctx *vm);
static void init(wasmaot_vmctx *vm);

static const wasmaot_export_desc exports[] = {{"_start", WASMAOT_EXTERN_FUNC, NIMP}};
static const wasmaot_func_desc funcs[NIMP + 1] = {[NIMP] = {":", 0}};
static void *const func_code[] = {(void *)start};
static const wasmaot_table_desc tables[] = {{WASMAOT_REF_FUNC, 0, 2, 4}};

const wasmaot_module_desc wasmaot_module = {
    .abi_version = WASMAOT_ABI_VERSION,
    .vmctx_size = VMCTX_SIZE,
    .num_imports = NIMP, .imports = imports,
    .num_exports = 1, .exports = exports,
    .num_funcs = NIMP + 1, .num_imported_funcs = NIMP, .funcs = funcs, .func_code = func_code,
    .imported_funcs_offset = OFF_IMPORTS, .funcrefs_offset = OFF_FUNCREFS,
    .num_tables = 1, .tables = tables, .tables_offset = OFF_TABLES,
    .memory_kind = 1, .memory_min_pages = 1, .memory_max_pages = 3,
    .init = init,
    .wasi_defaults = "",
};

/* ---- "generated code" helpers ---- */
static wasmaot_funcref *imp(wasmaot_vmctx *vm, int i) {
    return *(wasmaot_funcref **)((char *)vm + OFF_IMPORTS + 8 * i);
}
typedef int32_t (*fn_i)(wasmaot_vmctx *, int32_t);
typedef int32_t (*fn_ii)(wasmaot_vmctx *, int32_t, int32_t);
typedef int32_t (*fn_iii)(wasmaot_vmctx *, int32_t, int32_t, int32_t);
typedef int32_t (*fn_iiii)(wasmaot_vmctx *, int32_t, int32_t, int32_t, int32_t);
typedef int32_t (*fn_iiiii)(wasmaot_vmctx *, int32_t, int32_t, int32_t, int32_t, int32_t);
typedef int32_t (*fn_iIii)(wasmaot_vmctx *, int32_t, int64_t, int32_t, int32_t);
typedef int32_t (*fn_iiiIi)(wasmaot_vmctx *, int32_t, int32_t, int32_t, int64_t, int32_t);
typedef int32_t (*fn_open)(wasmaot_vmctx *, int32_t, int32_t, int32_t, int32_t, int32_t, int64_t,
                           int64_t, int32_t, int32_t);
typedef void (*fn_v)(wasmaot_vmctx *);
#define CALL(T, i, ...) ((T)imp(vm, i)->code)(imp(vm, i)->vmctx, __VA_ARGS__)
#define CALL0(T, i) ((T)imp(vm, i)->code)(imp(vm, i)->vmctx)

/* Guest memory map: 0..4095 scratch, 4096.. strings, 16384.. argv/env. */
#define SCRATCH 0
#define STR 4096
#define PRINTBUF 8192
#define ARGS 16384

static void say(wasmaot_vmctx *vm, const char *s) {
    uint32_t n = (uint32_t)strlen(s);
    memcpy(vm->mem_base + PRINTBUF, s, n);
    uint32_t iov[2] = {PRINTBUF, n};
    memcpy(vm->mem_base + SCRATCH, iov, 8);
    CALL(fn_iiii, I_FD_WRITE, 1, SCRATCH, 1, SCRATCH + 8);
}

static void say_num(wasmaot_vmctx *vm, const char *label, long long v) {
    char buf[96], num[24];
    int i = 0, neg = v < 0;
    unsigned long long u = neg ? -(unsigned long long)v : (unsigned long long)v;
    do num[i++] = (char)('0' + u % 10); while ((u /= 10));
    if (neg) num[i++] = '-';
    size_t l = strlen(label);
    memcpy(buf, label, l);
    while (i) buf[l++] = num[--i];
    buf[l++] = '\n';
    buf[l] = 0;
    say(vm, buf);
}

static uint32_t rd32(wasmaot_vmctx *vm, uint32_t off) {
    uint32_t v;
    memcpy(&v, vm->mem_base + off, 4);
    return v;
}

static const uint8_t data_seg[] = "hello\n";

static void init(wasmaot_vmctx *vm) {
    wasmaot_funcref *self = (wasmaot_funcref *)((char *)vm + OFF_FUNCREFS);
    self->sig = 0;
    self->code = (void *)start;
    self->vmctx = vm;
    wasmaot_memory_init(vm, data_seg, 6, STR, 0, 6); /* an active data segment */
}

/* Recursion with the prologue check generated code has. */
static int checked_recursion(wasmaot_vmctx *vm, int depth) {
    volatile char pad[256];
    if ((uintptr_t)__builtin_frame_address(0) < vm->stack_limit) wasmaot_trap(WASMAOT_TRAP_STACK_EXHAUSTED);
    if (depth < 0) return 0; /* never; keeps -Winfinite-recursion quiet */
    pad[0] = (char)depth;
    return checked_recursion(vm, depth + 1) + pad[0];
}

/* Recursion without any check: must still end in "call stack exhausted" via the guard page. */
static volatile int never = 0;
static int raw_recursion(int depth) {
    volatile char pad[4096];
    pad[0] = (char)depth;
    if (never) return pad[0];
    return raw_recursion(depth + 1) + pad[0];
}

static int32_t open_file_l(wasmaot_vmctx *vm, int32_t dirfd, int32_t lookup, const char *path, int32_t *fd) {
    uint32_t n = (uint32_t)strlen(path);
    memcpy(vm->mem_base + STR + 512, path, n);
    int32_t e = CALL(fn_open, I_PATH_OPEN, dirfd, lookup, STR + 512, (int32_t)n, 0, (int64_t)0x1fffffff,
                     (int64_t)0x1fffffff, 0, SCRATCH + 64);
    *fd = (int32_t)rd32(vm, SCRATCH + 64);
    return e;
}

static int32_t open_file(wasmaot_vmctx *vm, int32_t dirfd, const char *path, int32_t *fd) {
    return open_file_l(vm, dirfd, 0, path, fd);
}

static void mode_wasi(wasmaot_vmctx *vm) {
    /* Preopen at fd 3 named "/data"; fd 4 must not be a preopen. */
    say_num(vm, "prestat3=", CALL(fn_ii, I_PRESTAT_GET, 3, SCRATCH + 32));
    uint32_t len = rd32(vm, SCRATCH + 36);
    CALL(fn_iii, I_PRESTAT_DIR_NAME, 3, STR + 256, (int32_t)len);
    char name[64] = {0};
    memcpy(name, vm->mem_base + STR + 256, len < 63 ? len : 63);
    say(vm, "name=");
    say(vm, name);
    say(vm, "\n");
    say_num(vm, "prestat4=", CALL(fn_ii, I_PRESTAT_GET, 4, SCRATCH + 32));

    int32_t fd = -1;
    int32_t e = open_file(vm, 3, "sub/../hello.txt", &fd);
    say_num(vm, "open=", e);
    if (e == 0) {
        uint32_t iov[2] = {STR + 1024, 100};
        memcpy(vm->mem_base + SCRATCH + 96, iov, 8);
        say_num(vm, "read=", CALL(fn_iiii, I_FD_READ, fd, SCRATCH + 96, 1, SCRATCH + 104));
        uint32_t got = rd32(vm, SCRATCH + 104);
        char content[128] = {0};
        memcpy(content, vm->mem_base + STR + 1024, got < 127 ? got : 127);
        say(vm, "content=");
        say(vm, content);
        say_num(vm, "seek=", CALL(fn_iIii, I_FD_SEEK, fd, (int64_t)0, 2, SCRATCH + 112));
        say_num(vm, "size=", (long long)rd32(vm, SCRATCH + 112));
        say_num(vm, "close=", CALL(fn_i, I_FD_CLOSE, fd));
        say_num(vm, "close_again=", CALL(fn_i, I_FD_CLOSE, fd));
    }
    say_num(vm, "escape=", open_file(vm, 3, "../etc/passwd", &fd));
    say_num(vm, "escape2=", open_file(vm, 3, "sub/../../x", &fd));
    say_num(vm, "absolute=", open_file(vm, 3, "/etc/passwd", &fd));
    say_num(vm, "symlink_escape=", open_file(vm, 3, "link/passwd", &fd));
    say_num(vm, "missing=", open_file(vm, 3, "nope.txt", &fd));
    say_num(vm, "symlink_follow_inside=", open_file_l(vm, 3, 1, "inlink", &fd));
    say_num(vm, "symlink_nofollow=", open_file_l(vm, 3, 0, "inlink", &fd));
    say_num(vm, "symlink_relative_escape=", open_file_l(vm, 3, 1, "esc/etc/passwd", &fd));
    say_num(vm, "symlink_dir_inside=", open_file_l(vm, 3, 1, "sub/up/hello.txt", &fd));
    say_num(vm, "notdir=", open_file_l(vm, 3, 1, "hello.txt/x", &fd));
    say_num(vm, "dot=", open_file_l(vm, 3, 0, "sub/..", &fd)); /* write rights on a dir: EISDIR */
    /* path_filestat_get: 64-byte filestat, size at +32, filetype at +16 */
    memcpy(vm->mem_base + STR + 512, "hello.txt", 9);
    say_num(vm, "stat=", CALL(fn_iiiii, I_PATH_FILESTAT_GET, 3, 0, STR + 512, 9, SCRATCH + 128));
    say_num(vm, "stat_type=", vm->mem_base[SCRATCH + 128 + 16]);
    say_num(vm, "stat_size=", (long long)rd32(vm, SCRATCH + 128 + 32));
    /* bad pointer: EFAULT, not a crash */
    say_num(vm, "efault=", CALL(fn_iiii, I_FD_READ, 0, 70000, 1, SCRATCH));
    say_num(vm, "enosys=", CALL(fn_iiiIi, I_FD_READDIR, 3, STR, 10, (int64_t)0, SCRATCH));
    say_num(vm, "badfd=", CALL(fn_iiii, I_FD_READ, 99, SCRATCH + 96, 1, SCRATCH + 104));
}

static void mode_env(wasmaot_vmctx *vm) {
    CALL(fn_ii, I_ENVIRON_SIZES_GET, SCRATCH, SCRATCH + 4);
    uint32_t n = rd32(vm, SCRATCH);
    say_num(vm, "envc=", n);
    CALL(fn_ii, I_ENVIRON_GET, ARGS, ARGS + 4096);
    for (uint32_t i = 0; i < n; i++) {
        say(vm, "env:");
        say(vm, (const char *)vm->mem_base + rd32(vm, ARGS + 4 * i));
        say(vm, "\n");
    }
}

static void mode_tables(wasmaot_vmctx *vm) {
    wasmaot_table *t = *(wasmaot_table **)((char *)vm + OFF_TABLES);
    void *self = (char *)vm + OFF_FUNCREFS;
    say_num(vm, "size=", t->size);
    say_num(vm, "grow=", wasmaot_table_grow(t, self, 1));
    say_num(vm, "grow=", wasmaot_table_grow(t, NULL, 1));
    say_num(vm, "grow_over=", wasmaot_table_grow(t, NULL, 1));
    say_num(vm, "slot2_is_self=", t->elems[2] == self);
    wasmaot_table_fill(t, 0, self, 2);
    wasmaot_table_copy(t, t, 1, 2, 2); /* overlapping: [1]=self(from 2), [2]=NULL(from 3) */
    say_num(vm, "after_copy=", (t->elems[0] == self) + 2 * (t->elems[1] == self) + 4 * (t->elems[2] == self) + 8 * (t->elems[3] == self));
    void *seg[2] = {NULL, self};
    wasmaot_table_init(t, seg, 2, 3, 1, 1);
    wasmaot_table_init(t, seg, 2, 4, 2, 0); /* n == 0 at exactly the end: fine */
    say_num(vm, "slot3_is_self=", t->elems[3] == self);
    wasmaot_table_fill(t, 3, NULL, 2); /* 3 + 2 > 4: traps */
    say(vm, "not reached\n");
}

static void mode_memops(wasmaot_vmctx *vm) {
    uint8_t *m = vm->mem_base;
    wasmaot_memory_fill(vm, 100, 0x41, 4);
    wasmaot_memory_copy(vm, 102, 100, 4); /* overlap forward */
    m[106] = 0;
    say(vm, (const char *)m + 100);
    say(vm, "\n");
    wasmaot_memory_copy(vm, 65536, 0, 0); /* n == 0 at the end: fine */
    wasmaot_memory_fill(vm, 65536, 0, 0);
    say(vm, "zero ok\n");
    wasmaot_memory_copy(vm, 65535, 0, 2);
    say(vm, "not reached\n");
}

static void start(wasmaot_vmctx *vm) {
    /* argv[1] selects the mode */
    CALL(fn_ii, I_ARGS_SIZES_GET, SCRATCH, SCRATCH + 4);
    uint32_t argc = rd32(vm, SCRATCH);
    CALL(fn_ii, I_ARGS_GET, ARGS, ARGS + 1024);
    const char *mode = argc > 1 ? (const char *)vm->mem_base + rd32(vm, ARGS + 4) : "hello";

    if (!strcmp(mode, "hello")) {
        /* the data segment copied by init */
        uint32_t iov[2] = {STR, 6};
        memcpy(vm->mem_base + SCRATCH, iov, 8);
        CALL(fn_iiii, I_FD_WRITE, 1, SCRATCH, 1, SCRATCH + 8);
        if (rd32(vm, SCRATCH + 8) != 6) CALL(fn_i, I_PROC_EXIT, 3);
    } else if (!strcmp(mode, "args")) {
        say_num(vm, "argc=", argc);
        for (uint32_t i = 0; i < argc; i++) {
            say(vm, (const char *)vm->mem_base + rd32(vm, ARGS + 4 * i));
            say(vm, "|");
        }
        say(vm, "\n");
    } else if (!strcmp(mode, "exit42")) {
        CALL(fn_i, I_PROC_EXIT, 42);
    } else if (!strcmp(mode, "oob")) {
        *(volatile uint8_t *)(vm->mem_base + (5ull << 30)) = 1;
    } else if (!strcmp(mode, "oob_after_grow")) {
        wasmaot_memory_grow(vm, 1);
        vm->mem_base[2 * 65536 - 1] = 1;
        say(vm, "in bounds ok\n");
        *(volatile uint8_t *)(vm->mem_base + 2 * 65536) = 1;
    } else if (!strcmp(mode, "null")) {
        /* A fault that is not Wasm's: must reach the default action (SIGSEGV), not a trap. */
        *(volatile int *)(uintptr_t)never = 1;
    } else if (!strcmp(mode, "stack")) {
        checked_recursion(vm, 0);
    } else if (!strcmp(mode, "stackguard")) {
        raw_recursion(0);
    } else if (!strcmp(mode, "grow")) {
        say_num(vm, "grow1=", wasmaot_memory_grow(vm, 1));
        say_num(vm, "grow1=", wasmaot_memory_grow(vm, 1));
        say_num(vm, "grow_over=", wasmaot_memory_grow(vm, 1));
        say_num(vm, "grow0=", wasmaot_memory_grow(vm, 0));
        say_num(vm, "big=", wasmaot_memory_grow(vm, 0xffffffffu));
        vm->mem_base[3 * 65536 - 1] = 7;
        say_num(vm, "size=", (long long)vm->memory->size);
    } else if (!strcmp(mode, "wasi")) {
        mode_wasi(vm);
    } else if (!strcmp(mode, "wasi_walk")) {
        wasmaot_openat2_state = -1; /* exercise the user-space resolver */
        mode_wasi(vm);
    } else if (!strcmp(mode, "env")) {
        mode_env(vm);
    } else if (!strcmp(mode, "bench")) {
        CALL0(fn_v, I_BENCH_START);
        CALL0(fn_v, I_BENCH_END);
    } else if (!strcmp(mode, "tables")) {
        mode_tables(vm);
    } else if (!strcmp(mode, "memops")) {
        mode_memops(vm);
    } else if (!strcmp(mode, "trapjmp")) {
        /* In-process landing pad (what the embedding API will use). */
        static sigjmp_buf jb;
        static volatile int round;
        sigjmp_buf *prev = wasmaot_trap_set_handler(&jb);
        if (sigsetjmp(jb, 1) == 0) {
            round = 1;
            *(volatile uint8_t *)(vm->mem_base + 70000) = 1;
        }
        say_num(vm, "kind=", wasmaot_trap_last_kind());
        if (round == 1 && sigsetjmp(jb, 0) == 0) { /* no mask restore: SA_NODEFER matters */
            round = 2;
            *(volatile uint8_t *)(vm->mem_base + 80000) = 1;
        }
        say_num(vm, "kind=", wasmaot_trap_last_kind());
        if (round == 2 && sigsetjmp(jb, 1) == 0) {
            round = 3;
            wasmaot_trap(WASMAOT_TRAP_UNREACHABLE);
        }
        say_num(vm, "kind=", wasmaot_trap_last_kind());
        wasmaot_trap_set_handler(prev);
        wasmaot_trap(WASMAOT_TRAP_DIV_BY_ZERO); /* no pad any more: exits 134 */
    } else {
        say(vm, "unknown mode\n");
        CALL(fn_i, I_PROC_EXIT, 2);
    }
}
