// wasmaot — the command users type. A small static C program, because the full compiler
// (wasmaot-compiler: Swift, Foundation, libLLVM) takes ~25 ms just to load, while a cached
// `wasmaot run` should start about as fast as the artifact itself.
//
// `wasmaot run` with a valid fast-path record (wasmaot_fastpath.h) execs the cached artifact
// directly; `wasmaot cache artifact` prints it (wasmaot-oci asks that at every container start). Everything else — other commands, options it does not know, a missing or stale
// record — execs wasmaot-compiler (beside this executable, or $WASMAOT_COMPILER) with the same
// argv, so behaviour and messages are the compiler's. The option grammar below mirrors
// wasmaot-compiler's `run` (Run.swift): keep the two in step.
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "wasmaot_fastpath.h"
#include "../../Runtime/include/wasmaot_rt.h" // wasmaot_env_entry_error: the --env grammar

extern char **environ;

#if defined(__x86_64__)
#define HOST_ARCH "x86_64"
#elif defined(__aarch64__)
#define HOST_ARCH "aarch64"
#else
#define HOST_ARCH "unknown"
#endif

static char compiler_path[PATH_MAX];

static void find_compiler(void) {
    const char *env = getenv("WASMAOT_COMPILER");
    if (env && *env) {
        snprintf(compiler_path, sizeof compiler_path, "%s", env);
        return;
    }
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        snprintf(compiler_path, sizeof compiler_path, "wasmaot-compiler");
        return;
    }
    self[n] = 0;
    char *slash = strrchr(self, '/');
    if (slash) *slash = 0;
    snprintf(compiler_path, sizeof compiler_path, "%s/wasmaot-compiler", self);
}

static _Noreturn void exec_compiler(char **argv) {
    if (strchr(compiler_path, '/')) execv(compiler_path, argv);
    else execvp(compiler_path, argv);
    fprintf(stderr, "error: cannot start the compiler %s: %s (set WASMAOT_COMPILER or reinstall wasmaot)\n",
            compiler_path, strerror(errno));
    exit(1);
}

/// A growable string for WASMAOT_WASI.
typedef struct {
    char *data;
    size_t len, cap;
} text;

static int text_add(text *t, const char *s, size_t n) {
    if (t->len + n + 1 > t->cap) {
        size_t cap = (t->cap + n + 1) * 2;
        char *d = realloc(t->data, cap);
        if (!d) return -1;
        t->data = d;
        t->cap = cap;
    }
    memcpy(t->data + t->len, s, n);
    t->len += n;
    t->data[t->len] = 0;
    return 0;
}

/// Appends one word in WASMAOT_WASI syntax (wasmaot_wasi_quote: one quoting for every writer).
static int add_word(text *t, const char *w) {
    if (t->len && text_add(t, " ", 1)) return -1;
    char *q = malloc(4 * strlen(w) + 3);
    if (!q) return -1;
    int rc = text_add(t, q, wasmaot_wasi_quote(w, q));
    free(q);
    return rc;
}

enum tier { TIER_AUTO, TIER_BASELINE, TIER_OPTIMIZED };

typedef struct {
    int opt_level, verbose, inherit_env, bench_timing;
    enum tier tier;
    const char *cache_dir;
    const char *jobs; // --background-jobs, a positive decimal number, or NULL
    text wasi;
} run_options;

/// `--name value` / `--name=value`; returns the value and advances *i, or NULL if `arg` is not it.
static const char *option_value(int argc, char **argv, int *i, const char *name, int *missing) {
    const char *arg = argv[*i];
    size_t n = strlen(name);
    if (strncmp(arg, name, n) != 0) return NULL;
    if (arg[n] == '=') {
        (*i)++;
        return arg + n + 1;
    }
    if (arg[n] != 0) return NULL;
    if (*i + 1 >= argc) {
        *missing = 1;
        return NULL;
    }
    *i += 2;
    return argv[*i - 1];
}

