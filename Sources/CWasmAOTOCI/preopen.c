// The top-level preopens of a guest whose working directory is not "/" (see wasmaot_oci.h, "the
// guest's working directory"). The rootfs is image content: its top level is listed with readdir,
// symlinks are resolved inside it (wao_rootfs_resolve), nothing is followed on the host.
#define _GNU_SOURCE
#include "wasmaot_oci.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/// Bounds on the work a hostile rootfs can cause: entries read from its top level, and symlinks
/// among them resolved (each up to 255 links).
#define MAX_ROOTFS_ENTRIES 4096
#define MAX_SYMLINKS 256

typedef struct {
    char **v;  // "/X", NULL-terminated
    size_t n, bytes;
} dirlist;

void wao_strings_free(char **v) {
    for (char **p = v; p && *p; p++) free(*p);
    free(v);
}

/// A name the runtime can preopen as "/NAME::/NAME": it splits HOST::GUEST at the first "::".
static int usable(const char *name, size_t len) {
    if (!len || len > NAME_MAX || (len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.')) return 0;
    if (name[len - 1] == ':' || memchr(name, '/', len) || memchr(name, 0, len)) return 0;
    for (size_t i = 0; i + 1 < len; i++)
        if (name[i] == ':' && name[i + 1] == ':') return 0;
    return 1;
}

/// Adds "/NAME" unless present, unusable or over the caps. -1 only when out of memory.
static int add(dirlist *d, const char *name, size_t len) {
    if (!usable(name, len) || d->n >= WAO_MAX_TOPLEVEL_PREOPENS || d->bytes + len > WAO_MAX_TOPLEVEL_BYTES) return 0;
    for (size_t i = 0; i < d->n; i++)
        if (strlen(d->v[i] + 1) == len && !memcmp(d->v[i] + 1, name, len)) return 0;
    char *s = malloc(len + 2);
    if (!s) return -1;
    s[0] = '/';
    memcpy(s + 1, name, len);
    s[len + 1] = 0;
    d->v[d->n++] = s;
    d->bytes += len;
    return 0;
}

/// The first component of `path` as a container path (lexically: "" and "." skipped, ".." clamped
/// at the root); its length in *len, *more when components follow it. NULL for the root itself.
static const char *first_component(const char *path, size_t *len, int *more) {
    const char *first = NULL;
    size_t flen = 0;
    int depth = 0;
    *more = 0;
    for (const char *c = path; *c;) {
        while (*c == '/') c++;
        size_t k = strcspn(c, "/");
        if (!k) break;
        if (k == 1 && c[0] == '.') {
        } else if (k == 2 && c[0] == '.' && c[1] == '.') {
            if (depth) depth--;
            if (!depth) first = NULL;
        } else {
            if (!depth) first = c, flen = k;
            depth++;
        }
        c += k;
    }
    *len = flen;
    *more = depth > 1;
    return first;
}

static int is_dir_at(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/// A mount's first component is a directory when something is mounted below it; a one-component
/// destination is one unless a bind mount of a non-directory (a file over /config.yaml).
static int add_mount(dirlist *d, const char *bundle, const char *dest, const char *source, int bind) {
    size_t len;
    int more;
    const char *name = dest ? first_component(dest, &len, &more) : NULL;
    if (!name) return 0;
    if (!more && bind) {
        if (!source) return 0;
        char host[PATH_MAX];
        int ok = source[0] == '/' || !bundle ? snprintf(host, sizeof host, "%s", source)
                                            : snprintf(host, sizeof host, "%s/%s", bundle, source);
        if (ok < 0 || (size_t)ok >= sizeof host || !is_dir_at(host)) return 0;
    }
    return add(d, name, len);
}

typedef struct {
    char *name;
    unsigned char type;
} entry;

static int by_name(const void *a, const void *b) { return strcmp(((const entry *)a)->name, ((const entry *)b)->name); }
static int by_string(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/// Directories of the rootfs top level, and symlinks to directories inside it, in name order.
static int add_rootfs(dirlist *d, const char *root) {
    int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return 0;  // no rootfs to read: only the other names
    DIR *dir = fdopendir(fd);
    if (!dir) {
        close(fd);
        return 0;
    }
    entry *es = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *de;
    while (n < MAX_ROOTFS_ENTRIES && (de = readdir(dir))) {
        if (!usable(de->d_name, strlen(de->d_name))) continue;
        unsigned char type = de->d_type;
        if (type == DT_UNKNOWN) {
            struct stat st;
            if (fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
            type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISLNK(st.st_mode) ? DT_LNK : DT_REG;
        }
        if (type != DT_DIR && type != DT_LNK) continue;
        if (n == cap) {
            entry *bigger = realloc(es, (cap = cap ? cap * 2 : 64) * sizeof *es);
            if (!bigger) {
                rc = -1;
                break;
            }
            es = bigger;
        }
        if (!(es[n].name = strdup(de->d_name))) {
            rc = -1;
            break;
        }
        es[n++].type = type;
    }
    if (n) qsort(es, n, sizeof *es, by_name);
    int links = 0;
    for (size_t i = 0; rc == 0 && i < n && d->n < WAO_MAX_TOPLEVEL_PREOPENS; i++) {
        if (es[i].type == DT_LNK) {
            // Kept only when it leads to a directory inside the rootfs: a dangling link or one to a
            // file would make the runtime's preopen fail and the container with it.
            char path[PATH_MAX], target[PATH_MAX], host[PATH_MAX * 2];
            struct stat st;
            if (++links > MAX_SYMLINKS) continue;
            snprintf(path, sizeof path, "/%s", es[i].name);
            if (wao_rootfs_resolve(path, root, target, sizeof target) != 0) continue;
            if ((size_t)snprintf(host, sizeof host, "%s%s", root, target) >= sizeof host) continue;
            if (lstat(host, &st) != 0 || !S_ISDIR(st.st_mode)) continue;
        }
        rc = add(d, es[i].name, strlen(es[i].name));
    }
    for (size_t i = 0; i < n; i++) free(es[i].name);
    free(es);
    closedir(dir);
    return rc;
}

char **wao_toplevel_dirs(const char *root, const char *bundle, const wao_config *c, const char *cwd, size_t *n) {
    dirlist d = {calloc(WAO_MAX_TOPLEVEL_PREOPENS + 1, sizeof(char *)), 0, 0};
    if (!d.v) return NULL;
    size_t len;
    int more, rc = 0;
    // First what must be there: the workdir's own top-level directory (runc creates a missing
    // cwd), then the mounts (/proc, /dev, volumes); then the image's directories.
    const char *name = cwd ? first_component(cwd, &len, &more) : NULL;
    if (name) rc = add(&d, name, len);
    for (size_t i = 0; rc == 0 && c && i < c->nmounts; i++)
        rc = add_mount(&d, bundle, c->mount_destinations[i], c->mount_sources[i], c->mount_bind[i]);
    if (rc == 0 && root) rc = add_rootfs(&d, root);
    if (rc) {
        wao_strings_free(d.v);
        return NULL;
    }
    qsort(d.v, d.n, sizeof *d.v, by_string);
    if (n) *n = d.n;
    return d.v;
}
