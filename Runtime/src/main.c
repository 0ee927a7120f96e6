/*
 * main.c — entry point of executables produced by wasmaot. Kept in its own object so a shared
 * library built from the same archive never pulls in `main`.
 */
#include "internal.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern const wasmaot_module_desc wasmaot_module;

static _Noreturn void die(const char *msg) {
    fprintf(stderr, "wasmaot: %s\n", msg);
    _exit(1);
}

/* As PID 1 (the process of a container) signals without a handler are ignored, so `podman
 * stop` would sit out its kill timeout: end at once with the shell's 128+signal status. Not
 * installed otherwise, where the default action already ends the process. */
static void end_on_signal(int sig) { _exit(128 + sig); }

static void handle_termination_as_pid1(void) {
    if (getpid() != 1) return;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = end_on_signal;
    sigemptyset(&sa.sa_mask);
    int signals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT};
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++) sigaction(signals[i], &sa, NULL);
}

int main(int argc, char **argv) {
    const wasmaot_module_desc *d = &wasmaot_module;

    handle_termination_as_pid1();
    wasmaot_main_thread_stack_setup(argv);
    if (wasmaot_signals_install() != 0) die("cannot install signal handlers");

    const char *config = getenv("WASMAOT_WASI");
    if (!config) config = d->wasi_defaults ? d->wasi_defaults : "";
    char *werr = NULL;
    wasmaot_wasi_process = wasmaot_wasi_from_config(config, argc, argv, &werr);
    if (!wasmaot_wasi_process) die(werr ? werr : "WASMAOT_WASI: invalid configuration");

    const char *err = NULL;
    wasmaot_vmctx *vm = wasmaot_instance_new(d, &err);
    if (!vm) die(err);

    /* Executables have no other instances to link against: every import must be a host one. */
    for (uint32_t i = 0; i < d->num_imports; i++) {
        const wasmaot_import_desc *im = &d->imports[i];
        int missing = im->kind != WASMAOT_EXTERN_FUNC ||
                      !*(void **)((char *)vm + d->imported_funcs_offset + 8 * (size_t)im->index);
        if (missing) {
            fprintf(stderr, "wasmaot: unknown import %s.%s\n", im->module, im->name);
            _exit(1);
        }
    }

    if (d->init) d->init(vm);

    for (uint32_t i = 0; i < d->num_exports; i++) {
        const wasmaot_export_desc *e = &d->exports[i];
        if (e->kind != WASMAOT_EXTERN_FUNC || strcmp(e->name, "_start") != 0) continue;
        if (e->index < d->num_imported_funcs) {
            /* Re-exported import: call through its funcref record. */
            wasmaot_funcref *r =
                *(wasmaot_funcref **)((char *)vm + d->imported_funcs_offset + 8 * (size_t)e->index);
            ((void (*)(wasmaot_vmctx *))r->code)(r->vmctx);
        } else {
            ((void (*)(wasmaot_vmctx *))d->func_code[e->index - d->num_imported_funcs])(vm);
        }
        break;
    }
    _exit(0);
}
