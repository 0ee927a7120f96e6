// The wrapper's whole flow (wao_main in wasmaot_oci.h).
#define _GNU_SOURCE
#include "wasmaot_oci.h"
#include "wasmaot_fastpath.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/openat2.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    wao_args args;
    wao_settings settings;
    int handler_mode;
    char **envp;
    char err[4096];
} wrapper;

__attribute__((format(printf, 2, 3))) static int fail(wrapper *w, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->err, sizeof w->err, fmt, ap);
    va_end(ap);
    return -1;
}

static int is_executable(const char *path) {
    struct stat st;
    return access(path, X_OK) == 0 && stat(path, &st) == 0 && !S_ISDIR(st.st_mode);
}

/// First executable `name` on PATH (the default list when PATH is unset).
static int which(const char *name, const char *path, char *out, size_t size) {
    if (!path) path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    for (const char *d = path;;) {
        size_t n = strcspn(d, ":");
        if (n && (size_t)snprintf(out, size, "%.*s/%s", (int)n, d, name) < size && is_executable(out)) return 0;
        if (!d[n]) return -1;
        d += n + 1;
    }
}

/// WASMAOT_OCI_DELEGATE / oci.toml `delegate`, else crun, else runc — never this wrapper itself
/// (installed as `runc`, or found on PATH via a symlink), which would exec itself forever.
static int find_delegate(wrapper *w, char *out, size_t size) {
    if (w->settings.delegate) {
        if (!is_executable(w->settings.delegate))
            return fail(w, "delegate runtime %s is not executable", w->settings.delegate);
        snprintf(out, size, "%s", w->settings.delegate);
        return 0;
    }
    char me[PATH_MAX], real[PATH_MAX];
    if (!realpath("/proc/self/exe", me)) me[0] = 0;
    static const char *const names[] = {"crun", "runc"};
    for (int i = 0; i < 2; i++)
        if (which(names[i], wao_env_get(w->envp, "PATH"), out, size) == 0 && !(realpath(out, real) && !strcmp(real, me)))
            return 0;
    return fail(w, "no delegate OCI runtime: set WASMAOT_OCI_DELEGATE or `delegate` in %s, or install crun or runc",
                WAO_DEFAULT_CONFIG_FILE);
}

/// The `wasmaot` command (its launcher): `wasmaot` setting, else beside this executable, else PATH.
static int find_compiler(wrapper *w, char *out, size_t size) {
    if (w->settings.compiler) {
        snprintf(out, size, "%s", w->settings.compiler);
        return 0;
    }
    char me[PATH_MAX];
    if (realpath("/proc/self/exe", me)) {
        char *slash = strrchr(me, '/');
        if (slash && (size_t)snprintf(out, size, "%.*s/wasmaot", (int)(slash - me), me) < size && is_executable(out))
            return 0;
    }
    if (which("wasmaot", wao_env_get(w->envp, "PATH"), out, size) == 0) return 0;
    return fail(w, "the wasmaot compiler was not found (set `wasmaot` in %s or WASMAOT_OCI_COMPILER)", WAO_DEFAULT_CONFIG_FILE);
}

/// Documents read from bundles and engines (config.json, process.json): larger ones are refused.
#define MAX_DOCUMENT (16u << 20)

static int read_file_max(wrapper *w, const char *path, size_t max, char **data, size_t *len) {
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) return fail(w, "cannot read %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return fail(w, "cannot read %s: not a regular file", path);
    }
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            close(fd);
            return fail(w, "cannot read %s: out of memory", path);
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            int e = errno;
            free(buf);
            close(fd);
            return fail(w, "cannot read %s: %s", path, strerror(e));
        }
        if (r == 0) break;
        n += (size_t)r;
        if (n > max) {
            free(buf);
            close(fd);
            return fail(w, "cannot read %s: larger than %zu bytes", path, max);
        }
        if (n == cap) {
            char *bigger = realloc(buf, cap *= 2);
            if (!bigger) free(buf);
            buf = bigger;
        }
    }
    close(fd);
    *data = buf;
    *len = n;
    return 0;
}

