import Foundation
import XCTest

/// C programs from Fixtures/c, built both for wasm32-wasi (then compiled by wasmaot) and natively;
/// both runs must print the same stdout and exit with the same status.
final class CProgramTests: XCTestCase {
    /// The two executables of one fixture.
    struct Built {
        var aot: URL
        var native: URL
    }

    private func build(_ name: String, opt: String = "-O2", wasmFlags: [String] = []) throws -> Built {
        let dir = try makeTempDir(name)
        let source = try Paths.cFixture(name, into: dir)
        let wasm = dir.appendingPathComponent("\(name).wasm")
        let aot = dir.appendingPathComponent("\(name).aot")
        let native = dir.appendingPathComponent("\(name).native")
        try Toolchains.cToWasm(source, wasm, extra: wasmFlags)
        try Toolchains.cToNative(source, native)
        try WasmAOT.compile(wasm, to: aot, [opt])
        return Built(aot: aot, native: native)
    }

    /// Runs both with the same argv; the guest gets `guestEnv` through WASMAOT_WASI, the native
    /// program gets it as its whole environment.
    @discardableResult
    private func compare(_ built: Built, args: [String] = [], guestEnv: [(String, String)] = [],
                         aotCwd: URL? = nil, nativeCwd: URL? = nil, wasi: String? = nil,
                         file: StaticString = #filePath, line: UInt = #line) throws -> (aot: ProcessResult, native: ProcessResult) {
        var config = guestEnv.map { "--env \(shellQuote("\($0.0)=\($0.1)"))" }.joined(separator: " ")
        if let wasi { config = wasi + " " + config }
        let aot = try Proc.run(built.aot.path, args, environment: ["WASMAOT_WASI": config], cwd: aotCwd)
        var nativeEnv: [String: String] = [:]
        for (k, v) in guestEnv { nativeEnv[k] = v }
        let native = try Proc.run(built.native.path, args, environment: nativeEnv, cwd: nativeCwd)
        XCTAssertEqual(aot.status, native.status, "exit status differs (args \(args))\nAOT: \(aot.summary)", file: file, line: line)
        XCTAssertEqual(aot.stdoutText, native.stdoutText, "stdout differs (args \(args))", file: file, line: line)
        XCTAssertEqual(aot.stderrText, "", "unexpected stderr from the AOT executable", file: file, line: line)
        return (aot, native)
    }

    func testMath() throws {
        let built = try build("math")
        let r = try compare(built)
        XCTAssertEqual(r.aot.status, 0, "math self-checks failed:\n\(r.aot.stdoutText)")
        XCTAssertTrue(r.aot.stdoutText.contains("sqrt: 1.414214 0.707107 1e+150"))
    }

    func testMathAtEveryOptLevel() throws {
        for opt in ["-O0", "-O1", "-O3"] {
            let built = try build("math", opt: opt)
            let r = try compare(built)
            XCTAssertEqual(r.aot.status, 0, "\(opt): \(r.aot.summary)")
        }
    }

    func testAllocationHeavy() throws {
        let r = try compare(try build("alloc"))
        XCTAssertEqual(r.aot.status, 0, r.aot.summary)
        XCTAssertTrue(r.aot.stdoutText.contains("qsort: sorted=1"))
    }

    func testRecursion() throws {
        let built = try build("recursion")
        let r = try compare(built)
        XCTAssertEqual(r.aot.status, 109, "fib(20) % 256")
        XCTAssertTrue(r.aot.stdoutText.contains("fib(25) = 75025"))
        XCTAssertTrue(r.aot.stdoutText.contains("ack(3, 5) = 253"))
        // 100k frames: still within the default native stack for both.
        try compare(built, args: ["100000"])
    }

    /// Built with `-mtail-call`: 10^8 calls through return_call (mismatched signatures too) and
    /// return_call_indirect finish in constant stack (a call frame each would need gigabytes), at
    /// -O2 and at the baseline tier, printing what the native build prints.
    func testGuaranteedTailCalls() throws {
        for opt in ["-O2", "--tier=baseline"] {
            let built = try build("tailcalls", opt: opt, wasmFlags: ["-mtail-call"])
            let r = try compare(built)
            XCTAssertEqual(r.aot.status, 0, "\(opt): \(r.aot.summary)")
            XCTAssertEqual(r.aot.stdoutText, "4264526263840510208\n", opt)
        }
    }

