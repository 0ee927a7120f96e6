// See wasmaot_fastpath.h for what the record is and why stamps are enough.
#define _GNU_SOURCE
#include "wasmaot_fastpath.h"
#include "internal.h"

#include <elf.h>
#include <errno.h>
#include <link.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <cpuid.h>
#elif defined(__aarch64__)
#include <sys/auxv.h>
#endif

#define RECORD_MAGIC "wasmaot-fastpath 2"
// File timestamps come from a coarse clock (one jiffy, up to 10 ms at HZ=100): a module modified
// less than this long before the compiler looked at it could be edited again within the same tick
// with no visible change, so such a module is not recorded.
#define RACY_WINDOW_NS 50000000LL

int wafp_stat(const char *path, wafp_stamp *out) {
    struct stat st;
    if (stat(path, &st) != 0) return -1;
    out->dev = (uint64_t)st.st_dev;
    out->ino = (uint64_t)st.st_ino;
    out->size = (uint64_t)st.st_size;
    out->mtime_sec = st.st_mtim.tv_sec;
    out->mtime_nsec = st.st_mtim.tv_nsec;
    out->ctime_sec = st.st_ctim.tv_sec;
    out->ctime_nsec = st.st_ctim.tv_nsec;
    return 0;
}

int wafp__stamp_equal(const wafp_stamp *a, const wafp_stamp *b) {
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size && a->mtime_sec == b->mtime_sec &&
           a->mtime_nsec == b->mtime_nsec && a->ctime_sec == b->ctime_sec && a->ctime_nsec == b->ctime_nsec;
}

static uint64_t mix(uint64_t h, uint64_t v) {
    for (int i = 0; i < 8; i++) {
        h ^= (v >> (i * 8)) & 0xff;
        h *= 0x100000001b3ULL;
    }
    return h;
}

uint64_t wafp_cpu_fingerprint(void) {
    // cpuid exits to the hypervisor in a VM (~6 µs each here): as few as possible, once.
    static uint64_t memo;
    if (memo) return memo;
    uint64_t h = 0xcbf29ce484222325ULL;
#if defined(__x86_64__)
    unsigned a, b, c, d, max, max_ext;
    // Vendor, family/model/stepping and feature words; not leaf 1's EBX (it holds the APIC id of
    // whichever core we happen to run on).
    __cpuid(0, max, b, c, d);
    h = mix(h, max); h = mix(h, b); h = mix(h, c); h = mix(h, d);
    if (max >= 1) { __cpuid(1, a, b, c, d); h = mix(h, a); h = mix(h, c); h = mix(h, d); }
    if (max >= 7) { __cpuid_count(7, 0, a, b, c, d); h = mix(h, b); h = mix(h, c); h = mix(h, d); }
    __cpuid(0x80000000, max_ext, b, c, d);
    if (max_ext >= 0x80000001) { __cpuid(0x80000001, a, b, c, d); h = mix(h, c); h = mix(h, d); }
#elif defined(__aarch64__)
    h = mix(h, getauxval(AT_HWCAP));
    h = mix(h, getauxval(AT_HWCAP2));
    char buf[64] = {0};
    int fd = open("/sys/devices/system/cpu/cpu0/regs/identification/midr_el1", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n > 0) h = mix(h, strtoull(buf, NULL, 16));
    }
#endif
    memo = h ? h : 1;
    return memo;
}

struct build_id_search {
    char *hex;
    size_t size;
    int found;
};