/// One WASI option (shared by both positions); 1 if taken, 0 if not a WASI option, -1 to fall back.
static int wasi_option(int argc, char **argv, int *i, run_options *o) {
    int missing = 0;
    const char *v;
    if ((v = option_value(argc, argv, i, "--dir", &missing))) return add_word(&o->wasi, "--dir") || add_word(&o->wasi, v) ? -1 : 1;
    if (missing) return -1;
    if ((v = option_value(argc, argv, i, "--env", &missing))) {
        if (wasmaot_env_entry_error(v)) return -1; // the compiler words the error
        return add_word(&o->wasi, "--env") || add_word(&o->wasi, v) ? -1 : 1;
    }
    if (missing) return -1;
    const char *a = argv[*i];
    if (!strcmp(a, "--inherit-env")) { o->inherit_env = 1; (*i)++; return 1; }
    if (!strcmp(a, "--bench-timing")) { o->bench_timing = 1; (*i)++; return 1; }
    if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) { o->verbose = 1; (*i)++; return 1; }
    return 0;
}

/// `-O N` / `-ON`; 1 taken, 0 not it, -1 to fall back (a bad level: the compiler words the error).
static int opt_level_option(int argc, char **argv, int *i, run_options *o) {
    const char *a = argv[*i];
    if (a[0] != '-' || a[1] != 'O') return 0;
    const char *level = a[2] ? a + 2 : (*i + 1 < argc ? argv[*i + 1] : NULL);
    if (!level || level[0] < '0' || level[0] > '3' || level[1]) return -1;
    o->opt_level = level[0] - '0';
    *i += a[2] ? 1 : 2;
    return 1;
}

/// `--tier auto|baseline|optimized` and `--background-jobs N` (only the compiler schedules
/// builds); 1 taken, 0 not it, -1 to fall back (a bad value: the compiler words the error).
static int tier_option(int argc, char **argv, int *i, run_options *o) {
    int missing = 0;
    const char *v;
    if ((v = option_value(argc, argv, i, "--tier", &missing))) {
        if (!strcmp(v, "auto")) o->tier = TIER_AUTO;
        else if (!strcmp(v, "baseline")) o->tier = TIER_BASELINE;
        else if (!strcmp(v, "optimized")) o->tier = TIER_OPTIMIZED;
        else return -1;
        return 1;
    }
    if (missing) return -1;
    if ((v = option_value(argc, argv, i, "--background-jobs", &missing))) {
        // Only plain positive numbers here; anything else is the compiler's to word.
        if (!*v || strlen(v) > 6 || strspn(v, "0123456789") != strlen(v) || atoi(v) < 1) return -1;
        o->jobs = v;
        return 1;
    }
    return missing ? -1 : 0;
}

/// Options before the module (what ArgumentParser accepts there); 1 taken, 0 not an option, -1 fall back.
static int leading_option(int argc, char **argv, int *i, run_options *o) {
    int r = wasi_option(argc, argv, i, o);
    if (r) return r;
    if ((r = tier_option(argc, argv, i, o))) return r;
    const char *a = argv[*i];
    int missing = 0;
    const char *v;
    if ((v = option_value(argc, argv, i, "--cache-dir", &missing))) { o->cache_dir = v; return 1; }
    if (missing) return -1;
    if ((v = option_value(argc, argv, i, "--target", &missing))) return strcmp(v, HOST_ARCH) ? -1 : 1;
    if (missing) return -1;
    if ((r = opt_level_option(argc, argv, i, o))) return r;
    return a[0] == '-' ? -1 : 0; // --help, --cpu, `--`, …: the compiler handles those
}

static int cache_root(const run_options *o, char *buf, size_t size) {
    const char *d;
    int n;
    if (o->cache_dir) n = snprintf(buf, size, "%s", o->cache_dir);
    else if ((d = getenv("WASMAOT_CACHE_DIR")) && *d) n = snprintf(buf, size, "%s", d);
    else if ((d = getenv("XDG_CACHE_HOME")) && *d) n = snprintf(buf, size, "%s/wasmaot", d);
    else if ((d = getenv("HOME")) && *d) n = snprintf(buf, size, "%s/.cache/wasmaot", d);
    else return -1;
    return n > 0 && (size_t)n < size ? 0 : -1;
}

