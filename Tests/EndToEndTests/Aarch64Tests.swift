import Foundation
import XCTest

/// `wasmaot compile --target aarch64` on this (x86-64) machine, with the outputs run under
/// qemu-user: static ARM executables whose output equals the x86-64 output (sightglass shootout,
/// the C fixtures), the project's own trap/semantics tests, the runtime's tests and the official
/// wasi-testsuite, and `--for-image` with both architectures.
///
/// Needs `aarch64-linux-gnu-gcc` with its static C library (gcc-aarch64-linux-gnu,
/// libc6-dev-arm64-cross) and `qemu-aarch64-static` or `qemu-aarch64` (qemu-user-static /
/// qemu-user); every test is skipped, saying what is missing, without them. qemu is invoked
/// explicitly: binfmt_misc is not needed.
final class Aarch64Tests: XCTestCase {
    struct Cross {
        var qemu: String
    }

    /// The cross toolchain and emulator, or a skip naming the package to install.
    private func cross() throws -> Cross {
        guard let gcc = Paths.which("aarch64-linux-gnu-gcc") else {
            throw XCTSkip("aarch64-linux-gnu-gcc not found (apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross)")
        }
        let libc = try Proc.run(gcc, ["-print-file-name=libc.a"]).stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        guard libc.hasPrefix("/"), FileManager.default.fileExists(atPath: libc) else {
            throw XCTSkip("no static C library for aarch64 (apt-get install libc6-dev-arm64-cross)")
        }
        guard let qemu = E2ETarget.qemu(for: "aarch64") else {
            throw XCTSkip("qemu-aarch64-static / qemu-aarch64 not found (apt-get install qemu-user-static)")
        }
        return Cross(qemu: qemu)
    }

    static let hello = """
        (module
          (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
          (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
          (memory (export "memory") 1)
          (data (i32.const 16) "hello from wasm\\n")
          (func (export "_start")
            (i32.store (i32.const 0) (i32.const 16)) (i32.store (i32.const 4) (i32.const 16))
            (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
            (call $exit (i32.const 42))))
        """

    /// e_machine of an ELF file (62 = x86-64, 183 = AArch64), nil if not ELF.
    static func elfMachine(_ path: String) -> UInt16? {
        guard let data = FileManager.default.contents(atPath: path), data.count > 20,
              data.prefix(4) == Data([0x7f, 0x45, 0x4c, 0x46]) else { return nil }
        return UInt16(data[18]) | UInt16(data[19]) << 8
    }

    static let emX86_64: UInt16 = 62
    static let emAArch64: UInt16 = 183

    // MARK: the executable

