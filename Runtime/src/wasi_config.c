/*
 * wasi_config.c — builds a WASI context from the WASMAOT_WASI syntax:
 *     --dir HOST[::GUEST]   preopen HOST as GUEST (default: HOST); fds 3, 4, ... in order. HOST
 *                           is split from GUEST at the first "::"; GUEST may be anything, "."
 *                           included (wasi-libc resolves relative paths under the preopen named
 *                           "." or "/" registered last)
 *     --env K=V             guest environment variable
 *     --inherit-env         start from the process environment (minus WASMAOT_WASI)
 *     --bench-timing        make bench.end print the time since bench.start
 * Words are split shell-style: whitespace separates, '...' is literal, "..." allows \" \\ \$ \`,
 * and a backslash outside quotes escapes the next character. "--opt=value" also works.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

wasmaot_wasi *wasmaot_wasi_process;

static char *fmt_error(const char *fmt, ...) {
    char *s = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0) s = NULL;
    va_end(ap);
    return s;
}

/* Splits `s` into words; returns a NULL-terminated malloc'ed vector or NULL on bad quoting. */
static char **split_words(const char *s, int *count, char **error) {
    size_t cap = 8, n = 0, len = strlen(s);
    char **words = malloc(cap * sizeof *words);
    char *buf = malloc(len + 1);
    if (!words || !buf) goto oom;
    const char *p = s;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
        if (!*p) break;
        size_t bl = 0;
        while (*p && !(*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) {
            if (*p == '\'') {
                const char *q = strchr(p + 1, '\'');
                if (!q) { *error = fmt_error("WASMAOT_WASI: unterminated single quote"); goto fail; }
                memcpy(buf + bl, p + 1, (size_t)(q - p - 1));
                bl += (size_t)(q - p - 1);
                p = q + 1;
            } else if (*p == '"') {
                p++;
                while (*p && *p != '"') {
                    if (*p == '\\' && p[1] && strchr("\"\\$`", p[1])) p++;
                    buf[bl++] = *p++;
                }
                if (*p != '"') { *error = fmt_error("WASMAOT_WASI: unterminated double quote"); goto fail; }
                p++;
            } else if (*p == '\\' && p[1]) {
                buf[bl++] = p[1];
                p += 2;
            } else {
                buf[bl++] = *p++;
            }
        }
        if (n + 2 > cap) {
            cap *= 2;
            char **nw = realloc(words, cap * sizeof *words);
            if (!nw) goto oom;
            words = nw;
        }
        words[n] = strndup(buf, bl);
        if (!words[n]) goto oom;
        n++;
    }
    words[n] = NULL;
    free(buf);
    *count = (int)n;
    return words;
oom:
    *error = fmt_error("out of memory");
fail:
    free(buf);
    if (words) { for (size_t i = 0; i < n; i++) free(words[i]); free(words); }
    return NULL;
}

/* Sets KEY=VALUE in the guest environment, replacing an existing KEY. */
static int env_set(wasmaot_wasi *w, const char *kv) {
    const char *eq = strchr(kv, '=');
    size_t klen = eq ? (size_t)(eq - kv) : strlen(kv);
    for (uint32_t i = 0; i < w->envc; i++) {
        if (strncmp(w->env[i], kv, klen) == 0 && w->env[i][klen] == '=') {
            char *c = strdup(kv);
            if (!c) return -1;
            free(w->env[i]);
            w->env[i] = c;
            return 0;
        }
    }
    char **ne = realloc(w->env, (w->envc + 1) * sizeof *ne);
    if (!ne) return -1;
    w->env = ne;
    if (!(w->env[w->envc] = strdup(kv))) return -1;
    w->envc++;
    return 0;
}