/// dl_iterate_phdr visits the main program first; its PT_NOTE segments hold NT_GNU_BUILD_ID.
static int find_build_id(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    struct build_id_search *search = data;
    for (int i = 0; i < info->dlpi_phnum && !search->found; i++) {
        if (info->dlpi_phdr[i].p_type != PT_NOTE) continue;
        const char *note = (const char *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
        const char *end = note + info->dlpi_phdr[i].p_memsz;
        while (note + sizeof(ElfW(Nhdr)) <= end) {
            const ElfW(Nhdr) *h = (const ElfW(Nhdr) *)note;
            const char *name = note + sizeof *h, *desc = name + ((h->n_namesz + 3) & ~3u);
            if (h->n_type == NT_GNU_BUILD_ID && h->n_namesz == 4 && !memcmp(name, "GNU", 4) && 2 * h->n_descsz < search->size) {
                for (unsigned k = 0; k < h->n_descsz; k++) sprintf(search->hex + 2 * k, "%02x", (unsigned char)desc[k]);
                search->found = 1;
                break;
            }
            note = desc + ((h->n_descsz + 3) & ~3u);
        }
    }
    return 1; // only the main program
}

int wafp_build_id(char *hex, size_t size) {
    struct build_id_search search = {hex, size, 0};
    dl_iterate_phdr(find_build_id, &search);
    return search.found ? 0 : -1;
}

void wafp_options(int opt_level, char *buf, size_t size) {
    if (opt_level < 0) snprintf(buf, size, "baseline emit=exe");
    else snprintf(buf, size, "O%d emit=exe", opt_level);
}

int wafp_tierup_pending(const char *cache_root, const char *baseline_key, int opt_level) {
    char path[PATH_MAX];
    int n = snprintf(path, sizeof path, "%s/tierup/%s-O%d.failed", cache_root, baseline_key, opt_level);
    if (n < 0 || (size_t)n >= sizeof path) return -1;
    if (access(path, F_OK) == 0) return 1;
    snprintf(path, sizeof path, "%s/tierup/%s-O%d.lock", cache_root, baseline_key, opt_level);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    // Held by a running (or queued) build: our try-lock fails. Free: nobody is building.
    int held = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    close(fd);
    return held;
}

void wafp_lower_priority(void) {
    // SCHED_IDLE: only what no normal task wants (threads created later inherit it); nice 19
    // where that policy is refused.
    struct sched_param param = {0};
    if (sched_setscheduler(0, SCHED_IDLE, &param) != 0) setpriority(PRIO_PROCESS, 0, 19);
    else setpriority(PRIO_PROCESS, 0, 19);
    // With autogroups (CONFIG_SCHED_AUTOGROUP, sched_autogroup_enabled=1) a process in a session
    // of its own (the background build calls setsid) is a scheduling group of its own, and the
    // group competes at the group's nice value whatever its tasks' policy: lower that too. The
    // file is missing without autogroups; failing to write it only costs priority.
    int fd = open("/proc/self/autogroup", O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
        (void)!write(fd, "19", 2);
        close(fd);
    }
    // ioprio_set(IOPRIO_WHO_PROCESS, self, IOPRIO_CLASS_IDLE): no glibc wrapper.
    syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, (3 /* IOPRIO_CLASS_IDLE */ << 13) | 0);
}

uint64_t wafp__fnv_string(uint64_t h, const char *s) {
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    h *= 0x100000001b3ULL; // an extra round as field separator: ("ab","c") != ("a","bc")
    return h;
}

const char *wafp__runtime_dir_env(void) {
    const char *d = getenv("WASMAOT_RUNTIME_DIR");
    return d ? d : "";
}

/// The record's file name from already resolved paths.
int wafp__record_path_resolved(const char *cache_root, const char *module_real, const char *options,
                                const char *compiler_real, char *buf, size_t size) {
    uint64_t h = 0xcbf29ce484222325ULL;
    h = wafp__fnv_string(h, module_real);
    h = wafp__fnv_string(h, options);
    h = wafp__fnv_string(h, compiler_real);
    h = wafp__fnv_string(h, wafp__runtime_dir_env());
    int n = snprintf(buf, size, "%s/fast/%016" PRIx64, cache_root, h);
    return n > 0 && (size_t)n < size ? 0 : -1;
}

int wafp_record_path(const char *cache_root, const char *module_path, const char *options,
                     const char *compiler_path, char *buf, size_t size) {
    char module_real[PATH_MAX], compiler_real[PATH_MAX];
    if (!realpath(module_path, module_real) || !realpath(compiler_path, compiler_real)) return -1;
    return wafp__record_path_resolved(cache_root, module_real, options, compiler_real, buf, size);
}

