#!/usr/bin/env bash
# wasi-testsuite.sh WASMAOT [SUITES...] — runs the wasi-testsuite wasm32-wasip1 tests with wasmaot.
#
#   WASMAOT   path to the wasmaot compiler binary
#   SUITES    suite folders holding X.wasm + X.json (default: the c, rust and assemblyscript
#             wasm32-wasip1 folders under $WASI_TESTSUITE, default /work/shared/corpora/wasi-testsuite)
#
# Prints one line per failing test and a final "N passed, N failed" line; exits 1 if any failed.
# Environment:
#   WASI_TS_CACHE   object cache (default ${TMPDIR:-/tmp}/wasmaot-wasi-testsuite-cache). Modules are
#                   compiled once to objects (keyed by module and compiler hash) and relinked with
#                   the current runtime archive each run, so runtime edits need no recompile.
#   WASI_TS_DIRECT=1  compile straight to executables with `wasmaot compile` instead (no cache).
#   WASI_TS_FILTER  only run tests whose name matches this extended regex.
#   WASI_TS_VERBOSE=1 print the output of failing tests.
#   WASI_TS_JOBS    parallel compile jobs (default: nproc).
#   WASI_TS_LIB     runtime archive to link against (default: this tree's build/<triple> one).
#   WASI_TS_TARGET  architecture to compile for (wasmaot --target; default: the host's). For a
#                   foreign one, objects are linked with <triple>-gcc and run through WASI_TS_RUNNER.
#   WASI_TS_OPT     optimization flag for wasmaot compile (default -O2).
#   WASI_TS_RUNNER  qemu-user binary that runs the executables (e.g. qemu-aarch64-static); it gets
#                   `-0 ARGV0` so the guest still sees the module name as argv[0].
#
# Test spec (JSON next to the module, all fields optional): args (list), env (object),
# dirs (list: host folder relative to the test's folder, preopened under the same name),
# root (folder preopened as "/"), exit_code (default 0), stdout/stderr (compared when present).
# Suites are copied to a scratch folder first (tests create and delete files; the originals may
# be read-only), and *.cleanup files are removed before each test.
set -u
WASMAOT=${1:?usage: wasi-testsuite.sh WASMAOT [SUITE_DIR...]}
shift
WASMAOT=$(cd "$(dirname "$WASMAOT")" && pwd)/$(basename "$WASMAOT")
HERE=$(cd "$(dirname "$0")" && pwd)
RUNTIME=$(cd "$HERE/.." && pwd)
# Default: the shared corpora beside the project checkout (../shared).
TS=${WASI_TESTSUITE:-$(cd "$RUNTIME/../.." && pwd)/shared/corpora/wasi-testsuite}
if [ $# -eq 0 ]; then
    set -- "$TS/c/testsuite/wasm32-wasip1" "$TS/rust/testsuite/wasm32-wasip1" \
        "$TS/assemblyscript/testsuite/wasm32-wasip1"
fi
CACHE=${WASI_TS_CACHE:-${TMPDIR:-/tmp}/wasmaot-wasi-testsuite-cache}
JOBS=${WASI_TS_JOBS:-$(nproc 2>/dev/null || echo 2)}
HOST_ARCH=$(uname -m)
TARGET=${WASI_TS_TARGET:-$HOST_ARCH}
case $TARGET in
    x86_64 | amd64) TARGET=x86_64 ;;
    aarch64 | arm64) TARGET=aarch64 ;;
    *) echo "wasi-testsuite.sh: unknown WASI_TS_TARGET $TARGET" >&2; exit 2 ;;
esac
TRIPLE=$TARGET-linux-gnu
RUNNER=${WASI_TS_RUNNER:-}
OPT=${WASI_TS_OPT:--O2}
if [ "$TARGET" = "$HOST_ARCH" ]; then
    CC=${CC:-cc}
    MAKE_CC=()
else
    CC=${CC:-$TRIPLE-gcc}
    MAKE_CC=("CC=$CC")
    [ -n "$RUNNER" ] || { echo "wasi-testsuite.sh: WASI_TS_TARGET=$TARGET needs WASI_TS_RUNNER (e.g. qemu-$TARGET-static)" >&2; exit 2; }
