// config.json: read with yajl's tree parser, written back with its generator (see wasmaot_oci.h).
#include "wasmaot_oci.h"
#include "../../Runtime/include/wasmaot_rt.h" // wasmaot_wasi_quote: the WASMAOT_WASI quoting

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

static yajl_val member(yajl_val obj, const char *key) {
    if (!YAJL_IS_OBJECT(obj)) return NULL;
    for (size_t i = 0; i < obj->u.object.len; i++)
        if (!strcmp(obj->u.object.keys[i], key)) return obj->u.object.values[i];
    return NULL;
}

/// The string elements of an array, in order.
static const char **strings(yajl_val arr, size_t *n) {
    *n = 0;
    size_t len = YAJL_IS_ARRAY(arr) ? arr->u.array.len : 0;
    const char **out = calloc(len + 1, sizeof *out);
    if (!out) return NULL;
    for (size_t i = 0; i < len; i++)
        if (YAJL_IS_STRING(arr->u.array.values[i])) out[(*n)++] = arr->u.array.values[i]->u.string;
    return out;
}

static int has_string(yajl_val arr, const char *want) {
    for (size_t i = 0; YAJL_IS_ARRAY(arr) && i < arr->u.array.len; i++)
        if (YAJL_IS_STRING(arr->u.array.values[i]) && !strcmp(arr->u.array.values[i]->u.string, want)) return 1;
    return 0;
}

static const char *string_member(yajl_val obj, const char *key) {
    yajl_val v = member(obj, key);
    return YAJL_IS_STRING(v) ? v->u.string : NULL;
}

