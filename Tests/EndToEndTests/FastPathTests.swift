import Foundation
import WAT
import XCTest

/// The `wasmaot` launcher starts a cached artifact itself (no compiler process) when its fast-path
/// record still matches; any change to the module, artifact, compiler inputs or options sends it
/// back to the compiler, which re-verifies and rebuilds. These tests pin `--tier optimized` (one
/// artifact per module); TierTests covers the two tiers.
final class FastPathTests: XCTestCase {
    private func printer(_ word: String) -> String {
        """
        (module
          (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 1)
          (data (i32.const 16) "\(word)\\n")
          (func (export "_start")
            (i32.store (i32.const 0) (i32.const 16)) (i32.store (i32.const 4) (i32.const \(word.utf8.count + 1)))
            (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
        """
    }

    private func environment(_ cache: URL, extra: [String: String] = [:]) -> [String: String] {
        ["WASMAOT_CACHE_DIR": cache.path, "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
            .merging(extra) { $1 }
    }

    /// The successful execve calls of `wasmaot ARGS…` (strace), or nil where strace is missing.
    private func programsStarted(_ args: [String], cache: URL) throws -> [String]? {
        guard let strace = Paths.which("strace") else { return nil }
        let traced = try Proc.run(strace, ["-f", "-qq", "-e", "trace=execve", "-e", "signal=none", try Paths.wasmaot()] + args,
                                  environment: environment(cache))
        return traced.stderrText.split(separator: "\n").map(String.init).filter { $0.contains("execve(") && $0.contains("= 0") }
    }

    /// Runs until the launcher serves it (the compiler records only modules that have settled for
    /// 50 ms, so a just-written module may need one more slow run).
    private func warm(_ args: [String], env: [String: String], cwd: URL? = nil) throws -> ProcessResult {
        var last: ProcessResult? = nil
        for _ in 0..<3 {
            let r = try WasmAOT.run(["-v", "--tier", "optimized"] + args, cwd: cwd, environment: env)
            if r.stderrText.contains("cache hit (fast path, optimized tier)") { return r }
            last = r
            Thread.sleep(forTimeInterval: 0.1)
        }
        XCTFail("never served by the fast path: \(last?.summary ?? "")")
        return last!
    }

    func testSecondRunNeedsNoCompilerAndSeesEdits() throws {
        let dir = try makeTempDir("fast")
        let cache = dir.appendingPathComponent("cache")
        let wasm = try watFile(printer("one"), in: dir)
        Thread.sleep(forTimeInterval: 0.1)
        let first = try WasmAOT.run(["-v", "--tier", "optimized", wasm.path], environment: environment(cache))
        XCTAssertEqual(first.stdoutText, "one\n", first.summary)
        XCTAssertTrue(first.stderrText.contains("compiled (optimized tier) in"), first.summary)

        let second = try WasmAOT.run(["-v", "--tier", "optimized", wasm.path], environment: environment(cache))
        XCTAssertEqual(second.status, 0, second.summary)
        XCTAssertEqual(second.stdoutText, "one\n")
        XCTAssertTrue(second.stderrText.hasPrefix("wasmaot: cache hit (fast path, optimized tier): "), second.summary)
        // Exactly two programs ran: the launcher and the artifact (no compiler in between).
        if let execs = try programsStarted(["run", "--tier", "optimized", wasm.path], cache: cache) {
            XCTAssertEqual(execs.count, 2, execs.joined(separator: "\n"))
            XCTAssertFalse(execs.contains { $0.contains("wasmaot-compiler") }, execs.joined(separator: "\n"))
        }

        // Same size, same inode, old mtime put back: ctime still gives the edit away.
        let original = try FileManager.default.attributesOfItem(atPath: wasm.path)[.modificationDate] as! Date
        let edited = try wat2wasm(printer("two"))
        XCTAssertEqual(edited.count, try Data(contentsOf: wasm).count)
        let handle = try FileHandle(forWritingTo: wasm)
        try handle.write(contentsOf: Data(edited))
        try handle.close()
        try FileManager.default.setAttributes([.modificationDate: original], ofItemAtPath: wasm.path)
        let third = try WasmAOT.run(["-v", "--tier", "optimized", wasm.path], environment: environment(cache))
        XCTAssertEqual(third.stdoutText, "two\n", third.summary)
        XCTAssertTrue(third.stderrText.contains("compiled (optimized tier) in"), third.summary)
        let fourth = try warm([wasm.path], env: environment(cache))
        XCTAssertEqual(fourth.stdoutText, "two\n", fourth.summary)
    }

    func testTamperedOrRemovedArtifactGoesBackToTheCompiler() throws {
        let dir = try makeTempDir("fasttamper")
        let cache = dir.appendingPathComponent("cache")
        let wasm = try watFile(printer("ok"), in: dir)
        let hit = try warm([wasm.path], env: environment(cache))
        let artifact = String(hit.stderrText.split(separator: " ").last!).trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertTrue(FileManager.default.fileExists(atPath: artifact), artifact)

        // Same-size overwrite: the launcher refuses the record, the compiler's digest check rebuilds.
        let size = try Data(contentsOf: URL(fileURLWithPath: artifact)).count
        var junk = Data("#!/bin/sh\necho tampered\n".utf8)
        junk.append(Data(count: size - junk.count))
        try junk.write(to: URL(fileURLWithPath: artifact))
        let rebuilt = try WasmAOT.run(["-v", "--tier", "optimized", wasm.path], environment: environment(cache))
        XCTAssertEqual(rebuilt.stdoutText, "ok\n", rebuilt.summary)
        XCTAssertTrue(rebuilt.stderrText.contains("compiled (optimized tier) in"), rebuilt.summary)

        // `cache clear` empties entries and records alike.
        let clear = try Proc.run(try Paths.wasmaot(), ["cache", "clear", "--cache-dir", cache.path])
        XCTAssertEqual(clear.status, 0, clear.summary)
        XCTAssertFalse(FileManager.default.fileExists(atPath: cache.appendingPathComponent("fast").path))
        let again = try WasmAOT.run(["-v", "--tier", "optimized", wasm.path], environment: environment(cache))
        XCTAssertEqual(again.stdoutText, "ok\n", again.summary)
        XCTAssertTrue(again.stderrText.contains("compiled (optimized tier) in"), again.summary)
    }

    /// Same bytes at another path (a container's copy of an image layer): found by content, and
    /// `cache artifact` (what wasmaot-oci asks at each container start) needs no compiler either.
    func testSameContentElsewhereIsFoundByDigest() throws {
        let dir = try makeTempDir("fastcontent")
        let cache = dir.appendingPathComponent("cache")
        let wasm = try watFile(printer("content"), in: dir)
        let first = try WasmAOT.run(["-v", "--tier", "optimized", wasm.path], environment: environment(cache))
        XCTAssertTrue(first.stderrText.contains("compiled (optimized tier) in"), first.summary)
        let other = dir.appendingPathComponent("rootfs/app")
        try FileManager.default.createDirectory(at: other.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: wasm, to: other)
        let copy = try WasmAOT.run(["-v", "--tier", "optimized", other.path], environment: environment(cache))
        XCTAssertEqual(copy.stdoutText, "content\n", copy.summary)
        XCTAssertTrue(copy.stderrText.hasPrefix("wasmaot: cache hit (fast path, optimized tier): "), copy.summary)

        let artifact = try Proc.run(try Paths.wasmaot(), ["cache", "artifact", "--tier", "optimized", "--cache-dir", cache.path, other.path])
        XCTAssertEqual(artifact.status, 0, artifact.summary)
        XCTAssertTrue(copy.stderrText.contains(artifact.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)), artifact.summary)
        if let execs = try programsStarted(["cache", "artifact", "--tier", "optimized", "--cache-dir", cache.path, other.path], cache: cache) {
            XCTAssertEqual(execs.count, 1, execs.joined(separator: "\n")) // the launcher alone
        }
        // Different bytes at that path: not the cached artifact.
        try Data(try wat2wasm(printer("changed"))).write(to: other)
        let changed = try WasmAOT.run(["-v", "--tier", "optimized", other.path], environment: environment(cache))
        XCTAssertEqual(changed.stdoutText, "changed\n", changed.summary)
        XCTAssertTrue(changed.stderrText.contains("compiled (optimized tier) in"), changed.summary)
    }

