// The `wasmaot run` fast path: a record that lets the launcher start a cached artifact without
// loading the compiler (Swift runtime, Foundation, libLLVM: ~25 ms) or hashing the module.
//
// The full compiler writes ROOT/fast/<name> after it has found or built a verified artifact. The
// record holds stat stamps (device, inode, size, mtime, ctime) of the module, of every input of the
// compiler identity (compiler executable, libLLVM, runtime archive and its sources) and of the
// artifact, plus a CPU fingerprint. The launcher trusts the record only if every stamp still
// matches; anything else (edited module, rebuilt compiler, touched or replaced artifact, other CPU,
// unknown option) falls back to the compiler, which re-verifies digests and rewrites the record.
// Content changes always change ctime (the kernel sets it; utimensat cannot), which is what makes
// stamps a safe stand-in for hashing (the same reasoning as git's index and ccache's direct mode).
#ifndef WASMAOT_FASTPATH_H
#define WASMAOT_FASTPATH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wafp_stamp {
    uint64_t dev, ino, size;
    int64_t mtime_sec, mtime_nsec, ctime_sec, ctime_nsec;
} wafp_stamp;

/// stat(2) of `path` as a stamp; 0 on success, -1 (errno set) otherwise.
int wafp_stat(const char *path, wafp_stamp *out);

/// Identifies the CPU's model and feature set (x86: cpuid; aarch64: hwcaps + MIDR).
uint64_t wafp_cpu_fingerprint(void);

/// The running executable's GNU build-id (hex) — part of the compiler identity, so a rebuilt
/// compiler with an unchanged version string still gets fresh cache keys. 0, or -1 if absent.
int wafp_build_id(char *hex, size_t size);

/// The codegen options part of the cache key for `run` and `cache artifact`: "O<level> emit=exe"
/// for the optimized tier, "baseline emit=exe" for the baseline tier (opt_level < 0).
void wafp_options(int opt_level, char *buf, size_t size);

/// Tier-up state of a baseline entry (see Sources/wasmaot-compiler/Tiers.swift): the background
/// build of the optimized tier at `opt_level` for the module whose baseline key is `baseline_key`
/// holds ROOT/tierup/<baseline_key>-O<level>.lock while it runs (queued or compiling), and leaves
/// ROOT/tierup/<baseline_key>-O<level>.failed when it could not build the optimized tier.
/// Returns 1 if a build holds the lock or has failed for good (nothing to schedule), 0 if none is
/// known (the caller lets the compiler schedule one), -1 on error.
int wafp_tierup_pending(const char *cache_root, const char *baseline_key, int opt_level);

/// The cache key — the one definition, for the compiler's ArtifactCache and the launcher: hex
/// SHA-256 of "wasmaot-cache-v1", the module's hex SHA-256, the compiler identity, the target text
/// and the options text, NUL-separated. `key_hex` receives 64 digits and a NUL.
void wafp_cache_key(const char *module_digest, const char *identity, size_t identity_len, const char *target,
                    size_t target_len, const char *options, size_t options_len, char key_hex[65]);

/// The cache's trust rule (one definition for the compiler and the launcher): a cache directory or
/// file is used only if it is a directory or regular file owned by this user (effective uid) or
/// root and not writable by its group or others — otherwise another user could plant an artifact
/// that wasmaot then executes. `follow` = 0 refuses a symbolic link (entries, records); 1 follows
/// one (the cache root may be a symlink). Returns 0 if trusted; 1 if not, with the reason (path,
/// what is wrong, how to fix it) in `why` (may be NULL); -1 if it cannot be examined (errno).
int wafp_trusted(const char *path, int follow, char *why, size_t size);

/// wafp_trusted for every path (the first followed, the others not); 0 if all are trusted.
int wafp_trusted_chain(const char *const *paths, size_t n);

/// Creates `path` for writing with O_EXCL|O_NOFOLLOW (a stale file of that name is unlinked first,
/// never followed) and exactly `mode`, whatever the umask. Returns the fd, or -1 (errno).
int wafp_open_exclusive(const char *path, int mode);

