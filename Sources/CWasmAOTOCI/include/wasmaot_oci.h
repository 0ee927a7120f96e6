// wasmaot-oci: the OCI runtime wrapper in front of runc/crun. A small static C program because
// engines call the runtime several times per container (create, start, state, kill, delete) and
// every call pays the wrapper's start-up; only `create`/`run` read config.json (yajl, what crun
// uses) — and `exec`, which asks the delegate for the container's bundle first —, and the artifact of a Wasm container comes from the cache's fast path in-process (the
// compiler is started only on a miss). Settings come from a TOML file (toml11, one C++ file).
//
// Everything here is also what the unit tests (Tests/WasmAOTOCITests) call.
#ifndef WASMAOT_OCI_H
#define WASMAOT_OCI_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

// ---- the runc/crun command line ------------------------------------------------------------

/// Parsed only as far as the wrapper needs: the global flags it reads (--log, --log-format,
/// --root), the command, the bundle/ID of create/run, and the ID, process file, --cwd/--env and
/// command of exec. Everything is kept as given in
/// `delegate_argv`, so a delegate sees exactly what podman/containerd passed — minus the wrapper's
/// own global flags `--handler wasm` and `--wasmaot-config FILE`, which runc would reject. The
/// strings point into the parsed argv.
typedef struct wao_args {
    char **delegate_argv;   // NULL-terminated, without a program name
    int delegate_argc;
    const char *command;    // NULL when the first non-flag word is not a runtime command
    const char *root, *log, *log_format;
    const char *handler;    // --handler VALUE ("wasm": handler mode)
    const char *config;     // --wasmaot-config FILE: settings file (podman: --runtime-flag)
    const char *bundle;     // create/run: --bundle/-b, NULL when absent (the runtime's cwd)
    const char *container_id;   // create/run/exec
    int command_index;      // index of `command` in delegate_argv (the global flags are before it)
    // exec: `exec [flags] ID CMD ARG...` or `exec [flags] --process FILE ID`
    int id_index;           // index of container_id in delegate_argv, -1 when there is none
    const char *process;    // --process/-p FILE
    const char *exec_cwd;   // --cwd DIR
    const char **exec_env;  // --env/-e K=V, in order (the array is malloc'ed; freed by wao_args_free)
    size_t nexec_env;
    const char *exec_env_flag;  // "-e" when the first --env/-e was written -e, else "--env" (runc
                                // refuses to see both forms of one flag)
    int exec_cmd_index;     // index of CMD in delegate_argv (positional form), -1 when there is none
    int exec_flags_end;     // index in delegate_argv where exec's flags end: the ID, or a "--" before it
} wao_args;

/// `argv` without the program name. 0, or -1 when out of memory.
int wao_args_parse(int argc, char *const *argv, wao_args *out);
void wao_args_free(wao_args *args);

// ---- settings: environment, then the TOML file, then defaults ------------------------------

#define WAO_DEFAULT_CONFIG_FILE "/etc/wasmaot/oci.toml"
#define WAO_DEFAULT_CACHE_DIR "/var/lib/wasmaot/cache"

typedef enum wao_tiering {
    WAO_TIERING_AUTO,            // "auto": a miss starts the baseline tier, optimized built in the background
    WAO_TIERING_OPTIMIZED_ONLY,  // "optimized-only": compile the optimized tier before the container starts
    WAO_TIERING_BASELINE_ONLY,   // "baseline-only": never build the optimized tier
} wao_tiering;

typedef struct wao_settings {
    char *delegate;              // `delegate` / WASMAOT_OCI_DELEGATE; NULL: crun, else runc on PATH
    char *cache_dir;             // `cache_dir` / WASMAOT_OCI_CACHE_DIR
    char *compiler;              // `wasmaot` / WASMAOT_OCI_COMPILER; NULL: beside this executable, else PATH
    int trust_image_artifacts;   // `trust_image_artifacts`: use MODULE.wasmaot/<arch> shipped in the image
    wao_tiering tiering;         // `tiering`
    int background_builds;       // `background_builds` (>= 1); 0: wasmaot's default
    // Bounds on what an image can make the node do (a module is untrusted input):
    long long max_module_mb;     // `max_module_mb`: larger entrypoint modules fail `create` (default 512)
    int compile_timeout;         // `compile_timeout` (s): a compile still running is killed (default 110, inside
                                 // the kubelet's 2-minute CRI deadline)
    long long compile_memory_mb; // `compile_memory_mb`: the compiler's address-space limit (default 16384)
    int compile_nice;            // `compile_nice`: the compiler's nice value, 0-19 (default 10)
} wao_settings;

