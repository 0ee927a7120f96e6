#!/usr/bin/env python3
"""Spec-test scripts through `wasmaot compile` executables (for targets the in-process embedding
cannot run: aarch64 under qemu-user, and the x86-64 CPUs `wasmaot compile` targets by default).

Each .wast is turned into modules and commands by wabt's `wast2json`. Every module without imports
that assertions invoke gets a `_start` appended (a new type, function, export and body: no index the
module already uses moves) that performs the module's commands in script order — the module's
`invoke`s and `assert_return`s with their constant arguments, `get` of exported globals — and
compares each result bit for bit (NaN lanes: `nan:canonical` lanes must hold a canonical NaN,
`nan:arithmetic` ones any quiet NaN), executing `unreachable` at the first mismatch. The first
command that may trap (`assert_trap`, `assert_exhaustion`) ends a module's run, as would a
command with an argument or result this harness cannot encode (references, `either`). The module
is compiled to an executable and run: exit 0 = every command passed. On a failure the shortest
failing prefix of its commands is found by bisection (state carries from command to command) and
reported with its line.

Usage: spec_exe.py --wasmaot BIN [--qemu QEMU] [--jobs N] [--compile="-O2 --target aarch64"] FILE.wast...
Prints one line per script (`simd_x.wast: N commands in M modules passed, F failed`) and a total;
exit status 1 if anything failed.
"""
import argparse
import concurrent.futures
import json
import os
import struct
import subprocess
import sys
import tempfile


