#!/bin/sh
# run.sh BUILD_TEST_DIR — runs the runtime's test binaries and prints "N passed, N failed".
# Each case: expected exit status, and strings that must appear in stdout / stderr.
T=${1:?usage: run.sh TESTDIR}
BIN=$T/test_module
pass=0
fail=0
WORK=$(mktemp -d "${TMPDIR:-/tmp}/wasmaot-rt-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT INT TERM

# TEST_RUNNER (e.g. qemu-aarch64-static) runs cross-built binaries through a wrapper script.
wrap() {
    if [ -z "$TEST_RUNNER" ]; then echo "$1"; return; fi
    w="$WORK/$(basename "$1")"
    printf '#!/bin/sh\nexec %s "%s" "$@"\n' "$TEST_RUNNER" "$1" >"$w"
    chmod +x "$w"
    echo "$w"
}
REAL_BIN=$BIN
BIN=$(wrap "$T/test_module")
BADTYPE=$(wrap "$T/test_badtype")
UNKNOWN=$(wrap "$T/test_unknown")

# check NAME STATUS OUT_PATTERNS ERR_PATTERNS -- CMD...   (patterns: '|'-separated fixed strings)
check() {
    name=$1 want=$2 outp=$3 errp=$4
    shift 5
    "$@" >"$WORK/out" 2>"$WORK/err"
    got=$?
    ok=1
    [ "$got" = "$want" ] || ok=0
    for f in out err; do
        if [ $f = out ]; then pats=$outp; else pats=$errp; fi
        [ -z "$pats" ] && continue
        old_ifs=$IFS; IFS='|'
        for p in $pats; do
            grep -qF -- "$p" "$WORK/$f" || { ok=0; echo "  [$name] missing in std$f: $p"; }
        done
        IFS=$old_ifs
    done
    if [ $ok = 1 ]; then
        pass=$((pass + 1)); echo "PASS $name"
    else
        fail=$((fail + 1)); echo "FAIL $name (exit $got, wanted $want)"
        sed 's/^/  out: /' "$WORK/out" | head -40
        sed 's/^/  err: /' "$WORK/err" | head -40
    fi
}

unset WASMAOT_WASI
check hello 0 "hello" "" -- "$BIN"
check args 0 "argc=4|x y|z|" "" -- "$BIN" args "x y" z
check exit42 42 "" "" -- "$BIN" exit42
check oob 134 "" "wasm trap: out of bounds memory access" -- "$BIN" oob
check oob_after_grow 134 "in bounds ok" "wasm trap: out of bounds memory access" -- "$BIN" oob_after_grow
check stack 134 "" "wasm trap: call stack exhausted" -- "$BIN" stack
check stackguard 134 "" "wasm trap: call stack exhausted" -- "$BIN" stackguard
check stack_small_rlimit 134 "" "wasm trap: call stack exhausted" -- sh -c 'ulimit -s 300 && exec "$0" stack' "$BIN"
check stackguard_small_rlimit 134 "" "wasm trap: call stack exhausted" -- sh -c 'ulimit -s 300 && exec "$0" stackguard' "$BIN"
check sigcheck 134 "equal texts match" "wasm trap: indirect call type mismatch" -- "$BIN" sigcheck
check runtime_stack 139 "" "" -- sh -c '"$0" runtime_stack; exit $?' "$BIN"
check foreign_fault 139 "" "" -- sh -c '"$0" null; exit $?' "$BIN"
check runtime_oob 139 "" "" -- sh -c '"$0" runtime_oob; exit $?' "$BIN"
if (ulimit -s unlimited) 2>/dev/null; then
    check stack_unlimited 134 "" "wasm trap: call stack exhausted" -- sh -c 'ulimit -s unlimited && exec "$0" stack' "$BIN"
    check stackguard_unlimited 134 "" "wasm trap: call stack exhausted" -- sh -c 'ulimit -s unlimited && exec "$0" stackguard' "$BIN"
fi
# Touches 1 GiB of stack before faulting: opt-in.
[ -n "$WASMAOT_RT_SLOW_TESTS" ] && check stackguard_big_rlimit 134 "" "wasm trap: call stack exhausted" -- sh -c 'ulimit -s 4000000 && exec "$0" stackguard' "$BIN"
check grow 0 "grow1=1|grow1=2|grow_over=-1|grow0=3|big=-1|size=196608" "" -- "$BIN" grow
check tables 134 "size=2|grow=2|grow=3|grow_over=-1|slot2_is_self=1|after_copy=3|slot3_is_self=1" \
    "wasm trap: out of bounds table access" -- "$BIN" tables
check memops 134 "AAAAAA|zero ok" "wasm trap: out of bounds memory access" -- "$BIN" memops
check trapjmp 134 "kind=1|kind=1|kind=0" "wasm trap: integer divide by zero" -- "$BIN" trapjmp

mkdir -p "$WORK/x/sub"
printf 'file content\n' >"$WORK/x/hello.txt"
ln -s /etc "$WORK/x/link"
WASI_EXPECT="prestat3=0|name=/data|prestat4=8|open=0|read=0|content=file content|seek=0|size=13|close=0|close_again=8|escape=76|escape2=76|absolute=76|symlink_escape=76|missing=44|symlink_follow_inside=0|symlink_nofollow=32|symlink_relative_escape=76|symlink_dir_inside=0|notdir=54|dot=31|stat=0|stat_type=4|stat_size=13|efault=21|readdir_small=0|readdir_used=10|badfd=8"
ln -s sub/../hello.txt "$WORK/x/inlink"
ln -s ../.. "$WORK/x/esc"
ln -s .. "$WORK/x/sub/up"
check wasi 0 "$WASI_EXPECT" "" -- env WASMAOT_WASI="--dir $WORK/x::/data --env A=1" "$BIN" wasi
check wasi_walk 0 "$WASI_EXPECT" "" -- env WASMAOT_WASI="--dir $WORK/x::/data --env A=1" "$BIN" wasi_walk
FS_EXPECT="mkdir=0|mkdir_again=20|create=0|create_excl=20|open_dir_notdir=54|open_dir=0|readdir_count=3|readdir_found=1|seek_dir=8|rename=0|readdir_after_rename=31|unlink_missing=44|unlink_trailing_slash=54|rmdir_nonempty=55|unlink_dir=31|unlink=0|rmdir=0|mkdir_dotdot=76|mkdir_abs=76|unlink_dotdot=76|rmdir_root=76|rename_out=76|symlink_abs=63|symlink_up=0|follow_up=76|mkdir_via_link=76|mkdir_via_link_abs=76|unlink_via_link=76|readlink=0|readlink_len=5|unlink_link=0|rename_back=0|renumber_badfd=8|poll_none=28|poll_clock=0|poll_nevents=1|poll_userdata=4660|poll_type=0"
check wasi_fs 0 "$FS_EXPECT" "" -- env WASMAOT_WASI="--dir $WORK/x::/data" "$BIN" wasi_fs
check wasi_fs_walk 0 "$FS_EXPECT" "" -- env WASMAOT_WASI="--dir $WORK/x::/data" "$BIN" wasi_fs_walk
[ -e "$WORK/x/d" ] || [ -e "$WORK/x/up2" ] || [ -e "$WORK/h" ] && { fail=$((fail + 1)); echo "FAIL wasi_fs left files behind"; }
[ -e /etc/x ] && { fail=$((fail + 1)); echo "FAIL wasi_fs escaped the sandbox"; }
# GUEST "." and a quoted HOST with a space and a quote (wasmaot-oci preopens a container's workdir
# as "." and top-level names as they are).
mkdir -p "$WORK/we ird'd"
cp -R "$WORK/x/." "$WORK/we ird'd/"
check wasi_dot_guest 0 "prestat3=0|name=.|open=0|content=file content|escape=76|missing=44" "" -- \
    env WASMAOT_WASI="--dir '$WORK/we ird'\\''d::.'" "$BIN" wasi
# A preopen the process may search but not read starts (O_PATH): files beneath still open.
if [ "$(id -u)" != 0 ]; then AS_USER=""; elif command -v setpriv >/dev/null 2>&1; then
    AS_USER="setpriv --reuid=65534 --regid=65534 --clear-groups"; else AS_USER=none; fi
if [ "$AS_USER" != none ]; then
    mkdir -p "$WORK/noread"
    cp -R "$WORK/x/." "$WORK/noread/"
    chmod 755 "$WORK"
    chmod 666 "$WORK/noread/hello.txt"   # the module opens it read-write
    chmod 311 "$WORK/noread"
    check wasi_search_only 0 "prestat3=0|name=/data|open=0|content=file content|escape=76|missing=44" "" -- \
        env WASMAOT_WASI="--dir $WORK/noread::/data" $AS_USER "$BIN" wasi
    chmod 755 "$WORK/noread"
fi
check env 0 "envc=2|env:A=1|env:B=two words" "" -- env WASMAOT_WASI="--env A=1 --env 'B=two words'" "$BIN" env
check inherit_env 0 "env:FOO=bar|env:A=2" "" -- env FOO=bar A=1 WASMAOT_WASI="--inherit-env --env A=2" "$BIN" env
if env FOO=bar WASMAOT_WASI="--inherit-env" "$BIN" env | grep -q WASMAOT_WASI; then
    fail=$((fail + 1)); echo "FAIL env_hidden (guest saw WASMAOT_WASI)"
else
    pass=$((pass + 1)); echo "PASS env_hidden"
fi
check bench 0 "" "bench elapsed: " -- env WASMAOT_WASI="--bench-timing" "$BIN" bench
check bench_off 0 "" "" -- "$BIN" bench
[ -s "$WORK/err" ] && { fail=$((fail + 1)); echo "FAIL bench_off printed to stderr"; }
check bad_option 1 "" "wasmaot: WASMAOT_WASI: unknown option --frobnicate" -- env WASMAOT_WASI="--frobnicate" "$BIN"
check bad_dir 1 "" "--dir $WORK/nonexistent" -- env WASMAOT_WASI="--dir $WORK/nonexistent" "$BIN"
check bad_type 1 "" "wasmaot: import wasi_snapshot_preview1.fd_write: type mismatch (expected iiii:i, module wants iii:i)" -- "$BADTYPE"
check unknown_import 1 "" "wasmaot: unknown import env.mystery" -- "$UNKNOWN"

if command -v file >/dev/null 2>&1; then
    is_static() { file "$1" | grep -q "statically linked"; }
else # no file(1): a static executable has no PT_INTERP / dynamic section
    is_static() { ! readelf -l "$1" | grep -qE "INTERP|DYNAMIC"; }
fi
if is_static "$REAL_BIN"; then
    pass=$((pass + 1)); echo "PASS static"
else
    fail=$((fail + 1)); echo "FAIL static: $(file "$REAL_BIN")"
fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