static int read_file(wrapper *w, const char *path, char **data, size_t *len) {
    return read_file_max(w, path, MAX_DOCUMENT, data, len);
}

/// Temp file in the same directory + rename: a runtime reading config.json sees the old or the
/// new file, never a torn one. The original file's mode is kept. No fsync (0.3-1 ms, the biggest
/// single cost of a warm create): rename already gives readers the atomicity they need, and a
/// bundle does not outlive a host crash — engines recreate bundles (and config.json) for every
/// container they start again.
static int write_atomically(wrapper *w, const char *data, size_t len, const char *path) {
    char tmp[PATH_MAX];
    const char *slash = strrchr(path, '/');
    int dn = slash ? (int)(slash - path) : 1;
    if ((size_t)snprintf(tmp, sizeof tmp, "%.*s/.%s.wasmaot-XXXXXX", dn, slash ? path : ".", slash ? slash + 1 : path) >= sizeof tmp)
        return fail(w, "path too long: %s", path);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) return fail(w, "cannot create a temporary file in %.*s: %s", dn, slash ? path : ".", strerror(errno));
    struct stat st;
    fchmod(fd, stat(path, &st) == 0 ? st.st_mode & 07777 : 0644);
    for (size_t off = 0; off < len;) {
        ssize_t n = write(fd, data + off, len - off);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            return fail(w, "cannot write %s: %s", tmp, strerror(e));
        }
        off += (size_t)n;
    }
    if (close(fd) != 0) {
        int e = errno;
        unlink(tmp);
        return fail(w, "cannot write %s: %s", tmp, strerror(e));
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return fail(w, "cannot replace %s: %s", path, strerror(e));
    }
    return 0;
}

static long long now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/// Runs the compiler to completion: stdin from /dev/null and fds >= 3 closed (the container's
/// stdin and conmon's pipes are not its business); stdout and stderr captured (malloc'ed). It
/// compiles untrusted input on the node, so it runs bounded: nice `compile_nice`, an address-space
/// limit of `compile_memory_mb`, and killed (the whole process group) after `compile_timeout` s.
static int run_compiler(wrapper *w, char **argv, int *status, char **out, char **errout) {
    int op[2], ep[2], xp[2];
    if (pipe2(op, O_CLOEXEC) || pipe2(ep, O_CLOEXEC) || pipe2(xp, O_CLOEXEC)) return fail(w, "pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0) return fail(w, "cannot start the compiler: %s", strerror(errno));
    if (pid == 0) {
        setpgid(0, 0);
        setpriority(PRIO_PROCESS, 0, w->settings.compile_nice);
        rlim_t bytes = (rlim_t)w->settings.compile_memory_mb << 20;
        struct rlimit as = {bytes, bytes};
        setrlimit(RLIMIT_AS, &as);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(op[1], 1) < 0 || dup2(ep[1], 2) < 0) _exit(127);
        int keep = xp[1];
        if (dup2(keep, 3) < 0) _exit(127);
        fcntl(3, F_SETFD, FD_CLOEXEC);  // closes on exec: the parent sees EOF on success
        syscall(SYS_close_range, 4, ~0U, 0);
        execve(argv[0], argv, w->envp);
        int e = errno;
        (void)!write(3, &e, sizeof e);
        _exit(127);
    }
    close(op[1]);
    close(ep[1]);
    close(xp[1]);
    int exec_errno = 0;
    ssize_t got = read(xp[0], &exec_errno, sizeof exec_errno);
    close(xp[0]);
    if (got == (ssize_t)sizeof exec_errno) {
        waitpid(pid, NULL, 0);
        close(op[0]);
        close(ep[0]);
        return fail(w, "cannot execute %s: %s", argv[0], strerror(exec_errno));
    }
    long long deadline = now_ms() + 1000LL * w->settings.compile_timeout;
    int timed_out = 0;
    // Drain both pipes together so a chatty stderr cannot block the child on a full pipe.
    size_t len[2] = {0, 0}, cap[2] = {4096, 4096};
    char *text[2] = {malloc(cap[0]), malloc(cap[1])};
    struct pollfd fds[2] = {{.fd = op[0], .events = POLLIN}, {.fd = ep[0], .events = POLLIN}};
    while ((fds[0].fd >= 0 || fds[1].fd >= 0) && text[0] && text[1]) {
        long long left = deadline - now_ms();
        if (left <= 0) {
            timed_out = 1;
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            break;
        }
        int ready = poll(fds, 2, (int)(left > 1000000 ? 1000000 : left));
        if (ready < 0) {
            if (errno == EINTR) continue;
            break;
        }
        for (int k = 0; k < 2; k++) {
            if (fds[k].fd < 0 || !fds[k].revents) continue;
            if (len[k] + 4096 > cap[k]) {
                char *bigger = realloc(text[k], cap[k] *= 2);
                if (!bigger) break;
                text[k] = bigger;
            }
            ssize_t n = read(fds[k].fd, text[k] + len[k], cap[k] - len[k] - 1);
            if (n > 0) len[k] += (size_t)n;
            else if (n == 0 || errno != EINTR) {
                close(fds[k].fd);
                fds[k].fd = -1;
            }
        }
    }
    for (int k = 0; k < 2; k++)
        if (fds[k].fd >= 0) close(fds[k].fd);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    if (timed_out) {
        free(text[0]);
        free(text[1]);
        return fail(w, "compiling the Wasm entrypoint took longer than compile_timeout = %d s (%s): killed", w->settings.compile_timeout,
                    WAO_DEFAULT_CONFIG_FILE);
    }
    if (!text[0] || !text[1]) {
        free(text[0]);
        free(text[1]);
        return fail(w, "out of memory");
    }
    text[0][len[0]] = 0;
    text[1][len[1]] = 0;
    *out = text[0];
    *errout = text[1];
    return 0;
}

