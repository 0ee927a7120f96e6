// The cache's trust rule, one definition for the compiler (ArtifactCache) and the launcher.
#include "wasmaot_fastpath.h"
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

/// The rule itself, on a stat result: NULL if trusted, else what is wrong (detail: mode or uid).
const char *wafp__untrusted(const struct stat *stp, char *detail, size_t size) {
    const struct stat st = *stp;
    uid_t me = geteuid();
    const char *problem = NULL;
    if (S_ISLNK(st.st_mode)) {
        problem = "is a symbolic link";
    } else if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
        problem = "is neither a directory nor a regular file";
    } else if (st.st_uid != me && st.st_uid != 0) {
        problem = "is owned by another user";
        if (detail) snprintf(detail, size, " (uid %u, not %u)", (unsigned)st.st_uid, (unsigned)me);
    } else if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        problem = (st.st_mode & S_IWOTH) ? "is writable by others" : "is writable by its group";
        if (detail) snprintf(detail, size, " (mode %04o; fix: chmod go-w)", (unsigned)(st.st_mode & 07777));
    }
    return problem;
}

int wafp_trusted(const char *path, int follow, char *why, size_t size) {
    struct stat st;
    if ((follow ? stat(path, &st) : lstat(path, &st)) != 0) return -1;
    char detail[96] = "";
    const char *problem = wafp__untrusted(&st, detail, sizeof detail);
    if (!problem) return 0;
    if (why && size) {
        snprintf(why, size, "%s %s%s: refusing it, another user could plant an artifact there that wasmaot would run",
                 path, problem, detail);
    }
    return 1;
}

int wafp_trusted_chain(const char *const *paths, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (wafp_trusted(paths[i], i == 0, NULL, 0) != 0) return -1;
    return 0;
}

int wafp_open_exclusive(const char *path, int mode) {
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0 && errno == EEXIST) {
        // A leftover of a process that had this pid (or anything planted): unlink never follows.
        unlink(path);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    }
    if (fd >= 0) fchmod(fd, (mode_t)mode); // exactly `mode`, whatever the umask
    return fd;
}
