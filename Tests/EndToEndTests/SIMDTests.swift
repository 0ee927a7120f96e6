import Foundation
import XCTest

/// SIMD128 through `wasmaot compile` executables (the spec scripts run in-process in SpecTests,
/// for this machine's CPU): an auto-vectorized C program against its native build, and the
/// SIMD spec scripts turned into executables for the CPUs `wasmaot compile` targets.
/// Aarch64Tests runs both for aarch64 under qemu.
final class SIMDTests: XCTestCase {
    static let specDir = Paths.packageRoot.appendingPathComponent("../shared/corpora/spec/wasm-2.0").standardized

    /// `clang-14 --target=wasm32-wasi -O3 -msimd128` of Fixtures/c/simd.c, and how many SIMD
    /// instructions the module holds (wasm-objdump), into `dir`.
    static func buildVectorized(in dir: URL) throws -> (wasm: URL, native: URL, simdInstructions: Int?) {
        let source = try Paths.cFixture("simd", into: dir)
        let wasm = dir.appendingPathComponent("simd.wasm"), native = dir.appendingPathComponent("simd.native")
        try Proc.check(try Toolchains.wasmClang(), ["--target=wasm32-wasi", "-O3", "-msimd128", source.path, "-o", wasm.path, "-lm"])
        try Toolchains.cToNative(source, native)
        var count: Int?
        if let objdump = Paths.which("wasm-objdump") {
            let listing = try Proc.check(objdump, ["-d", wasm.path]).stdoutText
            count = listing.split(separator: "\n").filter {
                $0.range(of: #"\b(v128|i8x16|i16x8|i32x4|i64x2|f32x4|f64x2)\."#, options: .regularExpression) != nil
            }.count
        }
        return (wasm, native, count)
    }

    /// Loops clang vectorizes (hundreds of SIMD instructions of ~100 kinds: saturating and
    /// averaging byte arithmetic, popcnt, narrowing, extends, shuffles, float rounding and
    /// conversions) print the same checksums as the native gcc build: at -O2 and at the baseline
    /// tier for the portable x86-64-v2, at -O2 for this CPU, at -O0 for plain x86-64 (SSE2).
    func testAutoVectorizedCProgramMatchesNative() throws {
        let dir = try makeTempDir("simd-c")
        let built = try Self.buildVectorized(in: dir)
        if let n = built.simdInstructions {
            XCTAssertGreaterThan(n, 500, "clang -O3 -msimd128 should have vectorized the loops")
        }
        let native = try Proc.run(built.native.path)
        XCTAssertEqual(native.status, 0, native.summary)
        XCTAssertTrue(native.stdoutText.contains("blur "), native.stdoutText)
        var variants = [["-O2"], ["--tier=baseline"], ["-O2", "--cpu=native"]]
        if E2ETarget.hostArchitecture == "x86_64" { variants.append(["-O0", "--cpu=x86-64"]) }
        for args in variants {
            let exe = dir.appendingPathComponent("simd-" + args.joined().replacingOccurrences(of: "=", with: ""))
            try WasmAOT.compile(built.wasm, to: exe, args)
            let r = try Proc.run(exe.path, environment: [:])
            XCTAssertEqual(r.status, 0, "\(args): \(r.summary)")
            XCTAssertEqual(r.stderrText, "", "\(args)")
            XCTAssertEqual(r.stdoutText, native.stdoutText, "\(args): output differs from the native build")
        }
    }

    /// Runs Fixtures/simd/spec_exe.py: the commands of the 2.0 SIMD scripts performed by the
    /// modules' own appended `_start`, compiled with `compile`, run under `qemu` if given.
    /// Returns the total line ("N passed, F failed").
    static func specScriptsAsExecutables(_ compile: String, qemu: String? = nil, file: StaticString = #filePath,
                                         line: UInt = #line) throws -> String {
        guard let python = Paths.which("python3") else { throw XCTSkip("python3 is needed") }
        guard Paths.which("wast2json") != nil else { throw XCTSkip("wast2json (wabt) is needed") }
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: specDir.path) else {
            throw XCTSkip("spec corpus not found at \(specDir.path)")
        }
        let files = names.filter { $0.hasPrefix("simd_") && $0.hasSuffix(".wast") }.sorted().map { specDir.appendingPathComponent($0).path }
        XCTAssertEqual(files.count, 57, file: file, line: line)
        let script = Paths.packageRoot.appendingPathComponent("Tests/EndToEndTests/Fixtures/simd/spec_exe.py").path
        var args = [script, "--wasmaot", try Paths.wasmaot(), "--jobs", "2", "--compile=" + compile]
        if let qemu { args += ["--qemu", qemu] }
        let r = try Proc.run(python, args + files, timeout: 1800)
        let lines = r.stdoutText.split(separator: "\n").map(String.init)
        XCTAssertEqual(r.status, 0, "\(compile):\n" + lines.filter { !$0.hasSuffix(" 0 failed") }.prefix(40).joined(separator: "\n")
                       + r.stderrText.suffix(2000), file: file, line: line)
        let total = lines.last ?? ""
        // Every script but simd_linking (its modules import) has commands the harness runs.
        XCTAssertEqual(lines.filter { $0.contains(" commands in ") }.count, 56, r.stdoutText, file: file, line: line)
        let passed = Int(total.split(separator: " ").first ?? "") ?? 0
        XCTAssertGreaterThan(passed, 24_000, total, file: file, line: line)
        return total
    }

    /// The 2.0 SIMD spec scripts as executables for the portable x86-64-v2 at -O2 and at the
    /// baseline tier, and for plain x86-64 (SSE2 only: no pshufb, no SSE4.1 rounding) at -O1.
    func testSIMDSpecScriptsAsExecutables() throws {
        guard E2ETarget.hostArchitecture == "x86_64" else { throw XCTSkip("x86-64 CPUs") }
        for compile in ["-O2", "--tier baseline", "-O1 --cpu x86-64"] {
            let total = try Self.specScriptsAsExecutables(compile)
            print("SIMD spec scripts as executables (\(compile)): \(total)")
        }
    }
}