def uleb(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def sleb(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if (n == 0 and not b & 0x40) or (n == -1 and b & 0x40):
            out.append(b)
            return bytes(out)
        out.append(b | 0x80)


def read_uleb(data, i):
    result = shift = 0
    while True:
        b = data[i]
        i += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return result, i


def signed(v, bits):
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) else v


class Unsupported(Exception):
    pass


LANES = {"i8": (16, 8), "i16": (8, 16), "i32": (4, 32), "i64": (2, 64), "f32": (4, 32), "f64": (2, 64)}


def v128_bytes(value):
    """(bytes, per-lane NaN kinds for float shapes or None) of a wast2json v128 value."""
    lane = value["lane_type"]
    count, bits = LANES[lane]
    raw = bytearray()
    nans = []
    for v in value["value"]:
        if v in ("nan:canonical", "nan:arithmetic"):
            nans.append(v)
            v = 0
        else:
            nans.append(None)
        raw += (int(v) & ((1 << bits) - 1)).to_bytes(bits // 8, "little")
    return bytes(raw), lane, nans


def const(value):
    """Instructions pushing an argument."""
    t = value["type"]
    if t == "i32":
        return b"\x41" + sleb(signed(int(value["value"]), 32))
    if t == "i64":
        return b"\x42" + sleb(signed(int(value["value"]), 64))
    if t == "f32":
        return b"\x43" + struct.pack("<I", int(value["value"]))
    if t == "f64":
        return b"\x44" + struct.pack("<Q", int(value["value"]))
    if t == "v128":
        raw, _, nans = v128_bytes(value)
        if any(nans):
            raise Unsupported("NaN pattern as argument")
        return b"\xfd\x0c" + raw
    raise Unsupported("argument of type " + t)


VALTYPE = {"i32": 0x7F, "i64": 0x7E, "f32": 0x7D, "f64": 0x7C, "v128": 0x7B}
TRAP_IF = b"\x04\x40\x00\x0b"  # if (then unreachable)


def check_int32(get, expected, mask=0xFFFFFFFF):
    """get (an i32 on the stack) & mask != expected → unreachable."""
    code = get
    if mask != 0xFFFFFFFF:
        code += b"\x41" + sleb(signed(mask, 32)) + b"\x71"  # i32.and
    return code + b"\x41" + sleb(signed(expected, 32)) + b"\x47" + TRAP_IF  # i32.ne


def check_int64(get, expected, mask=0xFFFFFFFFFFFFFFFF):
    code = get
    if mask != 0xFFFFFFFFFFFFFFFF:
        code += b"\x42" + sleb(signed(mask, 64)) + b"\x83"  # i64.and
    return code + b"\x42" + sleb(signed(expected, 64)) + b"\x52" + TRAP_IF  # i64.ne


def nan_check(get32or64, kind, bits):
    if bits == 32:
        mask, quiet = (0x7FFFFFFF if kind == "nan:canonical" else 0x7FC00000), 0x7FC00000
        return check_int32(get32or64, quiet, mask)
    mask, quiet = (0x7FFFFFFFFFFFFFFF if kind == "nan:canonical" else 0x7FF8000000000000), 0x7FF8000000000000
    return check_int64(get32or64, quiet, mask)


def check(expected, local):
    """Instructions comparing local `local` with an expected value (trap on mismatch)."""
    t = expected["type"]
    get = b"\x20" + uleb(local)
    if t in ("i32", "f32"):
        g = get + (b"\xbc" if t == "f32" else b"")  # i32.reinterpret_f32
        if expected["value"] in ("nan:canonical", "nan:arithmetic"):
            return nan_check(g, expected["value"], 32)
        return check_int32(g, int(expected["value"]))
    if t in ("i64", "f64"):
        g = get + (b"\xbd" if t == "f64" else b"")  # i64.reinterpret_f64
        if expected["value"] in ("nan:canonical", "nan:arithmetic"):
            return nan_check(g, expected["value"], 64)
        return check_int64(g, int(expected["value"]))
    if t == "v128":
        raw, lane, nans = v128_bytes(expected)
        code = b""
        if lane in ("f32", "f64") and any(nans):
            bits = 32 if lane == "f32" else 64
            for k, kind in enumerate(nans):
                extract = get + (b"\xfd\x1b" if bits == 32 else b"\xfd\x1d") + bytes([k])  # i32x4/i64x2.extract_lane
                if kind:
                    code += nan_check(extract, kind, bits)
                elif bits == 32:
                    code += check_int32(extract, int.from_bytes(raw[4 * k:4 * k + 4], "little"))
                else:
                    code += check_int64(extract, int.from_bytes(raw[8 * k:8 * k + 8], "little"))
            return code
        for k in range(2):
            code += check_int64(get + b"\xfd\x1d" + bytes([k]), int.from_bytes(raw[8 * k:8 * k + 8], "little"))
        return code
    raise Unsupported("result of type " + t)


class Module:
    """The sections of a binary module, and what _start needs: function and global indices of
    exports, function types."""

    def __init__(self, data):
        assert data[:8] == b"\x00asm\x01\x00\x00\x00"
        self.sections = []  # (id, payload)
        i = 8
        while i < len(data):
            sid = data[i]
            size, j = read_uleb(data, i + 1)
            self.sections.append((sid, bytes(data[j:j + size])))
            i = j + size
        self.types = []  # (params, results) as value type bytes, or None for non-function types
        self.functions = []  # type index per defined function
        self.exports = {}  # name -> (kind, index)
        self.imports = 0
        self.global_types = []
        for sid, payload in self.sections:
            if sid == 1:
                self._types(payload)
            elif sid == 2:
                n, _ = read_uleb(payload, 0)
                self.imports = n
            elif sid == 3:
                n, i = read_uleb(payload, 0)
                for _ in range(n):
                    t, i = read_uleb(payload, i)
                    self.functions.append(t)
            elif sid == 6:
                self._globals(payload)
            elif sid == 7:
                n, i = read_uleb(payload, 0)
                for _ in range(n):
                    length, i = read_uleb(payload, i)
                    name = payload[i:i + length].decode("utf-8", "surrogateescape")
                    i += length
                    kind = payload[i]
                    index, i = read_uleb(payload, i + 1)
                    self.exports[name] = (kind, index)

    def _types(self, payload):
        n, i = read_uleb(payload, 0)
        for _ in range(n):
            if payload[i] != 0x60:
                raise Unsupported("non-function type")
            i += 1
            np, i = read_uleb(payload, i)
            params = payload[i:i + np]
            i += np
            nr, i = read_uleb(payload, i)
            results = payload[i:i + nr]
            i += nr
            if any(b not in VALTYPE.values() for b in params + results):
                raise Unsupported("reference types in a signature")
            self.types.append((params, results))

    def _globals(self, payload):
        n, i = read_uleb(payload, 0)
        for _ in range(n):
            self.global_types.append(payload[i])
            i += 2  # type, mutability
            # skip the constant expression up to its `end` (only simple ones: one instruction)
            op = payload[i]
            if op in (0x41, 0x42):
                i += 1
                while payload[i] & 0x80:
                    i += 1
                i += 1
            elif op == 0x43:
                i += 5
            elif op == 0x44:
                i += 9
            elif op == 0xFD:
                i += 2 + 16
            elif op == 0x23:  # global.get
                i += 1
                while payload[i] & 0x80:
                    i += 1
                i += 1
            else:
                raise Unsupported("global initializer 0x%02x" % op)
            if payload[i] != 0x0B:
                raise Unsupported("global initializer of several instructions")
            i += 1

    def with_start(self, body, locals_):
        """The module's bytes with `(func (export "_start") (local ...) body)` appended."""
        if "_start" in self.exports:
            raise Unsupported("module exports _start")
        type_index = len(self.types)
        func_index = self.imports + len(self.functions)
        new = {
            1: (b"\x60\x00\x00",),
            3: (uleb(type_index),),
            7: (uleb(6) + b"_start" + b"\x00" + uleb(func_index),),
        }
        groups = []
        for t, n in locals_:
            groups.append(uleb(n) + bytes([t]))
        code = uleb(len(groups)) + b"".join(groups) + body + b"\x0b"
        new[10] = (uleb(len(code)) + code,)
        order = [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 10, 11]  # section order (data count before code)
        present = {sid for sid, _ in self.sections}
        out = bytearray(b"\x00asm\x01\x00\x00\x00")
        pending = dict(new)
        sections = list(self.sections)

        def emit(sid, payload):
            out.append(sid)
            out.extend(uleb(len(payload)))
            out.extend(payload)

        def extended(sid, payload):
            n, i = read_uleb(payload, 0)
            return uleb(n + 1) + payload[i:] + pending.pop(sid)[0]

        def flush_before(sid):
            # new sections the module lacks, placed before the first section that follows them
            for missing in [s for s in order if s in pending and s not in present]:
                if order.index(missing) < order.index(sid):
                    emit(missing, uleb(1) + pending.pop(missing)[0])

        for sid, payload in sections:
            if sid != 0 and sid in order:
                flush_before(sid)
            if sid in pending:
                emit(sid, extended(sid, payload))
            else:
                emit(sid, payload)
        for missing in [s for s in order if s in pending]:
            emit(missing, uleb(1) + pending.pop(missing)[0])
        return bytes(out)


def start_body(module, commands):
    """(_start's body, local declarations) performing `commands` (json commands) on `module`."""
    segments = []  # (instructions performing the command, [(valtype, k)] result slots, expected values)
    pool = {}  # valtype byte -> number of locals of that type needed
    for c in commands:
        action = c["action"]
        code = bytearray()
        kind, index = module.exports.get(action["field"], (None, None))
        if action["type"] == "get":
            if kind != 3 or index >= len(module.global_types):
                raise Unsupported("get of something but a defined global")
            results = [module.global_types[index]]
            code += b"\x23" + uleb(index)
        else:
            if kind != 0 or index < module.imports:
                raise Unsupported("invoke of something but a defined function")
            params, results = module.types[module.functions[index - module.imports]]
            for a in action["args"]:
                code += const(a)
            code += b"\x10" + uleb(index)
        results = list(results)
        if c["type"] == "action":
            code += b"\x1a" * len(results)  # drop
            segments.append((bytes(code), [], []))
            continue
        expected = c.get("expected")
        if expected is None:
            raise Unsupported("expectation wast2json does not describe (either)")
        if len(expected) != len(results):
            raise Unsupported("result count")
        counts = {}
        slots = []
        for t in results:
            slots.append((t, counts.get(t, 0)))
            counts[t] = counts.get(t, 0) + 1
        for t, n in counts.items():
            pool[t] = max(pool.get(t, 0), n)
        for e in expected:
            check(e, 0)  # raises Unsupported for what cannot be checked
        segments.append((bytes(code), slots, expected))
    order = [t for t in VALTYPE.values() if t in pool]
    base = {}
    n = 0
    for t in order:
        base[t] = n
        n += pool[t]
    body = bytearray()
    for code, slots, expected in segments:
        body += code
        for t, k in reversed(slots):
            body += b"\x21" + uleb(base[t] + k)  # local.set
        for (t, k), e in zip(slots, expected):
            body += check(e, base[t] + k)
    return bytes(body), [(t, pool[t]) for t in order]


def modules_and_commands(json_path):
    """[(module file, line, [commands])] in script order, for modules without imports."""
    with open(json_path) as f:
        script = json.load(f)
    runs = []
    current = None
    named = {}
    for c in script["commands"]:
        t = c["type"]
        if t == "module":
            current = {"file": c["filename"], "line": c["line"], "commands": [], "closed": False}
            runs.append(current)
            if "name" in c:
                named[c["name"]] = current
        elif t in ("assert_return", "action", "assert_trap", "assert_exhaustion"):
            target = named.get(c["action"].get("module")) if c["action"].get("module") else current
            if target is None or target["closed"]:
                continue
            if t in ("assert_trap", "assert_exhaustion"):
                target["closed"] = True
                continue
            target["commands"].append(c)
    return [r for r in runs if r["commands"]]


def compile_and_run(wasmaot, qemu, compile_args, wasm_bytes, workdir, stem):
    wasm = os.path.join(workdir, stem + ".wasm")
    exe = os.path.join(workdir, stem + ".exe")
    with open(wasm, "wb") as f:
        f.write(wasm_bytes)
    r = subprocess.run([wasmaot, "compile", wasm, "-o", exe] + compile_args, capture_output=True, text=True)
    if r.returncode != 0:
        return "compile failed: " + (r.stderr.strip() or r.stdout.strip())[:500]
    r = subprocess.run(([qemu] if qemu else []) + [exe], capture_output=True, text=True, timeout=120, env={})
    if r.returncode != 0:
        return "exit %d: %s" % (r.returncode, r.stderr.strip()[:300])
    return None


def run_module(args, json_dir, name, run, index):
    with open(os.path.join(json_dir, run["file"]), "rb") as f:
        data = f.read()
    try:
        module = Module(data)
        if module.imports:
            return (name, run, 0, None, "skipped: imports")
        # Commands the harness cannot encode end the run (like a trap would).
        usable = []
        for c in run["commands"]:
            try:
                start_body(module, [c])
            except Unsupported:
                break
            usable.append(c)
        if not usable:
            return (name, run, 0, None, "skipped: nothing encodable")
    except Unsupported as e:
        return (name, run, 0, None, "skipped: %s" % e)
    work = tempfile.mkdtemp(prefix="spec-exe-", dir=args.workdir)
    stem = "m%d" % index

    def attempt(k):
        body, locals_ = start_body(module, usable[:k])
        return compile_and_run(args.wasmaot, args.qemu, args.compile_args, module.with_start(body, locals_), work, stem)

    problem = attempt(len(usable))
    if problem is None:
        return (name, run, len(usable), None, None)
    # Shortest failing prefix.
    lo, hi = 0, len(usable)  # prefix lo passes (0 trivially), prefix hi fails
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if attempt(mid) is None:
            lo = mid
        else:
            hi = mid
    failing = usable[hi - 1]
    return (name, run, len(usable), "line %d: %s (%s)" % (failing["line"], json.dumps(failing["action"])[:300], attempt(hi)), None)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--wasmaot", required=True)
    p.add_argument("--qemu")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    p.add_argument("--workdir")
    p.add_argument("--compile", default="-O2", help="`wasmaot compile` arguments, separated by spaces")
    p.add_argument("files", nargs="+")
    args = p.parse_args()
    args.compile_args = args.compile.split()
    total_passed = total_failed = 0
    with tempfile.TemporaryDirectory(prefix="spec-exe-", dir=args.workdir) as tmp:
        args.workdir = tmp
        jobs = []
        for path in args.files:
            name = os.path.basename(path)
            json_dir = os.path.join(tmp, name + ".d")
            os.makedirs(json_dir)
            json_path = os.path.join(json_dir, "script.json")
            r = subprocess.run(["wast2json", "--enable-all", path, "-o", json_path], capture_output=True, text=True)
            if r.returncode != 0:
                print("%s: wast2json failed: %s" % (name, r.stderr.strip()[:300]))
                total_failed += 1
                continue
            for i, run in enumerate(modules_and_commands(json_path)):
                jobs.append((name, json_dir, run, i))
        results = {}
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            futures = [pool.submit(run_module, args, d, n, r, i) for (n, d, r, i) in jobs]
            for f in futures:
                name, run, count, failure, skipped = f.result()
                entry = results.setdefault(name, {"passed": 0, "failed": 0, "modules": 0, "skipped": [], "failures": []})
                if skipped:
                    entry["skipped"].append("line %d: %s" % (run["line"], skipped))
                elif failure:
                    entry["failed"] += 1
                    entry["modules"] += 1
                    entry["failures"].append(failure)
                else:
                    entry["passed"] += count
                    entry["modules"] += 1
        for path in args.files:
            name = os.path.basename(path)
            e = results.get(name)
            if e is None:
                continue
            print("%s: %d commands in %d modules passed, %d failed" % (name, e["passed"], e["modules"], e["failed"]))
            for f in e["failures"]:
                print("  FAILED " + f)
            for s in e["skipped"]:
                print("  module at " + s)
            total_passed += e["passed"]
            total_failed += e["failed"]
    print("%d passed, %d failed" % (total_passed, total_failed))
    sys.exit(1 if total_failed else 0)


if __name__ == "__main__":
    main()