    func testStaticAarch64Executable() throws {
        let c = try cross()
        let dir = try makeTempDir("arm-exe")
        let wasm = try watFile(Self.hello, in: dir)
        let exe = dir.appendingPathComponent("hello")
        try WasmAOT.compile(wasm, to: exe, ["-O2", "--target", "aarch64"])
        guard let file = Paths.which("file") else { throw E2EError("file(1) is missing (apt-get install file)") }
        let description = try Proc.check(file, [exe.path]).stdoutText
        XCTAssertTrue(description.contains("ARM aarch64"), description)
        XCTAssertTrue(description.contains("statically linked"), description)
        XCTAssertEqual(Self.elfMachine(exe.path), Self.emAArch64)
        let r = try Proc.run(c.qemu, [exe.path], environment: [:], timeout: 60)
        XCTAssertEqual(r.status, 42, r.summary)
        XCTAssertEqual(r.stdoutText, "hello from wasm\n")
        XCTAssertEqual(r.stderrText, "")

        // The arm64 alias; `run` stays host-only; one --target without --for-image.
        let alias = dir.appendingPathComponent("hello-arm64")
        try WasmAOT.compile(wasm, to: alias, ["-O1", "--target", "arm64"])
        XCTAssertEqual(Self.elfMachine(alias.path), Self.emAArch64)
        let run = try WasmAOT.run(["--target", E2ETarget.hostArchitecture == "x86_64" ? "aarch64" : "x86_64", wasm.path])
        XCTAssertNotEqual(run.status, 0)
        XCTAssertTrue(run.stderrText.contains("wasmaot run compiles for this machine"), run.summary)
        let two = try WasmAOT.tryCompile(wasm, to: dir.appendingPathComponent("x"), ["--target", "x86_64,aarch64"])
        XCTAssertNotEqual(two.status, 0)
        XCTAssertTrue(two.stderrText.contains("several only with --for-image"), two.summary)
        let bad = try WasmAOT.tryCompile(wasm, to: dir.appendingPathComponent("x"), ["--target", "riscv64"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderrText.contains("unknown --target 'riscv64'"), bad.summary)
    }

    // MARK: --for-image with both architectures

    func testForImageWritesBothArchitecturesAndTheNodePicksItsOwn() throws {
        let c = try cross()
        let dir = try makeTempDir("arm-image")
        let app = try watFile(Self.hello, in: dir, name: "app.wasm")
        let wasmaot = try Paths.wasmaot()
        let r = try Proc.run(wasmaot, ["compile", app.path, "--for-image", "--target", "x86_64,aarch64"])
        XCTAssertEqual(r.status, 0, r.summary)
        let shipped = dir.appendingPathComponent("app.wasm.wasmaot")
        XCTAssertEqual(r.stdoutText, "\(shipped.path)/x86_64\n\(shipped.path)/aarch64\n")
        XCTAssertEqual(Self.elfMachine(shipped.appendingPathComponent("x86_64").path), Self.emX86_64)
        XCTAssertEqual(Self.elfMachine(shipped.appendingPathComponent("aarch64").path), Self.emAArch64)

        // The manifest lists both, each with its own architecture's identity; the host's is
        // exactly `wasmaot --version`.
        let manifest = try XCTUnwrap(try JSONSerialization.jsonObject(
            with: Data(contentsOf: shipped.appendingPathComponent("manifest.json"))) as? [String: Any])
        let artifacts = try XCTUnwrap(manifest["artifacts"] as? [String: [String: Any]])
        XCTAssertEqual(Set(artifacts.keys), ["x86_64", "aarch64"])
        let version = try Proc.check(wasmaot, ["--version"]).stdoutText.trimmingCharacters(in: .newlines)
        XCTAssertEqual(artifacts[E2ETarget.hostArchitecture]?["identity"] as? String, version)
        XCTAssertTrue((artifacts["aarch64"]?["identity"] as? String)?.contains("runtime aarch64-linux-gnu sha256:") ?? false, "\(artifacts)")
        XCTAssertTrue((artifacts["x86_64"]?["identity"] as? String)?.contains("runtime x86_64-linux-gnu sha256:") ?? false, "\(artifacts)")

        // Both run: natively and under qemu.
        let native = try Proc.run(shipped.appendingPathComponent(E2ETarget.hostArchitecture).path, [], environment: [:])
        XCTAssertEqual(native.status, 42, native.summary)
        let arm = try Proc.run(c.qemu, [shipped.appendingPathComponent("aarch64").path], environment: [:], timeout: 60)
        XCTAssertEqual(arm.status, 42, arm.summary)
        XCTAssertEqual(arm.stdoutText, native.stdoutText)

        // What the OCI handler runs: the node's (host's) architecture is picked.
        let cacheDir = dir.appendingPathComponent("cache")
        let picked = try Proc.run(wasmaot, ["cache", "artifact", "--trust-image-artifacts", "--cache-dir", cacheDir.path, app.path])
        XCTAssertEqual(picked.status, 0, picked.summary)
        XCTAssertEqual(picked.stdoutText, "\(shipped.path)/\(E2ETarget.hostArchitecture)\n")

        // An image with only the other architecture's artifact: refused, compiled for the node.
        let armOnlyDir = dir.appendingPathComponent("arm-only")
        try FileManager.default.createDirectory(at: armOnlyDir, withIntermediateDirectories: true)
        let armOnly = try watFile(Self.hello, in: armOnlyDir, name: "app.wasm")
        let foreign = E2ETarget.hostArchitecture == "x86_64" ? "aarch64" : "x86_64"
        XCTAssertEqual(try Proc.run(wasmaot, ["compile", armOnly.path, "--for-image", "--target", foreign, "-O1"]).status, 0)
        let fallback = try Proc.run(wasmaot, ["cache", "artifact", "--trust-image-artifacts", "--cache-dir", cacheDir.path, armOnly.path])
        XCTAssertEqual(fallback.status, 0, fallback.summary)
        XCTAssertTrue(fallback.stderrText.contains("image has no artifact for \(E2ETarget.hostArchitecture) (it has: \(foreign))"), fallback.summary)
        let compiled = fallback.stdoutText.trimmingCharacters(in: .newlines)
        XCTAssertTrue(compiled.hasPrefix(cacheDir.path), compiled)
        XCTAssertEqual(try Proc.run(compiled, [], environment: [:]).status, 42)
    }

    // MARK: sightglass shootout: aarch64 output == x86-64 output == *.expected

    func testShootoutMatchesX86_64() throws {
        let c = try cross()
        let corpus = Paths.sightglass.appendingPathComponent("shootout")
        guard FileManager.default.fileExists(atPath: corpus.path) else {
            throw XCTSkip("sightglass corpus not found at \(corpus.path)")
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: corpus.path).sorted()
        let stems = files.filter { $0.hasPrefix("shootout-") && $0.hasSuffix(".wasm") }.map { String($0.dropLast(5)) }
        XCTAssertGreaterThan(stems.count, 10, "expected the shootout-*.wasm benchmarks in \(corpus.path)")
        let work = try makeTempDir("arm-shootout")
        let wasmaot = try Paths.wasmaot()
        let started = Date()
        let outcomes = concurrentMap(stems, width: 2) { stem -> (String, [String], Double) in
            let t0 = Date()
            var problems: [String] = []
            do {
                let dir = work.appendingPathComponent(stem)
                try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
                for file in files where file.hasPrefix(stem + ".") {
                    let target = dir.appendingPathComponent(file)
                    try FileManager.default.copyItem(at: corpus.appendingPathComponent(file), to: target)
                    try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: target.path)
                }
                // Both architectures in one go, as an image build would.
                let built = try Proc.run(wasmaot, ["compile", "\(stem).wasm", "--for-image", "--target", "x86_64,aarch64", "-O2"], cwd: dir)
                guard built.status == 0 else { return (stem, ["compile: \(built.summary)"], Date().timeIntervalSince(t0)) }
                let x86 = dir.appendingPathComponent("\(stem).wasm.wasmaot/x86_64").path
                let arm = dir.appendingPathComponent("\(stem).wasm.wasmaot/aarch64").path
                if Self.elfMachine(arm) != Self.emAArch64 { problems.append("\(arm) is not an AArch64 ELF file") }
                let env = ["WASMAOT_WASI": "--dir ."]
                let onX86 = try Proc.run(x86, [], environment: env, cwd: dir)
                let onArm = try Proc.run(c.qemu, [arm], environment: env, cwd: dir, timeout: 600)
                if onArm.status != 0 { problems.append("aarch64 exit \(onArm.summary)") }
                if onArm.status != onX86.status { problems.append("exit status: aarch64 \(onArm.status), x86-64 \(onX86.status)") }
                if onArm.stdout != onX86.stdout { problems.append("stdout differs from x86-64:\n\(onArm.stdoutText.prefix(300))\nvs\n\(onX86.stdoutText.prefix(300))") }
                if onArm.stderr != onX86.stderr { problems.append("stderr differs from x86-64:\n\(onArm.stderrText.prefix(300))\nvs\n\(onX86.stderrText.prefix(300))") }
                for (stream, actual) in [("stdout", onArm.stdout), ("stderr", onArm.stderr)] {
                    let expected = dir.appendingPathComponent("\(stem).\(stream).expected")
                    guard let want = FileManager.default.contents(atPath: expected.path) else { continue }
                    if want != actual { problems.append("aarch64 \(stream) differs from \(stem).\(stream).expected") }
                }
            } catch {
                problems.append("\(error)")
            }
            return (stem, problems, Date().timeIntervalSince(t0))
        }
        var equal = 0
        for (stem, problems, seconds) in outcomes {
            print("aarch64 \(stem): \(problems.isEmpty ? "equal" : "FAILED") in \(String(format: "%.1f", seconds))s")
            if problems.isEmpty { equal += 1 }
            for p in problems { XCTFail("\(stem): \(p)") }
        }
        print("aarch64 shootout: \(equal)/\(stems.count) equal to x86-64 and *.expected in \(String(format: "%.0f", Date().timeIntervalSince(started)))s")
    }