/// Background builds: lower this process's CPU (nice 19) and I/O (idle class) priority.
void wafp_lower_priority(void);

/// The record file for (module, options, compiler, runtime dir) under `cache_root`.
/// Returns 0, or -1 if a path does not resolve or the result does not fit.
int wafp_record_path(const char *cache_root, const char *module_path, const char *options,
                     const char *compiler_path, char *buf, size_t size);

/// Writes the record (atomically: temp file + rename). `module_before` is the module's stamp taken
/// before the compiler read it, and `checked_at_ns` (CLOCK_REALTIME) the last moment its content was
/// known to be what was compiled. The record is skipped (returns 1) when the module changed since,
/// or had been modified so shortly before `checked_at_ns` that a further same-size edit within the
/// same timestamp tick would be invisible. `deps` are the identity inputs. Returns 0 when written,
/// 1 when skipped, -1 on error.
int wafp_write(const char *cache_root, const char *module_path, const wafp_stamp *module_before,
               int64_t checked_at_ns, const char *options, const char *compiler_path,
               const char *const *deps, size_t ndeps, const char *artifact_path, const char *key_hex);

/// Nanoseconds since the epoch (CLOCK_REALTIME, the clock file timestamps follow).
int64_t wafp_now_ns(void);

/// Whether `stamp` was last changed at least the racy window before `at_ns`.
int wafp_settled(const wafp_stamp *stamp, int64_t at_ns);

/// If a valid record exists, copies the artifact path and key into the buffers and returns 0;
/// otherwise returns -1 (the caller falls back to the compiler).
int wafp_lookup(const char *cache_root, const char *module_path, const char *options,
                const char *compiler_path, char *artifact, size_t artifact_size, char *key, size_t key_size);

/// The content-addressed path, for modules the stamp record does not know (another path or
/// inode with the same bytes: a container's rootfs copy of an image layer). The compiler records,
/// per (compiler, options), the identity and target text that go into cache keys, guarded by the
/// same identity-input stamps; and, in each entry it has verified, the artifact's stamp. A reader
/// then hashes the module (SHA-256, OpenSSL's libcrypto), derives the key exactly as
/// WasmAOTCache.CacheKey does, and uses the entry if its artifact still has the verified stamp.
int wafp_write_identity(const char *cache_root, const char *options, const char *compiler_path,
                        const char *const *deps, size_t ndeps, const char *identity, const char *target);

/// Records `artifact_path`'s current stamp as verified, in `<entry>/verified`.
int wafp_write_verified(const char *artifact_path);

/// Like wafp_lookup, by module content; 0 with the artifact path and key filled in, else -1.
int wafp_lookup_content(const char *cache_root, const char *module_path, const char *options,
                        const char *compiler_path, char *artifact, size_t artifact_size, char *key, size_t key_size);

typedef enum wafp_tier { WAFP_TIER_AUTO, WAFP_TIER_BASELINE, WAFP_TIER_OPTIMIZED } wafp_tier;

/// The artifact to start for a tier choice, if it can be decided without the compiler: the
/// optimized tier (at `opt_level`) when it is cached; with WAFP_TIER_AUTO otherwise the baseline
/// tier, but only while its optimized build is running (or has failed for good) — else the
/// compiler must schedule that build. Fills `artifact`/`key` and *tier_out ("optimized" or
/// "baseline"); 1 found, 0 not (ask the compiler).
int wafp_tiered_lookup(const char *cache_root, const char *module_path, int opt_level, wafp_tier tier,
                       const char *compiler_path, char *artifact, size_t artifact_size, char *key, size_t key_size,
                       const char **tier_out);

/// Same bookkeeping as a hit in the compiler: the entry folder's mtime is its last use (gc).
void wafp_touch_entry(const char *artifact_path);

#ifdef __cplusplus
}
#endif
#endif
