import Foundation
import XCTest

/// No guest path reaches outside its preopen: `..`, absolute paths, symlinks made by the host or
/// by the guest itself. Exit statuses propagate unchanged. The official wasi-testsuite runs too.
final class SandboxTests: XCTestCase {
    func testEscapeAttemptsFail() throws {
        let root = try makeTempDir("sandbox")
        let box = root.appendingPathComponent("box")
        try FileManager.default.createDirectory(at: box.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try "secret\n".write(to: root.appendingPathComponent("outside.txt"), atomically: true, encoding: .utf8)
        try "inside\n".write(to: box.appendingPathComponent("inside.txt"), atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: box.appendingPathComponent("host-link").path, withDestinationPath: "/etc")
        let wasm = root.appendingPathComponent("sandbox.wasm")
        try Toolchains.cToWasm(try Paths.cFixture("sandbox", into: root), wasm)
        let exe = root.appendingPathComponent("sandbox")
        try WasmAOT.compile(wasm, to: exe)
        let r = try Proc.run(exe.path, [], environment: ["WASMAOT_WASI": "--dir \(shellQuote(box.path))::."], cwd: box)
        XCTAssertEqual(r.status, 0, r.summary)
        let seen = Dictionary(uniqueKeysWithValues: r.stdoutText.split(separator: "\n").map {
            let parts = $0.split(separator: ":", maxSplits: 1)
            return (String(parts[0]), parts[1].trimmingCharacters(in: .whitespaces))
        })
        let notCapable = "Capabilities insufficient"
        XCTAssertEqual(seen["open ../outside.txt"], notCapable, r.stdoutText)
        XCTAssertEqual(seen["open sub/../../outside.txt"], notCapable, r.stdoutText)
        // wasi-libc maps absolute paths to a preopen by prefix; with only "." there is none.
        XCTAssertNotEqual(seen["open /etc/passwd"], "ok", r.stdoutText)
        XCTAssertEqual(seen["open sub/../inside.txt"], "ok", r.stdoutText)
        XCTAssertNotEqual(seen["symlink abs"], "ok", "an absolute symlink must be refused: \(r.stdoutText)")
        XCTAssertEqual(seen["open up-link/outside.txt"], notCapable, r.stdoutText)
        XCTAssertNotEqual(seen["open host-link/passwd"], "ok", r.stdoutText)
        XCTAssertEqual(seen["create ../created.txt"], notCapable, r.stdoutText)
        XCTAssertEqual(seen["mkdir ../newdir"], notCapable, r.stdoutText)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent("created.txt").path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent("newdir").path))
    }

    func testExitStatusesPropagate() throws {
        for status in [0, 1, 42, 255] {
            let r = try runWAT("""
                (module
                  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
                  (memory (export "memory") 1)
                  (func (export "_start") (call $exit (i32.const \(status)))))
                """)
            XCTAssertEqual(r.status, Int32(status), r.summary)
        }
    }

    /// The official wasi-testsuite (72 wasip1 tests), through Runtime/test/wasi-testsuite.sh, at
    /// -O2 and at the baseline tier.
    func testOfficialWasiTestsuite() throws {
        try runWasiTestsuite(opt: "-O2")
    }

    func testOfficialWasiTestsuiteAtBaselineTier() throws {
        try runWasiTestsuite(opt: "--tier=baseline")
    }

    private func runWasiTestsuite(opt: String) throws {
        let corpus = Paths.packageRoot.deletingLastPathComponent().appendingPathComponent("shared/corpora/wasi-testsuite")
        guard FileManager.default.fileExists(atPath: corpus.path) else {
            throw XCTSkip("wasi-testsuite corpus missing at \(corpus.path) (../shared beside the project)")
        }
        let script = Paths.packageRoot.appendingPathComponent("Runtime/test/wasi-testsuite.sh")
        var env = ProcessInfo.processInfo.environment
        env["WASI_TS_OPT"] = opt
        let r = try Proc.run("/bin/bash", [script.path, try Paths.wasmaot()], environment: env, timeout: 1200)
        let last = r.stdoutText.split(separator: "\n").last.map(String.init) ?? ""
        print("wasi-testsuite (\(opt)): \(last)")
        XCTAssertEqual(last, "72 passed, 0 failed", r.stdoutText + r.stderrText)
    }
}
