import Foundation
import WAT
import XCTest

/// The two tiers of `wasmaot run` / `cache artifact`: a cold start compiles the baseline tier and
/// starts it, the optimized tier is built in the background and used from the next start; killed
/// background builds publish nothing and are redone; concurrent cold starts build each tier once.
final class TierTests: XCTestCase {
    private let hello = """
        (module
          (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
          (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
          (memory (export "memory") 1)
          (data (i32.const 16) "tiered\\n")
          (func (export "_start")
            (i32.store (i32.const 0) (i32.const 16)) (i32.store (i32.const 4) (i32.const 7))
            (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
            (call $exit (i32.const 9))))
        """

    /// A module the optimizing pipeline needs seconds for (`functions` loops of 40 statements each),
    /// and the baseline tier a fraction of that.
    private func slowToOptimize(functions: Int) -> String {
        var funcs = ""
        for k in 0..<functions {
            var body = ""
            for j in 0..<40 {
                let (a, b, c) = (j % 5 + 2, (j + 1) % 5 + 2, (j + 3) % 5 + 2)
                let op = ["i32.add", "i32.mul", "i32.xor", "i32.sub", "i32.rotl"][j % 5]
                body += "(local.set \(a) (\(op) (local.get \(b)) (i32.add (local.get \(c)) (i32.const \(k * 40 + j)))))\n"
            }
            funcs += """
                (func $f\(k) (param i32 i32) (result i32) (local i32 i32 i32 i32 i32)
                  (local.set 2 (local.get 0))
                  (block (loop \(body)
                    (local.set 2 (i32.add (local.get 2) (i32.const 1)))
                    (br_if 0 (i32.lt_u (local.get 2) (local.get 1)))))
                  (i32.add (local.get 3) (local.get 6)))

                """
        }
        let calls = (0..<functions).map { "(local.set 0 (i32.add (local.get 0) (call $f\($0) (local.get 0) (i32.const 10))))" }
        return """
            (module
              (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
              (memory (export "memory") 1)
              (data (i32.const 16) "big\\n")
              \(funcs)
              (func (export "_start") (local i32)
                \(calls.joined(separator: "\n"))
                (i32.store (i32.const 0) (i32.const 16)) (i32.store (i32.const 4) (i32.const 4))
                (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
            """
    }