/// `process_doc`: the document is a process.json (the process object itself).
static wao_config *parse(const char *bytes, size_t len, int process_doc, char *err, size_t err_size) {
    char *text = malloc(len + 1);
    wao_config *c = calloc(1, sizeof *c);
    if (!text || !c) {
        free(text);
        free(c);
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    memcpy(text, bytes, len);
    text[len] = 0;
    char why[256] = "";
    yajl_val tree = yajl_tree_parse(text, why, sizeof why);
    free(text);
    if (!tree || !YAJL_IS_OBJECT(tree)) {
        char *nl;
        while ((nl = strchr(why, '\n'))) *nl = ' ';
        snprintf(err, err_size, "%s", tree ? "not a JSON object" : (*why ? why : "invalid JSON"));
        yajl_tree_free(tree);
        free(c);
        return NULL;
    }
    c->tree = tree;
    yajl_val ann = process_doc ? NULL : member(tree, "annotations");
    size_t na = YAJL_IS_OBJECT(ann) ? ann->u.object.len : 0;
    c->annotation_keys = calloc(na + 1, sizeof *c->annotation_keys);
    c->annotation_values = calloc(na + 1, sizeof *c->annotation_values);
    yajl_val process = process_doc ? tree : member(tree, "process");
    c->args = strings(member(process, "args"), &c->nargs);
    c->env = strings(member(process, "env"), &c->nenv);
    yajl_val mounts = process_doc ? NULL : member(tree, "mounts");
    c->nmounts = YAJL_IS_ARRAY(mounts) ? mounts->u.array.len : 0;
    c->mount_destinations = calloc(c->nmounts + 1, sizeof *c->mount_destinations);
    c->mount_sources = calloc(c->nmounts + 1, sizeof *c->mount_sources);
    c->mount_bind = calloc(c->nmounts + 1, 1);
    if (!c->annotation_keys || !c->annotation_values || !c->args || !c->env || !c->mount_destinations ||
        !c->mount_sources || !c->mount_bind) {
        wao_config_free(c);
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < na; i++) {
        if (!YAJL_IS_STRING(ann->u.object.values[i])) continue;
        c->annotation_keys[c->nannotations] = ann->u.object.keys[i];
        c->annotation_values[c->nannotations++] = ann->u.object.values[i]->u.string;
    }
    for (size_t i = 0; i < c->nmounts; i++) {
        yajl_val m = mounts->u.array.values[i];
        c->mount_destinations[i] = string_member(m, "destination");
        c->mount_sources[i] = string_member(m, "source");
        const char *type = string_member(m, "type");
        yajl_val options = member(m, "options");
        c->mount_bind[i] = (type && !strcmp(type, "bind")) || has_string(options, "bind") || has_string(options, "rbind");
    }
    yajl_val cwd = member(process, "cwd"), root = process_doc ? NULL : member(member(tree, "root"), "path");
    c->cwd = YAJL_IS_STRING(cwd) ? cwd->u.string : "/";
    c->root_path = YAJL_IS_STRING(root) ? root->u.string : "rootfs";
    return c;
}

wao_config *wao_config_parse(const char *bytes, size_t len, char *err, size_t err_size) {
    return parse(bytes, len, 0, err, err_size);
}

wao_config *wao_process_parse(const char *bytes, size_t len, char *err, size_t err_size) {
    return parse(bytes, len, 1, err, err_size);
}

char *wao_state_bundle(const char *json, size_t len) {
    char *text = malloc(len + 1);
    if (!text) return NULL;
    memcpy(text, json, len);
    text[len] = 0;
    yajl_val tree = yajl_tree_parse(text, NULL, 0);
    free(text);
    const char *b = string_member(tree, "bundle");
    char *out = b && *b ? strdup(b) : NULL;
    yajl_tree_free(tree);
    return out;
}

void wao_config_free(wao_config *c) {
    if (!c) return;
    yajl_tree_free(c->tree);
    free(c->annotation_keys);
    free(c->annotation_values);
    free(c->args);
    free(c->env);
    free(c->mount_destinations);
    free(c->mount_sources);
    free(c->mount_bind);
    free(c);
}

const char *wao_config_entrypoint(const wao_config *c) {
    const char *artifact = wao_config_annotation(c, WAO_MARKER_ANNOTATION);
    if (!artifact) return NULL;
    const char *entry = wao_config_annotation(c, WAO_ENTRYPOINT_ANNOTATION);
    if (entry) return entry;
    for (size_t i = c->nmounts; i-- > 0;)
        if (c->mount_sources[i] && c->mount_destinations[i] && !strcmp(c->mount_sources[i], artifact))
            return c->mount_destinations[i];
    return NULL;
}

const char *wao_config_annotation(const wao_config *c, const char *key) {
    const char *v = NULL;
    for (size_t i = 0; i < c->nannotations; i++)
        if (!strcmp(c->annotation_keys[i], key)) v = c->annotation_values[i];
    return v;
}

// ---- generation ----------------------------------------------------------------------------

/// What the rewrite adds; NULL fields: write the tree unchanged.
typedef struct {
    const char *entrypoint, *artifact;
    const char *const *env;   // process.env without WASMAOT_WASI entries
    size_t nenv;
    const char *wasi;         // "WASMAOT_WASI=…"
} edits;

#define STR(g, s) yajl_gen_string(g, (const unsigned char *)(s), strlen(s))

static yajl_gen_status value(yajl_gen g, yajl_val v);

static yajl_gen_status members(yajl_gen g, yajl_val obj, const char *skip) {
    yajl_gen_status st = yajl_gen_status_ok;
    for (size_t i = 0; st == yajl_gen_status_ok && i < obj->u.object.len; i++) {
        if (skip && !strcmp(obj->u.object.keys[i], skip)) continue;
        if ((st = STR(g, obj->u.object.keys[i])) == yajl_gen_status_ok) st = value(g, obj->u.object.values[i]);
    }
    return st;
}

static yajl_gen_status value(yajl_gen g, yajl_val v) {
    yajl_gen_status st = yajl_gen_status_ok;
    switch (v ? v->type : yajl_t_null) {
    case yajl_t_string: return STR(g, v->u.string);
    case yajl_t_number: return yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r));  // as written
    case yajl_t_true: return yajl_gen_bool(g, 1);
    case yajl_t_false: return yajl_gen_bool(g, 0);
    case yajl_t_array:
        if ((st = yajl_gen_array_open(g))) return st;
        for (size_t i = 0; st == yajl_gen_status_ok && i < v->u.array.len; i++) st = value(g, v->u.array.values[i]);
        return st ? st : yajl_gen_array_close(g);
    case yajl_t_object:
        if ((st = yajl_gen_map_open(g))) return st;
        return (st = members(g, v, NULL)) ? st : yajl_gen_map_close(g);
    default: return yajl_gen_null(g);
    }
}

static yajl_gen_status mount(yajl_gen g, const edits *e) {
    yajl_gen_status st;
    if ((st = yajl_gen_map_open(g)) || (st = STR(g, "destination")) || (st = STR(g, e->entrypoint)) ||
        (st = STR(g, "type")) || (st = STR(g, "bind")) || (st = STR(g, "source")) || (st = STR(g, e->artifact)) ||
        (st = STR(g, "options")) || (st = yajl_gen_array_open(g)))
        return st;
    // nosuid/nodev: the artifact needs neither; no noexec, obviously.
    static const char *const options[] = {"bind", "ro", "nosuid", "nodev"};
    for (int i = 0; i < 4; i++)
        if ((st = STR(g, options[i]))) return st;
    return (st = yajl_gen_array_close(g)) ? st : yajl_gen_map_close(g);
}

