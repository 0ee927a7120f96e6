/*
 * instance.c — creating an instance's vmctx, memory and tables, and resolving host imports.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/mman.h>

static _Thread_local char error_buf[512];

static const char *fail(const char *fmt, const char *a, const char *b, const char *c, const char *d) {
    snprintf(error_buf, sizeof error_buf, fmt, a, b, c, d);
    return error_buf;
}

static const wasmaot_host_func *find_host(const char *module, const char *name) {
    for (const wasmaot_host_func *h = wasmaot_host_funcs; h->name; h++)
        if (strcmp(h->module, module) == 0 && strcmp(h->name, name) == 0) return h;
    return NULL;
}

static int is_host_module(const char *module) {
    for (const wasmaot_host_func *h = wasmaot_host_funcs; h->name; h++)
        if (strcmp(h->module, module) == 0) return 1;
    return 0;
}

/* Bytes of address space a memory reserves: 32-bit ones the whole guarded 8 GiB; 64-bit ones
 * their maximum (bounds-checked accesses need no guard), capped. */
static uint64_t reservation_of(const wasmaot_memory *m) {
    if (!m->is64) return WASMAOT_MEMORY_RESERVATION;
    uint64_t cap = WASMAOT_MEMORY64_RESERVATION_MAX / WASMAOT_PAGE_SIZE;
    uint64_t pages = m->max_pages < cap ? m->max_pages : cap;
    return pages ? pages * WASMAOT_PAGE_SIZE : WASMAOT_PAGE_SIZE;
}

static wasmaot_memory *memory_new(uint64_t min_pages, uint64_t max_pages, int is64) {
    wasmaot_memory *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->is64 = is64 != 0;
    m->max_pages = is64 ? max_pages : (max_pages > 65536 ? 65536 : max_pages);
    if (is64 && min_pages > WASMAOT_MEMORY64_RESERVATION_MAX / WASMAOT_PAGE_SIZE) { free(m); return NULL; }
    uint64_t reserve = reservation_of(m);
    if (is64 && m->max_pages > reserve / WASMAOT_PAGE_SIZE) m->max_pages = reserve / WASMAOT_PAGE_SIZE;
    void *base = mmap(NULL, reserve, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED) { free(m); return NULL; }
    uint64_t bytes = min_pages * WASMAOT_PAGE_SIZE;
    if (bytes && mprotect(base, bytes, PROT_READ | PROT_WRITE) != 0) {
        munmap(base, reserve);
        free(m);
        return NULL;
    }
    /* Only the guarded 32-bit reservations turn faults into traps. */
    if (!is64 && wasmaot_reservation_register(base, reserve) != 0) {
        munmap(base, reserve);
        free(m);
        return NULL;
    }
    m->base = base;
    m->size = bytes;
    return m;
}

static void memory_delete(wasmaot_memory *m) {
    if (!m) return;
    if (!m->is64) wasmaot_reservation_unregister(m->base);
    munmap(m->base, reservation_of(m));
    free(m);
}

/* ---- Type identities: canonical texts interned process-wide (a hash table that only grows) ---- */
#define TYPE_BUCKETS 1024
typedef struct interned_type {
    struct interned_type *next;
    char text[];
} interned_type;
static interned_type *type_buckets[TYPE_BUCKETS];
static pthread_mutex_t type_lock = PTHREAD_MUTEX_INITIALIZER;

const char *wasmaot_intern_type(const char *text) {
    if (!text) return NULL;
    uint32_t h = 2166136261u;
    for (const char *p = text; *p; p++) h = (h ^ (uint8_t)*p) * 16777619u;
    pthread_mutex_lock(&type_lock);
    interned_type *t = type_buckets[h % TYPE_BUCKETS];
    while (t && strcmp(t->text, text) != 0) t = t->next;
    if (!t) {
        size_t n = strlen(text);
        if ((t = malloc(sizeof *t + n + 1))) {
            memcpy(t->text, text, n + 1);
            t->next = type_buckets[h % TYPE_BUCKETS];
            type_buckets[h % TYPE_BUCKETS] = t;
        }
    }
    pthread_mutex_unlock(&type_lock);
    return t ? t->text : NULL;
}