static char *trim(char *s) {
    while (*s == ' ' || *s == '\t' || *s == '\n') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n')) s[--n] = 0;
    return s;
}

/// The compiler identity the cache's fast-path records are keyed by: the `wasmaot-compiler` the
/// launcher `wasmaot` would exec ($WASMAOT_COMPILER, else beside the launcher's real path).
static int compiler_identity_path(wrapper *w, const char *launcher, char *out, size_t size) {
    const char *env = wao_env_get(w->envp, "WASMAOT_COMPILER");
    if (env && *env) return (size_t)snprintf(out, size, "%s", env) < size ? 0 : -1;
    char real[PATH_MAX];
    if (!realpath(launcher, real)) return -1;
    char *slash = strrchr(real, '/');
    if (!slash) return -1;
    return (size_t)snprintf(out, size, "%.*s/wasmaot-compiler", (int)(slash - real), real) < size ? 0 : -1;
}

/// `wasmaot cache artifact`: compiled for this CPU, content-addressed, reused when cached — looked
/// up in-process first (the same fast path as the launcher's), the compiler started only on a miss.
static int cache_artifact(wrapper *w, const char *module, int trust_image, char *out, size_t size) {
    char launcher[PATH_MAX], identity[PATH_MAX], key[128];
    if (find_compiler(w, launcher, sizeof launcher)) return -1;
    static const wafp_tier tiers[] = {[WAO_TIERING_AUTO] = WAFP_TIER_AUTO,
                                      [WAO_TIERING_OPTIMIZED_ONLY] = WAFP_TIER_OPTIMIZED,
                                      [WAO_TIERING_BASELINE_ONLY] = WAFP_TIER_BASELINE};
    if (compiler_identity_path(w, launcher, identity, sizeof identity) == 0 &&
        wafp_tiered_lookup(w->settings.cache_dir, module, 2, tiers[w->settings.tiering], identity, out, size, key,
                           sizeof key, NULL)) {
        wafp_touch_entry(out);
        return 0;
    }
    char jobs[16];
    char *argv[16];
    int k = 0;
    argv[k++] = launcher;
    argv[k++] = "cache";
    argv[k++] = "artifact";
    argv[k++] = (char *)module;
    argv[k++] = "--cache-dir";
    argv[k++] = w->settings.cache_dir;
    if (trust_image) argv[k++] = "--trust-image-artifacts";
    argv[k++] = "--tier";
    argv[k++] = (char *)wao_tier_flag(w->settings.tiering);
    if (w->settings.background_builds) {
        snprintf(jobs, sizeof jobs, "%d", w->settings.background_builds);
        argv[k++] = "--background-jobs";
        argv[k++] = jobs;
    }
    argv[k] = NULL;
    int status;
    char *so, *se;
    if (run_compiler(w, argv, &status, &so, &se)) return -1;
    char *path = trim(so), *why = trim(se);
    int rc = 0;
    if (status != 0 || path[0] != '/' || strchr(path, '\n')) {
        char code[48];
        snprintf(code, sizeof code, "wasmaot exited with status %d", status);
        rc = fail(w, "cannot compile Wasm entrypoint %s: %s", module, *why ? why : code);
    } else if ((size_t)snprintf(out, size, "%s", path) >= size) {
        rc = fail(w, "artifact path too long: %s", path);
    }
    free(so);
    free(se);
    return rc;
}

