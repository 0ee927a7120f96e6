// The tier choice on a cache lookup, shared by the launcher (`wasmaot run`, `wasmaot cache
// artifact`) and wasmaot-oci (which answers a container's artifact in-process).
#define _GNU_SOURCE
#include "wasmaot_fastpath.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

/// A verified artifact of `module` for `options`, by its path's stamp record or by content —
/// only from a cache held to the trust rule (wafp_trusted: the root, its record and entry folders,
/// the entry and the artifact); anything else goes to the compiler, which refuses it and says why.
static int lookup(const char *root, const char *module, const char *options, const char *compiler_path,
                  char *artifact, size_t artifact_size, char *key, size_t key_size) {
    if (wafp_lookup(root, module, options, compiler_path, artifact, artifact_size, key, key_size) != 0 &&
        wafp_lookup_content(root, module, options, compiler_path, artifact, artifact_size, key, key_size) != 0)
        return 0;
    char fast[PATH_MAX], entries[PATH_MAX], entry[PATH_MAX];
    if ((size_t)snprintf(fast, sizeof fast, "%s/fast", root) >= sizeof fast ||
        (size_t)snprintf(entries, sizeof entries, "%s/entries", root) >= sizeof entries ||
        (size_t)snprintf(entry, sizeof entry, "%s", artifact) >= sizeof entry)
        return 0;
    char *slash = strrchr(entry, '/');
    if (!slash) return 0;
    *slash = 0;
    const char *chain[] = {root, fast, entries, entry, artifact};
    return wafp_trusted_chain(chain, sizeof chain / sizeof chain[0]) == 0;
}

int wafp_tiered_lookup(const char *cache_root, const char *module_path, int opt_level, wafp_tier tier,
                       const char *compiler_path, char *artifact, size_t artifact_size, char *key, size_t key_size,
                       const char **tier_out) {
    char options[64];
    if (tier != WAFP_TIER_BASELINE) {
        wafp_options(opt_level, options, sizeof options);
        if (lookup(cache_root, module_path, options, compiler_path, artifact, artifact_size, key, key_size)) {
            if (tier_out) *tier_out = "optimized";
            return 1;
        }
        if (tier == WAFP_TIER_OPTIMIZED) return 0;
    }
    wafp_options(-1, options, sizeof options);
    if (!lookup(cache_root, module_path, options, compiler_path, artifact, artifact_size, key, key_size)) return 0;
    if (tier == WAFP_TIER_AUTO && wafp_tierup_pending(cache_root, key, opt_level) != 1) return 0;
    if (tier_out) *tier_out = "baseline";
    return 1;
}

void wafp_touch_entry(const char *artifact_path) {
    char entry[PATH_MAX];
    if ((size_t)snprintf(entry, sizeof entry, "%s", artifact_path) >= sizeof entry) return;
    char *slash = strrchr(entry, '/');
    if (!slash) return;
    *slash = 0;
    utimes(entry, NULL);
}
