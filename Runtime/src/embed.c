/*
 * embed.c — entry points for in-process embedders (the Swift embedding API, the spec runner).
 * Executables never reference this file, so static links do not pull libffi in; the shared
 * runtime (libwasmaot_rt.so) exports it.
 */
#include "internal.h"

#include <ffi.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

void wasmaot_embed_prepare_thread(void) {
    wasmaot_signals_install();
    wasmaot_thread_init_altstack();
    pthread_attr_t attr;
    void *lo = NULL;
    size_t size = 0;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        pthread_attr_getstack(&attr, &lo, &size);
        pthread_attr_destroy(&attr);
    }
    uintptr_t low = (uintptr_t)lo, high = low + size;
    /* Keep 256 KiB for the runtime and the embedder's frames below the Wasm limit; the 64 KiB
     * below the stack is the guard region a huge frame would hit. */
    uintptr_t limit = size > (512u << 10) ? low + (256u << 10) : low + size / 2;
    wasmaot_thread_set_stack(limit, low > (64u << 10) ? low - (64u << 10) : 0, high);
}

uintptr_t wasmaot_embed_stack_limit(void) { return wasmaot_thread_stack_limit(); }

static ffi_type *ffi_type_of(char letter) {
    switch (letter) {
    case 'i': return &ffi_type_sint32;
    case 'I': return &ffi_type_sint64;
    case 'f': return &ffi_type_float;
    case 'F': return &ffi_type_double;
    default: return &ffi_type_pointer; /* r, e */
    }
}

/* Splits "PARAMS:RESULTS[;DETAIL]" (one letter per value before the detail of typed references). */
static void split_type(const char *type, size_t *nparams, const char **results, size_t *nresults) {
    const char *colon = strchr(type, ':');
    *nparams = colon ? (size_t)(colon - type) : strcspn(type, ";");
    *results = colon ? colon + 1 : "";
    *nresults = strcspn(*results, ";");
}

static int call_with_landing_pad(ffi_cif *cif, void *code, void *ret, void **args) {
    sigjmp_buf jb;
    sigjmp_buf *prev = wasmaot_trap_set_handler(&jb);
    if (sigsetjmp(jb, 1) == 0) {
        ffi_call(cif, FFI_FN(code), ret, args);
        wasmaot_trap_set_handler(prev);
        return -1;
    }
    wasmaot_trap_set_handler(prev);
    return wasmaot_trap_last_kind();
}

typedef void (*slot_entry)(wasmaot_vmctx *, const uint64_t *, uint64_t *);

/* A function with v128 values: its func_c_entry takes and returns slots (no C type for v128). */
static int call_slots_with_landing_pad(void *code, wasmaot_vmctx *vmctx, const uint64_t *args, uint64_t *results) {
    sigjmp_buf jb;
    sigjmp_buf *prev = wasmaot_trap_set_handler(&jb);
    if (sigsetjmp(jb, 1) == 0) {
        ((slot_entry)code)(vmctx, args, results);
        wasmaot_trap_set_handler(prev);
        return -1;
    }
    wasmaot_trap_set_handler(prev);
    return wasmaot_trap_last_kind();
}

int wasmaot_embed_invoke(void *code, wasmaot_vmctx *vmctx, const char *type, const uint64_t *args,
                         uint64_t *results) {
    size_t nparams, nresults;
    const char *rtext;
    split_type(type, &nparams, &rtext, &nresults);
    if (memchr(type, 'v', nparams) || memchr(rtext, 'v', nresults))
        return call_slots_with_landing_pad(code, vmctx, args, results);
    size_t nargs = 1 + nparams + (nresults > 1 ? 1 : 0);
    ffi_type **types = calloc(nargs, sizeof *types);
    void **values = calloc(nargs, sizeof *values);
    uint64_t *slots = calloc(nparams + 1, sizeof *slots);
    if (!types || !values || !slots) { free(types); free(values); free(slots); return WASMAOT_TRAP_STACK_EXHAUSTED; }
    types[0] = &ffi_type_pointer;
    values[0] = &vmctx;
    for (size_t i = 0; i < nparams; i++) {
        types[1 + i] = ffi_type_of(type[i]);
        slots[i] = args[i];
        values[1 + i] = &slots[i]; /* little-endian: the low bytes hold i32/f32 */
    }
    if (nresults > 1) {
        types[nargs - 1] = &ffi_type_pointer;
        slots[nparams] = (uint64_t)(uintptr_t)results;
        values[nargs - 1] = &slots[nparams];
    }
    ffi_type *rtype = nresults == 1 ? ffi_type_of(rtext[0]) : &ffi_type_void;
    ffi_cif cif;
    int kind = WASMAOT_TRAP_STACK_EXHAUSTED;
    if (ffi_prep_cif(&cif, FFI_DEFAULT_ABI, (unsigned)nargs, rtype, types) == FFI_OK) {
        /* ffi_call widens small integer returns to a full register (ffi_arg). */
        uint64_t ret[2] = {0, 0};
        kind = call_with_landing_pad(&cif, code, ret, values);
        if (kind < 0 && nresults == 1) {
            if (rtext[0] == 'i') results[0] = (uint32_t)ret[0];
            else if (rtext[0] == 'f') { uint32_t bits; memcpy(&bits, ret, 4); results[0] = bits; }
            else results[0] = ret[0];
        }
        /* Exnrefs returned to the embedder leave the stack the collector scans: pinned. */
        if (kind < 0 && strstr(type, "exnRef"))
            for (size_t i = 0; i < nresults; i++)
                if (rtext[i] == 'r') wasmaot_exn_pin_if_exception((void *)(uintptr_t)results[i]);
    }
    free(types);
    free(values);
    free(slots);
    return kind;
}