    /// A C++ program built with `-fwasm-exceptions`, in both encodings (legacy try/catch/delegate/
    /// rethrow, clang's default, and try_table/exnref): throws across functions, runs destructors
    /// while unwinding, catches by type, by base class and with catch(...), rethrows with `throw;`
    /// — printing what the native build prints, at -O2 and the baseline tier. An uncaught exception
    /// ends it with wasmtime's status 1 (cleanups run first, as under wasmtime); a million throws
    /// in a loop leave the process as small as a hundred thousand (exceptions are freed).
    func testCxxExceptions() throws {
        let dir = try makeTempDir("cxx")
        let program = try Paths.cxxFixture("exceptions.cpp", into: dir)
        let support = try Paths.cxxFixture("cxxeh_support.cpp", into: dir)
        let native = dir.appendingPathComponent("exceptions.native")
        try Toolchains.cxxToNative(program, native)
        for legacy in [true, false] {
            let wasm = dir.appendingPathComponent(legacy ? "exceptions.legacy.wasm" : "exceptions.wasm")
            try Toolchains.cxxToWasm([program, support], wasm, legacy: legacy)
            for opt in ["-O2", "--tier=baseline"] {
                let aot = dir.appendingPathComponent("exceptions\(legacy ? ".legacy" : "")\(opt).aot")
                try WasmAOT.compile(wasm, to: aot, [opt])
                let label = "\(legacy ? "legacy" : "exnref") \(opt)"
                let r = try compare(Built(aot: aot, native: native))
                XCTAssertEqual(r.aot.status, 0, "\(label): \(r.aot.summary)")
                XCTAssertTrue(r.aot.stdoutText.contains("caught DerivedError what=derived failure extra=7"), label)
                XCTAssertTrue(r.aot.stdoutText.hasSuffix("live guards at end: 0\ndone\n"), label)
                let uncaught = try Proc.run(aot.path, ["uncaught"])
                XCTAssertEqual(uncaught.status, 1, "\(label): \(uncaught.summary)")
                XCTAssertEqual(uncaught.stderrText, "wasm exception: thrown Wasm exception, not caught\n", label)
                XCTAssertTrue(uncaught.stdoutText.hasSuffix("Guard(middle) dtor\n  Guard(layer) dtor\n"), "\(label): cleanups ran: \(uncaught.stdoutText)")
                var peaks: [Int] = []
                for n in [100_000, 1_000_000] {
                    let loop = try Proc.run("/usr/bin/time", ["-f", "%M", aot.path, "loop", "\(n)"])
                    XCTAssertEqual(loop.status, 0, "\(label): \(loop.summary)")
                    let sum = (0..<n).reduce(0) { $0 + $1 % 7 }
                    XCTAssertEqual(loop.stdoutText, "loop \(n): sum \(sum), live 0\n", label)
                    peaks.append(Int(loop.stderrText.split(separator: "\n").last.map(String.init) ?? "") ?? 0)
                }
                // Peak RSS in KiB: 10x the throws may not cost more than 2 MiB more (a leak of even
                // one 64-byte exception per throw would add 60 MB).
                XCTAssertLessThan(peaks[1], peaks[0] + 2048, "\(label): peak RSS \(peaks) KiB for 10^5 and 10^6 throws")
            }
        }
    }

    func testArgv() throws {
        let built = try build("args_env")
        let r = try compare(built)
        XCTAssertEqual(r.aot.status, 1)
        try compare(built, args: ["one", "two words", "", "ünïcödé ✓", "--flag=x", "-O2"])
        let many = (0..<300).map { "arg\($0)" }
        let m = try compare(built, args: many)
        XCTAssertEqual(m.aot.status, 301 & 0xff)
    }

    func testEnvironmentFromWASMAOT_WASI() throws {
        let built = try build("args_env")
        let env = [("E2E_ALPHA", "1"), ("E2E_BETA", "hello world"), ("E2E_EMPTY", ""), ("E2E_WEIRD", "a=b=c 'q' \"d\"")]
        let r = try compare(built, args: ["x"], guestEnv: env)
        XCTAssertTrue(r.aot.stdoutText.contains("E2E_BETA=<hello world>"), r.aot.stdoutText)
        XCTAssertTrue(r.aot.stdoutText.contains("E2E_UNSET=(unset)"), r.aot.stdoutText)
    }

