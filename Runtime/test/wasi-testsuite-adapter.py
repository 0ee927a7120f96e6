#!/usr/bin/env python3
"""wasi-testsuite runtime adapter for `wasmaot run`.

Implements the command-line adapter interface of the official runner
(github.com/WebAssembly/wasi-testsuite, test-runner/, doc/adapters.md):

    adapter.py --version                      prints "<NAME> <VERSION>"
    adapter.py --test-file F [--arg A]... [--env K=V]... [--dir D]...

and runs `wasmaot run [--env K=V]... [--dir HOST::GUEST]... F ARGS...`,
exiting with the guest's exit status. The runner starts the adapter with the
test's folder as the working directory, so relative `--dir` paths resolve there.

The wasmaot binary comes from $WASMAOT, else this package's .build/debug/wasmaot,
else `wasmaot` on PATH.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def wasmaot() -> str:
    if os.environ.get("WASMAOT"):
        return os.environ["WASMAOT"]
    local = HERE.parent.parent / ".build" / "debug" / "wasmaot"  # Runtime/test -> package root
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    return shutil.which("wasmaot") or "wasmaot"


def spec_root(test_file: str):
    """The test spec's "root" folder (preopened as "/"), if any.

    Newer wasi-testsuite specs (like this corpus) give the filesystem tests a
    "root" instead of "dirs"; runner versions that predate that key ignore it
    and pass no --dir, so the adapter reads it from X.json itself.
    """
    spec = Path(test_file).with_suffix(".json")
    if not spec.is_file():
        return None
    root = json.loads(spec.read_text(encoding="utf-8")).get("root")
    return str(spec.parent / root) if root else None


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--version", action="store_true")
    parser.add_argument("--test-file")
    parser.add_argument("--arg", action="append", default=[])
    parser.add_argument("--env", action="append", default=[])
    parser.add_argument("--dir", action="append", default=[])
    args = parser.parse_args()

    if args.version:
        # `wasmaot --version` prints "wasmaot 0.1.0" first; the runner wants "NAME VERSION".
        out = subprocess.run([wasmaot(), "--version"], capture_output=True, text=True, check=True)
        print(out.stdout.splitlines()[0].strip())
        return 0
    if not args.test_file:
        parser.error("--test-file is required")

    argv = [wasmaot(), "run"]
    for kv in args.env:
        argv += ["--env", kv]
    # Spec "dirs" entries are preopened under their own (relative) name.
    for d in args.dir:
        argv += ["--dir", f"{d}::{d}"]
    root = None if args.dir else spec_root(args.test_file)
    if root:
        argv += ["--dir", f"{root}::/"]
    argv += [args.test_file] + args.arg
    return subprocess.run(argv).returncode


if __name__ == "__main__":
    sys.exit(main())