static yajl_gen_status env_array(yajl_gen g, const edits *e) {
    yajl_gen_status st = yajl_gen_array_open(g);
    for (size_t i = 0; st == yajl_gen_status_ok && i < e->nenv; i++) st = STR(g, e->env[i]);
    if (st || (st = STR(g, e->wasi))) return st;
    return yajl_gen_array_close(g);
}

static yajl_gen_status process(yajl_gen g, yajl_val p, const edits *e) {
    yajl_gen_status st = yajl_gen_map_open(g);
    if (st) return st;
    if (YAJL_IS_OBJECT(p)) {
        for (size_t i = 0; st == yajl_gen_status_ok && i < p->u.object.len; i++) {
            if ((st = STR(g, p->u.object.keys[i]))) return st;
            st = strcmp(p->u.object.keys[i], "env") ? value(g, p->u.object.values[i]) : env_array(g, e);
        }
        if (st) return st;
    }
    if (!member(p, "env") && ((st = STR(g, "env")) || (st = env_array(g, e)))) return st;
    return yajl_gen_map_close(g);
}

static yajl_gen_status annotations(yajl_gen g, yajl_val a, const edits *e) {
    yajl_gen_status st = yajl_gen_map_open(g);
    for (size_t i = 0; !st && YAJL_IS_OBJECT(a) && i < a->u.object.len; i++) {
        const char *k = a->u.object.keys[i];
        if (!strcmp(k, WAO_MARKER_ANNOTATION) || !strcmp(k, WAO_ENTRYPOINT_ANNOTATION)) continue;
        if (!(st = STR(g, k))) st = value(g, a->u.object.values[i]);
    }
    if (st || (st = STR(g, WAO_MARKER_ANNOTATION)) || (st = STR(g, e->artifact)) ||
        (st = STR(g, WAO_ENTRYPOINT_ANNOTATION)) || (st = STR(g, e->entrypoint)))
        return st;
    return yajl_gen_map_close(g);
}

static yajl_gen_status mounts(yajl_gen g, yajl_val m, const edits *e) {
    yajl_gen_status st = yajl_gen_array_open(g);
    for (size_t i = 0; !st && YAJL_IS_ARRAY(m) && i < m->u.array.len; i++) st = value(g, m->u.array.values[i]);
    if (st || (st = mount(g, e))) return st;
    return yajl_gen_array_close(g);
}

static yajl_gen_status document(yajl_gen g, yajl_val root, const edits *e) {
    if (!e) return value(g, root);
    if (!e->artifact) return process(g, root, e);  // a process.json: only its env changes
    yajl_gen_status st = yajl_gen_map_open(g);
    int seen_process = 0, seen_mounts = 0, seen_annotations = 0;
    for (size_t i = 0; !st && i < root->u.object.len; i++) {
        const char *k = root->u.object.keys[i];
        yajl_val v = root->u.object.values[i];
        if ((st = STR(g, k))) break;
        if (!strcmp(k, "process")) seen_process = 1, st = process(g, v, e);
        else if (!strcmp(k, "mounts")) seen_mounts = 1, st = mounts(g, v, e);
        else if (!strcmp(k, "annotations")) seen_annotations = 1, st = annotations(g, v, e);
        else st = value(g, v);
    }
    if (!st && !seen_process && !(st = STR(g, "process"))) st = process(g, NULL, e);
    if (!st && !seen_mounts && !(st = STR(g, "mounts"))) st = mounts(g, NULL, e);
    if (!st && !seen_annotations && !(st = STR(g, "annotations"))) st = annotations(g, NULL, e);
    return st ? st : yajl_gen_map_close(g);
}

static char *generate(const wao_config *c, const edits *e, size_t *len) {
    yajl_gen g = yajl_gen_alloc(NULL);
    if (!g) return NULL;
    char *out = NULL;
    const unsigned char *text;
    size_t n;
    if (document(g, c->tree, e) == yajl_gen_status_ok && yajl_gen_get_buf(g, &text, &n) == yajl_gen_status_ok &&
        (out = malloc(n + 2))) {
        memcpy(out, text, n);
        out[n] = '\n';
        out[n + 1] = 0;
        if (len) *len = n + 1;
    }
    yajl_gen_free(g);
    return out;
}

char *wao_config_serialize(const wao_config *c, size_t *len) { return generate(c, NULL, len); }

