// Settings: the environment first (tests, one-off overrides), then the TOML file
// (/etc/wasmaot/oci.toml; podman/containerd give the runtime a scrubbed environment, so the file
// is the normal way to configure a host), then defaults. Parsed with toml11 (Debian's
// libtoml11-dev, header-only): the file is TOML, tables and all, not a line format.
#include "wasmaot_oci.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <toml.hpp>

extern "C" {

void wao_settings_init(wao_settings *s) {
    std::memset(s, 0, sizeof *s);
    s->cache_dir = strdup(WAO_DEFAULT_CACHE_DIR);
    s->tiering = WAO_TIERING_AUTO;
    s->max_module_mb = 512;
    s->compile_timeout = 110;
    s->compile_memory_mb = 16384;
    s->compile_nice = 10;
}

void wao_settings_free(wao_settings *s) {
    std::free(s->delegate);
    std::free(s->cache_dir);
    std::free(s->compiler);
    std::memset(s, 0, sizeof *s);
}

const char *wao_tier_flag(wao_tiering t) {
    switch (t) {
    case WAO_TIERING_OPTIMIZED_ONLY: return "optimized";
    case WAO_TIERING_BASELINE_ONLY: return "baseline";
    default: return "auto";
    }
}

}  // extern "C"

namespace {

void set(char **field, const std::string &v) {
    std::free(*field);
    *field = strdup(v.c_str());
}

std::string one_line(std::string s) {
    // toml11's messages span several lines (a source excerpt): runc's log format wants one.
    for (auto &c : s)
        if (c == '\n') c = ' ';
    std::string out;
    for (char c : s)
        if (!(c == ' ' && !out.empty() && out.back() == ' ')) out += c;
    return out;
}

}  // namespace

extern "C" int wao_settings_apply_toml(wao_settings *s, const char *text, size_t len, const char *name, char *err,
                                       size_t err_size) {
    std::string first_error;
    auto fail = [&](const std::string &why) {
        if (first_error.empty()) first_error = why;
    };
    try {
        std::istringstream in(std::string(text, len));
        const auto doc = toml::parse(in, name);
        for (const auto &entry : doc.as_table()) {
            const std::string &key = entry.first;
            const toml::value &v = entry.second;
            auto want_string = [&](char **field) {
                if (v.is_string() && !v.as_string().str.empty()) set(field, v.as_string().str);
                else fail(std::string(name) + ": `" + key + "` must be a non-empty string");
            };
            if (key == "delegate") want_string(&s->delegate);
            else if (key == "cache_dir") want_string(&s->cache_dir);
            else if (key == "wasmaot") want_string(&s->compiler);
            else if (key == "trust_image_artifacts") {
                if (v.is_boolean()) s->trust_image_artifacts = v.as_boolean();
                else fail(std::string(name) + ": `trust_image_artifacts` must be true or false");
            } else if (key == "tiering") {
                std::string t = v.is_string() ? v.as_string().str : "";
                if (t == "auto") s->tiering = WAO_TIERING_AUTO;
                else if (t == "optimized-only") s->tiering = WAO_TIERING_OPTIMIZED_ONLY;
                else if (t == "baseline-only") s->tiering = WAO_TIERING_BASELINE_ONLY;
                else fail(std::string(name) + ": `tiering` must be \"auto\", \"optimized-only\" or \"baseline-only\"");
            } else if (key == "background_builds") {
                if (v.is_integer() && v.as_integer() >= 1 && v.as_integer() <= 1000000) s->background_builds = (int)v.as_integer();
                else fail(std::string(name) + ": `background_builds` must be a whole number >= 1");
            }
            else if (key == "max_module_mb" || key == "compile_timeout" || key == "compile_memory_mb" || key == "compile_nice") {
                long long lo = key == "compile_nice" ? 0 : 1, hi = key == "compile_nice" ? 19 : 1LL << 40;
                if (!v.is_integer() || v.as_integer() < lo || v.as_integer() > hi) {
                    fail(std::string(name) + ": `" + key + "` must be a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
                } else if (key == "max_module_mb") s->max_module_mb = v.as_integer();
                else if (key == "compile_timeout") s->compile_timeout = (int)std::min<long long>(v.as_integer(), 1 << 30);
                else if (key == "compile_memory_mb") s->compile_memory_mb = v.as_integer();
                else s->compile_nice = (int)v.as_integer();
            }
            // Unknown keys and [tables]: ignored, so newer files still load.
        }
    } catch (const std::exception &e) {
        fail(one_line(std::string("invalid settings file ") + e.what()));
    }
    if (first_error.empty()) return 0;
    std::snprintf(err, err_size, "%s", first_error.c_str());
    return -1;
}

extern "C" int wao_settings_load(wao_settings *s, const char *file, char *const *envp, char *err, size_t err_size) {
    wao_settings_init(s);
    if (!file || !*file) file = wao_env_get(envp, "WASMAOT_OCI_CONFIG");
    if (!file || !*file) file = WAO_DEFAULT_CONFIG_FILE;
    if (FILE *f = std::fopen(file, "re")) {
        std::string text;
        char buf[4096];
        size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
        int bad = std::ferror(f) ? (errno ? errno : EIO) : 0;
        std::fclose(f);
        if (bad) {
            std::snprintf(err, err_size, "cannot read the settings file %s: %s", file, std::strerror(bad));
            return -1;
        }
        if (wao_settings_apply_toml(s, text.data(), text.size(), file, err, err_size)) return -1;
    } else if (errno != ENOENT) {
        std::snprintf(err, err_size, "cannot read the settings file %s: %s", file, std::strerror(errno));
        return -1;
    }
    const char *v;
    if ((v = wao_env_get(envp, "WASMAOT_OCI_DELEGATE")) && *v) set(&s->delegate, v);
    if ((v = wao_env_get(envp, "WASMAOT_OCI_CACHE_DIR")) && *v) set(&s->cache_dir, v);
    if ((v = wao_env_get(envp, "WASMAOT_OCI_COMPILER")) && *v) set(&s->compiler, v);
    return 0;
}