/// The launcher's tier choice: see wafp_tiered_lookup.
static int tiered_lookup(const run_options *o, const char *root, const char *module, char *artifact, size_t artifact_size,
                         char *key, size_t key_size, const char **tier_out) {
    static const wafp_tier tiers[] = {[TIER_AUTO] = WAFP_TIER_AUTO, [TIER_BASELINE] = WAFP_TIER_BASELINE,
                                      [TIER_OPTIMIZED] = WAFP_TIER_OPTIMIZED};
    return wafp_tiered_lookup(root, module, o->opt_level, tiers[o->tier], compiler_path, artifact, artifact_size, key,
                              key_size, tier_out);
}

/// `wasmaot cache artifact [--cache-dir D] [-O N] [--tier T] MODULE` (what wasmaot-oci calls at
/// every container create): answered by content when the cache already holds a verified artifact.
/// Returns only when the fast path does not apply.
static void fast_cache_artifact(int argc, char **argv) {
    run_options o = {.opt_level = 2};
    const char *module = NULL;
    for (int i = 3; i < argc;) {
        int missing = 0;
        const char *v, *a = argv[i];
        if ((v = option_value(argc, argv, &i, "--cache-dir", &missing))) { o.cache_dir = v; continue; }
        if (missing) return;
        int r = opt_level_option(argc, argv, &i, &o);
        if (r < 0) return;
        if (r > 0) continue;
        if ((r = tier_option(argc, argv, &i, &o)) < 0) return;
        if (r > 0) continue;
        if (a[0] == '-' || module) return; // --trust-image-artifacts, -v, --help, …: the compiler's
        module = a;
        i++;
    }
    char root[PATH_MAX], artifact[PATH_MAX], key[128];
    const char *tier;
    if (!module || cache_root(&o, root, sizeof root)) return;
    if (!tiered_lookup(&o, root, module, artifact, sizeof artifact, key, sizeof key, &tier)) return;
    wafp_touch_entry(artifact);
    printf("%s\n", artifact);
    exit(fflush(stdout) == 0 ? 0 : 1);
}

/// `wasmaot __background [--keep-fd 3] COMMAND ARGS...`: starts COMMAND detached — own session,
/// reparented to init (no zombie under a long-running caller), stdio on /dev/null, no inherited
/// descriptors (conmon's sync pipes, a caller's output pipe) except fd 3 with --keep-fd 3 (the
/// build's lock, taken by the scheduler), nice 19 and the idle I/O class — and returns once it is
/// forked off. The compiler uses it for background builds of the optimized tier.
static _Noreturn void background(int argc, char **argv) {
    int first = 2, keep = 0;
    if (argc >= 4 && !strcmp(argv[2], "--keep-fd") && !strcmp(argv[3], "3")) {
        keep = 1;
        first = 4;
    }
    if (argc <= first) exit(2);
    pid_t child = fork();
    if (child < 0) exit(1);
    if (child == 0) {
        setsid();
        pid_t grandchild = fork();
        if (grandchild != 0) _exit(grandchild < 0 ? 1 : 0);
        wafp_lower_priority();
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 1);
            dup2(null, 2);
        }
        closefrom(keep ? 4 : 3);
        execv(argv[first], argv + first);
        _exit(127);
    }
    int status;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
    exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
}

