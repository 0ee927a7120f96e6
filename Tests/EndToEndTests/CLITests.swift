import Foundation
import WAT
import XCTest

/// The `wasmaot` command line: diagnostics for bad input, --version, output kinds, and properties
/// of the produced executables.
final class CLITests: XCTestCase {
    static let hello = #"""
        (module
          (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 1)
          (data (i32.const 16) "hello, wasm\0a")
          (func $unused1 (result i32) (i32.const 1))
          (func $unused2 (param i32) (result i32) (i32.mul (local.get 0) (local.get 0)))
          (func (export "_start")
            (i32.store (i32.const 0) (i32.const 16))
            (i32.store (i32.const 4) (i32.const 12))
            (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
        """#

    /// `error: <file>: [function N[ name]] at offset 0x<hex>: <reason>`, one line.
    private func assertDiagnostic(_ r: ProcessResult, file path: String, function: Int? = nil,
                                  file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(r.status, 1, r.summary, file: file, line: line)
        let firstLine = r.stderrText.split(separator: "\n").first.map(String.init) ?? ""
        let fn = function.map { "function \($0)( [^ :]+)? " } ?? "(function [0-9]+( [^ :]+)? )?"
        let pattern = "^error: \(NSRegularExpression.escapedPattern(for: path)): \(fn)at offset 0x[0-9a-f]+: .+$"
        XCTAssertNotNil(firstLine.range(of: pattern, options: .regularExpression),
                        "diagnostic does not match \(pattern):\n\(r.stderrText)", file: file, line: line)
        XCTAssertFalse(r.stderrText.contains("Fatal error"), r.stderrText, file: file, line: line)
    }

    private func helloWasm(in dir: URL) throws -> URL {
        try watFile(Self.hello, in: dir, name: "hello.wasm")
    }

    func testTruncatedModule() throws {
        let dir = try makeTempDir("cli")
        let bytes = try wat2wasm(Self.hello)
        for cut in [bytes.count / 2, bytes.count - 1, 9] {
            let wasm = try write(Array(bytes.prefix(cut)), to: dir, as: "truncated\(cut).wasm")
            let r = try WasmAOT.tryCompile(wasm, to: dir.appendingPathComponent("out"))
            assertDiagnostic(r, file: wasm.path)
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("out").path),
                           "no output for a failed compile")
        }
    }

    func testGarbageInput() throws {
        let dir = try makeTempDir("cli")
        // Files that are not modules at all (text, empty, components…): BadInputTests.
        for (name, bytes): (String, [UInt8]) in [("badversion.wasm", [0x00, 0x61, 0x73, 0x6d, 0x02, 0x00, 0x00, 0x00]),
                              ("badsection.wasm", [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x0e, 0x01, 0x00])] {
            let wasm = try write(bytes, to: dir, as: name)
            let r = try WasmAOT.tryCompile(wasm, to: dir.appendingPathComponent("out"))
            assertDiagnostic(r, file: wasm.path)
        }
    }

    func testTypeErrorNamesFunctionAndOffset() throws {
        let dir = try makeTempDir("cli")
        let source = """
            (module
              (func $zero (result i32) (i32.const 0))
              (func $one (param i32) (result i32) (local.get 0))
              (func $two (drop (call $one (i32.const 2))))
              (func $three (result i32) (i64.const 3))
              (func (export "_start")))
            """
        let wasm = try write(try wat2wasm(source), to: dir, as: "typeerror.wasm")
        let r = try WasmAOT.tryCompile(wasm, to: dir.appendingPathComponent("out"))
        assertDiagnostic(r, file: wasm.path, function: 3)
        // The same with an import in front: the function index space counts imports.
        let withImport = source.replacingOccurrences(of: "(module\n", with: """
            (module
              (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))

            """)
        let wasm2 = try write(try wat2wasm(withImport), to: dir, as: "typeerror2.wasm")
        assertDiagnostic(try WasmAOT.tryCompile(wasm2, to: dir.appendingPathComponent("out")), file: wasm2.path, function: 4)
    }

    func testUnknownImportIsACompileError() throws {
        let dir = try makeTempDir("cli")
        let wasm = try watFile("""
            (module
              (import "env" "foo" (func $foo (param i32) (result i32)))
              (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
              (import "wasi_snapshot_preview1" "proc_exit" (func $bad (param i64)))
              (func (export "_start") (drop (call $foo (i32.const 1)))))
            """, in: dir)
        let out = dir.appendingPathComponent("out")
        let r = try WasmAOT.tryCompile(wasm, to: out)
        XCTAssertEqual(r.status, 1, r.summary)
        XCTAssertTrue(r.stderrText.hasPrefix("error: "), r.stderrText)
        XCTAssertTrue(r.stderrText.contains("env.foo"), r.stderrText)
        XCTAssertTrue(r.stderrText.contains("wasi_snapshot_preview1.proc_exit"), "wrong-typed WASI import listed too:\n\(r.stderrText)")
        XCTAssertFalse(r.stderrText.contains("fd_write"), r.stderrText)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
    }

    func testMissingInputFile() throws {
        let dir = try makeTempDir("cli")
        let r = try WasmAOT.tryCompile(dir.appendingPathComponent("nope.wasm"), to: dir.appendingPathComponent("out"))
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderrText.hasPrefix("error: "), r.stderrText)
        XCTAssertTrue(r.stderrText.contains("nope.wasm"), r.stderrText)
    }

    func testInvalidOptions() throws {
        let dir = try makeTempDir("cli")
        let wasm = try helloWasm(in: dir)
        for args in [["-O7"], ["--emit", "dll"], ["--target", "sparc"]] {
            let r = try WasmAOT.tryCompile(wasm, to: dir.appendingPathComponent("out"), args)
            XCTAssertNotEqual(r.status, 0, "\(args) accepted")
            XCTAssertFalse(r.stderrText.isEmpty, "\(args): no message")
        }
    }

    func testVersion() throws {
        let r = try Proc.run(try Paths.wasmaot(), ["--version"])
        XCTAssertEqual(r.status, 0, r.summary)
        let lines = r.stdoutText.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 3, r.stdoutText)
        guard lines.count == 3 else { return }
        XCTAssertNotNil(lines[0].range(of: #"^wasmaot \d+\.\d+\.\d+ \(build [0-9a-f]{16,}\)$"#, options: .regularExpression), lines[0])
        XCTAssertNotNil(lines[1].range(of: #"^LLVM \d+\.\d+"#, options: .regularExpression), lines[1])
        XCTAssertNotNil(lines[2].range(of: #"^runtime \S+ sha256:[0-9a-f]{64}$"#, options: .regularExpression), lines[2])
    }

    func testExecutableIsStaticAndRunsWithEmptyEnvironment() throws {
        let dir = try makeTempDir("cli")
        let exe = dir.appendingPathComponent("hello")
        try WasmAOT.compile(try helloWasm(in: dir), to: exe)
        if let file = Paths.which("file") {
            let r = try Proc.check(file, [exe.path])
            XCTAssertTrue(r.stdoutText.contains("statically linked"), r.stdoutText)
            XCTAssertTrue(r.stdoutText.contains("ELF 64-bit"), r.stdoutText)
        }
        let envI = try Proc.run("/usr/bin/env", ["-i", exe.path])
        XCTAssertEqual(envI.status, 0, envI.summary)
        XCTAssertEqual(envI.stdoutText, "hello, wasm\n")
        XCTAssertEqual(envI.stderrText, "")
        // From another directory, via a relative path, with stdin closed-ish.
        let other = try makeTempDir("cwd")
        let rel = try Proc.run("/usr/bin/env", ["-i", "../\(dir.lastPathComponent)/hello"], cwd: other)
        XCTAssertEqual(rel.stdoutText, "hello, wasm\n", rel.summary)
    }

    func testEmitObject() throws {
        let dir = try makeTempDir("cli")
        let obj = dir.appendingPathComponent("hello.o")
        try WasmAOT.compile(try helloWasm(in: dir), to: obj, ["--emit", "obj"])
        let bytes = [UInt8]((try? Data(contentsOf: obj)) ?? Data())
        XCTAssertGreaterThan(bytes.count, 64)
        guard bytes.count > 64 else { return }
        XCTAssertEqual(Array(bytes[0..<4]), [0x7f, 0x45, 0x4c, 0x46], "ELF magic")
        XCTAssertEqual(bytes[4], 2, "ELFCLASS64")
        XCTAssertEqual(UInt16(bytes[16]) | UInt16(bytes[17]) << 8, 1, "e_type ET_REL")
        XCTAssertEqual(UInt16(bytes[18]) | UInt16(bytes[19]) << 8, 62, "e_machine x86-64")
        if let file = Paths.which("file") {
            XCTAssertTrue(try Proc.check(file, [obj.path]).stdoutText.contains("relocatable"))
        }
    }

    func testEmitLLVMIRAndAssembly() throws {
        let dir = try makeTempDir("cli")
        let wasm = try helloWasm(in: dir)
        let ll = dir.appendingPathComponent("hello.ll"), s = dir.appendingPathComponent("hello.s")
        try WasmAOT.compile(wasm, to: ll, ["--emit", "llvm-ir"])
        let ir = (try? String(contentsOf: ll, encoding: .utf8)) ?? ""
        XCTAssertTrue(ir.contains("define "), String(ir.prefix(500)))
        XCTAssertTrue(ir.contains("wasmaot_module"), "the module descriptor symbol is defined")
        try WasmAOT.compile(wasm, to: s, ["--emit", "asm", "-O1"])
        let asm = (try? String(contentsOf: s, encoding: .utf8)) ?? ""
        XCTAssertTrue(asm.contains(".text"), String(asm.prefix(500)))
    }

    func testBakedWASIDefaultsAndOverride() throws {
        let dir = try makeTempDir("cli")
        let wasm = dir.appendingPathComponent("args_env.wasm")
        try Toolchains.cToWasm(try Paths.cFixture("args_env", into: dir), wasm)
        let exe = dir.appendingPathComponent("args_env")
        try WasmAOT.compile(wasm, to: exe, ["--env", "E2E_ALPHA=baked", "--env", "E2E_BETA=two words"])
        let baked = try Proc.run(exe.path, ["a"], environment: [:])
        XCTAssertEqual(baked.status, 2, baked.summary)
        XCTAssertTrue(baked.stdoutText.contains("E2E_ALPHA=<baked>\nE2E_BETA=<two words>\n"), baked.stdoutText)
        // WASMAOT_WASI replaces the baked defaults entirely.
        let replaced = try Proc.run(exe.path, [], environment: ["WASMAOT_WASI": "--env E2E_EMPTY="])
        XCTAssertTrue(replaced.stdoutText.contains("E2E_ALPHA=(unset)\nE2E_BETA=(unset)\nE2E_EMPTY=<>\n"), replaced.stdoutText)
        // An invalid configuration is reported, not ignored.
        let invalid = try Proc.run(exe.path, [], environment: ["WASMAOT_WASI": "--bogus"])
        XCTAssertNotEqual(invalid.status, 0, invalid.summary)
        XCTAssertFalse(invalid.stderrText.isEmpty)
        let missingDir = try Proc.run(exe.path, [], environment: ["WASMAOT_WASI": "--dir /nonexistent-e2e-dir::/"])
        XCTAssertNotEqual(missingDir.status, 0, missingDir.summary)
    }

    /// One `--env` grammar (wasmaot_env_entry_error) for the launcher, `run` in both spellings,
    /// `compile` and WASMAOT_WASI: NAME=VALUE with a non-empty name; VALUE may be empty.
    func testEnvGrammarIsTheSameEverywhere() throws {
        let dir = try makeTempDir("cli")
        let wasm = dir.appendingPathComponent("args_env.wasm")
        try Toolchains.cToWasm(try Paths.cFixture("args_env", into: dir), wasm)
        let exe = dir.appendingPathComponent("args_env")
        try WasmAOT.compile(wasm, to: exe, [])
        for (entry, why) in [("E2E_ALPHA", "expected NAME=VALUE"), ("=x", "the variable name is empty")] {
            for args in [["run", "--env", entry, wasm.path], ["run", "--env=" + entry, wasm.path],
                         ["compile", wasm.path, "-o", dir.appendingPathComponent("x").path, "--env", entry]] {
                let r = try Proc.run(try Paths.wasmaot(), args)
                XCTAssertEqual(r.status, 64, "\(args): \(r.summary)")
                XCTAssertTrue(r.stderrText.contains("--env '\(entry)': \(why)"), "\(args): \(r.stderrText)")
            }
            let artifact = try Proc.run(exe.path, [], environment: ["WASMAOT_WASI": "--env '\(entry)'"])
            XCTAssertNotEqual(artifact.status, 0, artifact.summary)
            XCTAssertTrue(artifact.stderrText.contains(why), artifact.stderrText)
        }
        // An empty value is an entry: the launcher's fast path and the compiler agree.
        let r = try Proc.run(try Paths.wasmaot(), ["run", "--env", "E2E_ALPHA=", wasm.path])
        XCTAssertTrue(r.stdoutText.contains("E2E_ALPHA=<>"), r.summary)
    }

    func testRunSubcommand() throws {
        let dir = try makeTempDir("cli")
        let wasm = dir.appendingPathComponent("args_env.wasm")
        try Toolchains.cToWasm(try Paths.cFixture("args_env", into: dir), wasm)
        // Options right after the module belong to wasmaot; from the first other word (or after
        // `--`) everything goes to the guest.
        let r = try WasmAOT.run([wasm.path, "--env", "E2E_ALPHA=x y", "--", "--env", "second"], cwd: dir)
        XCTAssertEqual(r.status, 3, r.summary)
        XCTAssertEqual(r.stdoutText, """
            argc=3
            argv[1]=<--env> len=5
            argv[2]=<second> len=6
            argv[argc]=NULL
            E2E_ALPHA=<x y>
            E2E_BETA=(unset)
            E2E_EMPTY=(unset)
            E2E_UNSET=(unset)
            E2E_WEIRD=(unset)

            """)
        let r2 = try WasmAOT.run(["-O1", wasm.path, "first", "--env", "E2E_BETA=no"], cwd: dir)
        XCTAssertEqual(r2.status, 4, r2.summary)
        XCTAssertTrue(r2.stdoutText.contains("argv[2]=<--env> len=5\nargv[3]=<E2E_BETA=no>"), r2.stdoutText)
        XCTAssertTrue(r2.stdoutText.contains("E2E_BETA=(unset)"), r2.stdoutText)
        // Traps keep their status through `run`.
        let trap = try watFile("(module (func (export \"_start\") unreachable))", in: dir, name: "trap.wasm")
        let t = try WasmAOT.run([trap.path])
        XCTAssertEqual(t.status, 134, t.summary)
        XCTAssertEqual(t.stderrText, "wasm trap: unreachable\n")
    }
}