    // MARK: the C fixtures: aarch64 == x86-64 == native

    /// One run of a fixture: arguments, guest environment, and whether it works in a directory.
    struct CRun: Sendable {
        var args: [String] = []
        var env: [(String, String)] = []
        var inDirectory = false
        var compareWithNative = true
    }

    static let cRuns: [(fixture: String, runs: [CRun])] = [
        ("math", [CRun()]),
        ("alloc", [CRun()]),
        ("recursion", [CRun(), CRun(args: ["100000"])]),
        ("args_env", [CRun(), CRun(args: ["one", "two words", "", "ünïcödé ✓", "--flag=x", "-O2"]),
                      CRun(args: ["x"], env: [("E2E_ALPHA", "1"), ("E2E_BETA", "hello world"), ("E2E_EMPTY", ""), ("E2E_WEIRD", "a=b=c 'q' \"d\"")])]),
        ("exitcode", ["exit3", "ret42", "exit0", "exit255", "exit300", "quick7", "none"].map { CRun(args: [$0]) }),
        ("strings", [CRun()]),
        ("fileio", [CRun(inDirectory: true)]),
        ("fsops", [CRun(inDirectory: true)]),
        // Escape attempts: the guest's view only exists for the Wasm builds.
        ("sandbox", [CRun(inDirectory: true, compareWithNative: false)]),
    ]