static wasmaot_table **table_slot(wasmaot_vmctx *vm, const wasmaot_module_desc *d, uint32_t i) {
    return (wasmaot_table **)((char *)vm + d->tables_offset + 8 * (size_t)i);
}

wasmaot_vmctx *wasmaot_instance_new(const wasmaot_module_desc *d, const char **error) {
    const char *err = NULL;
    *error = NULL;
    if (d->abi_version != WASMAOT_ABI_VERSION) {
        snprintf(error_buf, sizeof error_buf, "module ABI version %u, runtime expects %u",
                 d->abi_version, WASMAOT_ABI_VERSION);
        *error = error_buf;
        return NULL;
    }
    if (d->code_start && wasmaot_code_register(d->code_start, d->code_end) != 0) {
        *error = "too many modules (code ranges)";
        return NULL;
    }
    size_t size = d->vmctx_size < sizeof(wasmaot_vmctx) ? sizeof(wasmaot_vmctx) : d->vmctx_size;
    size = (size + 15) & ~(size_t)15; /* aligned_alloc wants a multiple of the alignment */
    wasmaot_vmctx *vm = aligned_alloc(16, size);
    wasmaot_host *host = calloc(1, sizeof *host);
    if (!vm || !host) { free(vm); free(host); *error = "out of memory"; return NULL; }
    memset(vm, 0, size);
    vm->host = host;
    host->desc = d;
    vm->stack_limit = wasmaot_thread_stack_limit();

    if (d->num_memories) {
        host->own_memories = calloc(d->num_memories, sizeof *host->own_memories);
        if (!host->own_memories) { err = "out of memory"; goto out; }
    }
    for (uint32_t i = 0; i < d->num_memories; i++) {
        const wasmaot_memory_desc *md = &d->memories[i];
        if (md->imported) continue;
        if ((!md->is64 && md->min > 65536) || md->min > md->max) { err = "memory: invalid limits"; goto out; }
        wasmaot_memory *m = memory_new(md->min, md->max, md->is64);
        if (!m) { err = "memory: cannot reserve address space"; goto out; }
        host->own_memories[i] = m;
        *(wasmaot_memory **)((char *)vm + d->memories_offset + 8 * (size_t)i) = m;
        if (i == 0) {
            vm->memory = m;
            vm->mem_base = m->base;
        }
    }

    for (uint32_t i = 0; i < d->num_tables; i++) {
        const wasmaot_table_desc *td = &d->tables[i];
        if (td->imported) continue;
        if (td->min > UINT32_MAX || td->min > td->max) { err = "table: invalid limits"; goto out; }
        wasmaot_table *t = calloc(1, sizeof *t);
        if (!t) { err = "out of memory"; goto out; }
        *table_slot(vm, d, i) = t;
        t->size = (uint32_t)td->min;
        t->max = td->max > UINT32_MAX ? UINT32_MAX : (uint32_t)td->max;
        t->elems = calloc(td->min ? td->min : 1, sizeof(void *));
        if (!t->elems) { err = "table: out of memory"; goto out; }
    }

    /* Type identities call_indirect compares against. */
    for (uint32_t i = 0; i < d->num_types; i++) {
        const char *id = wasmaot_intern_type(d->types[i]);
        if (!id) { err = "out of memory"; goto out; }
        *(const char **)((char *)vm + d->types_offset + 8 * (size_t)i) = id;
    }

    /* Funcref records of the defined functions (a loop here rather than three stores per function
     * in the generated init, which made init the largest function of big modules). */
    for (uint32_t j = 0; j < d->num_funcs - d->num_imported_funcs; j++) {
        wasmaot_funcref *r = (wasmaot_funcref *)((char *)vm + d->funcrefs_offset + sizeof(wasmaot_funcref) * (size_t)j);
        r->type = wasmaot_intern_type(d->funcs[d->num_imported_funcs + j].type);
        if (!r->type) { err = "out of memory"; goto out; }
        r->code = d->func_code[j];
        r->vmctx = vm;
        r->tail_code = d->func_tail_code ? d->func_tail_code[j] : NULL;
    }

    /* Defined tags: a fresh identity per instance (the slot's own address). */
    for (uint32_t i = d->num_imported_tags; i < d->num_tags; i++) {
        void **slot = (void **)((char *)vm + d->tags_offset + 8 * (size_t)i);
        *slot = slot;
    }

    uint32_t nfunc_imports = 0;
    for (uint32_t i = 0; i < d->num_imports; i++)
        if (d->imports[i].kind == WASMAOT_EXTERN_FUNC) nfunc_imports++;
    host->host_refs = calloc(nfunc_imports ? nfunc_imports : 1, sizeof(wasmaot_funcref));
    if (!host->host_refs) { err = "out of memory"; goto out; }
    uint32_t nrefs = 0;
    for (uint32_t i = 0; i < d->num_imports; i++) {
        const wasmaot_import_desc *im = &d->imports[i];
        if (im->kind != WASMAOT_EXTERN_FUNC || !is_host_module(im->module)) continue;
        const wasmaot_host_func *h = find_host(im->module, im->name);
        if (!h) continue; /* main reports it as unknown; an embedder may still supply it */
        if (strcmp(h->type, im->type) != 0) {
            err = fail("import %s.%s: type mismatch (expected %s, module wants %s)", im->module,
                       im->name, h->type, im->type);
            goto out;
        }
        wasmaot_funcref *r = &host->host_refs[nrefs++];
        r->type = wasmaot_intern_type(im->type);
        if (!r->type) { err = "out of memory"; goto out; }
        r->code = h->code;
        r->vmctx = vm;
        *(wasmaot_funcref **)((char *)vm + d->imported_funcs_offset + 8 * (size_t)im->index) = r;
    }
    return vm;

out:
    *error = err;
    wasmaot_instance_delete(vm);
    return NULL;
}

