import Foundation
import WasmAOTCodegen
import WasmAOTCore
import WasmAOTEmbed
import WasmAOTSpec
import XCTest

/// The official spec tests: the Wasm 2.0 scripts of ../shared/corpora/spec/wasm-2.0 (non-SIMD and
/// SIMD), the Wasm 3.0 ones of ../shared/corpora/spec/wasm-3.0 (non-SIMD, SIMD and relaxed SIMD).
final class SpecSuiteTests: XCTestCase {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let corpus = packageRoot.appendingPathComponent("../shared/corpora/spec/wasm-2.0").standardized

    private func scripts(simd: Bool = false) throws -> [String] {
        let dir = Self.corpus.path
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else {
            throw XCTSkip("spec corpus not found at \(dir) (expected ../shared/corpora/spec/wasm-2.0 next to the package)")
        }
        return names.filter { $0.hasSuffix(".wast") && SpecRunner.isSIMD($0) == simd }.sorted().map { "\(dir)/\($0)" }
    }

    /// All 90 scripts, each in its own `wasmaot spec-test` child process: embedding instances are
    /// never freed (shared tables may point into them), so each script gets a fresh address
    /// space, and a crash fails one script, not the test run.
    func testWasm20SpecSuite() throws {
        let files = try scripts()
        XCTAssertEqual(files.count, 90, "expected the 90 non-SIMD Wasm 2.0 scripts in \(Self.corpus.path)")
        let (status, lines) = try runSpecTest(["--standard", "2.0", "--timing"] + files)
        let summaries = lines.filter { line in files.contains { line.hasPrefix(($0 as NSString).lastPathComponent + ": ") } }
        print(summaries.joined(separator: "\n"))
        print(lines.last ?? "")
        XCTAssertEqual(summaries.count, files.count, "a summary line per script")
        let failing = summaries.filter { !$0.contains(" 0 failed") }
        XCTAssertEqual(status, 0, "spec failures:\n" + failing.joined(separator: "\n")
            + "\n" + lines.filter { !summaries.contains($0) }.prefix(100).joined(separator: "\n"))
    }

    /// SIMD scripts that are not run, with the reason (none: every one passes, at every level and
    /// tier; `wasmaot spec-test -O0|-O1|-O2|-O3|--tier baseline`, 2.0 and 3.0, 0 failed).
    static let simdExcluded: [String: String] = [:]

    /// The 57 SIMD scripts of Wasm 2.0 (simd_*.wast), at -O1 (what spec-test compiles with) and at
    /// the baseline tier (FastISel: another instruction selector for every vector operation).
    /// NaN lanes are checked as written: `nan:canonical` lanes must hold a canonical NaN.
    func testWasm20SIMDSpecSuite() throws {
        let all = try scripts(simd: true)
        XCTAssertEqual(all.count, 57, "expected the 57 SIMD Wasm 2.0 scripts in \(Self.corpus.path)")
        let files = all.filter { Self.simdExcluded[($0 as NSString).lastPathComponent] == nil }
        for tier in [["-O1"], ["--tier", "baseline"]] {
            let (status, lines) = try runSpecTest(["--standard", "2.0"] + tier + files)
            let summaries = lines.filter { line in files.contains { line.hasPrefix(($0 as NSString).lastPathComponent + ": ") } }
            print(tier.joined(separator: " ") + ": " + (lines.last ?? ""))
            XCTAssertEqual(summaries.count, files.count, "a summary line per script")
            let failing = summaries.filter { !$0.contains(" 0 failed") }
            XCTAssertEqual(status, 0, "\(tier): spec failures:\n" + failing.joined(separator: "\n")
                + "\n" + lines.filter { !summaries.contains($0) }.prefix(60).joined(separator: "\n"))
        }
    }

    /// The 66 SIMD and relaxed SIMD scripts of Wasm 3.0 (simd_*.wast, *relaxed*.wast), at -O2.
    func testWasm30SIMDSpecSuite() throws {
        let dir = Self.packageRoot.appendingPathComponent("../shared/corpora/spec/wasm-3.0").standardized.path
        guard let top = try? FileManager.default.contentsOfDirectory(atPath: dir) else {
            throw XCTSkip("spec corpus not found at \(dir) (expected ../shared/corpora/spec/wasm-3.0 next to the package)")
        }
        let names = top.filter { $0.hasSuffix(".wast") && SpecRunner.isSIMD($0) }
        XCTAssertEqual(names.count, 66, "the 59 simd_*.wast and 7 relaxed SIMD scripts of testsuite 193e551f")
        let files = names.filter { Self.simdExcluded[$0] == nil }.sorted().map { "\(dir)/\($0)" }
        let (status, lines) = try runSpecTest(["-O2"] + files)
        print(lines.last ?? "")
        let summaries = lines.filter { line in files.contains { line.hasPrefix(($0 as NSString).lastPathComponent + ": ") } }
        XCTAssertEqual(summaries.count, files.count, "a summary line per script")
        let failing = summaries.filter { !$0.contains(" 0 failed") }
        XCTAssertEqual(status, 0, "spec failures:\n" + failing.joined(separator: "\n")
            + "\n" + lines.filter { !summaries.contains($0) }.prefix(60).joined(separator: "\n"))
    }