    private func environment(_ cache: URL) -> [String: String] {
        ["WASMAOT_CACHE_DIR": cache.path, "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
    }

    private func cache(_ args: [String], _ cacheDir: URL) throws -> ProcessResult {
        try Proc.run(try Paths.wasmaot(), ["cache"] + args + ["--cache-dir", cacheDir.path], timeout: 900)
    }

    private func waitForBackground(_ cacheDir: URL) throws {
        let r = try cache(["wait", "--timeout", "600"], cacheDir)
        XCTAssertEqual(r.status, 0, "background builds still running: \(r.summary)")
    }

    /// Entry lines of `cache list` by tier.
    private func tiers(_ cacheDir: URL) throws -> (baseline: Int, optimized: Int) {
        let r = try cache(["list"], cacheDir)
        XCTAssertEqual(r.status, 0, r.summary)
        let lines = r.stdoutText.split(separator: "\n").dropLast()
        return (lines.filter { $0.contains("  baseline  ") }.count, lines.filter { $0.contains("  optimized (O2)  ") }.count)
    }

    /// Whether some `tierup/*-O2.lock` is held by a build.
    private func buildLockHeld(_ cacheDir: URL) throws -> Bool {
        let tierup = cacheDir.appendingPathComponent("tierup")
        for name in try FileManager.default.contentsOfDirectory(atPath: tierup.path) where name.hasSuffix("-O2.lock") {
            let fd = open(tierup.appendingPathComponent(name).path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            if flock(fd, LOCK_SH | LOCK_NB) != 0 { return true }
        }
        return false
    }

    private func logLines(_ cacheDir: URL) -> [String] {
        let text = (try? String(contentsOf: cacheDir.appendingPathComponent("tierup/log"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init)
    }

    func testColdStartRunsBaselineThenTiersUp() throws {
        let dir = try makeTempDir("tier")
        let cacheDir = dir.appendingPathComponent("cache")
        let wasm = try watFile(hello, in: dir)
        Thread.sleep(forTimeInterval: 0.1)
        let cold = try WasmAOT.run(["-v", wasm.path], environment: environment(cacheDir))
        XCTAssertEqual(cold.status, 9, cold.summary)
        XCTAssertEqual(cold.stdoutText, "tiered\n")
        XCTAssertTrue(cold.stderrText.contains("compiled (baseline tier) in"), cold.summary)
        XCTAssertTrue(cold.stderrText.contains("optimized tier (O2) scheduled in the background"), cold.summary)
        // "Scheduled" means the build is visible from then on: its lock is held (taken by the
        // scheduler and handed over), or it is already done. `cache wait` relies on that.
        XCTAssertTrue(try buildLockHeld(cacheDir) || tiers(cacheDir).optimized == 1, "a scheduled build is not visible yet")

        try waitForBackground(cacheDir)
        XCTAssertEqual(try tiers(cacheDir).baseline, 1)
        XCTAssertEqual(try tiers(cacheDir).optimized, 1)
        let built = logLines(cacheDir).filter { $0.contains(" optimized O2 ") && $0.contains(" compiled in ") }
        XCTAssertEqual(built.count, 1, logLines(cacheDir).joined(separator: "\n"))

        // The next start is the optimized artifact, served by the launcher alone.
        var warm: ProcessResult? = nil
        for _ in 0..<3 where warm?.stderrText.contains("fast path, optimized tier") != true {
            warm = try WasmAOT.run(["-v", wasm.path], environment: environment(cacheDir))
        }
        XCTAssertEqual(warm?.status, 9, warm?.summary ?? "")
        XCTAssertEqual(warm?.stdoutText, "tiered\n")
        XCTAssertTrue(warm?.stderrText.contains("cache hit (fast path, optimized tier)") == true, warm?.summary ?? "")
        // `cache artifact` (wasmaot-oci's question) answers with the optimized tier too.
        let printed = try cache(["artifact", wasm.path], cacheDir)
        XCTAssertTrue(warm?.stderrText.contains(printed.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)) == true, printed.summary)
        // No module copies left behind.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: cacheDir.appendingPathComponent("tierup").path)
        XCTAssertFalse(leftovers.contains { $0.hasSuffix(".wasm") }, leftovers.joined(separator: " "))
    }

    func testTierChoices() throws {
        let dir = try makeTempDir("tierchoice")
        let wasm = try watFile(hello, in: dir)
        // baseline: one entry, nothing scheduled.
        let base = dir.appendingPathComponent("cache-baseline")
        let b = try WasmAOT.run(["-v", "--tier", "baseline", wasm.path], environment: environment(base))
        XCTAssertEqual(b.status, 9, b.summary)
        XCTAssertTrue(b.stderrText.contains("compiled (baseline tier)"), b.summary)
        XCTAssertFalse(b.stderrText.contains("scheduled"), b.summary)
        try waitForBackground(base)
        XCTAssertEqual(try tiers(base).baseline, 1)
        XCTAssertEqual(try tiers(base).optimized, 0)
        // optimized: compiled before the start, nothing scheduled.
        let opt = dir.appendingPathComponent("cache-optimized")
        let o = try WasmAOT.run(["-v", wasm.path, "--tier", "optimized"], environment: environment(opt))
        XCTAssertEqual(o.status, 9, o.summary)
        XCTAssertTrue(o.stderrText.contains("compiled (optimized tier)"), o.summary)
        XCTAssertEqual(try tiers(opt).baseline, 0)
        XCTAssertEqual(try tiers(opt).optimized, 1)
        // A bad value is a usage error, through the launcher as well.
        let bad = try WasmAOT.run(["--tier", "fastest", wasm.path], environment: environment(opt))
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderrText.contains("fastest"), bad.summary)
    }

    func testConcurrentColdStartsBuildEachTierOnce() throws {
        let dir = try makeTempDir("tierconc")
        let cacheDir = dir.appendingPathComponent("cache")
        let wasm = try watFile(hello, in: dir)
        let env = environment(cacheDir)
        let results = concurrentMap(Array(0..<8), width: 8) { _ in try? WasmAOT.run(["-v", wasm.path], environment: env) }
        for r in results {
            XCTAssertEqual(r?.status, 9, r?.summary ?? "no result")
            XCTAssertEqual(r?.stdoutText, "tiered\n")
        }
        let stderr = results.map { $0?.stderrText ?? "" }
        XCTAssertEqual(stderr.filter { $0.contains("compiled (baseline tier)") }.count, 1, stderr.joined())
        try waitForBackground(cacheDir)
        XCTAssertEqual(try tiers(cacheDir).baseline, 1)
        XCTAssertEqual(try tiers(cacheDir).optimized, 1)
        // However many starts scheduled a build, the optimized tier was compiled once.
        let compiled = logLines(cacheDir).filter { $0.contains(" optimized O2 ") && $0.contains(" compiled in ") }
        XCTAssertEqual(compiled.count, 1, logLines(cacheDir).joined(separator: "\n"))
    }

    /// `kill -9` of the background build: nothing half-published, no failure recorded, and the next
    /// start schedules it again.
    func testKilledBackgroundBuildIsRedone() throws {
        let dir = try makeTempDir("tierkill")
        let cacheDir = dir.appendingPathComponent("cache")
        let wasm = try watFile(slowToOptimize(functions: 700), in: dir, name: "big.wasm")
        let env = environment(cacheDir)
        let cold = try WasmAOT.run(["-v", wasm.path], environment: env, timeout: 600)
        XCTAssertEqual(cold.stdoutText, "big\n", cold.summary)
        XCTAssertTrue(cold.stderrText.contains("scheduled in the background"), cold.summary)

        // The build writes its pid into its lock once it holds it.
        let tierup = cacheDir.appendingPathComponent("tierup")
        var pid: pid_t = 0
        let deadline = Date().addingTimeInterval(30)
        while pid == 0 && Date() < deadline {
            let locks = (try? FileManager.default.contentsOfDirectory(atPath: tierup.path))?.filter { $0.hasSuffix("-O2.lock") } ?? []
            if let lock = locks.first, let text = try? String(contentsOf: tierup.appendingPathComponent(lock), encoding: .utf8),
               let n = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                pid = n
            } else {
                Thread.sleep(forTimeInterval: 0.02)
            }
        }
        XCTAssertGreaterThan(pid, 0, "no background build started")
        guard pid > 0 else { return }
        Thread.sleep(forTimeInterval: 0.3)
        XCTAssertEqual(kill(pid, SIGKILL), 0, "the build ended before it could be killed: make the module bigger")
        try waitForBackground(cacheDir)
        XCTAssertEqual(try tiers(cacheDir).optimized, 0, "a killed build must not publish")
        XCTAssertEqual(try tiers(cacheDir).baseline, 1)
        XCTAssertFalse((try FileManager.default.contentsOfDirectory(atPath: tierup.path)).contains { $0.hasSuffix(".failed") })

        // The next start finds no build running: it runs the baseline tier and schedules again.
        let again = try WasmAOT.run(["-v", wasm.path], environment: env, timeout: 600)
        XCTAssertEqual(again.stdoutText, "big\n", again.summary)
        XCTAssertTrue(again.stderrText.contains("cache hit (baseline tier)"), again.summary)
        XCTAssertTrue(again.stderrText.contains("scheduled in the background"), again.summary)
        try waitForBackground(cacheDir)
        XCTAssertEqual(try tiers(cacheDir).optimized, 1)
        let warm = try WasmAOT.run(["-v", wasm.path], environment: env)
        XCTAssertEqual(warm.stdoutText, "big\n", warm.summary)
        XCTAssertTrue(warm.stderrText.contains("optimized tier"), warm.summary)
    }

    /// A build that failed for good is not retried: the launcher keeps serving the baseline tier.
    func testFailedOptimizedBuildIsNotRetried() throws {
        let dir = try makeTempDir("tierfail")
        let cacheDir = dir.appendingPathComponent("cache")
        let wasm = try watFile(hello, in: dir)
        let env = environment(cacheDir)
        let base = try WasmAOT.run(["-v", "--tier", "baseline", wasm.path], environment: env)
        XCTAssertEqual(base.status, 9, base.summary)
        let key = try XCTUnwrap(base.stderrText.split(separator: "/").first { $0.count == 64 }.map(String.init), base.summary)
        let tierup = cacheDir.appendingPathComponent("tierup")
        try FileManager.default.createDirectory(at: tierup, withIntermediateDirectories: true)
        try "out of memory\n".write(to: tierup.appendingPathComponent("\(key)-O2.failed"), atomically: true, encoding: .utf8)
        var r: ProcessResult? = nil
        for _ in 0..<3 where r?.stderrText.contains("fast path, baseline tier") != true {
            r = try WasmAOT.run(["-v", wasm.path], environment: env)
            XCTAssertFalse(r?.stderrText.contains("scheduled") == true, r?.summary ?? "")
        }
        XCTAssertEqual(r?.status, 9)
        XCTAssertTrue(r?.stderrText.contains("cache hit (fast path, baseline tier)") == true, r?.summary ?? "")
        try waitForBackground(cacheDir)
        XCTAssertEqual(try tiers(cacheDir).optimized, 0)
        // `cache clear` forgets the failure.
        XCTAssertEqual(try cache(["clear"], cacheDir).status, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: tierup.path))
    }
}