static int artifact_for(wrapper *w, const char *module, const char *root, char *out, size_t size) {
    if (!w->settings.trust_image_artifacts) return cache_artifact(w, module, 0, out, size);
    if (cache_artifact(w, module, 1, out, size)) return -1;
    // A prebuilt artifact from the image is a path in the rootfs, found by the compiler with host
    // symlink semantics; an image could point it (app.wasm.wasmaot -> /usr/bin) at a host file.
    // Use it only if the host path is where the same path leads inside the container.
    size_t rn = strlen(root);
    if (strncmp(out, root, rn) || out[rn] != '/') return 0;
    char inside[PATH_MAX], real_root[PATH_MAX], real[PATH_MAX], expected[PATH_MAX * 2];
    if (wao_rootfs_resolve(out + rn, root, inside, sizeof inside) == 0 && realpath(root, real_root) &&
        realpath(out, real)) {
        snprintf(expected, sizeof expected, "%s%s", real_root, inside);
        if (!strcmp(expected, real)) return 0;
    }
    return cache_artifact(w, module, 0, out, size);
}

static const char *file_kind(mode_t m) {
    return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" : S_ISCHR(m) ? "a character device" : S_ISBLK(m) ? "a block device"
         : S_ISSOCK(m) ? "a socket" : S_ISLNK(m) ? "a symbolic link" : "not a regular file";
}

/// The entrypoint module is image content: opened inside the rootfs only (openat2 RESOLVE_IN_ROOT:
/// symlinks resolve against the rootfs, never the host; O_NONBLOCK: a FIFO cannot block us), it
/// must be a regular file of at most max_module_mb, and the host path the compiler will read must
/// be that same file. Anything else fails `create` (closed).
static int check_module(wrapper *w, const char *root, const char *entry, const char *host_path) {
    int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0) return fail(w, "cannot open the rootfs %s: %s", root, strerror(errno));
    struct open_how how = {.flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY,
                           .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
    int fd = (int)syscall(SYS_openat2, rootfd, entry[0] == '/' ? entry + 1 : entry, &how, sizeof how);
    if (fd < 0 && (errno == ENOSYS || errno == EPERM)) {
        // Kernels before 5.6: `entry` was resolved component by component inside the rootfs
        // (wao_rootfs_entrypoint); the final component must not be a symlink.
        fd = open(host_path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW);
    }
    int e = errno;
    close(rootfd);
    if (fd < 0) return fail(w, "cannot open the Wasm entrypoint %s inside the rootfs: %s", entry, strerror(e));
    struct stat st, host;
    int ok = fstat(fd, &st) == 0;
    close(fd);
    if (!ok) return fail(w, "cannot examine the Wasm entrypoint %s: %s", entry, strerror(errno));
    if (!S_ISREG(st.st_mode)) return fail(w, "the Wasm entrypoint %s is %s, not a regular file: refusing it", entry, file_kind(st.st_mode));
    if (st.st_size > (off_t)(w->settings.max_module_mb << 20))
        return fail(w, "the Wasm entrypoint %s is %lld bytes, more than max_module_mb = %lld (%s): refusing it", entry,
                    (long long)st.st_size, w->settings.max_module_mb, WAO_DEFAULT_CONFIG_FILE);
    if (lstat(host_path, &host) != 0 || host.st_dev != st.st_dev || host.st_ino != st.st_ino)
        return fail(w, "the Wasm entrypoint %s is not the same file at its host path %s (a symlink out of the rootfs?): refusing it",
                    entry, host_path);
    return 0;
}