void wasmaot_instance_delete(wasmaot_vmctx *vm) {
    if (!vm) return;
    wasmaot_host *host = vm->host;
    if (host) {
        const wasmaot_module_desc *d = host->desc;
        for (uint32_t i = 0; i < d->num_tables; i++) {
            if (d->tables[i].imported) continue;
            wasmaot_table *t = *table_slot(vm, d, i);
            if (t) { free(t->elems); free(t); }
        }
        for (uint32_t i = 0; host->own_memories && i < d->num_memories; i++) memory_delete(host->own_memories[i]);
        free(host->own_memories);
        free(host->host_refs);
        free(host);
    }
    free(vm);
}

/* ---- Memory instructions ---- */

int64_t wasmaot_memory_grow(wasmaot_memory *m, uint64_t delta) {
    uint64_t old_pages = m->size / WASMAOT_PAGE_SIZE;
    if (delta == 0) return (int64_t)old_pages;
    uint64_t max = m->max_pages; /* memory_new bounds it: 65536 for 32-bit memories, the reservation for 64-bit ones */
    if (delta > max || old_pages > max - delta) return -1;
    uint64_t new_pages = old_pages + delta;
    if (mprotect(m->base + m->size, delta * WASMAOT_PAGE_SIZE, PROT_READ | PROT_WRITE) != 0)
        return -1;
    /* Release-store so another thread sharing the memory never sees the size before the pages. */
    __atomic_store_n(&m->size, new_pages * WASMAOT_PAGE_SIZE, __ATOMIC_RELEASE);
    return (int64_t)old_pages;
}

