// `exec` in a Wasm container (see wao_exec_prepare in wasmaot_oci.h): the module run again — a
// kubelet exec probe, `kubectl exec`, `podman exec` — gets the same WASI view as the container's
// own process, which the delegate cannot give it (the artifact reads WASMAOT_WASI, which only the
// create-time rewrite of config.json sets).
#define _GNU_SOURCE
#include "wasmaot_oci.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void wao_exec_rewrite_free(wao_exec_rewrite *r) {
    free(r->process_json);
    free(r->env_arg);
    memset(r, 0, sizeof *r);
}

/// Whether `arg0`, run with working directory `cwd` and environment `env`, is the program at
/// `entrypoint` inside `root`.
static int runs_entrypoint(const char *arg0, const char *cwd, const char *const *env, size_t nenv, const char *root,
                           const char *entrypoint) {
    if (!arg0 || !*arg0) return 0;
    if (!strcmp(arg0, entrypoint)) return 1;
    char found[PATH_MAX];
    return wao_rootfs_entrypoint(arg0, cwd, env, nenv, root, found, sizeof found) == 0 && !strcmp(found, entrypoint);
}

int wao_exec_prepare(const wao_args *a, const wao_config *container, const char *bundle, const char *process,
                     size_t process_len, wao_exec_rewrite *out, char *err, size_t err_size) {
    memset(out, 0, sizeof *out);
    const char *entrypoint = wao_config_entrypoint(container);
    if (!entrypoint) return 0;  // not a container this wrapper made Wasm
    char root[PATH_MAX];
    const char *rp = container->root_path;
    if ((size_t)snprintf(root, sizeof root, "%s%s%s", rp[0] == '/' ? "" : bundle, rp[0] == '/' ? "" : "/", rp) >= sizeof root) {
        snprintf(err, err_size, "root path too long: %s", rp);
        return -1;
    }
    int rc = -1;
    wao_config *p = NULL;
    const char **env = NULL;
    char **dirs = NULL;
    char *wasi = NULL;
    size_t ndirs = 0;
    if (a->process) {
        char why[256];
        if (!process) {
            snprintf(err, err_size, "exec: no process.json");
            return -1;
        }
        // Not valid JSON: not ours to judge what it runs; the delegate reports it.
        if (!(p = wao_process_parse(process, process_len, why, sizeof why))) return 0;
        if (!p->nargs || !runs_entrypoint(p->args[0], p->cwd, p->env, p->nenv, root, entrypoint)) {
            rc = 0;
            goto done;
        }
        if (!wao_cwd_is_root(p->cwd) && !(dirs = wao_toplevel_dirs(root, bundle, container, p->cwd, &ndirs))) goto oom;
        if (!(out->process_json = wao_process_rewrite(p, (const char *const *)dirs, ndirs, &out->process_len))) goto oom;
        out->wasm = 1;
        rc = 0;
        goto done;
    }
    // Positional form: the delegate starts from the container's process (its env, cwd), then adds
    // each --env and applies --cwd — and so does the guest's view.
    if (a->exec_cmd_index < 0) return 0;
    const char *arg0 = a->delegate_argv[a->exec_cmd_index];
    const char *cwd = a->exec_cwd ? a->exec_cwd : container->cwd;
    size_t n = 0;
    if (!(env = calloc(container->nenv + a->nexec_env + 1, sizeof *env))) goto oom;
    for (size_t i = 0; i < container->nenv; i++)
        if (strncmp(container->env[i], "WASMAOT_WASI=", 13)) env[n++] = container->env[i];
    for (size_t i = 0; i < a->nexec_env; i++)
        if (strncmp(a->exec_env[i], "WASMAOT_WASI=", 13)) env[n++] = a->exec_env[i];
    if (!runs_entrypoint(arg0, cwd, env, n, root, entrypoint)) {
        rc = 0;
        goto done;
    }
    if (!wao_cwd_is_root(cwd) && !(dirs = wao_toplevel_dirs(root, bundle, container, cwd, &ndirs))) goto oom;
    if (!(wasi = wao_wasi_config_cwd(env, n, cwd, (const char *const *)dirs, ndirs))) goto oom;
    if (!(out->env_arg = malloc(strlen(wasi) + 14))) goto oom;
    strcpy(out->env_arg, "WASMAOT_WASI=");
    strcat(out->env_arg, wasi);
    out->wasm = 1;
    rc = 0;
    goto done;
oom:
    snprintf(err, err_size, "out of memory");
    wao_exec_rewrite_free(out);
done:
    free(wasi);
    free(env);
    wao_strings_free(dirs);
    wao_config_free(p);
    return rc;
}