    func testCProgramsMatchX86_64AndNative() throws {
        let c = try cross()
        let work = try makeTempDir("arm-c")
        let started = Date()
        let outcomes = concurrentMap(Self.cRuns, width: 2) { item -> (String, [String]) in
            var problems: [String] = []
            do {
                let dir = work.appendingPathComponent(item.fixture)
                try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
                let source = try Paths.cFixture(item.fixture, into: dir)
                let wasm = dir.appendingPathComponent("\(item.fixture).wasm")
                try Toolchains.cToWasm(source, wasm)
                let native = dir.appendingPathComponent("native"), x86 = dir.appendingPathComponent("x86_64"), arm = dir.appendingPathComponent("aarch64")
                try Toolchains.cToNative(source, native)
                try WasmAOT.compile(wasm, to: x86, ["-O2", "--target", "x86_64"])
                try WasmAOT.compile(wasm, to: arm, ["-O2", "--target", "aarch64"])
                for (n, run) in item.runs.enumerated() {
                    problems += try Self.compare(item.fixture, run, index: n, native: native, x86: x86, arm: arm, qemu: c.qemu, in: dir)
                }
            } catch {
                problems.append("\(error)")
            }
            return (item.fixture, problems)
        }
        var ok = 0
        for (fixture, problems) in outcomes {
            if problems.isEmpty { ok += 1 }
            for p in problems { XCTFail("\(fixture): \(p)") }
        }
        print("aarch64 C fixtures: \(ok)/\(outcomes.count) equal to x86-64 (and native) in \(String(format: "%.0f", Date().timeIntervalSince(started)))s")
    }