/* [at, at + n) inside [0, size), without overflow. */
static int in_bounds(uint64_t at, uint64_t n, uint64_t size) { return at <= size && n <= size - at; }

void wasmaot_memory_init(wasmaot_memory *m, const uint8_t *seg, uint32_t seg_len, uint64_t dst,
                         uint32_t src, uint32_t n) {
    uint64_t size = m ? m->size : 0;
    if ((uint64_t)src + n > seg_len || !in_bounds(dst, n, size)) wasmaot_trap(WASMAOT_TRAP_MEMORY_OOB);
    if (n) memcpy(m->base + dst, seg + src, n);
}

void wasmaot_memory_copy(wasmaot_memory *dm, wasmaot_memory *sm, uint64_t dst, uint64_t src, uint64_t n) {
    uint64_t dsize = dm ? dm->size : 0, ssize = sm ? sm->size : 0;
    if (!in_bounds(src, n, ssize) || !in_bounds(dst, n, dsize)) wasmaot_trap(WASMAOT_TRAP_MEMORY_OOB);
    if (n) memmove(dm->base + dst, sm->base + src, n);
}

void wasmaot_memory_fill(wasmaot_memory *m, uint64_t dst, uint32_t val, uint64_t n) {
    uint64_t size = m ? m->size : 0;
    if (!in_bounds(dst, n, size)) wasmaot_trap(WASMAOT_TRAP_MEMORY_OOB);
    if (n) memset(m->base + dst, (int)(uint8_t)val, n);
}

/* ---- Table instructions ---- */

int32_t wasmaot_table_grow(wasmaot_table *t, void *init, uint32_t delta) {
    uint32_t old = t->size;
    uint64_t want = (uint64_t)old + delta;
    if (want > t->max) return -1;
    if (delta == 0) return (int32_t)old;
    void **e = realloc(t->elems, want * sizeof(void *));
    if (!e) return -1;
    for (uint64_t i = old; i < want; i++) e[i] = init;
    t->elems = e;
    t->size = (uint32_t)want;
    return (int32_t)old;
}

void wasmaot_table_fill(wasmaot_table *t, uint32_t dst, void *val, uint32_t n) {
    if ((uint64_t)dst + n > t->size) wasmaot_trap(WASMAOT_TRAP_TABLE_OOB);
    for (uint32_t i = 0; i < n; i++) t->elems[dst + i] = val;
}

void wasmaot_table_copy(wasmaot_table *dt, wasmaot_table *st, uint32_t dst, uint32_t src, uint32_t n) {
    if ((uint64_t)dst + n > dt->size || (uint64_t)src + n > st->size)
        wasmaot_trap(WASMAOT_TRAP_TABLE_OOB);
    if (n) memmove(dt->elems + dst, st->elems + src, (size_t)n * sizeof(void *));
}

void wasmaot_table_init(wasmaot_table *t, void *const *seg, uint32_t seg_len, uint32_t dst,
                        uint32_t src, uint32_t n) {
    if ((uint64_t)src + n > seg_len || (uint64_t)dst + n > t->size)
        wasmaot_trap(WASMAOT_TRAP_TABLE_OOB);
    if (n) memcpy(t->elems + dst, seg + src, (size_t)n * sizeof(void *));
}

/* ---- ABI layout pins ----
 * The compiler emits these structs as raw LLVM constants/loads, so their LP64 layout (x86-64 and
 * aarch64 alike, implicit padding included) is part of the contract: a change here must bump
 * WASMAOT_ABI_VERSION and the compiler's emitter together. */