    func testHostEnvironmentIsNotInheritedByDefault() throws {
        let built = try build("args_env")
        let r = try Proc.run(built.aot.path, [], environment: ["E2E_ALPHA": "host", "WASMAOT_WASI": "--env E2E_BETA=guest"])
        XCTAssertEqual(r.status, 1, r.summary)
        XCTAssertTrue(r.stdoutText.contains("E2E_ALPHA=(unset)"), r.stdoutText)
        XCTAssertTrue(r.stdoutText.contains("E2E_BETA=<guest>"), r.stdoutText)
        let inherited = try Proc.run(built.aot.path, [], environment: ["E2E_ALPHA": "host", "WASMAOT_WASI": "--inherit-env"])
        XCTAssertTrue(inherited.stdoutText.contains("E2E_ALPHA=<host>"), inherited.summary)
    }

    func testExitCodes() throws {
        let built = try build("exitcode")
        let expected: [String: Int32] = ["exit3": 3, "ret42": 42, "exit0": 0, "exit255": 255, "exit300": 44, "quick7": 7, "none": 0]
        for (mode, status) in expected.sorted(by: { $0.key < $1.key }) {
            let r = try compare(built, args: [mode])
            XCTAssertEqual(r.aot.status, status, "mode \(mode)")
            if mode != "quick7" {
                XCTAssertTrue(r.aot.stdoutText.hasSuffix("atexit handler ran\n"), "mode \(mode): \(r.aot.stdoutText)")
            }
        }
    }

    func testStringsAndConversions() throws {
        let r = try compare(try build("strings"))
        XCTAssertEqual(r.aot.status, 0)
        XCTAssertTrue(r.aot.stdoutText.contains("sscanf: n=4 a=12 b=34 word=hello f=5.5"), r.aot.stdoutText)
    }

    /// Seeds two identical directories; the guest gets one preopened as ".", the native program
    /// runs with the other as cwd. Output, status and the resulting files must match.
    private func compareInDirectory(_ name: String) throws {
        let built = try build(name)
        let aotDir = try makeTempDir("\(name)-aot"), nativeDir = try makeTempDir("\(name)-native")
        let input = "10\n20\n-5\nlast line without newline 7"
        for dir in [aotDir, nativeDir] {
            try input.write(to: dir.appendingPathComponent("input.txt"), atomically: true, encoding: .utf8)
        }
        let r = try compare(built, aotCwd: FileManager.default.temporaryDirectory, nativeCwd: nativeDir,
                            wasi: "--dir \(shellQuote(aotDir.path))::.")
        XCTAssertEqual(r.aot.status, 0, "\(name): \(r.aot.summary)")
        let aotFiles = try FileManager.default.contentsOfDirectory(atPath: aotDir.path).sorted()
        let nativeFiles = try FileManager.default.contentsOfDirectory(atPath: nativeDir.path).sorted()
        XCTAssertEqual(aotFiles, nativeFiles, "files left in the directory differ")
        for file in nativeFiles where aotFiles.contains(file) {
            XCTAssertEqual(FileManager.default.contents(atPath: aotDir.appendingPathComponent(file).path),
                           FileManager.default.contents(atPath: nativeDir.appendingPathComponent(file).path),
                           "content of \(file) differs")
        }
    }

    func testFileIOInPreopenedDirectory() throws {
        try compareInDirectory("fileio")
    }

    func testDirectoryOperationsInPreopenedDirectory() throws {
        try compareInDirectory("fsops")
    }

    func testNoPreopenMeansNoFiles() throws {
        let built = try build("fileio")
        let dir = try makeTempDir("nopreopen")
        try "1\n".write(to: dir.appendingPathComponent("input.txt"), atomically: true, encoding: .utf8)
        // Even with cwd = a directory holding input.txt, nothing is visible without a preopen.
        let r = try Proc.run(built.aot.path, [], environment: ["WASMAOT_WASI": ""], cwd: dir)
        XCTAssertEqual(r.status, 1, r.summary)
        XCTAssertEqual(r.stdoutText, "cannot open input.txt\n")
    }
}
