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

wao_config *wao_config_parse(const char *bytes, size_t len, char *err, size_t err_size) {
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
    yajl_val ann = member(tree, "annotations");
    size_t na = YAJL_IS_OBJECT(ann) ? ann->u.object.len : 0;
    c->annotation_keys = calloc(na + 1, sizeof *c->annotation_keys);
    c->annotation_values = calloc(na + 1, sizeof *c->annotation_values);
    yajl_val process = member(tree, "process");
    c->args = strings(member(process, "args"), &c->nargs);
    c->env = strings(member(process, "env"), &c->nenv);
    if (!c->annotation_keys || !c->annotation_values || !c->args || !c->env) {
        wao_config_free(c);
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < na; i++) {
        if (!YAJL_IS_STRING(ann->u.object.values[i])) continue;
        c->annotation_keys[c->nannotations] = ann->u.object.keys[i];
        c->annotation_values[c->nannotations++] = ann->u.object.values[i]->u.string;
    }
    yajl_val cwd = member(process, "cwd"), root = member(member(tree, "root"), "path"), mounts = member(tree, "mounts");
    c->cwd = YAJL_IS_STRING(cwd) ? cwd->u.string : "/";
    c->root_path = YAJL_IS_STRING(root) ? root->u.string : "rootfs";
    c->nmounts = YAJL_IS_ARRAY(mounts) ? mounts->u.array.len : 0;
    return c;
}

void wao_config_free(wao_config *c) {
    if (!c) return;
    yajl_tree_free(c->tree);
    free(c->annotation_keys);
    free(c->annotation_values);
    free(c->args);
    free(c->env);
    free(c);
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
    if (!st && YAJL_IS_OBJECT(a)) st = members(g, a, WAO_MARKER_ANNOTATION);
    if (st || (st = STR(g, WAO_MARKER_ANNOTATION)) || (st = STR(g, e->artifact))) return st;
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

char *wao_config_rewrite(const wao_config *c, const char *entrypoint, const char *artifact, size_t *len) {
    const char **env = calloc(c->nenv + 1, sizeof *env);
    if (!env) return NULL;
    size_t n = 0;
    for (size_t i = 0; i < c->nenv; i++)
        if (strncmp(c->env[i], "WASMAOT_WASI=", 13)) env[n++] = c->env[i];
    // The original entries stay in process.env (harmless: the runtime builds the guest's
    // environment from WASMAOT_WASI alone and hides WASMAOT_WASI itself).
    char *wasi = wao_wasi_config(env, n), *var = NULL, *out = NULL;
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

char *wao_shell_quote(const char *s) {
    char *out = malloc(4 * strlen(s) + 3);
    if (out) wasmaot_wasi_quote(s, out);
    return out;
}

char *wao_wasi_config(const char *const *env, size_t n) {
    size_t cap = 16;
    for (size_t i = 0; i < n; i++) cap += 7 + strlen(env[i]) * 4 + 2;
    char *out = malloc(cap);
    if (!out) return NULL;
    strcpy(out, "--dir /::/");
    for (size_t i = 0; i < n; i++) {
        if (!strncmp(env[i], "WASMAOT_WASI=", 13)) continue;
        char *q = wao_shell_quote(env[i]);
        if (!q) {
            free(out);
            return NULL;
        }
        strcat(out, " --env ");
        strcat(out, q);
        free(q);
    }
    return out;
}