void wao_settings_init(wao_settings *s);
void wao_settings_free(wao_settings *s);

/// Applies a TOML document (`name` is used in messages). Top-level keys only — keys inside
/// [tables] belong to those tables; unknown keys are ignored so newer files still load. A syntax
/// error, or a known key with a wrong type or value, returns -1 with the message in `err`; valid
/// keys are applied all the same.
int wao_settings_apply_toml(wao_settings *s, const char *text, size_t len, const char *name, char *err, size_t err_size);

/// The value of `name` in `envp` (the last one if repeated, as getenv sees a later entry), or NULL.
const char *wao_env_get(char *const *envp, const char *name);

/// Defaults, then the settings file (`file`, else $WASMAOT_OCI_CONFIG, else the default path; a
/// file that does not exist means defaults), then the WASMAOT_OCI_* variables of `envp`.
/// 0, or -1 with the message in `err`.
int wao_settings_load(wao_settings *s, const char *file, char *const *envp, char *err, size_t err_size);

/// `wasmaot cache artifact --tier …` for a tiering setting.
const char *wao_tier_flag(wao_tiering t);

// ---- which containers run as Wasm --------------------------------------------------------------

/// The annotations crun's Wasm handlers and the containerd/CRI-O Wasm shims use. A pod's sandbox
/// (pause) container is never Wasm, whatever annotations Kubernetes copied onto it. The `probe`
/// (does the entrypoint start with "\0asm"?) is only called when the answer depends on the file.
int wao_is_wasm(const char *const *keys, const char *const *values, size_t n, int handler_mode,
                int (*probe)(void *ctx), void *ctx);

/// Invoked as `…-wasm` (a symlink): handler mode, for engines that choose a runtime by name.
int wao_is_handler_name(const char *argv0);

// ---- paths inside a container root that is not yet the process's root ------------------------

/// The symlink-free absolute container path for `path`: every component is lstat'ed under `root`,
/// symlink targets are re-rooted there, ".." is clamped at the root (runc's securejoin). Missing
/// components are kept as given. 0, or -1 on a symlink loop or a path too long.
int wao_rootfs_resolve(const char *path, const char *root, char *out, size_t size);

/// Where the runtime will find the executable for args[0], as a container path: names with a "/"
/// relative to `cwd`; bare names searched in the config's PATH (the last PATH= of `env`).
/// 0 when a regular file is found, else -1.
int wao_rootfs_entrypoint(const char *arg0, const char *cwd, const char *const *env, size_t nenv, const char *root,
                          char *out, size_t size);

/// 1 when the file starts with the Wasm magic; O_NOFOLLOW: `host_path` is already resolved.
int wao_has_wasm_magic(const char *host_path);

// ---- config.json --------------------------------------------------------------------------------

/// The parsed document plus views of the parts the wrapper reads (strings point into the tree;
/// entries that are not strings are skipped). Every other field — including ones from spec
/// versions newer than this code — is written back unchanged, numbers as their original text.
typedef struct wao_config {
    void *tree;
    const char **annotation_keys, **annotation_values;
    size_t nannotations;
    const char **args;
    size_t nargs;
    const char **env;
    size_t nenv;
    const char *cwd;         // "/" when absent
    const char *root_path;   // root.path, "rootfs" when absent (relative to the bundle unless absolute)
    size_t nmounts;
    // mounts[i] (NULL for a field that is absent or not a string); `bind`: type "bind" or a
    // "bind"/"rbind" option.
    const char **mount_destinations, **mount_sources;
    unsigned char *mount_bind;
} wao_config;

/// Set on rewritten configs: a second `create` on the same bundle must not stack another mount or
/// wrap WASMAOT_WASI twice. Its value is the artifact (host path); `exec` reads it back.
#define WAO_MARKER_ANNOTATION "org.wasmaot.oci.artifact"
/// Also set on rewritten configs: the container path the artifact is mounted over (args[0]
/// resolved), so `exec` can tell whether it runs the module.
#define WAO_ENTRYPOINT_ANNOTATION "org.wasmaot.oci.entrypoint"