/// A miss of a `run` whose command line this launcher has fully understood: the compiler gets it
/// already parsed (`wasmaot-compiler __run`, see ColdRun.swift), which skips its argument parser
/// (a few ms of Swift reflection on every cold start). The same options in a fixed order:
///   __run CACHE_DIR|"" OPT_LEVEL auto|baseline|optimized JOBS|"" VERBOSE(0|1) WASMAOT_WASI MODULE ARGS...
static _Noreturn void cold_run(const run_options *o, const char *module, int nargs, char **args, char *argv0) {
    char level[4];
    snprintf(level, sizeof level, "%d", o->opt_level);
    static const char *tiers[] = {"auto", "baseline", "optimized"};
    char **argv = calloc((size_t)nargs + 10, sizeof *argv);
    if (!argv) {
        fprintf(stderr, "error: out of memory\n");
        exit(1);
    }
    int k = 0;
    argv[k++] = argv0;
    argv[k++] = "__run";
    argv[k++] = (char *)(o->cache_dir ? o->cache_dir : "");
    argv[k++] = level;
    argv[k++] = (char *)tiers[o->tier];
    argv[k++] = (char *)(o->jobs ? o->jobs : "");
    argv[k++] = o->verbose ? "1" : "0";
    argv[k++] = o->wasi.data ? o->wasi.data : "";
    argv[k++] = (char *)module;
    for (int j = 0; j < nargs; j++) argv[k++] = args[j];
    argv[k] = NULL;
    exec_compiler(argv);
}

/// Returns only when the fast path does not apply.
static void fast_run(int argc, char **argv) {
    run_options o = {.opt_level = 2};
    const char *log = getenv("WASMAOT_LOG");
    if (log) o.verbose = 1;
    int i = 2, r;
    while (i < argc && (r = leading_option(argc, argv, &i, &o)) != 0)
        if (r < 0) return;
    if (i >= argc) return;
    const char *module = argv[i++];
    while (i < argc) { // options right after the module, up to the first guest argument or `--`
        if (!strcmp(argv[i], "--")) { i++; break; }
        if ((r = wasi_option(argc, argv, &i, &o)) < 0) return;
        if (r == 0 && (r = tier_option(argc, argv, &i, &o)) < 0) return;
        if (r == 0) break;
    }
    if (o.inherit_env && add_word(&o.wasi, "--inherit-env")) return;
    if (o.bench_timing && text_add(&o.wasi, " --bench-timing", 15)) return;

    char root[PATH_MAX], artifact[PATH_MAX], key[128];
    const char *tier;
    if (cache_root(&o, root, sizeof root)) return;
    if (!tiered_lookup(&o, root, module, artifact, sizeof artifact, key, sizeof key, &tier))
        cold_run(&o, module, argc - i, argv + i, argv[0]);
    wafp_touch_entry(artifact);
    if (o.verbose) fprintf(stderr, "wasmaot: cache hit (fast path, %s tier): %.16s %s\n", tier, key, artifact);

    // argv: the module path as given, then the guest's arguments; env: ours + WASMAOT_WASI.
    char **args = calloc((size_t)(argc - i) + 2, sizeof *args);
    size_t nenv = 0;
    while (environ[nenv]) nenv++;
    char **env = calloc(nenv + 2, sizeof *env);
    text wasi_var = {0};
    if (!args || !env || text_add(&wasi_var, "WASMAOT_WASI=", 13) ||
        text_add(&wasi_var, o.wasi.data ? o.wasi.data : "", o.wasi.len))
        return;
    args[0] = (char *)module;
    for (int k = i; k < argc; k++) args[k - i + 1] = argv[k];
    size_t e = 0;
    for (size_t k = 0; k < nenv; k++)
        if (strncmp(environ[k], "WASMAOT_WASI=", 13) != 0) env[e++] = environ[k];
    env[e++] = wasi_var.data;
    execve(artifact, args, env);
    // The artifact vanished between the check and exec (gc, clear): let the compiler rebuild it.
}

int main(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "__background")) background(argc, argv);
    find_compiler();
    if (argc >= 2 && !strcmp(argv[1], "run")) fast_run(argc, argv);
    if (argc >= 3 && !strcmp(argv[1], "cache") && !strcmp(argv[2], "artifact")) fast_cache_artifact(argc, argv);
    exec_compiler(argv);
}