    /// Runs the three builds of a fixture the same way and lists the differences.
    private static func compare(_ fixture: String, _ run: CRun, index: Int, native: URL, x86: URL, arm: URL,
                                qemu: String, in dir: URL) throws -> [String] {
        let config = run.env.map { "--env \(shellQuote("\($0.0)=\($0.1)"))" }.joined(separator: " ")
        var nativeEnv: [String: String] = [:]
        for (k, v) in run.env { nativeEnv[k] = v }
        let label = "run \(index) \(run.args.prefix(3))"
        // Identical fresh directories per build (seeded like CProgramTests / SandboxTests).
        var dirs: [String: URL] = [:]
        if run.inDirectory {
            for name in ["native", "x86_64", "aarch64"] {
                let d = dir.appendingPathComponent("run\(index)-\(name)")
                try FileManager.default.createDirectory(at: d.appendingPathComponent("sub"), withIntermediateDirectories: true)
                try "10\n20\n-5\nlast line without newline 7".write(to: d.appendingPathComponent("input.txt"), atomically: true, encoding: .utf8)
                try "inside\n".write(to: d.appendingPathComponent("inside.txt"), atomically: true, encoding: .utf8)
                dirs[name] = d
            }
        }
        func wasiConfig(_ name: String) -> String {
            guard let d = dirs[name] else { return config }
            return "--dir \(shellQuote(d.path))::. " + config
        }
        let onX86 = try Proc.run(x86.path, run.args, environment: ["WASMAOT_WASI": wasiConfig("x86_64")], cwd: dirs["x86_64"])
        let onArm = try Proc.run(qemu, [arm.path] + run.args, environment: ["WASMAOT_WASI": wasiConfig("aarch64")],
                                 cwd: dirs["aarch64"], timeout: 300)
        var problems: [String] = []
        if onArm.status != onX86.status { problems.append("\(label): exit status aarch64 \(onArm.status) vs x86-64 \(onX86.status)\n\(onArm.summary)") }
        if onArm.stdout != onX86.stdout { problems.append("\(label): stdout differs\naarch64: \(onArm.stdoutText.prefix(500))\nx86-64: \(onX86.stdoutText.prefix(500))") }
        if !onArm.stderr.isEmpty { problems.append("\(label): aarch64 stderr: \(onArm.stderrText.prefix(500))") }
        if run.compareWithNative {
            let onNative = try Proc.run(native.path, run.args, environment: nativeEnv, cwd: dirs["native"])
            if onNative.status != onArm.status { problems.append("\(label): exit status aarch64 \(onArm.status) vs native \(onNative.status)") }
            if onNative.stdout != onArm.stdout { problems.append("\(label): stdout differs from native:\naarch64: \(onArm.stdoutText.prefix(500))\nnative: \(onNative.stdoutText.prefix(500))") }
        }
        // Files the programs left behind must match too.
        if let a = dirs["aarch64"], let x = dirs["x86_64"] {
            let fm = FileManager.default
            let armFiles = try fm.contentsOfDirectory(atPath: a.path).sorted(), x86Files = try fm.contentsOfDirectory(atPath: x.path).sorted()
            if armFiles != x86Files { problems.append("\(label): files left differ: \(armFiles) vs \(x86Files)") }
            for f in armFiles where x86Files.contains(f) {
                let pa = a.appendingPathComponent(f).path, px = x.appendingPathComponent(f).path
                var isDir: ObjCBool = false
                if fm.fileExists(atPath: pa, isDirectory: &isDir), isDir.boolValue { continue }
                if (try? fm.destinationOfSymbolicLink(atPath: pa)) != (try? fm.destinationOfSymbolicLink(atPath: px)) {
                    problems.append("\(label): symlink \(f) differs")
                } else if fm.contents(atPath: pa) != fm.contents(atPath: px) {
                    problems.append("\(label): content of \(f) differs")
                }
            }
        }
        return problems
    }

    // MARK: SIMD

    /// The 2.0 SIMD spec scripts' commands as aarch64 executables (NEON) under qemu, at -O2 and at
    /// the baseline tier (SIMDTests.specScriptsAsExecutables).
    func testSIMDSpecScriptsUnderQemu() throws {
        let c = try cross()
        for compile in ["-O2 --target aarch64", "--tier baseline --target aarch64"] {
            let total = try SIMDTests.specScriptsAsExecutables(compile, qemu: c.qemu)
            print("aarch64 SIMD spec scripts as executables (\(compile)): \(total)")
        }
    }