static int add_preopen(wasmaot_wasi *w, const char *spec, char **error) {
    const char *sep = strstr(spec, "::");
    char *host = sep ? strndup(spec, (size_t)(sep - spec)) : strdup(spec);
    char *guest = strdup(sep ? sep + 2 : spec);
    if (!host || !guest) { free(host); free(guest); *error = fmt_error("out of memory"); return -1; }
    int fd = open(host, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    /* A directory this process may search but not read (Debian's 0700 /root under a non-root
     * user, among the top-level preopens wasmaot-oci adds for a container's working directory):
     * an O_PATH handle, so paths beneath it resolve exactly as far as the kernel lets this process
     * — what a native program gets — rather than the program failing to start. Listing it fails
     * with EACCES (opening "." through it needs read permission), as natively. */
    if (fd < 0 && errno == EACCES) fd = open(host, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        *error = fmt_error("WASMAOT_WASI: --dir %s: cannot open directory: %s", host, strerror(errno));
        free(host); free(guest);
        return -1;
    }
    free(host);
    if (wasi_fd_add(w, fd, WASI_FILETYPE_DIRECTORY, guest) < 0) {
        close(fd); free(guest);
        *error = fmt_error("out of memory");
        return -1;
    }
    return 0;
}

wasmaot_wasi *wasmaot_wasi_from_config(const char *config, int argc, char **argv, char **error) {
    *error = NULL;
    wasmaot_wasi *w = calloc(1, sizeof *w);
    if (!w) { *error = fmt_error("out of memory"); return NULL; }
    w->argc = argc > 0 ? (uint32_t)argc : 0;
    w->argv = argv;
    for (int fd = 0; fd < 3; fd++) { /* stdio: whatever the host has there */
        struct stat st;
        uint8_t ft = fstat(fd, &st) == 0 ? wasi_filetype_from_mode(st.st_mode, fd) : WASI_FILETYPE_UNKNOWN;
        if (wasi_fd_add(w, fd, ft, NULL) != fd) { *error = fmt_error("out of memory"); return NULL; }
        /* A terminal cannot seek: wasi-libc's isatty() looks for exactly this. */
        if (isatty(fd)) w->fds[fd].rights_base &= ~(WASI_RIGHT_FD_SEEK | WASI_RIGHT_FD_TELL);
    }

    int nw = 0;
    char **words = split_words(config ? config : "", &nw, error);
    if (!words) return NULL;

    /* Environment first (so --env overrides inherited values regardless of order), then dirs in
     * order so preopen numbering follows the command line. */
    int inherit = 0;
    for (int i = 0; i < nw; i++) if (strcmp(words[i], "--inherit-env") == 0) inherit = 1;
    if (inherit)
        for (char **e = environ; e && *e; e++)
            if (strncmp(*e, "WASMAOT_WASI=", 13) != 0 && env_set(w, *e) != 0) goto oom;

    for (int i = 0; i < nw; i++) {
        const char *a = words[i], *val = NULL;
        int is_dir = 0, is_env = 0;
        if (strcmp(a, "--dir") == 0 || strcmp(a, "--env") == 0) {
            is_dir = a[2] == 'd';
            is_env = !is_dir;
            if (i + 1 >= nw) { *error = fmt_error("WASMAOT_WASI: %s needs a value", a); return NULL; }
            val = words[++i];
        } else if (strncmp(a, "--dir=", 6) == 0) {
            is_dir = 1; val = a + 6;
        } else if (strncmp(a, "--env=", 6) == 0) {
            is_env = 1; val = a + 6;
        } else if (strcmp(a, "--inherit-env") == 0) {
            continue;
        } else if (strcmp(a, "--bench-timing") == 0) {
            w->bench_timing = 1;
            continue;
        } else {
            *error = fmt_error("WASMAOT_WASI: unknown option %s", a);
            return NULL;
        }
        if (is_dir && add_preopen(w, val, error) != 0) return NULL;
        if (is_env) {
            const char *why = wasmaot_env_entry_error(val);
            if (why) { *error = fmt_error("WASMAOT_WASI: --env %s: %s", val, why); return NULL; }
            if (env_set(w, val) != 0) goto oom;
        }
    }
    for (int i = 0; i < nw; i++) free(words[i]);
    free(words);
    return w;
oom:
    *error = fmt_error("out of memory");
    return NULL;
}

wasmaot_wasi *wasmaot_wasi_of(wasmaot_vmctx *vm) {
    wasmaot_host *h = vm->host;
    if (h && h->wasi) return h->wasi;
    if (!wasmaot_wasi_process) {
        /* An embedding that never configured WASI: stdio only, no args, no env. */
        char *err = NULL;
        wasmaot_wasi_process = wasmaot_wasi_from_config("", 0, NULL, &err);
        free(err);
    }
    return wasmaot_wasi_process;
}