fi
command -v python3 >/dev/null || { echo "wasi-testsuite.sh: needs python3 (JSON specs)" >&2; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/wasmaot-wasi-ts.XXXXXX")
trap 'rm -rf "$WORK"' EXIT INT TERM

LIB=${WASI_TS_LIB:-$RUNTIME/build/$TRIPLE/libwasmaot_rt.a}
if [ -z "${WASI_TS_DIRECT:-}" ]; then
    if [ -z "${WASI_TS_LIB:-}" ]; then
        make -s -C "$RUNTIME" TRIPLE="$TRIPLE" "${MAKE_CC[@]}" "$LIB" >/dev/null || { echo "wasi-testsuite.sh: runtime build failed" >&2; exit 2; }
    fi
    compiler_id=$(sha256sum "$WASMAOT" | cut -c1-16)-$TARGET$OPT
    mkdir -p "$CACHE/$compiler_id"
fi

# Copy every suite, then collect the tests.
tests=()
i=0
for s in "$@"; do
    i=$((i + 1))
    [ -d "$s" ] || { echo "wasi-testsuite.sh: no such suite folder: $s" >&2; exit 2; }
    dst="$WORK/suite$i"
    cp -r "$s" "$dst" && chmod -R u+w "$dst"
    for w in "$dst"/*.wasm; do
        [ -e "$w" ] || continue
        name=$(basename "$w" .wasm)
        [ -n "${WASI_TS_FILTER:-}" ] && ! [[ $name =~ $WASI_TS_FILTER ]] && continue
        tests+=("$w")
    done
done

# Compile missing objects in parallel.
obj_of() { echo "$CACHE/$compiler_id/$(sha256sum "$1" | cut -c1-32).o"; }
if [ -z "${WASI_TS_DIRECT:-}" ]; then
    todo="$WORK/todo"
    : >"$todo"
    for w in "${tests[@]}"; do
        o=$(obj_of "$w")
        [ -s "$o" ] || printf '%s\0%s\0' "$w" "$o" >>"$todo"
    done
    xargs -0 -n 2 -P "$JOBS" sh -c '"$0" compile "$1" -o "$2.tmp.$$" --emit obj --target "'"$TARGET"'" "'"$OPT"'" >/dev/null 2>&1 && mv -f "$2.tmp.$$" "$2"' \
        "$WASMAOT" <"$todo"
fi

pass=0
fail=0
for w in "${tests[@]}"; do
    dir=$(dirname "$w")
    name=$(basename "$w" .wasm)
    exe="$WORK/exe-$name-$RANDOM"
    if [ -n "${WASI_TS_DIRECT:-}" ]; then
        "$WASMAOT" compile "$w" -o "$exe" --target "$TARGET" "$OPT" >"$WORK/cout" 2>&1
    else
        o=$(obj_of "$w")
        [ -s "$o" ] || "$WASMAOT" compile "$w" -o "$o" --emit obj --target "$TARGET" "$OPT" >"$WORK/cout" 2>&1
        [ -s "$o" ] && "$CC" -static -o "$exe" "$o" "$LIB" -lm >"$WORK/cout" 2>&1
    fi
    if [ ! -x "$exe" ]; then
        fail=$((fail + 1))
        echo "FAIL $name: compile/link failed: $(head -c 300 "$WORK/cout" | tr '\n' ' ')"
        continue
    fi
    # Spec -> NUL-separated: WASMAOT_WASI, exit code, has-stdout, stdout, has-stderr, stderr, args...
    python3 - "$dir/$name.json" >"$WORK/spec" <<'EOF' || { echo "FAIL $name: bad spec"; fail=$((fail + 1)); continue; }
import json, os, shlex, sys
p = sys.argv[1]
spec = json.load(open(p)) if os.path.exists(p) else {}
words = []
if "root" in spec:
    words += ["--dir", spec["root"] + "::/"]
for d in spec.get("dirs", []):
    words += ["--dir", d + "::" + d]
for k, v in spec.get("env", {}).items():
    words += ["--env", k + "=" + v]
out = [" ".join(shlex.quote(x) for x in words), str(spec.get("exit_code", 0))]
for k in ("stdout", "stderr"):
    out += ["1", spec[k]] if k in spec else ["0", ""]
out += spec.get("args", [])
sys.stdout.write("".join(x + "\0" for x in out))
EOF
    fields=()
    while IFS= read -r -d '' f; do fields+=("$f"); done <"$WORK/spec"
    find "$dir" -name '*.cleanup' -exec rm -rf {} + 2>/dev/null
    if [ -n "$RUNNER" ]; then
        run=("$RUNNER" -0 "$name.wasm" "$exe")
    else
        run=(bash -c 'exec -a "$0" "$@"' "$name.wasm" "$exe")
    fi
    (cd "$dir" && WASMAOT_WASI="${fields[0]}" timeout 20 "${run[@]}" "${fields[@]:6}" \
        </dev/null >"$WORK/out" 2>"$WORK/err")
    got=$?
    why=""
    [ "$got" = "${fields[1]}" ] || why="exit $got, expected ${fields[1]}"
    if [ "${fields[2]}" = 1 ] && [ "$(cat "$WORK/out"; echo x)" != "${fields[3]}x" ]; then
        why="${why:+$why; }stdout differs"
    fi
    if [ "${fields[4]}" = 1 ] && [ "$(cat "$WORK/err"; echo x)" != "${fields[5]}x" ]; then
        why="${why:+$why; }stderr differs"
    fi
    rm -f "$exe"
    if [ -z "$why" ]; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL $name: $why $(head -c 300 "$WORK/err" | tr '\n' ' ' | sed 's/^./| &/')"
        if [ -n "${WASI_TS_VERBOSE:-}" ]; then
            sed 's/^/    out: /' "$WORK/out" | head -20
            sed 's/^/    err: /' "$WORK/err" | head -20
        fi
    fi
done
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