    /// The auto-vectorized C program (clang -O3 -msimd128) prints what its native build prints.
    func testAutoVectorizedCProgramUnderQemu() throws {
        let c = try cross()
        let dir = try makeTempDir("arm-simd-c")
        let built = try SIMDTests.buildVectorized(in: dir)
        let native = try Proc.run(built.native.path)
        XCTAssertEqual(native.status, 0, native.summary)
        for opt in ["-O2", "--tier=baseline"] {
            let exe = dir.appendingPathComponent("simd-arm\(opt)")
            try WasmAOT.compile(built.wasm, to: exe, [opt, "--target", "aarch64"])
            XCTAssertEqual(Self.elfMachine(exe.path), Self.emAArch64)
            let r = try Proc.run(c.qemu, [exe.path], environment: [:], timeout: 300)
            XCTAssertEqual(r.status, 0, "\(opt): \(r.summary)")
            XCTAssertEqual(r.stdoutText, native.stdoutText, "\(opt): output differs from the native build")
        }
    }

    /// Relaxed SIMD's results on aarch64 (fused multiply-add, NEON's fmin/fmax, tbl, fcvtzs,
    /// sqrdmulh, bsl, signed dot products) are the same at -O0 and -O2, at the baseline tier and for
    /// a Neoverse V1 (SVE, dot-product instructions) — SIMDTests.relaxedModule under qemu.
    func testRelaxedSIMDIsDeterministicOnAarch64() throws {
        let c = try cross()
        let dir = try makeTempDir("arm-relaxed")
        let wasm = try watFile(SIMDTests.relaxedModule, in: dir)
        var outputs: [(String, [UInt8])] = []
        for args in [["-O2"], ["-O0"], ["--tier=baseline"], ["-O2", "--cpu=neoverse-v1"]] {
            let exe = dir.appendingPathComponent("relaxed" + args.joined().replacingOccurrences(of: "=", with: ""))
            try WasmAOT.compile(wasm, to: exe, args + ["--target", "aarch64"])
            let r = try Proc.run(c.qemu, [exe.path], environment: [:], timeout: 120)
            XCTAssertEqual(r.status, 0, "\(args): \(r.summary)")
            XCTAssertEqual(r.stdout.count, 16 * SIMDTests.relaxedOps.count * SIMDTests.relaxedInputs.count, "\(args)")
            outputs.append((args.joined(separator: " "), Array(r.stdout)))
        }
        let results = SIMDTests.relaxedOps.count * SIMDTests.relaxedInputs.count
        for (args, out) in outputs.dropFirst() where out.count == outputs[0].1.count {
            if let index = (0..<results).first(where: { !SIMDTests.sameResult(out, outputs[0].1, index: $0) }) {
                XCTFail("\(args): differs from -O2: \(SIMDTests.relaxedOps[index / SIMDTests.relaxedInputs.count].op) of input \(index % SIMDTests.relaxedInputs.count)")
            }
        }
    }

    // MARK: the project's own tests, retargeted

    /// TrapTests, SemanticsTests (memory growth, numerics, control flow, tables) and the exit
    /// status test run again in a child test process with WASMAOT_E2E_TARGET=aarch64: every
    /// module is compiled for aarch64 and run under qemu (see `E2ETarget`).
    func testProjectTrapAndSemanticsTestsOnAarch64() throws {
        _ = try cross()
        guard !E2ETarget.isForeign else { throw XCTSkip("already running with WASMAOT_E2E_TARGET=\(E2ETarget.architecture)") }
        let bundle = try testBundleExecutable()
        let filters = ["EndToEndTests.TrapTests", "EndToEndTests.SemanticsTests", "EndToEndTests.SandboxTests/testExitStatusesPropagate"]
        var env = ProcessInfo.processInfo.environment
        env["WASMAOT_E2E_TARGET"] = "aarch64"
        let started = Date()
        let r = try Proc.run(bundle, [filters.joined(separator: ",")], environment: env, timeout: 1200)
        let summary = r.stdoutText.split(separator: "\n").last { $0.contains("Executed") }.map {
            $0.trimmingCharacters(in: .whitespaces)
        } ?? ""
        print("aarch64 TrapTests+SemanticsTests+exit statuses under qemu: \(summary) (\(String(format: "%.0f", Date().timeIntervalSince(started)))s wall)")
        XCTAssertEqual(r.status, 0, "child test run failed:\n" + r.stdoutText.split(separator: "\n").filter {
            $0.contains("error") || $0.contains("failed") }.prefix(40).joined(separator: "\n"))
        // The child must really have run them (all of TrapTests and SemanticsTests: 29+ tests).
        let executed = summary.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        XCTAssertGreaterThanOrEqual(executed, 29, summary)
        XCTAssertTrue(summary.contains("with 0 failures"), summary)
    }

