// Wasm detection and path lookup inside a container root (see wasmaot_oci.h).
#define _GNU_SOURCE
#include "wasmaot_oci.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define VARIANT_KEY "module.wasm.image/variant"   // compat | compat-smart
#define HANDLER_KEY "run.oci.handler"             // wasm | wasm-smart

/// The last value of `key` (a later duplicate wins, as in a JSON object read into a map).
static const char *lookup(const char *const *keys, const char *const *values, size_t n, const char *key) {
    const char *v = NULL;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(keys[i], key)) v = values[i];
    return v;
}

static int eq(const char *a, const char *b) { return a && !strcmp(a, b); }

int wao_is_wasm(const char *const *keys, const char *const *values, size_t n, int handler_mode,
                int (*probe)(void *ctx), void *ctx) {
    // Kubernetes copies pod annotations onto the pause container too: it must stay native.
    if (eq(lookup(keys, values, n, "io.kubernetes.cri.container-type"), "sandbox") ||
        eq(lookup(keys, values, n, "io.kubernetes.cri-o.ContainerType"), "sandbox"))
        return 0;
    const char *variant = lookup(keys, values, n, VARIANT_KEY), *handler = lookup(keys, values, n, HANDLER_KEY);
    if (eq(variant, "compat") || eq(handler, "wasm")) return 1;
    if (eq(variant, "compat-smart") || eq(handler, "wasm-smart") || handler_mode) return probe(ctx) != 0;
    return 0;
}

int wao_is_handler_name(const char *argv0) {
    const char *base = strrchr(argv0, '/');
    base = base ? base + 1 : argv0;
    size_t n = strlen(base);
    return n >= 5 && !strcmp(base + n - 5, "-wasm");
}

/// A growable string.
typedef struct {
    char *s;
    size_t len, cap;
} buf;

static int put(buf *b, const char *s, size_t n) {
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->len + n + 1) * 2 + 64;
        char *d = realloc(b->s, cap);
        if (!d) return -1;
        b->s = d;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
    return 0;
}

int wao_rootfs_resolve(const char *path, const char *root, char *out, size_t size) {
    buf resolved = {0}, pending = {0}, host = {0};
    int rc = -1, links = 0;
    if (put(&resolved, "", 0) || put(&pending, path, strlen(path))) goto done;
    size_t pos = 0;
    while (pos < pending.len) {
        while (pending.s[pos] == '/') pos++;
        if (pos >= pending.len) break;
        const char *c = pending.s + pos;
        size_t n = strcspn(c, "/");
        size_t rest = pos + n;
        pos = rest;
        if (n == 1 && c[0] == '.') continue;
        if (n == 2 && c[0] == '.' && c[1] == '.') {
            char *slash = strrchr(resolved.s, '/');
            if (slash) {
                *slash = 0;
                resolved.len = (size_t)(slash - resolved.s);
            }
            continue;
        }
        size_t before = resolved.len;
        if (put(&resolved, "/", 1) || put(&resolved, c, n)) goto done;
        host.len = 0;
        if (put(&host, root, strlen(root)) || put(&host, resolved.s, resolved.len)) goto done;
        struct stat st;
        if (lstat(host.s, &st) != 0 || !S_ISLNK(st.st_mode)) continue;
        if (++links > 255) goto done;
        char target[PATH_MAX + 1];
        ssize_t t = readlink(host.s, target, sizeof target - 1);
        if (t < 0) goto done;
        target[t] = 0;
        resolved.len = target[0] == '/' ? 0 : before;
        resolved.s[resolved.len] = 0;
        // The link's target, then whatever followed the link.
        buf next = {0};
        if (put(&next, target, (size_t)t) || put(&next, "/", 1) || put(&next, pending.s + rest, pending.len - rest)) {
            free(next.s);
            goto done;
        }
        free(pending.s);
        pending = next;
        pos = 0;
    }
    const char *r = resolved.len ? resolved.s : "/";
    rc = (size_t)snprintf(out, size, "%s", r) < size ? 0 : -1;
done:
    free(resolved.s);
    free(pending.s);
    free(host.s);
    return rc;
}

/// A regular file (PATH lookup), or with `any_file` anything but a directory: an explicit path
/// that names a FIFO or a device is found, and refused by the wrapper's check with its kind.
static int is_file(const char *root, const char *inside, int any_file) {
    char p[PATH_MAX];
    struct stat st;
    if ((size_t)snprintf(p, sizeof p, "%s%s", root, inside) >= sizeof p) return 0;
    if (lstat(p, &st) != 0) return 0;
    return any_file ? !S_ISDIR(st.st_mode) : S_ISREG(st.st_mode);
}

static int try_path(const char *p, const char *root, char *out, size_t size, int any_file) {
    return wao_rootfs_resolve(p, root, out, size) == 0 && is_file(root, out, any_file) ? 0 : -1;
}

int wao_rootfs_entrypoint(const char *arg0, const char *cwd, const char *const *env, size_t nenv, const char *root,
                          char *out, size_t size) {
    char p[PATH_MAX * 2];
    if (strchr(arg0, '/')) {
        if ((size_t)snprintf(p, sizeof p, "%s%s%s", arg0[0] == '/' ? "" : cwd, arg0[0] == '/' ? "" : "/", arg0) >= sizeof p)
            return -1;
        return try_path(p, root, out, size, 1);
    }
    // runc and crun look bare names up in the container's PATH the same way.
    const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    for (size_t i = 0; i < nenv; i++)
        if (!strncmp(env[i], "PATH=", 5)) path = env[i] + 5;
    for (const char *d = path;;) {
        size_t n = strcspn(d, ":");
        const char *dir = n ? d : ".";
        size_t dn = n ? n : 1;
        int ok = dir[0] == '/'
                     ? snprintf(p, sizeof p, "%.*s/%s", (int)dn, dir, arg0)
                     : snprintf(p, sizeof p, "%s/%.*s/%s", cwd, (int)dn, dir, arg0);
        if (ok > 0 && (size_t)ok < sizeof p && try_path(p, root, out, size, 0) == 0) return 0;
        if (!d[n]) break;
        d += n + 1;
    }
    return -1;
}

int wao_has_wasm_magic(const char *host_path) {
    int fd = open(host_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return 0;
    unsigned char b[4];
    ssize_t n = read(fd, b, 4);
    close(fd);
    return n == 4 && !memcmp(b, "\0asm", 4);
}