typedef struct {
    const char *root, *entry;
} probe_ctx;

static int probe_magic(void *ctx) {
    probe_ctx *p = ctx;
    if (!p->entry) return 0;
    char host[PATH_MAX * 2];
    snprintf(host, sizeof host, "%s%s", p->root, p->entry);
    return wao_has_wasm_magic(host);
}

/// Rewrites <bundle>/config.json when the container is Wasm; leaves it untouched otherwise.
static int prepare_bundle(wrapper *w) {
    char cwd[PATH_MAX], config_path[PATH_MAX], root[PATH_MAX], entry[PATH_MAX], artifact[PATH_MAX], module[PATH_MAX * 2];
    const char *bundle = w->args.bundle;
    if (!bundle) bundle = getcwd(cwd, sizeof cwd) ? cwd : ".";
    if ((size_t)snprintf(config_path, sizeof config_path, "%s/config.json", bundle) >= sizeof config_path)
        return fail(w, "bundle path too long: %s", bundle);
    char *bytes;
    size_t len;
    if (read_file(w, config_path, &bytes, &len)) return -1;
    char why[512];
    wao_config *c = wao_config_parse(bytes, len, why, sizeof why);
    free(bytes);
    if (!c) return fail(w, "cannot parse %s: %s", config_path, why);
    int rc = 0;
    if (wao_config_annotation(c, WAO_MARKER_ANNOTATION)) goto done;  // already rewritten
    const char *rp = c->root_path;
    if ((size_t)snprintf(root, sizeof root, "%s%s%s", rp[0] == '/' ? "" : bundle, rp[0] == '/' ? "" : "/", rp) >= sizeof root) {
        rc = fail(w, "root path too long: %s", rp);
        goto done;
    }
    int found = c->nargs && wao_rootfs_entrypoint(c->args[0], c->cwd, c->env, c->nenv, root, entry, sizeof entry) == 0;
    probe_ctx ctx = {root, found ? entry : NULL};
    if (!wao_is_wasm(c->annotation_keys, c->annotation_values, c->nannotations, w->handler_mode, probe_magic, &ctx))
        goto done;
    if (!found) {
        if (c->nargs) rc = fail(w, "Wasm container: entrypoint \"%s\" not found in %s", c->args[0], root);
        else rc = fail(w, "Wasm container: entrypoint (process.args is empty) not found in %s", root);
        goto done;
    }
    snprintf(module, sizeof module, "%s%s", root, entry);
    if ((rc = check_module(w, root, entry, module))) goto done;
    if ((rc = artifact_for(w, module, root, artifact, sizeof artifact))) goto done;
    // A workdir other than "/" needs the rootfs's top-level directories as preopens.
    size_t n, ndirs = 0;
    char **dirs = NULL;
    if (!wao_cwd_is_root(c->cwd) && !(dirs = wao_toplevel_dirs(root, bundle, c, c->cwd, &ndirs))) {
        rc = fail(w, "out of memory");
        goto done;
    }
    char *out = wao_config_rewrite(c, entry, artifact, (const char *const *)dirs, ndirs, &n);
    wao_strings_free(dirs);
    if (!out) {
        rc = fail(w, "cannot write %s: the document could not be generated", config_path);
        goto done;
    }
    rc = write_atomically(w, out, n, config_path);
    free(out);
done:
    wao_config_free(c);
    return rc;
}