int wafp__append(char *buf, size_t size, size_t *len, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *len, size - *len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= size - *len) return -1;
    *len += (size_t)n;
    return 0;
}

int wafp__append_stamp(char *buf, size_t size, size_t *len, const char *tag, const char *path) {
    wafp_stamp s;
    // Paths are the rest of a line; one with a newline cannot be recorded.
    if (strchr(path, '\n') || wafp_stat(path, &s) != 0) return -1;
    return wafp__append(buf, size, len, "%s %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 " %s\n",
                  tag, s.dev, s.ino, s.size, s.mtime_sec, s.mtime_nsec, s.ctime_sec, s.ctime_nsec, path);
}

int64_t wafp_now_ns(void) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
}

int wafp_settled(const wafp_stamp *stamp, int64_t at_ns) {
    int64_t changed = stamp->ctime_sec * 1000000000LL + stamp->ctime_nsec;
    int64_t modified = stamp->mtime_sec * 1000000000LL + stamp->mtime_nsec;
    if (modified > changed) changed = modified;
    return at_ns - changed >= RACY_WINDOW_NS;
}

int wafp_write(const char *cache_root, const char *module_path, const wafp_stamp *module_before,
               int64_t checked_at_ns, const char *options, const char *compiler_path,
               const char *const *deps, size_t ndeps, const char *artifact_path, const char *key_hex) {
    char module_real[PATH_MAX], compiler_real[PATH_MAX], artifact_real[PATH_MAX], record[PATH_MAX];
    if (!realpath(module_path, module_real) || !realpath(compiler_path, compiler_real) ||
        !realpath(artifact_path, artifact_real))
        return -1;
    wafp_stamp now_stamp;
    if (wafp_stat(module_real, &now_stamp) != 0 || !wafp__stamp_equal(&now_stamp, module_before)) return 1;
    if (!wafp_settled(module_before, checked_at_ns)) return 1;
    if (wafp__record_path_resolved(cache_root, module_real, options, compiler_real, record, sizeof record) != 0) return -1;

    char *buf = malloc(RECORD_MAX);
    if (!buf) return -1;
    size_t len = 0;
    int bad = wafp__append(buf, RECORD_MAX, &len, "%s\ncompiler %s\nruntime-dir %s\noptions %s\ncpu %016" PRIx64 "\n",
                     RECORD_MAGIC, compiler_real, wafp__runtime_dir_env(), options, wafp_cpu_fingerprint());
    bad = bad || wafp__append(buf, RECORD_MAX, &len, "module %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 " %s\n",
                        module_before->dev, module_before->ino, module_before->size, module_before->mtime_sec,
                        module_before->mtime_nsec, module_before->ctime_sec, module_before->ctime_nsec, module_real);
    for (size_t i = 0; i < ndeps && !bad; i++) bad = wafp__append_stamp(buf, RECORD_MAX, &len, "dep", deps[i]);
    bad = bad || wafp__append_stamp(buf, RECORD_MAX, &len, "artifact", artifact_real);
    bad = bad || wafp__append(buf, RECORD_MAX, &len, "key %s\nend\n", key_hex);
    if (bad || strchr(compiler_real, '\n') || strchr(module_real, '\n') || strchr(options, '\n')) {
        free(buf);
        return -1;
    }

    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/fast", cache_root);
    if (mkdir(dir, 0755) == 0) chmod(dir, 0755);
    int result = wafp__write_atomically(record, buf, len);
    free(buf);
    return result;
}

int wafp__write_atomically(const char *path, const char *data, size_t len) {
    char tmp[PATH_MAX + 64];
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
    int fd = wafp_open_exclusive(tmp, 0644);
    if (fd < 0) return -1;
    // No fsync: a record torn by a crash fails to parse and only costs one slow start.
    int ok = write(fd, data, len) == (ssize_t)len;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

long wafp__read_small(const char *path, char *buf, size_t size) {
    // Records are held to the cache's trust rule: never through a symlink, ours, not group- or
    // world-writable.
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return -1;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || wafp__untrusted(&st, NULL, 0)) {
        close(fd);
        return -1;
    }
    size_t len = 0;
    ssize_t n;
    while (len < size - 1 && (n = read(fd, buf + len, size - 1 - len)) > 0) len += (size_t)n;
    close(fd);
    if (len == 0 || len >= size - 1) return -1;
    buf[len] = 0;
    return (long)len;
}