/// NULL on invalid JSON (message in `err`).
wao_config *wao_config_parse(const char *bytes, size_t len, char *err, size_t err_size);
void wao_config_free(wao_config *c);
const char *wao_config_annotation(const wao_config *c, const char *key);

/// The document as JSON (malloc'ed, newline-terminated), unchanged.
char *wao_config_serialize(const wao_config *c, size_t *len);

/// The rewritten document: the artifact (host path) bind-mounted read-only over `entrypoint` (the
/// container path of args[0]) as the last mount, so args — the guest's argv — stay exactly as
/// configured; WASMAOT_WASI set from process.env and process.cwd (wao_wasi_config_cwd, with the
/// top-level preopens `dirs`, which matter only when process.cwd is not "/"); the marker and
/// entrypoint annotations. malloc'ed, newline-terminated; NULL when out of memory.
char *wao_config_rewrite(const wao_config *c, const char *entrypoint, const char *artifact,
                         const char *const *dirs, size_t ndirs, size_t *len);

/// The container path a rewritten config mounted its artifact over: the entrypoint annotation, else
/// (configs rewritten before it existed) the destination of the last mount whose source is the
/// marker's artifact. NULL when the config was not rewritten. Points into `c`.
const char *wao_config_entrypoint(const wao_config *c);

/// "--dir /::/ --env 'K=V' …" for the runtime (entries starting WASMAOT_WASI= skipped). malloc'ed.
/// The same as wao_wasi_config_cwd with the working directory "/".
char *wao_wasi_config(const char *const *env, size_t n);
/// Single-quoted word for the runtime's WASMAOT_WASI splitter ('…' literal, ' as '\''). malloc'ed.
char *wao_shell_quote(const char *s);

// ---- the guest's working directory --------------------------------------------------------------
//
// WASI has no working directory; wasi-libc (and Rust's std on top of it) keeps its own, always "/"
// at start (nothing sets it), joins relative paths to it, strips the leading "/" and resolves the
// rest under the preopen with the longest matching name — where "/" and "." both count as the
// empty name, and between equal matches the one registered LAST wins. So for process.cwd = D
// other than "/", WASMAOT_WASI preopens
//     --dir /::/  --dir /X::/X (each top-level directory X)  --dir D::.  (last)
// relative paths then resolve in D (the empty name, last), absolute ones under their top-level
// directory (a longer name) — and PWD=D is added to the guest's environment unless the container
// sets PWD (Go's wasip1 port takes its working directory from PWD and joins paths itself).
// What this cannot get right (wasi-libc's model, not fixable from outside the guest):
//   - a relative path whose first component is a top-level name ("etc/x" in D) opens /etc/x;
//   - an absolute path to a top-level entry that is not a directory (/app.wasm, /config.json), or
//     under a top-level directory created after start or not preopened (over the cap below, a
//     symlink whose target is not a directory in the rootfs), opens inside D;
//   - opendir("/") lists D; ".." above D fails (the preopen is a sandbox boundary).
// For process.cwd "/" nothing changes: "--dir /::/" alone, exactly as before.

/// At most this many /X preopens (and at most WAO_MAX_TOPLEVEL_BYTES of names), so WASMAOT_WASI
/// stays well inside the kernel's 128 KiB limit on one environment string. Mount destinations
/// and the working directory's own top-level directory are kept first; then rootfs names in order.
#define WAO_MAX_TOPLEVEL_PREOPENS 64
#define WAO_MAX_TOPLEVEL_BYTES 4096

/// The top-level directories for the rule above, as "/X", sorted, unique, NULL-terminated
/// (malloc'ed; free with wao_strings_free): the first component of `cwd` (which runc creates if
/// missing), of each mount destination of `c` (for a one-component destination of a bind mount
/// only when its source — relative to `bundle` unless absolute — is a directory: a file mount is
/// not a preopen), and each entry of the rootfs top level (`root`, read with readdir, nothing
/// followed on the host) that is a directory, or a symlink whose target resolved inside the
/// rootfs (wao_rootfs_resolve) is one. Names the runtime's "HOST::GUEST" cannot carry (containing
/// "::" or ending in ':') are left out. NULL when out of memory.
char **wao_toplevel_dirs(const char *root, const char *bundle, const wao_config *c, const char *cwd, size_t *n);
void wao_strings_free(char **v);