    /// The launcher must hand over argv, environment and preopens exactly as the compiler does.
    func testFastPathPassesTheSameArgumentsAndWASIConfig() throws {
        let dir = try makeTempDir("fastargs")
        let cache = dir.appendingPathComponent("cache")
        let source = try Paths.cFixture("args_env", into: dir)
        let wasm = dir.appendingPathComponent("args_env.wasm")
        try Toolchains.cToWasm(source, wasm)
        Thread.sleep(forTimeInterval: 0.1)
        let args = ["--env", "E2E_ALPHA=a b", "--env=E2E_WEIRD=it's \"q\" $HOME \\", "--dir", ".", "args_env.wasm",
                    "--env", "E2E_BETA=", "--", "-v", "x y", "", "--dir"]
        let slow = try WasmAOT.run(["-v", "--tier", "optimized"] + args, cwd: dir, environment: environment(cache))
        XCTAssertTrue(slow.stderrText.contains("compiled (optimized tier) in"), slow.summary)
        let fast = try warm(args, env: environment(cache), cwd: dir)
        XCTAssertEqual(fast.stdoutText, slow.stdoutText)
        XCTAssertEqual(fast.status, slow.status)
        XCTAssertTrue(slow.stdoutText.contains("argv[2]=<x y>"), slow.stdoutText)
        XCTAssertTrue(slow.stdoutText.contains("E2E_WEIRD=<it's \"q\" $HOME \\>"), slow.stdoutText)
        XCTAssertEqual(slow.status, 5) // argv: module, -v, "x y", "", --dir
        // The launcher hands a cold run it parsed to the compiler pre-parsed (`__run`); the
        // compiler's own parser, reached directly, gives the same guest argv, env and status.
        let compiler = URL(fileURLWithPath: try Paths.wasmaot()).deletingLastPathComponent().appendingPathComponent("wasmaot-compiler").path
        let direct = try Proc.run(compiler, ["run", "-v"] + args, environment: environment(dir.appendingPathComponent("cache2")), cwd: dir)
        XCTAssertEqual(direct.stdoutText, slow.stdoutText)
        XCTAssertEqual(direct.status, slow.status)
        XCTAssertTrue(direct.stderrText.contains("compiled (baseline tier) in"), direct.summary)

        // Another -O level is another artifact: not served by this record.
        let o0 = try WasmAOT.run(["-v", "--tier", "optimized", "-O0"] + args, cwd: dir, environment: environment(cache))
        XCTAssertEqual(o0.stdoutText, slow.stdoutText)
        XCTAssertTrue(o0.stderrText.contains("compiled (optimized tier) in"), o0.summary)
        // Options only the compiler knows still work through the launcher.
        let help = try Proc.run(try Paths.wasmaot(), ["run", "--help"])
        XCTAssertEqual(help.status, 0)
        XCTAssertTrue(help.stdoutText.contains("Examples:"), help.summary)
    }
}