/// The document with process.env = its entries without WASMAOT_WASI, then WASMAOT_WASI for them and
/// process.cwd; for a config (`artifact` set) also the mount and the annotations.
static char *rewrite(const wao_config *c, const char *entrypoint, const char *artifact, const char *const *dirs,
                     size_t ndirs, size_t *len) {
    const char **env = calloc(c->nenv + 1, sizeof *env);
    if (!env) return NULL;
    size_t n = 0;
    for (size_t i = 0; i < c->nenv; i++)
        if (strncmp(c->env[i], "WASMAOT_WASI=", 13)) env[n++] = c->env[i];
    // The original entries stay in process.env (harmless: the runtime builds the guest's
    // environment from WASMAOT_WASI alone and hides WASMAOT_WASI itself).
    char *wasi = wao_wasi_config_cwd(env, n, c->cwd, dirs, ndirs), *var = NULL, *out = NULL;
    if (wasi && (var = malloc(strlen(wasi) + 14))) {
        strcpy(var, "WASMAOT_WASI=");
        strcat(var, wasi);
        edits e = {.entrypoint = entrypoint, .artifact = artifact, .env = env, .nenv = n, .wasi = var};
        out = generate(c, &e, len);
    }
    free(var);
    free(wasi);
    free(env);
    return out;
}

char *wao_config_rewrite(const wao_config *c, const char *entrypoint, const char *artifact,
                         const char *const *dirs, size_t ndirs, size_t *len) {
    return rewrite(c, entrypoint, artifact, dirs, ndirs, len);
}

char *wao_process_rewrite(const wao_config *p, const char *const *dirs, size_t ndirs, size_t *len) {
    return rewrite(p, NULL, NULL, dirs, ndirs, len);
}

char *wao_shell_quote(const char *s) {
    char *out = malloc(4 * strlen(s) + 3);
    if (out) wasmaot_wasi_quote(s, out);
    return out;
}

/// A growable string; `failed` once an allocation failed (later appends do nothing).
typedef struct {
    char *s;
    size_t len, cap;
    int failed;
} text;

static void append(text *t, const char *s) {
    size_t n = strlen(s);
    if (t->failed) return;
    if (t->len + n + 1 > t->cap) {
        size_t cap = (t->len + n + 1) * 2 + 256;
        char *d = realloc(t->s, cap);
        if (!d) {
            t->failed = 1;
            return;
        }
        t->s = d;
        t->cap = cap;
    }
    memcpy(t->s + t->len, s, n + 1);
    t->len += n;
}

static void append_quoted(text *t, const char *s) {
    char *q = wao_shell_quote(s);
    if (!q) t->failed = 1;
    else append(t, q);
    free(q);
}

/// "--dir HOST::GUEST" as one word.
static void append_dir(text *t, const char *host, const char *guest) {
    size_t n = strlen(host) + strlen(guest) + 3;
    char *spec = malloc(n);
    if (!spec) {
        t->failed = 1;
        return;
    }
    snprintf(spec, n, "%s::%s", host, guest);
    append(t, " --dir ");
    append_quoted(t, spec);
    free(spec);
}

/// `p` lexically cleaned as an absolute path: repeated "/" and "." dropped, ".." applied (clamped at
/// "/"), no trailing "/". malloc'ed.
static char *clean_path(const char *p) {
    size_t n = strlen(p);
    char *out = malloc(n + 2);
    if (!out) return NULL;
    size_t len = 0;
    for (const char *c = p; *c;) {
        while (*c == '/') c++;
        size_t k = strcspn(c, "/");
        if (!k) break;
        if (k == 1 && c[0] == '.') {
        } else if (k == 2 && c[0] == '.' && c[1] == '.') {
            while (len && out[len - 1] != '/') len--;
            if (len) len--;
        } else {
            out[len++] = '/';
            memcpy(out + len, c, k);
            len += k;
        }
        c += k;
    }
    if (!len) out[len++] = '/';
    out[len] = 0;
    return out;
}

int wao_cwd_is_root(const char *cwd) {
    char *clean = clean_path(cwd ? cwd : "/");
    int root = clean && !strcmp(clean, "/");
    free(clean);
    return root;
}

/// Whether "HOST::GUEST" splits back into HOST and GUEST: the runtime splits at the first "::".
static int dir_spec_ok(const char *host) {
    size_t n = strlen(host);
    return !strstr(host, "::") && (!n || host[n - 1] != ':');
}

