// Failures reported the way runc does, so engines show them: containerd's shim reads the --log
// file (JSON lines) when `create` fails; podman/conmon show stderr.
#define _GNU_SOURCE
#include "wasmaot_oci.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/// A JSON string literal (also valid logrus text quoting for what we write).
static char *json_string(const char *s) {
    char *out = malloc(strlen(s) * 6 + 3), *o = out;
    if (!out) return NULL;
    *o++ = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': o += sprintf(o, "\\\""); break;
        case '\\': o += sprintf(o, "\\\\"); break;
        case '\n': o += sprintf(o, "\\n"); break;
        case '\t': o += sprintf(o, "\\t"); break;
        case '\r': o += sprintf(o, "\\r"); break;
        default:
            if (*p < 0x20) o += sprintf(o, "\\u%04x", *p);
            else *o++ = (char)*p;
        }
    }
    *o++ = '"';
    *o = 0;
    return out;
}

char *wao_log_line(const char *msg, const char *format, const char *time) {
    char *m = json_string(msg), *t = json_string(time), *out = NULL;
    if (m && t) {
        size_t n = strlen(m) + strlen(t) + 64;
        if ((out = malloc(n))) {
            if (format && !strcmp(format, "json")) snprintf(out, n, "{\"level\":\"error\",\"msg\":%s,\"time\":%s}\n", m, t);
            else snprintf(out, n, "time=%s level=error msg=%s\n", t, m);
        }
    }
    free(m);
    free(t);
    return out;
}

static void write_all(int fd, const char *s, size_t n) {
    while (n) {
        ssize_t w = write(fd, s, n);
        if (w <= 0) return;
        s += w;
        n -= (size_t)w;
    }
}

void wao_report(const char *msg, const char *log, const char *format) {
    size_t n = strlen(msg) + 16;
    char *text = malloc(n);
    if (!text) return;
    snprintf(text, n, "wasmaot-oci: %s", msg);
    write_all(2, text, strlen(text));
    write_all(2, "\n", 1);
    if (log) {
        int fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0) {
            char now[32];
            time_t t = time(NULL);
            struct tm tmv;
            gmtime_r(&t, &tmv);
            strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tmv);
            char *line = wao_log_line(text, format, now);
            if (line) write_all(fd, line, strlen(line));
            free(line);
            close(fd);
        }
    }
    free(text);
}