/// Next line of the record (NUL-terminated in place), or NULL at the end.
char *wafp__next_line(char **cursor) {
    char *line = *cursor;
    if (!line || !*line) return NULL;
    char *nl = strchr(line, '\n');
    if (!nl) return NULL; // a record always ends with "end\n": a torn one is rejected
    *nl = 0;
    *cursor = nl + 1;
    return line;
}

/// "TAG <7 numbers> PATH" → stamp and path; checks the tag.
int wafp__parse_stamp_line(char *line, const char *tag, wafp_stamp *s, char **path) {
    size_t tl = strlen(tag);
    if (strncmp(line, tag, tl) != 0 || line[tl] != ' ') return -1;
    int consumed = 0;
    if (sscanf(line + tl, " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNd64 " %" SCNd64 " %" SCNd64 " %" SCNd64 " %n",
               &s->dev, &s->ino, &s->size, &s->mtime_sec, &s->mtime_nsec, &s->ctime_sec, &s->ctime_nsec, &consumed) != 7 ||
        consumed == 0)
        return -1;
    *path = line + tl + consumed;
    return 0;
}

int wafp__check_stamp_line(char *line, const char *tag, char **path) {
    wafp_stamp recorded, current;
    if (wafp__parse_stamp_line(line, tag, &recorded, path) != 0) return -1;
    if (wafp_stat(*path, &current) != 0 || !wafp__stamp_equal(&recorded, &current)) return -1;
    return 0;
}

int wafp__expect_field(char **cursor, const char *tag, const char *value) {
    char *line = wafp__next_line(cursor);
    size_t tl = strlen(tag);
    if (!line || strncmp(line, tag, tl) != 0 || line[tl] != ' ') return -1;
    return strcmp(line + tl + 1, value) == 0 ? 0 : -1;
}

int wafp_lookup(const char *cache_root, const char *module_path, const char *options,
                const char *compiler_path, char *artifact, size_t artifact_size, char *key, size_t key_size) {
    char record[PATH_MAX], compiler_real[PATH_MAX], module_real[PATH_MAX];
    if (!realpath(module_path, module_real) || !realpath(compiler_path, compiler_real)) return -1;
    if (wafp__record_path_resolved(cache_root, module_real, options, compiler_real, record, sizeof record) != 0) return -1;
    static char buf[RECORD_MAX];
    if (wafp__read_small(record, buf, sizeof buf) < 0) return -1;

    char *cursor = buf, *line, *path;
    char cpu[32];
    snprintf(cpu, sizeof cpu, "%016" PRIx64, wafp_cpu_fingerprint());
    if (!(line = wafp__next_line(&cursor)) || strcmp(line, RECORD_MAGIC) != 0) return -1;
    if (wafp__expect_field(&cursor, "compiler", compiler_real) || wafp__expect_field(&cursor, "runtime-dir", wafp__runtime_dir_env()) ||
        wafp__expect_field(&cursor, "options", options) || wafp__expect_field(&cursor, "cpu", cpu))
        return -1;
    if (!(line = wafp__next_line(&cursor)) || wafp__check_stamp_line(line, "module", &path) != 0 || strcmp(path, module_real) != 0)
        return -1;
    while ((line = wafp__next_line(&cursor)) && strncmp(line, "dep ", 4) == 0)
        if (wafp__check_stamp_line(line, "dep", &path) != 0) return -1;
    if (!line || wafp__check_stamp_line(line, "artifact", &path) != 0) return -1;
    if (strlen(path) >= artifact_size) return -1;
    strcpy(artifact, path);
    if (!(line = wafp__next_line(&cursor)) || strncmp(line, "key ", 4) != 0 || strlen(line + 4) >= key_size) return -1;
    strcpy(key, line + 4);
    if (!(line = wafp__next_line(&cursor)) || strcmp(line, "end") != 0) return -1;
    return 0;
}