int wasmaot_embed_init(wasmaot_vmctx *vm) {
    const wasmaot_module_desc *d = ((wasmaot_host *)vm->host)->desc;
    sigjmp_buf jb;
    sigjmp_buf *prev = wasmaot_trap_set_handler(&jb);
    if (sigsetjmp(jb, 1) == 0) {
        d->init(vm);
        wasmaot_trap_set_handler(prev);
        return -1;
    }
    wasmaot_trap_set_handler(prev);
    return wasmaot_trap_last_kind();
}

typedef struct host_closure {
    ffi_cif cif;
    ffi_type **types;
    const char *type;
    wasmaot_host_callback callback;
    void *data;
} host_closure;

static void host_trampoline(ffi_cif *cif, void *ret, void **args, void *user) {
    host_closure *h = user;
    size_t nparams, nresults;
    const char *rtext;
    split_type(h->type, &nparams, &rtext, &nresults);
    uint64_t in[64] = {0}, out[4] = {0};
    for (size_t i = 0; i < nparams && i < 64; i++) {
        switch (h->type[i]) {
        case 'i': in[i] = *(uint32_t *)args[1 + i]; break;
        case 'f': { uint32_t bits; memcpy(&bits, args[1 + i], 4); in[i] = bits; break; }
        default: memcpy(&in[i], args[1 + i], 8); break;
        }
    }
    (void)cif;
    /* An exnref the host receives may be kept beyond the call: out of the stack scan's sight. */
    if (strstr(h->type, "exnRef"))
        for (size_t i = 0; i < nparams && i < 64; i++)
            if (h->type[i] == 'r') wasmaot_exn_pin_if_exception((void *)(uintptr_t)in[i]);
    h->callback(h->data, in, out);
    if (nresults == 1) {
        if (rtext[0] == 'i') *(ffi_arg *)ret = (ffi_arg)(int32_t)(uint32_t)out[0];
        else if (rtext[0] == 'f') memcpy(ret, &out[0], 4);
        else memcpy(ret, &out[0], 8);
    }
}

void *wasmaot_embed_host_function(const char *type, wasmaot_host_callback callback, void *data) {
    size_t nparams, nresults;
    const char *rtext;
    split_type(type, &nparams, &rtext, &nresults);
    if (nresults > 1 || nparams > 64 || memchr(type, 'v', nparams) || memchr(rtext, 'v', nresults)) return NULL;
    host_closure *h = calloc(1, sizeof *h);
    h->type = strdup(type);
    h->callback = callback;
    h->data = data;
    h->types = calloc(nparams + 1, sizeof *h->types);
    h->types[0] = &ffi_type_pointer;
    for (size_t i = 0; i < nparams; i++) h->types[1 + i] = ffi_type_of(type[i]);
    ffi_type *rtype = nresults == 1 ? ffi_type_of(rtext[0]) : &ffi_type_void;
    void *code = NULL;
    ffi_closure *closure = ffi_closure_alloc(sizeof(ffi_closure), &code);
    if (!closure || ffi_prep_cif(&h->cif, FFI_DEFAULT_ABI, (unsigned)(nparams + 1), rtype, h->types) != FFI_OK ||
        ffi_prep_closure_loc(closure, &h->cif, host_trampoline, h, code) != FFI_OK) {
        return NULL;
    }
    return code;
}

void wasmaot_embed_instance_delete(wasmaot_vmctx *vm) { wasmaot_instance_delete(vm); }

void wasmaot_embed_trap(int kind) { wasmaot_trap(kind); }
