import Foundation
import WasmAOTCodegen
import WasmAOTCore
import WasmAOTEmbed
import WasmAOTSpec
import XCTest

/// The official Wasm 2.0 spec tests: every non-SIMD script of ../shared/corpora/spec/wasm-2.0.
final class SpecSuiteTests: XCTestCase {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let corpus = packageRoot.appendingPathComponent("../shared/corpora/spec/wasm-2.0").standardized

    private func scripts() throws -> [String] {
        let dir = Self.corpus.path
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else {
            throw XCTSkip("spec corpus not found at \(dir) (expected ../shared/corpora/spec/wasm-2.0 next to the package)")
        }
        return names.filter { $0.hasSuffix(".wast") && !SpecRunner.isSIMD($0) }.sorted().map { "\(dir)/\($0)" }
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
            $0.hasSuffix(".wast") && !SpecRunner.isSIMD(($0 as NSString).lastPathComponent) && !$0.contains("relaxed")
        }
        XCTAssertEqual(names.count, 195, "the 191 non-SIMD top-level scripts and 4 legacy/ ones of testsuite 193e551f")
        let files = names.filter { Self.wasm30Excluded[$0] == nil }.sorted().map { "\(dir)/\($0)" }
        let (status, lines) = try runSpecTest(files)
        print(lines.last ?? "")
        let failing = lines.filter { $0.contains(".wast: ") && !$0.contains(" 0 failed") && !$0.contains("skipped") }
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
        for (name, commands) in [("address.wast", 260), ("linking.wast", 132), ("imports.wast", 178)] {
            let r = runner.run(path: "\(dir)/\(name)")
            print(r.summary)
            XCTAssertEqual(r.passed + r.failed, commands, name)
            XCTAssertEqual(r.failed, 0, r.failures.map(\.description).joined(separator: "\n"))
        }
        let simd = runner.run(path: "\(dir)/simd_address.wast")
        XCTAssertEqual(simd.summary, "simd_address.wast: skipped (SIMD not supported yet)")
        XCTAssertEqual(simd.passed, 0)
    }
}
