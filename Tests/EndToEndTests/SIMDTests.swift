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

    // MARK: relaxed SIMD

    /// Relaxed SIMD operations with the inputs where engines may differ (NaNs, signalling ones
    /// too, ±0, out-of-range conversions and swizzle indices, mixed laneselect masks, the q15
    /// overflow, dot products with the top bit set, multiply-adds that fusing changes), read
    /// from memory so that nothing folds at compile time. `_start` writes every result (16 bytes
    /// each) to stdout; the exports `opK(i)` give them one at a time. Which NaN a lane holds when
    /// an input is a NaN is Wasm's ordinary NaN nondeterminism (LLVM may commute a multiply), not
    /// a relaxed choice: the multiply-adds' NaN lanes (`nanLanes`: their lane count) only need to
    /// be NaNs.
    static let relaxedOps: [(op: String, arity: Int, nanLanes: Int?)] = [
        ("i8x16.relaxed_swizzle", 2, nil), ("i32x4.relaxed_trunc_f32x4_s", 1, nil), ("i32x4.relaxed_trunc_f32x4_u", 1, nil),
        ("i32x4.relaxed_trunc_f64x2_s_zero", 1, nil), ("i32x4.relaxed_trunc_f64x2_u_zero", 1, nil),
        ("f32x4.relaxed_madd", 3, 4), ("f32x4.relaxed_nmadd", 3, 4), ("f64x2.relaxed_madd", 3, 2), ("f64x2.relaxed_nmadd", 3, 2),
        ("i8x16.relaxed_laneselect", 3, nil), ("i16x8.relaxed_laneselect", 3, nil), ("i32x4.relaxed_laneselect", 3, nil),
        ("i64x2.relaxed_laneselect", 3, nil), ("f32x4.relaxed_min", 2, nil), ("f32x4.relaxed_max", 2, nil), ("f64x2.relaxed_min", 2, nil),
        ("f64x2.relaxed_max", 2, nil), ("i16x8.relaxed_q15mulr_s", 2, nil), ("i16x8.relaxed_dot_i8x16_i7x16_s", 2, nil),
        ("i32x4.relaxed_dot_i8x16_i7x16_add_s", 3, nil),
    ]

    /// Lane `lane` of a float result as an unsigned integer.
    static func lane(_ bytes: ArraySlice<UInt8>, _ lane: Int, width: Int) -> UInt64 {
        (0..<width).reduce(UInt64(0)) { $0 | UInt64(bytes[bytes.startIndex + lane * width + $1]) << (8 * UInt64($1)) }
    }

    static func isNaN(_ bits: UInt64, width: Int) -> Bool {
        width == 4 ? Float(bitPattern: UInt32(bits)).isNaN : Double(bitPattern: bits).isNaN
    }

    /// Result `index` (16 bytes) of two outputs equal: bit for bit, NaN lanes of the multiply-adds
    /// as NaNs.
    static func sameResult(_ a: [UInt8], _ b: [UInt8], index: Int) -> Bool {
        let x = a[(16 * index)..<(16 * index + 16)], y = b[(16 * index)..<(16 * index + 16)]
        if x == y { return true }
        guard let lanes = relaxedOps[index / relaxedInputs.count].nanLanes else { return false }
        let width = 16 / lanes
        return (0..<lanes).allSatisfy { i in
            let p = lane(x, i, width: width), q = lane(y, i, width: width)
            return p == q || (isNaN(p, width: width) && isNaN(q, width: width))
        }
    }

    /// The expected value of result `index` in WAST: bytes, or float lanes with `nan:arithmetic`.
    static func expectation(_ out: [UInt8], index: Int) -> String {
        let bytes = out[(16 * index)..<(16 * index + 16)]
        guard let lanes = relaxedOps[index / relaxedInputs.count].nanLanes else {
            return "(v128.const i8x16 " + bytes.map { String($0) }.joined(separator: " ") + ")"
        }
        let width = 16 / lanes
        let texts = (0..<lanes).map { i -> String in
            let bits = lane(bytes, i, width: width)
            if isNaN(bits, width: width) { return "nan:arithmetic" }
            return width == 4 ? "\(Float(bitPattern: UInt32(bits)))" : "\(Double(bitPattern: bits))"
        }
        return "(v128.const \(width == 4 ? "f32x4" : "f64x2") " + texts.joined(separator: " ") + ")"
    }

    static var relaxedInputs: [[UInt8]] {
        func f32(_ v: [UInt32]) -> [UInt8] { v.flatMap { x in (0..<4).map { UInt8(truncatingIfNeeded: x >> (8 * $0)) } } }
        func f64(_ v: [UInt64]) -> [UInt8] { v.flatMap { x in (0..<8).map { UInt8(truncatingIfNeeded: x >> (8 * $0)) } } }
        return [
            Array(0..<16),
            [16, 17, 100, 127, 128, 129, 200, 255, 0, 15, 31, 64, 8, 250, 1, 2],
            f32([0x7FC0_0000, 0x8000_0000, 0, 0x3F80_0800]),             // NaN, -0, +0, 1+2^-12
            f32([0x7FA0_0001, 0x4F32_D05E, 0xCF32_D05E, 0x3F80_0800]),    // sNaN, 3e9, -3e9, 1+2^-12
            f32([0x7F80_0000, 0xFF80_0000, 0x4F00_0000, 0xBFC0_0000]),    // inf, -inf, 2^31, -1.5
            f64([0x7FF4_0000_0000_0001, 0x41F0_C388_D000_0000]),          // sNaN, 4.5e9
            f64([0x8000_0000_0000_0000, 0x3FF0_0000_4000_0000]),          // -0, 1+2^-30
            f64([0xFFF8_0000_0000_0123, 0xC1E0_0000_0020_0000]),          // -NaN with payload, -2^31-1
            [0x00, 0x80, 0x00, 0x80, 0xFF, 0x7F, 0xFF, 0xFF, 0x80, 0x00, 0x00, 0xFF, 0x00, 0x80, 0xFF, 0x7F],  // i16 -32768 ×2, 32767, -1, 0x0080, 0xff00, 0x8000, 0x7fff
            [0x80, 0x80, 0x7F, 0x7F, 0x81, 0x81, 0x01, 0xFF, 0x80, 0x7F, 0xF0, 0x0F, 0x00, 0xFF, 0xC0, 0x3F],
        ]
    }

    static var relaxedModule: String {
        let inputs = relaxedInputs
        let data = inputs.flatMap { $0 }.map { String(format: "\\%02x", $0) }.joined()
        var text = """
            (module
              (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
              (memory (export "memory") 1)
              (data (i32.const 0) "\(data)")
              (func $in (param i32) (result v128) (v128.load (i32.shl (i32.rem_u (local.get 0) (i32.const \(inputs.count))) (i32.const 4))))

            """
        for (k, op) in relaxedOps.enumerated() {
            let args = (0..<op.arity).map { "(call $in (i32.add (local.get 0) (i32.const \($0))))" }.joined(separator: " ")
            text += "  (func $op\(k) (export \"op\(k)\") (param i32) (result v128) (\(op.op) \(args)))\n"
        }
        text += "  (func (export \"_start\") (local $i i32) (local $p i32)\n    (local.set $p (i32.const 4096))\n"
        for k in relaxedOps.indices {
            text += """
                    (local.set $i (i32.const 0))
                    (loop $l\(k)
                      (v128.store (local.get $p) (call $op\(k) (local.get $i)))
                      (local.set $p (i32.add (local.get $p) (i32.const 16)))
                      (local.set $i (i32.add (local.get $i) (i32.const 1)))
                      (br_if $l\(k) (i32.lt_u (local.get $i) (i32.const \(inputs.count)))))

                """
        }
        text += """
                (i32.store (i32.const 1024) (i32.const 4096))
                (i32.store (i32.const 1028) (i32.sub (local.get $p) (i32.const 4096)))
                (drop (call $w (i32.const 1) (i32.const 1024) (i32.const 1) (i32.const 1040)))))
            """
        return text
    }

    /// Relaxed SIMD gives one result per architecture: identical for every CPU, tier and level
    /// and between executables and the embedding API (issue 31 stage c). x86-64: executables for
    /// x86-64-v2 at -O0 and -O2, the baseline tier, this CPU, plain x86-64 (SSE2) — and the spec
    /// runner (the embedding, this CPU and x86-64-v2, both tiers) asserting those very bytes.
    func testRelaxedSIMDIsDeterministicPerArchitecture() throws {
        guard E2ETarget.hostArchitecture == "x86_64" else { throw XCTSkip("x86-64 CPUs") }
        let dir = try makeTempDir("relaxed")
        let wasm = try watFile(Self.relaxedModule, in: dir)
        var outputs: [String: Data] = [:]
        for args in [["-O2"], ["-O0"], ["--tier=baseline"], ["-O2", "--cpu=native"], ["-O1", "--cpu=x86-64"]] {
            let exe = dir.appendingPathComponent("relaxed" + args.joined().replacingOccurrences(of: "=", with: ""))
            try WasmAOT.compile(wasm, to: exe, args)
            let r = try Proc.run(exe.path, environment: [:])
            XCTAssertEqual(r.status, 0, "\(args): \(r.summary)")
            XCTAssertEqual(r.stdout.count, 16 * Self.relaxedOps.count * Self.relaxedInputs.count, "\(args)")
            outputs[args.joined(separator: " ")] = r.stdout
        }
        let reference = Array(outputs["-O2"]!)
        let results = Self.relaxedOps.count * Self.relaxedInputs.count
        for (args, out) in outputs {
            guard let index = (0..<results).first(where: { !Self.sameResult(Array(out), reference, index: $0) }) else { continue }
            XCTFail("\(args): relaxed SIMD result differs from -O2's: \(Self.relaxedOps[index / Self.relaxedInputs.count].op) of input \(index % Self.relaxedInputs.count)")
        }
        // The embedding must compute the same.
        var script = Self.relaxedModule + "\n"
        for k in Self.relaxedOps.indices {
            for i in 0..<Self.relaxedInputs.count {
                script += "(assert_return (invoke \"op\(k)\" (i32.const \(i))) \(Self.expectation(reference, index: k * Self.relaxedInputs.count + i)))\n"
            }
        }
        let commands = 1 + Self.relaxedOps.count * Self.relaxedInputs.count
        for level in [0, 2] {
            try runScript(script, named: "relaxed-\(level).wast", levels: level...level, minimumCommands: commands, in: self)
        }
        try runScript(script, named: "relaxed-v2.wast", levels: 2...2, minimumCommands: commands, arguments: ["--cpu", "baseline"], in: self)
        try runScript(script, named: "relaxed-baseline.wast", levels: 1...1, minimumCommands: commands, arguments: ["--tier", "baseline"], in: self)
    }
}
