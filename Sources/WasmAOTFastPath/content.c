// Content-addressed fast path (see wasmaot_fastpath.h): the cache key computed without the
// compiler, from an identity record the compiler left behind.
#define _GNU_SOURCE
#define OPENSSL_SUPPRESS_DEPRECATED // SHA256_*: the plain digest, without the provider machinery
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define IDENTITY_MAGIC "wasmaot-identity 1"

/// fast/identity-<hash of compiler, runtime dir, options>
static int identity_path(const char *cache_root, const char *options, const char *compiler_real, char *buf, size_t size) {
    uint64_t h = 0xcbf29ce484222325ULL;
    h = wafp__fnv_string(h, options);
    h = wafp__fnv_string(h, compiler_real);
    h = wafp__fnv_string(h, wafp__runtime_dir_env());
    int n = snprintf(buf, size, "%s/fast/identity-%016" PRIx64, cache_root, h);
    return n > 0 && (size_t)n < size ? 0 : -1;
}

static void to_hex(const unsigned char *bytes, size_t n, char *out) {
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * n] = 0;
}

/// Hex text back to bytes in place; its length, or -1.
static long from_hex(char *text) {
    size_t n = strlen(text);
    if (n % 2) return -1;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(text + 2 * i, "%2x", &v) != 1) return -1;
        text[i] = (char)v;
    }
    return (long)(n / 2);
}

int wafp_write_identity(const char *cache_root, const char *options, const char *compiler_path,
                        const char *const *deps, size_t ndeps, const char *identity, const char *target) {
    char compiler_real[PATH_MAX], path[PATH_MAX];
    if (!realpath(compiler_path, compiler_real) || strchr(compiler_real, '\n') || strchr(options, '\n')) return -1;
    if (identity_path(cache_root, options, compiler_real, path, sizeof path)) return -1;
    char *buf = malloc(RECORD_MAX);
    char *hex = malloc(RECORD_MAX);
    if (!buf || !hex) { free(buf); free(hex); return -1; }
    size_t len = 0;
    int bad = wafp__append(buf, RECORD_MAX, &len, "%s\ncompiler %s\nruntime-dir %s\noptions %s\ncpu %016" PRIx64 "\n",
                           IDENTITY_MAGIC, compiler_real, wafp__runtime_dir_env(), options, wafp_cpu_fingerprint());
    // Identity and target are multi-line texts: hex keeps the record line-oriented.
    const char *texts[2][2] = {{"identity", identity}, {"target", target}};
    for (int i = 0; i < 2 && !bad; i++) {
        size_t n = strlen(texts[i][1]);
        if (2 * n + 1 > RECORD_MAX) { bad = 1; break; }
        to_hex((const unsigned char *)texts[i][1], n, hex);
        bad = wafp__append(buf, RECORD_MAX, &len, "%s %s\n", texts[i][0], hex);
    }
    for (size_t i = 0; i < ndeps && !bad; i++) bad = wafp__append_stamp(buf, RECORD_MAX, &len, "dep", deps[i]);
    bad = bad || wafp__append(buf, RECORD_MAX, &len, "end\n");
    int result = -1;
    if (!bad) {
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s/fast", cache_root);
        if (mkdir(dir, 0755) == 0) chmod(dir, 0755);
        result = wafp__write_atomically(path, buf, len);
    }
    free(buf);
    free(hex);
    return result;
}

int wafp_write_verified(const char *artifact_path) {
    char real[PATH_MAX], path[PATH_MAX + 16], buf[PATH_MAX + 256];
    if (!realpath(artifact_path, real)) return -1;
    size_t len = 0;
    if (wafp__append_stamp(buf, sizeof buf, &len, "artifact", real) || wafp__append(buf, sizeof buf, &len, "end\n")) return -1;
    char *slash = strrchr(real, '/');
    if (!slash) return -1;
    *slash = 0;
    snprintf(path, sizeof path, "%s/verified", real);
    return wafp__write_atomically(path, buf, len);
}