    /// The XCTest executable running this test (swift test runs `<package>PackageTests.xctest`).
    private func testBundleExecutable() throws -> String {
        let selfExe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        if selfExe.hasSuffix(".xctest") { return selfExe }
        for config in ["debug", "release"] {
            let candidate = Paths.packageRoot.appendingPathComponent(".build/\(config)/wasmaotPackageTests.xctest").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw E2EError("cannot find the test bundle executable (running as \(selfExe))")
    }

    /// Runtime/test (traps, stack guard, memory growth, tables, WASI) built for aarch64 and run
    /// under qemu.
    func testRuntimeTestsOnAarch64() throws {
        let c = try cross()
        guard let make = Paths.which("make") else { throw E2EError("make is missing") }
        let r = try Proc.run(make, ["-s", "-C", Paths.packageRoot.appendingPathComponent("Runtime").path, "test",
                                    "TRIPLE=aarch64-linux-gnu", "CC=aarch64-linux-gnu-gcc", "TEST_RUNNER=\(c.qemu)"], timeout: 600)
        let last = r.stdoutText.split(separator: "\n").last.map(String.init) ?? ""
        print("aarch64 runtime tests under qemu: \(last)")
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertTrue(last.hasSuffix(" passed, 0 failed"), r.summary)
        XCTAssertGreaterThanOrEqual(Int(last.split(separator: " ").first ?? "") ?? 0, 30, last)
    }

    /// The official wasi-testsuite (wasm32-wasip1: C, Rust, AssemblyScript) compiled for aarch64
    /// and run under qemu. At -O0: these tests exercise the runtime's WASI layer, and unoptimized
    /// compiles of the 46 large Rust modules take a quarter of the time (optimized aarch64 code is
    /// covered by the shootout and C fixture tests at -O2, traps at -O0 and -O2).
    func testOfficialWasiTestsuiteOnAarch64() throws {
        let c = try cross()
        let corpus = Paths.packageRoot.deletingLastPathComponent().appendingPathComponent("shared/corpora/wasi-testsuite")
        guard FileManager.default.fileExists(atPath: corpus.path) else {
            throw XCTSkip("wasi-testsuite corpus missing at \(corpus.path) (../shared beside the project)")
        }
        let script = Paths.packageRoot.appendingPathComponent("Runtime/test/wasi-testsuite.sh")
        var env = ProcessInfo.processInfo.environment
        env["WASI_TS_TARGET"] = "aarch64"
        env["WASI_TS_RUNNER"] = c.qemu
        env["WASI_TS_OPT"] = "-O0"
        env["WASI_TS_DIRECT"] = nil
        env["WASI_TS_LIB"] = nil
        env["WASI_TS_FILTER"] = nil
        let started = Date()
        let r = try Proc.run("/bin/bash", [script.path, try Paths.wasmaot()], environment: env, timeout: 1800)
        let last = r.stdoutText.split(separator: "\n").last.map(String.init) ?? ""
        print("aarch64 wasi-testsuite under qemu: \(last) (\(String(format: "%.0f", Date().timeIntervalSince(started)))s)")
        XCTAssertEqual(last, "72 passed, 0 failed", r.stdoutText + r.stderrText)
    }
}