/// `DELEGATE [global flags] TAIL…` (TAIL: 1 or 2 words, e.g. `state ID`, `features`): its stdout
/// (at most `max` bytes, malloc'ed), or -1 when it cannot run, fails, says too much or takes longer
/// than 10 s. stdin and stderr are /dev/null and no other fd is inherited (conmon's pipes are not
/// its business).
static int delegate_output(wrapper *w, const char *delegate, const char *word1, const char *word2, size_t max, char **out,
                           size_t *len) {
    char **argv = calloc((size_t)w->args.command_index + 4, sizeof *argv);
    if (!argv) return -1;
    int k = 0;
    argv[k++] = (char *)delegate;
    for (int i = 0; i < w->args.command_index; i++) argv[k++] = w->args.delegate_argv[i];
    argv[k++] = (char *)word1;
    if (word2) argv[k++] = (char *)word2;
    int op[2];
    if (pipe2(op, O_CLOEXEC)) {
        free(argv);
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDWR);
        if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(op[1], 1) < 0 || dup2(devnull, 2) < 0) _exit(127);
        syscall(SYS_close_range, 3, ~0U, 0);
        execve(delegate, argv, w->envp);
        _exit(127);
    }
    free(argv);
    close(op[1]);
    if (pid < 0) {
        close(op[0]);
        return -1;
    }
    long long deadline = now_ms() + 10000;
    size_t n = 0, cap = 16384;
    char *buf = malloc(cap + 1);
    int ok = buf != NULL;
    struct pollfd pfd = {.fd = op[0], .events = POLLIN};
    while (ok) {
        long long left = deadline - now_ms();
        if (left <= 0) {
            ok = 0;
            break;
        }
        int ready = poll(&pfd, 1, (int)left);
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) {
            ok = 0;
            break;
        }
        if (n == cap) {
            char *bigger = cap < max ? realloc(buf, (cap *= 2) + 1) : NULL;
            if (!bigger) {
                ok = 0;
                break;
            }
            buf = bigger;
        }
        ssize_t r = read(op[0], buf + n, cap - n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        n += (size_t)r;
    }
    close(op[0]);
    if (!ok) kill(pid, SIGKILL);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    if (!ok || !WIFEXITED(st) || WEXITSTATUS(st) != 0 || n > max) {
        free(buf);
        return -1;
    }
    buf[n] = 0;
    *out = buf;
    *len = n;
    return 0;
}

/// `exec` in a container: when it runs the container's Wasm entrypoint, give the process the
/// container's WASI view (wao_exec_prepare) — a rewritten --process file, or an added
/// `--env WASMAOT_WASI=…` before the container ID in `dargv` (which has room for two more words).
/// Anything else passes through: not Wasm, not a container this wrapper rewrote, a container the
/// delegate does not know (it reports that itself). Only `exec` pays for this (one `state` call).
static int prepare_exec(wrapper *w, const char *delegate, char **dargv, int *dargc) {
    if (!w->args.container_id || w->args.id_index < 0 || w->args.exec_flags_end < 0) return 0;
    char *state = NULL, *bundle = NULL, *bytes = NULL, *process = NULL;
    size_t len = 0, plen = 0;
    wao_config *c = NULL;
    wao_exec_rewrite r = {0};
    int rc = 0;
    char config_path[PATH_MAX], why[512];
    if (delegate_output(w, delegate, "state", w->args.container_id, 4u << 20, &state, &len)) goto done;
    bundle = wao_state_bundle(state, len);
    if (!bundle || bundle[0] != '/') goto done;
    if ((size_t)snprintf(config_path, sizeof config_path, "%s/config.json", bundle) >= sizeof config_path) goto done;
    // A bundle that cannot be read (gone, oversized) is no Wasm container we know of: pass through.
    if (read_file(w, config_path, &bytes, &len)) goto done;
    if (!(c = wao_config_parse(bytes, len, why, sizeof why)) || !wao_config_entrypoint(c)) goto done;
    if (w->args.process && (rc = read_file(w, w->args.process, &process, &plen))) goto done;
    if ((rc = wao_exec_prepare(&w->args, c, bundle, process, plen, &r, why, sizeof why))) {
        rc = fail(w, "exec in Wasm container %s: %s", w->args.container_id, why);
        goto done;
    }
    if (!r.wasm) goto done;
    if (r.process_json) {
        // In place of the engine's file (the same path, replaced atomically): the engine removes
        // that path when the exec is over, so nothing is left behind — a new file next to it would
        // outlive every kubelet exec probe.
        rc = write_atomically(w, r.process_json, r.process_len, w->args.process);
    } else {
        // Last among the --env flags: the delegate applies them in order, so it wins.
        int at = w->args.exec_flags_end + 1;  // dargv[0] is the delegate
        memmove(dargv + at + 2, dargv + at, (size_t)(*dargc - at + 1) * sizeof *dargv);
        dargv[at] = (char *)w->args.exec_env_flag;
        dargv[at + 1] = r.env_arg;
        r.env_arg = NULL;  // owned by dargv until exec
        *dargc += 2;
    }
done:
    wao_exec_rewrite_free(&r);
    wao_config_free(c);
    free(process);
    free(bytes);
    free(bundle);
    free(state);
    return rc;
}

