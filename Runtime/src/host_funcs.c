/*
 * host_funcs.c — the table instance_new resolves host imports against. Type strings are the
 * canonical "PARAMS:RESULTS" text the compiler emits for the import, so a mismatch is caught at
 * instantiation instead of corrupting registers at the call.
 */
#include "internal.h"
#include "wasi_funcs.h"

const wasmaot_host_func wasmaot_host_funcs[] = {
#define WASMAOT_HOST(module, name, type, fn) {module, name, type, (void *)fn},
#include "wasmaot_host_funcs.def"
#undef WASMAOT_HOST
    {NULL, NULL, NULL, NULL},
};