#define PIN(T, f, off) _Static_assert(offsetof(T, f) == (off), #T "." #f " moved")
PIN(wasmaot_vmctx, mem_base, 0); PIN(wasmaot_vmctx, memory, 8);
PIN(wasmaot_vmctx, stack_limit, 16); PIN(wasmaot_vmctx, host, 24);
_Static_assert(sizeof(wasmaot_vmctx) == 32, "vmctx head size");
PIN(wasmaot_memory, base, 0); PIN(wasmaot_memory, size, 8); PIN(wasmaot_memory, max_pages, 16);
PIN(wasmaot_memory, is64, 24);
PIN(wasmaot_funcref, type, 0); PIN(wasmaot_funcref, code, 8); PIN(wasmaot_funcref, vmctx, 16);
PIN(wasmaot_funcref, tail_code, 24); _Static_assert(sizeof(wasmaot_funcref) == 32, "funcref record size");
PIN(wasmaot_table, elems, 0); PIN(wasmaot_table, size, 8); PIN(wasmaot_table, max, 12);
PIN(wasmaot_import_desc, module, 0); PIN(wasmaot_import_desc, name, 8);
PIN(wasmaot_import_desc, kind, 16); PIN(wasmaot_import_desc, index, 20);
PIN(wasmaot_import_desc, type, 24);
PIN(wasmaot_import_desc, min, 32); PIN(wasmaot_import_desc, max, 40);
_Static_assert(sizeof(wasmaot_import_desc) == 48, "import desc size");
_Static_assert(sizeof(wasmaot_export_desc) == 16, "export desc size");
PIN(wasmaot_table_desc, min, 8); PIN(wasmaot_table_desc, type, 24); _Static_assert(sizeof(wasmaot_table_desc) == 32, "table desc size");
_Static_assert(sizeof(wasmaot_func_desc) == 8, "func desc size");
PIN(wasmaot_global_desc, imported, 8); PIN(wasmaot_global_desc, offset, 12);
PIN(wasmaot_module_desc, num_imports, 8); PIN(wasmaot_module_desc, imports, 16);
PIN(wasmaot_module_desc, num_exports, 24); PIN(wasmaot_module_desc, exports, 32);
PIN(wasmaot_module_desc, num_funcs, 40); PIN(wasmaot_module_desc, num_imported_funcs, 44);
PIN(wasmaot_module_desc, funcs, 48); PIN(wasmaot_module_desc, func_code, 56);
PIN(wasmaot_module_desc, imported_funcs_offset, 64); PIN(wasmaot_module_desc, funcrefs_offset, 68);
PIN(wasmaot_module_desc, num_tables, 72); PIN(wasmaot_module_desc, tables, 80);
PIN(wasmaot_module_desc, tables_offset, 88); PIN(wasmaot_module_desc, num_memories, 92);
PIN(wasmaot_module_desc, memories_offset, 96); PIN(wasmaot_module_desc, memories, 104);
PIN(wasmaot_memory_desc, min, 8); _Static_assert(sizeof(wasmaot_memory_desc) == 24, "memory desc size");
PIN(wasmaot_module_desc, num_globals, 112); PIN(wasmaot_module_desc, globals, 120);
PIN(wasmaot_module_desc, init, 128); PIN(wasmaot_module_desc, wasi_defaults, 136);
PIN(wasmaot_module_desc, func_c_entry, 144); PIN(wasmaot_module_desc, code_start, 152);
PIN(wasmaot_module_desc, code_end, 160); PIN(wasmaot_module_desc, num_types, 168);
PIN(wasmaot_module_desc, types_offset, 172); PIN(wasmaot_module_desc, types, 176);
PIN(wasmaot_module_desc, func_tail_code, 184); PIN(wasmaot_module_desc, num_tags, 192);
PIN(wasmaot_module_desc, num_imported_tags, 196); PIN(wasmaot_module_desc, tags_offset, 200);
PIN(wasmaot_module_desc, tag_types, 208); _Static_assert(sizeof(wasmaot_module_desc) == 216, "module desc size");
PIN(wasmaot_exception, tag, 32); PIN(wasmaot_exception, count, 40); PIN(wasmaot_exception, flags, 44);
_Static_assert(sizeof(wasmaot_exception) == 64, "exception header size");
_Static_assert(sizeof(wasmaot_host_func) == 32, "host func entry size");