char *wao_wasi_config_cwd(const char *const *env, size_t n, const char *cwd, const char *const *dirs, size_t ndirs) {
    char *clean = clean_path(cwd ? cwd : "/");
    if (!clean) return NULL;
    text t = {0};
    append(&t, "--dir /::/");
    int in_root = !strcmp(clean, "/");
    if (!in_root) {
        for (size_t i = 0; i < ndirs; i++)
            if (dir_spec_ok(dirs[i])) append_dir(&t, dirs[i], dirs[i]);
        // The workdir itself: its path as given (what runc chdir'ed to), or "." — the runtime's
        // own working directory, the same directory — when that path cannot be written as HOST.
        append_dir(&t, cwd[0] == '/' && dir_spec_ok(cwd) ? cwd : ".", ".");
    }
    int has_pwd = 0;
    for (size_t i = 0; i < n; i++) {
        if (!strncmp(env[i], "WASMAOT_WASI=", 13)) continue;
        has_pwd |= !strncmp(env[i], "PWD=", 4);
        append(&t, " --env ");
        append_quoted(&t, env[i]);
    }
    if (!in_root && !has_pwd) {
        char *pwd = malloc(strlen(clean) + 5);
        if (!pwd) t.failed = 1;
        else {
            strcpy(pwd, "PWD=");
            strcat(pwd, clean);
            append(&t, " --env ");
            append_quoted(&t, pwd);
        }
        free(pwd);
    }
    free(clean);
    if (t.failed) {
        free(t.s);
        return NULL;
    }
    return t.s;
}

char *wao_wasi_config(const char *const *env, size_t n) { return wao_wasi_config_cwd(env, n, "/", NULL, 0); }

// ---- features --------------------------------------------------------------------------------

char *wao_features_document(const char *delegate_doc, size_t len, const char *delegate, size_t *out_len) {
    yajl_val tree = NULL;
    if (delegate_doc) {
        char *copy = malloc(len + 1), why[128];
        if (!copy) return NULL;
        memcpy(copy, delegate_doc, len);
        copy[len] = 0;
        tree = yajl_tree_parse(copy, why, sizeof why);
        free(copy);
        if (tree && !YAJL_IS_OBJECT(tree)) {
            yajl_tree_free(tree);
            tree = NULL;
        }
    }
    const char *ours[][2] = {
        {"org.wasmaot.oci.version", WASMAOT_VERSION},
        {"org.wasmaot.oci.wasm", "true"},
        {"org.wasmaot.oci.wasm.annotations", "module.wasm.image/variant=compat|compat-smart,run.oci.handler=wasm|wasm-smart"},
        {"org.wasmaot.oci.wasm.handler", "a program name ending in -wasm, or --handler wasm: Wasm by entrypoint magic"},
        {"org.wasmaot.oci.delegate", delegate},
        {"org.wasmaot.oci.delegate.features", tree ? "true" : "false"},
    };
    size_t nours = sizeof ours / sizeof ours[0];
    yajl_gen g = yajl_gen_alloc(NULL);
    if (!g) {
        yajl_tree_free(tree);
        return NULL;
    }
    yajl_gen_config(g, yajl_gen_beautify, 1);
    yajl_gen_config(g, yajl_gen_indent_string, "    ");
    yajl_gen_status st = yajl_gen_map_open(g);
    if (!tree) {
        // What this wrapper itself reads and writes in config.json.
        if (!st) st = STR(g, "ociVersionMin");
        if (!st) st = STR(g, "1.0.0");
        if (!st) st = STR(g, "ociVersionMax");
        if (!st) st = STR(g, "1.1.0");
    } else {
        st = members(g, tree, "annotations");
    }
    if (!st) st = STR(g, "annotations");
    if (!st) st = yajl_gen_map_open(g);
    yajl_val theirs = tree ? member(tree, "annotations") : NULL;
    for (size_t i = 0; !st && YAJL_IS_OBJECT(theirs) && i < theirs->u.object.len; i++) {
        const char *k = theirs->u.object.keys[i];
        int mine = 0;
        for (size_t j = 0; j < nours; j++) mine |= !strcmp(k, ours[j][0]);
        if (mine) continue;
        if (!(st = STR(g, k))) st = value(g, theirs->u.object.values[i]);
    }
    for (size_t j = 0; !st && j < nours; j++)
        if (!(st = STR(g, ours[j][0]))) st = STR(g, ours[j][1]);
    if (!st) st = yajl_gen_map_close(g);
    if (!st) st = yajl_gen_map_close(g);
    char *out = NULL;
    const unsigned char *text;
    size_t n;
    if (!st && yajl_gen_get_buf(g, &text, &n) == yajl_gen_status_ok && (out = malloc(n + 2))) {
        memcpy(out, text, n);
        if (n == 0 || text[n - 1] != '\n') out[n++] = '\n';
        out[n] = 0;
        if (out_len) *out_len = n;
    }
    yajl_gen_free(g);
    yajl_tree_free(tree);
    return out;
}
