import Foundation
import WAT
import XCTest

/// `wasmaot run` compiles once per module into the cache; bad entries are rebuilt, failed
/// compiles leave nothing behind, concurrent runs share one artifact.
final class CacheCLITests: XCTestCase {
    private let hello = """
        (module
          (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
          (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
          (memory (export "memory") 1)
          (data (i32.const 16) "cached\\n")
          (func (export "_start")
            (i32.store (i32.const 0) (i32.const 16)) (i32.store (i32.const 4) (i32.const 7))
            (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
            (call $exit (i32.const 7))))
        """

    private func entries(_ cacheDir: URL) throws -> [String] {
        let r = try Proc.run(try Paths.wasmaot(), ["cache", "list", "--cache-dir", cacheDir.path])
        XCTAssertEqual(r.status, 0, r.summary)
        return r.stdoutText.split(separator: "\n").dropLast().map(String.init)
    }

    func testRunCompilesOnceAndRebuildsBadEntries() throws {
        let dir = try makeTempDir("cache")
        let cacheDir = dir.appendingPathComponent("cache")
        let wasm = try watFile(hello, in: dir)
        let env = ["WASMAOT_CACHE_DIR": cacheDir.path, "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]

        // Eight concurrent cold runs: one compile, one entry, all print and exit 7. (One tier:
        // TierTests has the same with both tiers.)
        let results = concurrentMap(Array(0..<8), width: 8) { _ in try? WasmAOT.run(["-v", "--tier", "optimized", wasm.path], environment: env) }
        XCTAssertEqual(results.filter { $0?.stderrText.contains("wasmaot: compiled (optimized tier) in") == true }.count, 1,
                       results.map { $0?.stderrText ?? "" }.joined())
        for r in results {
            XCTAssertEqual(r?.status, 7, r?.summary ?? "no result")
            XCTAssertEqual(r?.stdoutText, "cached\n")
        }
        XCTAssertEqual(try entries(cacheDir).count, 1)
        let artifactDirs = try FileManager.default.contentsOfDirectory(atPath: cacheDir.appendingPathComponent("entries").path)
        XCTAssertEqual(artifactDirs.count, 1)
        let artifact = cacheDir.appendingPathComponent("entries/\(artifactDirs[0])/artifact")
        let built = try FileManager.default.attributesOfItem(atPath: artifact.path)[.modificationDate] as? Date

        // A warm run reuses the artifact untouched and says so.
        Thread.sleep(forTimeInterval: 1.1)
        let warm = try WasmAOT.run(["--verbose", "--tier", "optimized", wasm.path], environment: env)
        XCTAssertEqual(warm.status, 7)
        XCTAssertTrue(warm.stderrText.hasPrefix("wasmaot: cache hit"), warm.stderrText)
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: artifact.path)[.modificationDate] as? Date, built)

        // A tampered artifact is never executed: it is discarded and rebuilt.
        try Data("#!/bin/sh\necho tampered\n".utf8).write(to: artifact)
        let r = try WasmAOT.run(["--tier", "optimized", wasm.path], environment: env)
        XCTAssertEqual(r.status, 7, r.summary)
        XCTAssertEqual(r.stdoutText, "cached\n")
        XCTAssertEqual(try entries(cacheDir).count, 1)
    }

    /// A cache another user could write to is never used — not by the launcher's fast path, not by
    /// the compiler — and the error says why; fixing the mode makes it usable again.
    func testUntrustedCacheIsRefusedEverywhere() throws {
        let dir = try makeTempDir("trust")
        let cacheDir = dir.appendingPathComponent("cache")
        let wasm = try watFile(hello, in: dir)
        let env = ["WASMAOT_CACHE_DIR": cacheDir.path, "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        XCTAssertEqual(try WasmAOT.run(["--tier", "optimized", wasm.path], environment: env).status, 7)
        // Warm: the launcher's record would start the artifact without the compiler.
        XCTAssertEqual(try WasmAOT.run([wasm.path], environment: env).status, 7)
        let entry = try FileManager.default.contentsOfDirectory(atPath: cacheDir.appendingPathComponent("entries").path)[0]
        let artifact = cacheDir.appendingPathComponent("entries/\(entry)/artifact").path
        for (path, mode, reason) in [(cacheDir.path, 0o777, "is writable by others"),
                                     (cacheDir.appendingPathComponent("fast").path, 0o775, "is writable by its group"),
                                     (artifact, 0o757, "is writable by others")] {
            chmod(path, mode_t(mode))
            for args in [[wasm.path], ["--tier", "optimized", wasm.path]] {
                let r = try WasmAOT.run(args, environment: env)
                XCTAssertEqual(r.status, 1, "\(path) mode \(String(mode, radix: 8)): \(r.summary)")
                XCTAssertEqual(r.stdoutText, "", "the artifact must not have run")
                XCTAssertTrue(r.stderrText.contains(reason) && r.stderrText.contains("refusing"), r.stderrText)
            }
            chmod(path, 0o755)
        }
        XCTAssertEqual(try WasmAOT.run([wasm.path], environment: env).status, 7)
    }

    /// A compile killed mid-way (`kill -9`) publishes nothing: the next run compiles afresh.
    func testKilledCompileLeavesNoEntry() throws {
        let dir = try makeTempDir("cachekill")
        let cacheDir = dir.appendingPathComponent("cache")
        let big = Paths.sightglass.appendingPathComponent("regex/benchmark.wasm")
        guard FileManager.default.fileExists(atPath: big.path) else { throw XCTSkip("sightglass corpus missing at \(big.path)") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try Paths.wasmaot())
        // The optimized tier: seconds of compiling, so the kill lands in the middle of it.
        process.arguments = ["cache", "artifact", "--tier", "optimized", "--cache-dir", cacheDir.path, big.path]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        Thread.sleep(forTimeInterval: 1.5)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        XCTAssertEqual(try entries(cacheDir), [], "nothing may be published by a killed compile")
        let wasm = try watFile(hello, in: dir)
        let r = try WasmAOT.run([wasm.path], environment: ["WASMAOT_CACHE_DIR": cacheDir.path, "PATH": "/usr/bin:/bin"])
        XCTAssertEqual(r.status, 7, r.summary)
    }

    func testCompileErrorLeavesNothingInTheCache() throws {
        let dir = try makeTempDir("cachebad")
        let cacheDir = dir.appendingPathComponent("cache")
        let bad = try write(Array("\0asm garbage".utf8), to: dir, as: "bad.wasm")
        let r = try WasmAOT.run([bad.path], environment: ["WASMAOT_CACHE_DIR": cacheDir.path, "PATH": "/usr/bin:/bin"])
        XCTAssertEqual(r.status, 1, r.summary)
        XCTAssertTrue(r.stderrText.hasPrefix("error: \(bad.path):"), r.stderrText)
        XCTAssertEqual(try entries(cacheDir), [])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: cacheDir.appendingPathComponent("tmp").path), [])
    }
}