    /// The Wasm 3.0 suite (../shared/corpora/spec/wasm-3.0, top level and legacy/), minus SIMD and
    /// the scripts that need what wasmaot does not compile yet; every other script: 0 failed.
    static let wasm30Excluded: [String: String] = {
        var reasons: [String: String] = [:]
        for name in ["array", "array_copy", "array_fill", "array_init_data", "array_init_elem", "array_new_data",
                     "array_new_elem", "br_on_cast", "br_on_cast_fail", "extern", "i31", "ref_cast", "ref_eq", "ref_null",
                     "ref_test", "struct", "type-canon", "type-equivalence", "type-rec", "type-subtyping"] {
            reasons[name + ".wast"] = "GC (struct/array/i31/casts/rec types)"
        }
        reasons["table_init.wast"] = "GC (two modules with rec types)"
        reasons["table_init64.wast"] = "GC (two modules with rec types)"
        reasons["tag.wast"] = "GC (three modules with rec types; the other assertions pass)"
        return reasons
    }()

    func testWasm30SpecSuite() throws {
        let dir = Self.packageRoot.appendingPathComponent("../shared/corpora/spec/wasm-3.0").standardized.path
        guard let top = try? FileManager.default.contentsOfDirectory(atPath: dir) else {
            throw XCTSkip("spec corpus not found at \(dir) (expected ../shared/corpora/spec/wasm-3.0 next to the package)")
        }
        let legacy = (try? FileManager.default.contentsOfDirectory(atPath: dir + "/legacy")) ?? []
        let names = (top.map { $0 } + legacy.map { "legacy/" + $0 }).filter {
            $0.hasSuffix(".wast") && !SpecRunner.isSIMD(($0 as NSString).lastPathComponent)
        }
        XCTAssertEqual(names.count, 195, "the 191 non-SIMD top-level scripts and 4 legacy/ ones of testsuite 193e551f")
        let files = names.filter { Self.wasm30Excluded[$0] == nil }.sorted().map { "\(dir)/\($0)" }
        let (status, lines) = try runSpecTest(files)
        print(lines.last ?? "")
        let failing = lines.filter { $0.contains(".wast: ") && !$0.contains(" 0 failed") }
        XCTAssertEqual(status, 0, "spec failures:\n" + failing.joined(separator: "\n")
            + "\n" + lines.filter { $0.contains("expected") }.prefix(60).joined(separator: "\n"))
    }

    /// `wasmaot spec-test --isolate --verbose ARGS…` (each script in its own child process: embedding
    /// instances are never freed); the exit status and stdout lines.
    private func runSpecTest(_ arguments: [String]) throws -> (Int32, [String]) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try wasmaotBinary())
        process.arguments = ["spec-test", "--isolate", "--verbose"] + arguments
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init))
    }

    /// The test executable sits next to the executables of the same build.
    private func wasmaotBinary() throws -> String {
        let candidates = [
            URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("wasmaot").path,
            Self.packageRoot.appendingPathComponent(".build/debug/wasmaot").path,
            Self.packageRoot.appendingPathComponent(".build/release/wasmaot").path,
        ]
        guard let binary = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("the wasmaot binary was not found (looked for \(candidates.joined(separator: ", "))); run `swift build` first")
        }
        return binary
    }

    /// The runner library in process on a few scripts: counts equal the number of commands.
    func testRunnerInProcess() throws {
        let dir = Self.corpus.path
        guard FileManager.default.fileExists(atPath: dir) else {
            throw XCTSkip("spec corpus not found at \(dir) (expected ../shared/corpora/spec/wasm-2.0 next to the package)")
        }
        let runner = try SpecRunner(engine: try Engine(standard: .wasm2), profile: .level(.o1))
        for (name, commands) in [("address.wast", 260), ("linking.wast", 132), ("imports.wast", 178), ("simd_address.wast", 49)] {
            let r = runner.run(path: "\(dir)/\(name)")
            print(r.summary)
            XCTAssertEqual(r.passed + r.failed, commands, name)
            XCTAssertEqual(r.failed, 0, r.failures.map(\.description).joined(separator: "\n"))
        }
    }

    /// v128 results with NaN lanes: `nan:canonical` lanes must hold a canonical NaN, `nan:arithmetic`
    /// ones any quiet NaN (WasmKit's WAST parser keeps one mask for both; the runner reads the
    /// text), `either` candidates included, and comments with NaN patterns do not count.
    func testV128NaNLanesAreCheckedAsWritten() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("wasmaot-nan-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let script = dir.appendingPathComponent("nan.wast")
        try """
            (module (func (export "add") (param v128 v128) (result v128) (f32x4.add (local.get 0) (local.get 1))))
            ;; a comment: (v128.const f32x4 nan:canonical 0 0 0)
            (assert_return (invoke "add" (v128.const f32x4 nan:0x600000 1 1 1) (v128.const f32x4 1 1 1 1))
                           (v128.const f32x4 nan:arithmetic 2 2 2))
            (assert_return (invoke "add" (v128.const f32x4 nan:0x600000 1 1 1) (v128.const f32x4 1 1 1 1))
                           (v128.const f32x4 nan:canonical 2 2 2))
            (assert_return (invoke "add" (v128.const f32x4 nan 1 1 1) (v128.const f32x4 1 1 1 1))
                           (either (v128.const f32x4 1 2 2 2) (v128.const f32x4 nan:canonical 2 2 2)))
            (assert_return (invoke "add" (v128.const f32x4 nan:0x600000 1 1 1) (v128.const f32x4 1 1 1 1))
                           (either (v128.const f32x4 1 2 2 2) (v128.const f32x4 nan:canonical 2 2 2)))
            """.write(to: script, atomically: true, encoding: .utf8)
        let runner = try SpecRunner(engine: try Engine(), profile: .level(.o1))
        let r = runner.run(path: script.path)
        XCTAssertEqual(r.passed, 3, r.failures.map(\.description).joined(separator: "\n"))
        XCTAssertEqual(r.failures.map(\.line), [5, 9])
    }
}