/// 1 when `cwd` is "/" once "." components and repeated slashes are removed and ".." applied.
int wao_cwd_is_root(const char *cwd);

/// WASMAOT_WASI for a guest with environment `env` (WASMAOT_WASI= entries skipped) and working
/// directory `cwd`: "--dir /::/ --env …" when `cwd` is "/" (after removing "." components and
/// repeated slashes; `dirs` unused), else the preopens above and PWD. malloc'ed.
char *wao_wasi_config_cwd(const char *const *env, size_t n, const char *cwd, const char *const *dirs, size_t ndirs);

// ---- exec in a Wasm container -------------------------------------------------------------------

/// A process.json (`exec --process`): the same views as wao_config_parse, read from the top-level
/// object (args, env, cwd); no annotations, mounts or root.
wao_config *wao_process_parse(const char *bytes, size_t len, char *err, size_t err_size);

/// The process.json with process.env rewritten as wao_config_rewrite does (from its own env and
/// cwd, with the top-level preopens `dirs`); every other field unchanged. malloc'ed, NULL when out
/// of memory.
char *wao_process_rewrite(const wao_config *p, const char *const *dirs, size_t ndirs, size_t *len);

/// The "bundle" of `runc state` / `crun state` output, malloc'ed; NULL when absent or invalid.
char *wao_state_bundle(const char *json, size_t len);

/// What `exec` passes to the delegate.
typedef struct wao_exec_rewrite {
    int wasm;               // 0: the exec'd program is not the container's Wasm entrypoint: pass through
    char *process_json;     // --process form: the rewritten process.json (malloc'ed)
    size_t process_len;
    char *env_arg;          // positional form: "WASMAOT_WASI=…", for an --env before the container ID
} wao_exec_rewrite;

/// For `exec` (parsed `a`) in a container whose config (`container`, from `bundle`) the wrapper
/// rewrote: when the exec'd args[0] — resolved as on create (wao_rootfs_entrypoint, with the exec's
/// cwd and PATH, inside the container's root) — is the mounted entrypoint, the exec gets the
/// container's WASI view: WASMAOT_WASI from the exec's own environment (process.json's env; or the
/// container's process.env then each --env) and working directory (process.json's cwd; or --cwd,
/// else the container's), with the preopens of wao_toplevel_dirs. `process` is the --process file's
/// content (NULL for the positional form). 0 with `out` filled (wasm 0: pass through), or -1 with
/// the message in `err` (an invalid process.json, out of memory).
int wao_exec_prepare(const wao_args *a, const wao_config *container, const char *bundle, const char *process,
                     size_t process_len, wao_exec_rewrite *out, char *err, size_t err_size);
void wao_exec_rewrite_free(wao_exec_rewrite *r);

// ---- `features` -------------------------------------------------------------------------------

/// The `features` document (OCI runtime spec): `delegate_doc` (the delegate's own, NULL when it
/// has none) with every member kept and wasmaot's entries added to `annotations` — version, that
/// it runs Wasm, the annotations and handler names it reads, the delegate. Without a usable
/// delegate document: ociVersionMin/Max and those annotations. Indented, newline-terminated.
char *wao_features_document(const char *delegate_doc, size_t len, const char *delegate, size_t *out_len);

// ---- errors, the way runc reports them ------------------------------------------------------

/// One log line in runc's format: logrus JSON (`format` "json") or logrus text. malloc'ed.
char *wao_log_line(const char *msg, const char *format, const char *time);
/// "wasmaot-oci: MSG" to stderr, and a line to `log` (when given), which containerd's shim reads.
void wao_report(const char *msg, const char *log, const char *format);

// ---- the whole flow ---------------------------------------------------------------------------

/// Parse, load settings, find the delegate; for create/run of a Wasm container find or build the
/// artifact and rewrite config.json; for exec of the module in such a container, give it the
/// container's WASI view (wao_exec_prepare: one `state` call to find the bundle — exec only); then
/// exec the delegate with the original arguments (exec: with the rewritten process file, or one
/// more --env). Returns (an exit status) only on error, after reporting it.
int wao_main(int argc, char **argv, char **envp);

#ifdef __cplusplus
}
#endif
#endif
