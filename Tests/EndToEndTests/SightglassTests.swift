import Foundation
import XCTest

/// Sightglass benchmarks from ../shared/corpora/bench/sightglass: `wasmaot run --dir . X.wasm`
/// in the benchmark's directory must reproduce `X.stdout.expected` / `X.stderr.expected`.
///
/// The corpus is shared, read-only data (and these tests may run as root, where permissions do
/// not protect it), so every benchmark runs in a private copy of the files it needs.
final class SightglassTests: XCTestCase {
    struct Benchmark: Sendable {
        var name: String
        var directory: URL  // in the corpus
        var stem: String    // "benchmark" or "shootout-xyz": X.wasm, X.stdout.expected, ...
        var files: [String] // everything in `directory` this benchmark needs
    }

    struct Outcome: Sendable {
        var benchmark: String
        var problems: [String]
        var seconds: Double
    }

    static let applications = ["bz2", "richards", "quicksort", "regex", "pulldown-cmark", "hashset", "blake3-scalar", "noop",
                               "blake3-simd", "intgemm-simd"]

    private func corpus() throws -> URL {
        let root = Paths.sightglass
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root.path, isDirectory: &isDir), isDir.boolValue else {
            throw XCTSkip("sightglass corpus not found at \(root.path) (expected ../shared/corpora/bench/sightglass next to the package)")
        }
        return root
    }

    private func applicationBenchmarks() throws -> [Benchmark] {
        let root = try corpus()
        return try Self.applications.map { name in
            let dir = root.appendingPathComponent(name)
            let files = try FileManager.default.contentsOfDirectory(atPath: dir.path)
            guard files.contains("benchmark.wasm") else {
                throw E2EError("\(dir.path) has no benchmark.wasm (files: \(files.sorted()))")
            }
            return Benchmark(name: name, directory: dir, stem: "benchmark", files: files)
        }
    }

    private func shootoutBenchmarks() throws -> [Benchmark] {
        let dir = try corpus().appendingPathComponent("shootout")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        let stems = files.filter { $0.hasPrefix("shootout-") && $0.hasSuffix(".wasm") }.map { String($0.dropLast(5)) }
        XCTAssertGreaterThan(stems.count, 10, "expected the shootout-*.wasm benchmarks in \(dir.path)")
        return stems.map { stem in
            Benchmark(name: stem, directory: dir, stem: stem, files: files.filter { $0.hasPrefix(stem + ".") })
        }
    }

    /// Copies the benchmark into `work`, runs it there, and lists every mismatch.
    private static func run(_ b: Benchmark, in work: URL) -> Outcome {
        let start = Date()
        var problems: [String] = []
        do {
            let fm = FileManager.default
            try fm.createDirectory(at: work, withIntermediateDirectories: true)
            for file in b.files {
                let target = work.appendingPathComponent(file)
                try fm.copyItem(at: b.directory.appendingPathComponent(file), to: target)
                try fm.setAttributes([.posixPermissions: 0o644], ofItemAtPath: target.path)
            }
            let r = try WasmAOT.run(["-O2", "--dir", ".", "\(b.stem).wasm"], cwd: work)
            if r.status != 0 { problems.append("exit \(r.summary)") }
            for (stream, actual) in [("stdout", r.stdout), ("stderr", r.stderr)] {
                let expectedName = "\(b.stem).\(stream).expected"
                guard b.files.contains(expectedName) else { continue }
                let expected = try Data(contentsOf: b.directory.appendingPathComponent(expectedName))
                if expected != actual {
                    problems.append("\(stream) differs from \(expectedName) (\(actual.count) bytes vs \(expected.count) expected):\n"
                        + firstDifference(String(decoding: actual, as: UTF8.self), String(decoding: expected, as: UTF8.self)))
                }
            }
        } catch {
            problems.append("\(error)")
        }
        return Outcome(benchmark: b.name, problems: problems, seconds: Date().timeIntervalSince(start))
    }

    private static func firstDifference(_ actual: String, _ expected: String) -> String {
        let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
        let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
        for i in 0..<max(a.count, e.count) {
            let al = i < a.count ? String(a[i]) : "<end>", el = i < e.count ? String(e[i]) : "<end>"
            if al != el { return "  line \(i + 1):\n    actual:   \(al.prefix(300))\n    expected: \(el.prefix(300))" }
        }
        return "  (only trailing bytes differ)"
    }

    private func runAll(_ benchmarks: [Benchmark]) throws {
        let work = try makeTempDir("sightglass")
        let outcomes = concurrentMap(benchmarks, width: 2) { b in
            Self.run(b, in: work.appendingPathComponent(b.name))
        }
        for o in outcomes {
            print("sightglass \(o.benchmark): \(o.problems.isEmpty ? "ok" : "FAILED") in \(String(format: "%.1f", o.seconds))s")
            for p in o.problems { XCTFail("\(o.benchmark): \(p)") }
        }
    }

    func testShootout() throws {
        try runAll(try shootoutBenchmarks())
    }

    func testApplications() throws {
        try runAll(try applicationBenchmarks())
    }

    /// libsodium's test programs with the most SIMD (1,500-3,900 vector instructions each: argon2,
    /// ed25519/ristretto255 field arithmetic, ChaCha20, AEGIS, AES-GCM): each prints "0" (its
    /// `default.stdout.expected`, which lacks the newline the program prints).
    static let libsodiumSIMD = ["pwhash_argon2id", "sign", "core_ristretto255", "xchacha20", "aead_aegis256", "aead_aes256gcm",
                                "box_seed", "generichash"]

    func testLibsodiumSIMD() throws {
        let dir = try corpus().appendingPathComponent("libsodium")
        let work = try makeTempDir("libsodium")
        let outcomes = concurrentMap(Self.libsodiumSIMD, width: 2) { name -> Outcome in
            let start = Date()
            var problems: [String] = []
            do {
                let run = work.appendingPathComponent(name)
                try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
                try FileManager.default.copyItem(at: dir.appendingPathComponent("libsodium-\(name).wasm"), to: run.appendingPathComponent("m.wasm"))
                let r = try WasmAOT.run(["-O2", "--dir", ".", "m.wasm"], cwd: run)
                if r.status != 0 || r.stdoutText != "0\n" { problems.append("expected exit 0 and \"0\\n\", got \(r.summary)") }
            } catch {
                problems.append("\(error)")
            }
            return Outcome(benchmark: "libsodium-" + name, problems: problems, seconds: Date().timeIntervalSince(start))
        }
        for o in outcomes {
            print("sightglass \(o.benchmark): \(o.problems.isEmpty ? "ok" : "FAILED") in \(String(format: "%.1f", o.seconds))s")
            for p in o.problems { XCTFail("\(o.benchmark): \(p)") }
        }
    }
}