/// SHA-256 of a file's bytes, as hex.
static int sha256_file(const char *path, char hex[65]) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    SHA256_CTX ctx;
    SHA256_Init(&ctx);
    static unsigned char chunk[1 << 16];
    ssize_t n;
    while ((n = read(fd, chunk, sizeof chunk)) > 0) SHA256_Update(&ctx, chunk, (size_t)n);
    close(fd);
    if (n < 0) return -1;
    unsigned char digest[32];
    SHA256_Final(digest, &ctx);
    to_hex(digest, 32, hex);
    return 0;
}

void wafp_cache_key(const char *module_digest, const char *identity, size_t identity_len, const char *target,
                    size_t target_len, const char *options, size_t options_len, char key_hex[65]) {
    SHA256_CTX ctx;
    SHA256_Init(&ctx);
    SHA256_Update(&ctx, "wasmaot-cache-v1", 16);
    SHA256_Update(&ctx, "", 1);
    SHA256_Update(&ctx, module_digest, 64);
    SHA256_Update(&ctx, "", 1);
    SHA256_Update(&ctx, identity, identity_len);
    SHA256_Update(&ctx, "", 1);
    SHA256_Update(&ctx, target, target_len);
    SHA256_Update(&ctx, "", 1);
    SHA256_Update(&ctx, options, options_len);
    unsigned char digest[32];
    SHA256_Final(digest, &ctx);
    to_hex(digest, 32, key_hex);
}

int wafp_lookup_content(const char *cache_root, const char *module_path, const char *options,
                        const char *compiler_path, char *artifact, size_t artifact_size, char *key, size_t key_size) {
    char compiler_real[PATH_MAX], path[PATH_MAX];
    if (!realpath(compiler_path, compiler_real) || identity_path(cache_root, options, compiler_real, path, sizeof path))
        return -1;
    static char buf[RECORD_MAX];
    if (wafp__read_small(path, buf, sizeof buf) < 0) return -1;
    char *cursor = buf, *line, *dep;
    char cpu[32];
    snprintf(cpu, sizeof cpu, "%016" PRIx64, wafp_cpu_fingerprint());
    if (!(line = wafp__next_line(&cursor)) || strcmp(line, IDENTITY_MAGIC) != 0) return -1;
    if (wafp__expect_field(&cursor, "compiler", compiler_real) || wafp__expect_field(&cursor, "runtime-dir", wafp__runtime_dir_env()) ||
        wafp__expect_field(&cursor, "options", options) || wafp__expect_field(&cursor, "cpu", cpu))
        return -1;
    char *identity = wafp__next_line(&cursor), *target = wafp__next_line(&cursor);
    if (!identity || strncmp(identity, "identity ", 9) || !target || strncmp(target, "target ", 7)) return -1;
    identity += 9;
    target += 7;
    long identity_len = from_hex(identity), target_len = from_hex(target);
    if (identity_len < 0 || target_len < 0) return -1;
    while ((line = wafp__next_line(&cursor)) && strncmp(line, "dep ", 4) == 0)
        if (wafp__check_stamp_line(line, "dep", &dep) != 0) return -1;
    if (!line || strcmp(line, "end") != 0) return -1;

    char module_digest[65], key_hex[65];
    if (sha256_file(module_path, module_digest)) return -1;
    wafp_cache_key(module_digest, identity, (size_t)identity_len, target, (size_t)target_len, options, strlen(options), key_hex);

    // The entry counts only with an artifact the compiler has verified and nobody touched since.
    char verified[PATH_MAX], record[PATH_MAX + 256], *artifact_path;
    snprintf(verified, sizeof verified, "%s/entries/%s/verified", cache_root, key_hex);
    if (wafp__read_small(verified, record, sizeof record) < 0) return -1;
    cursor = record;
    if (!(line = wafp__next_line(&cursor)) || wafp__check_stamp_line(line, "artifact", &artifact_path) != 0) return -1;
    if (!(line = wafp__next_line(&cursor)) || strcmp(line, "end") != 0) return -1;
    char *slash = strrchr(artifact_path, '/');
    if (!slash || strcmp(slash + 1, "artifact") != 0 || strlen(artifact_path) >= artifact_size || key_size < 65) return -1;
    strcpy(artifact, artifact_path);
    strcpy(key, key_hex);
    return 0;
}