/// `features` (OCI runtime spec, features.md): the delegate's document with wasmaot's own entries
/// in its `annotations`, as runc and crun add theirs; a minimal valid document when the delegate is
/// too old to have the command. Printed, exit 0.
static int features(wrapper *w, const char *delegate) {
    char *doc = NULL, *out = NULL;
    size_t len = 0, n = 0;
    int has = delegate_output(w, delegate, "features", NULL, 1u << 20, &doc, &len) == 0;
    out = wao_features_document(has ? doc : NULL, has ? len : 0, delegate, &n);
    free(doc);
    if (!out) return fail(w, "features: out of memory");
    int ok = fwrite(out, 1, n, stdout) == n && fflush(stdout) == 0;
    free(out);
    return ok ? 0 : fail(w, "features: cannot write the document: %s", strerror(errno));
}

int wao_main(int argc, char **argv, char **envp) {
    wrapper w = {.envp = envp};
    if (wao_args_parse(argc - 1, argv + 1, &w.args)) {
        wao_report("out of memory", NULL, NULL);
        return 1;
    }
    w.handler_mode = wao_is_handler_name(argc ? argv[0] : "") || (w.args.handler && !strcmp(w.args.handler, "wasm"));
    char delegate[PATH_MAX];
    const char *cmd = w.args.command ? w.args.command : "";
    // Room for the two words prepare_exec may add.
    char **dargv = calloc((size_t)w.args.delegate_argc + 4, sizeof *dargv);
    int dargc = w.args.delegate_argc + 1;
    if (dargv) memcpy(dargv + 1, w.args.delegate_argv, (size_t)w.args.delegate_argc * sizeof *dargv);
    if (!dargv) {
        fail(&w, "out of memory");
    } else if (!strcmp(cmd, "features") && wao_settings_load(&w.settings, w.args.config, envp, w.err, sizeof w.err) == 0 &&
               find_delegate(&w, delegate, sizeof delegate) == 0) {
        if (features(&w, delegate) == 0) {
            free(dargv);
            return 0;
        }
    } else if (wao_settings_load(&w.settings, w.args.config, envp, w.err, sizeof w.err) == 0 &&
               find_delegate(&w, delegate, sizeof delegate) == 0 &&
               ((strcmp(cmd, "create") && strcmp(cmd, "run")) || prepare_bundle(&w) == 0) &&
               (strcmp(cmd, "exec") || prepare_exec(&w, delegate, dargv, &dargc) == 0)) {
        // stdio and inherited fds (conmon's sync/start pipes 3 and 4) pass straight to the delegate.
        dargv[0] = delegate;
        execve(delegate, dargv, envp);
        fail(&w, "cannot execute %s: %s", delegate, strerror(errno));
    }
    wao_report(w.err, w.args.log, w.args.log_format);
    return 1;
}
