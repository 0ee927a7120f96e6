// The runtime command line (see wao_args in wasmaot_oci.h).
#include "wasmaot_oci.h"

#include <stdlib.h>
#include <string.h>

static const char *const commands[] = {
    "create", "start", "run", "state", "kill", "delete", "exec", "ps", "pause", "resume",
    "update", "features", "spec", "list", "events", "checkpoint", "restore", "help", NULL,
};
/// Global flags (runc ∪ crun) that take a value; the rest (--debug, --systemd-cgroup, …) don't.
static const char *const global_value_flags[] = {"root", "log", "log-format", "log-level", "criu", "rootless",
                                                 "cgroup-manager", "handler", "wasmaot-config", NULL};
static const char *const global_bool_flags[] = {"debug", "systemd-cgroup", "help", "h", "version", "v", NULL};
/// create/run options that take a value, so their values are not mistaken for the container ID.
static const char *const command_value_flags[] = {"bundle", "b", "console-socket", "pid-file", "preserve-fds",
                                                  "pidfd-socket", NULL};
/// exec options (runc ∪ crun) that take a value; the others (--tty, --detach, --no-new-privs,
/// --ignore-paused, and any unknown one unless written --flag=value) don't. crun's optional
/// `--tty[=TTY]` takes a value only after "=".
static const char *const exec_value_flags[] = {"console-socket", "pidfd-socket", "cwd", "env", "e", "user", "u",
                                               "additional-gids", "g", "process", "p", "pid-file", "process-label",
                                               "apparmor", "cap", "c", "preserve-fds", "cgroup", NULL};

static int in_list(const char *const *list, const char *name, size_t len) {
    for (; *list; list++)
        if (strlen(*list) == len && !memcmp(*list, name, len)) return 1;
    return 0;
}

static int is_command(const char *word) { return in_list(commands, word, strlen(word)); }

/// "--name=value" → name (length in *len) and value; "-name" → name, NULL.
static const char *split(const char *arg, size_t *len, const char **value) {
    while (*arg == '-') arg++;
    const char *eq = strchr(arg, '=');
    *len = eq ? (size_t)(eq - arg) : strlen(arg);
    *value = eq ? eq + 1 : NULL;
    return arg;
}

static int is(const char *name, size_t len, const char *want) { return strlen(want) == len && !memcmp(name, want, len); }

/// `exec [flags] ID [CMD ARG...]`: flags end at the first word that is not one (urfave/cli with
/// SkipArgReorder, as runc; crun's argp in order), or after "--".
static int parse_exec(int argc, char *const *argv, int first, int base, wao_args *out) {
    out->exec_env = calloc((size_t)argc + 1, sizeof *out->exec_env);
    if (!out->exec_env) return -1;
    out->exec_env_flag = "--env";
    int j = first + 1, end = -1;
    for (; j < argc; j++) {
        const char *arg = argv[j];
        if (!strcmp(arg, "--")) {
            end = j++;
            break;
        }
        if (arg[0] != '-' || !strcmp(arg, "-")) break;
        size_t len;
        const char *value, *name = split(arg, &len, &value);
        if (!value && in_list(exec_value_flags, name, len)) {
            if (j + 1 >= argc) return 0;  // a dangling flag: the delegate reports it
            value = argv[++j];
        }
        if (!value) continue;
        if (is(name, len, "process") || is(name, len, "p")) out->process = value;
        else if (is(name, len, "cwd")) out->exec_cwd = value;
        else if (is(name, len, "env") || is(name, len, "e")) {
            if (!out->nexec_env) out->exec_env_flag = is(name, len, "e") ? "-e" : "--env";
            out->exec_env[out->nexec_env++] = value;
        }
    }
    out->exec_flags_end = base + ((end >= 0 ? end : j) - first);
    if (j < argc) {
        out->container_id = argv[j];
        out->id_index = base + (j - first);
        if (j + 1 < argc) out->exec_cmd_index = base + (j + 1 - first);
    }
    return 0;
}

int wao_args_parse(int argc, char *const *argv, wao_args *out) {
    memset(out, 0, sizeof *out);
    out->delegate_argv = calloc((size_t)argc + 1, sizeof *out->delegate_argv);
    if (!out->delegate_argv) return -1;
    int n = 0, i = 0;
    // Global flags: urfave/cli (runc) accepts -flag and --flag, with " value" or "=value".
    while (i < argc && argv[i][0] == '-' && strcmp(argv[i], "-") && strcmp(argv[i], "--")) {
        size_t len;
        const char *value, *name = split(argv[i], &len, &value);
        int consumed = 1;
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (!value && next) {
            int known = in_list(global_value_flags, name, len);
            // Unknown flags: a following word that is neither a flag nor a command is its value.
            int unknown_with_value = !known && !in_list(global_bool_flags, name, len) && next[0] != '-' && !is_command(next);
            if (known || unknown_with_value) {
                value = next;
                consumed = 2;
            }
        }
        int own = is(name, len, "handler") || is(name, len, "wasmaot-config");
        if (is(name, len, "root")) out->root = value;
        else if (is(name, len, "log")) out->log = value;
        else if (is(name, len, "log-format")) out->log_format = value;
        else if (is(name, len, "handler")) out->handler = value;
        else if (is(name, len, "wasmaot-config")) out->config = value;
        if (!own)
            for (int k = 0; k < consumed; k++) out->delegate_argv[n++] = argv[i + k];
        i += consumed;
    }
    if (i < argc && is_command(argv[i])) out->command = argv[i];
    int first = i, base = n;  // argv[first + k] is delegate_argv[base + k]
    out->command_index = base;
    out->id_index = out->exec_cmd_index = out->exec_flags_end = -1;
    for (; i < argc; i++) out->delegate_argv[n++] = argv[i];
    out->delegate_argc = n;
    if (out->command && !strcmp(out->command, "exec")) return parse_exec(argc, argv, first, base, out);
    if (!out->command || (strcmp(out->command, "create") && strcmp(out->command, "run"))) return 0;
    for (int j = first + 1; j < argc; j++) {
        const char *arg = argv[j];
        if (!strcmp(arg, "--")) {
            if (j + 1 < argc && !out->container_id) out->container_id = argv[j + 1];
            break;
        }
        if (arg[0] == '-' && strcmp(arg, "-")) {
            size_t len;
            const char *value, *name = split(arg, &len, &value);
            if (!value && in_list(command_value_flags, name, len) && j + 1 < argc) value = argv[++j];
            if (is(name, len, "bundle") || is(name, len, "b")) out->bundle = value;
        } else if (!out->container_id) {
            out->container_id = arg;
        }
    }
    return 0;
}

void wao_args_free(wao_args *args) {
    free(args->delegate_argv);
    free(args->exec_env);
    args->delegate_argv = NULL;
    args->exec_env = NULL;
    args->nexec_env = 0;
}

const char *wao_env_get(char *const *envp, const char *name) {
    size_t n = strlen(name);
    const char *v = NULL;
    for (; envp && *envp; envp++)
        if (!strncmp(*envp, name, n) && (*envp)[n] == '=') v = *envp + n + 1;
    return v;
}
