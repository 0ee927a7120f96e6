import Foundation
import WAT
import XCTest

/// Shared helpers for the end-to-end tests: locating the `wasmaot` binary and the toolchains,
/// running processes with captured output, per-test temporary directories, compilation helpers.

struct E2EError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Outcome of one child process.
struct ProcessResult: Sendable {
    var status: Int32
    var stdout: Data
    var stderr: Data
    var timedOut = false

    var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    var stderrText: String { String(decoding: stderr, as: UTF8.self) }

    /// For failure messages: status plus the (clipped) output.
    var summary: String {
        func clip(_ s: String) -> String { s.count > 2000 ? String(s.prefix(2000)) + "…[clipped]" : s }
        return "status \(status)\(timedOut ? " (timed out)" : "")\n--- stdout ---\n\(clip(stdoutText))\n--- stderr ---\n\(clip(stderrText))"
    }
}

enum Paths {
    /// Package root, derived from this file's location (Tests/EndToEndTests/Support.swift).
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// C programs compared against native builds (excluded from the target in Package.swift).
    static let cFixtures = packageRoot.appendingPathComponent("Tests/EndToEndTests/Fixtures/c")

    /// Fixtures/c/NAME.c, copied into `dir` (so build products and diagnostics stay together).
    /// Fixtures/cpp/NAME, copied into `dir`.
    static func cxxFixture(_ name: String, into dir: URL) throws -> URL {
        let target = dir.appendingPathComponent(name)
        if !FileManager.default.fileExists(atPath: target.path) {
            try FileManager.default.copyItem(at: packageRoot.appendingPathComponent("Tests/EndToEndTests/Fixtures/cpp/\(name)"), to: target)
        }
        return target
    }

    static func cFixture(_ name: String, into dir: URL) throws -> URL {
        let source = cFixtures.appendingPathComponent("\(name).c")
        let target = dir.appendingPathComponent("\(name).c")
        if !FileManager.default.fileExists(atPath: target.path) {
            try FileManager.default.copyItem(at: source, to: target)
        }
        return target
    }

    /// The sightglass corpus, shared data next to the package (never written to).
    static let sightglass = packageRoot.appendingPathComponent("../shared/corpora/bench/sightglass").standardized

    /// `.build/debug/wasmaot`, falling back to `.build/release/wasmaot`.
    static func wasmaot() throws -> String {
        let candidates = ["debug", "release"].map { packageRoot.appendingPathComponent(".build/\($0)/wasmaot").path }
        for path in candidates where FileManager.default.isExecutableFile(atPath: path) {
            return path
        }
        throw E2EError("the wasmaot binary was not found (looked for \(candidates.joined(separator: " and "))); "
            + "run `swift build` first")
    }

    /// An executable on PATH (or one of the fixed fallbacks), nil if none exists.
    static func which(_ names: String...) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        let dirs = path.split(separator: ":").map(String.init) + ["/usr/local/bin", "/usr/bin", "/bin"]
        for name in names {
            for dir in dirs {
                let candidate = "\(dir)/\(name)"
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            }
        }
        return nil
    }
}

enum Proc {
    /// Runs `executable` with `arguments`; `environment` nil = inherit ours. Output goes to temp
    /// files (no pipe-buffer deadlocks on large outputs). A process still running after
    /// `timeout` seconds is killed and reported with `timedOut`.
    static func run(_ executable: String, _ arguments: [String] = [], environment: [String: String]? = nil,
                    cwd: URL? = nil, stdin: Data? = nil, timeout: TimeInterval = 300) throws -> ProcessResult {
        let scratch = FileManager.default.temporaryDirectory
            .appendingPathComponent("wasmaot-e2e-io-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("stdout"), errURL = scratch.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let outHandle = try FileHandle(forWritingTo: outURL), errHandle = try FileHandle(forWritingTo: errURL)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let cwd { process.currentDirectoryURL = cwd }
        process.standardOutput = outHandle
        process.standardError = errHandle
        if let stdin {
            let inURL = scratch.appendingPathComponent("stdin")
            _ = FileManager.default.createFile(atPath: inURL.path, contents: stdin)
            process.standardInput = try FileHandle(forReadingFrom: inURL)
        } else {
            process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        }
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        var timedOut = false
        while process.isRunning {
            if Date() > deadline {
                timedOut = true
                kill(process.processIdentifier, SIGKILL)
                break
            }
            usleep(5_000)
        }
        process.waitUntilExit()
        try? outHandle.close()
        try? errHandle.close()
        // Killed by a signal: report it the way shells do.
        let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        return ProcessResult(status: status, stdout: (try? Data(contentsOf: outURL)) ?? Data(),
                             stderr: (try? Data(contentsOf: errURL)) ?? Data(), timedOut: timedOut)
    }

    /// Runs and requires exit status 0, else throws with the output.
    @discardableResult
    static func check(_ executable: String, _ arguments: [String], cwd: URL? = nil) throws -> ProcessResult {
        let r = try run(executable, arguments, cwd: cwd)
        guard r.status == 0 else {
            throw E2EError("`\(([executable] + arguments).joined(separator: " "))` failed: \(r.summary)")
        }
        return r
    }
}

enum Toolchains {
    /// clang able to target wasm32-wasi (with the installed wasi-libc sysroot).
    static func wasmClang() throws -> String {
        guard let clang = Paths.which("clang-14", "clang") else {
            throw E2EError("no clang-14/clang on PATH to build wasm32-wasi fixtures")
        }
        return clang
    }

    static func nativeCC() throws -> String {
        guard let cc = Paths.which("cc", "gcc", "clang") else { throw E2EError("no native C compiler (cc)") }
        return cc
    }

    static func cToWasm(_ source: URL, _ output: URL, extra: [String] = []) throws {
        try Proc.check(try wasmClang(), ["--target=wasm32-wasi", "-O2", source.path, "-o", output.path, "-lm"] + extra)
    }

    /// The clang++ of the Swift toolchain (clang 21: Wasm exception handling) beside swiftc.
    static func toolchainClangxx() throws -> String {
        var candidates: [String] = []
        if let swiftc = Paths.which("swiftc") {
            candidates.append(URL(fileURLWithPath: swiftc).resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("clang++").path)
        }
        candidates.append("/opt/swift/usr/bin/clang++")
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw E2EError("no clang++ beside swiftc (the Swift toolchain's clang builds -fwasm-exceptions fixtures)")
        }
        return found
    }

    /// A C++ program for wasm32-wasi with Wasm exception handling (`legacy`: the try/catch/delegate
    /// encoding clang emits by default, else try_table/exnref): compiled by the Swift toolchain's
    /// clang++ against Debian's wasm32 libc++ (libc++-19-dev-wasm32), linked by clang++-14 with
    /// wasm-ld-19. `support` supplies the C++ exception runtime Debian's libc++abi leaves out.
    static func cxxToWasm(_ sources: [URL], _ output: URL, legacy: Bool) throws {
        let cxx = try toolchainClangxx()
        guard let link = Paths.which("clang++-14", "clang-14") else { throw E2EError("no clang++-14 to link wasm32-wasi fixtures") }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/wasm-ld-19") else { throw E2EError("no /usr/bin/wasm-ld-19 (apt install lld-19)") }
        var flags = ["--target=wasm32-wasi", "-O2", "-fwasm-exceptions", "-nostdinc++",
                     "-isystem", "/usr/include/wasm32-wasi/c++/v1", "-isystem", "/usr/include/wasm32-wasi"]
        if !legacy { flags += ["-mllvm", "-wasm-use-legacy-eh=false"] }
        var objects: [String] = []
        for source in sources {
            let object = output.deletingLastPathComponent().appendingPathComponent(source.deletingPathExtension().lastPathComponent + (legacy ? ".legacy.o" : ".o")).path
            try Proc.check(cxx, flags + ["-c", source.path, "-o", object])
            objects.append(object)
        }
        try Proc.check(link, ["--target=wasm32-wasi", "-O2", "-fuse-ld=/usr/bin/wasm-ld-19", "-Wl,--strip-debug"] + objects + ["-o", output.path])
    }

    static func cxxToNative(_ source: URL, _ output: URL) throws {
        guard let cxx = Paths.which("g++", "c++", "clang++") else { throw E2EError("no native C++ compiler") }
        try Proc.check(cxx, ["-O2", source.path, "-o", output.path])
    }

    static func cToNative(_ source: URL, _ output: URL) throws {
        try Proc.check(try nativeCC(), ["-O2", source.path, "-o", output.path, "-lm"])
    }
}

enum WasmAOT {
    /// `wasmaot compile IN -o OUT ARGS…`, requiring success.
    static func compile(_ wasm: URL, to output: URL, _ arguments: [String] = ["-O2"]) throws {
        let r = try Proc.run(try Paths.wasmaot(), ["compile", wasm.path, "-o", output.path] + arguments)
        guard r.status == 0 else {
            throw E2EError("wasmaot compile \(wasm.lastPathComponent) failed: \(r.summary)")
        }
    }

    /// `wasmaot compile` without requiring success.
    static func tryCompile(_ wasm: URL, to output: URL, _ arguments: [String] = ["-O2"]) throws -> ProcessResult {
        try Proc.run(try Paths.wasmaot(), ["compile", wasm.path, "-o", output.path] + arguments)
    }

    /// `wasmaot run ARGS…` in `cwd`.
    static func run(_ arguments: [String], cwd: URL? = nil, environment: [String: String]? = nil,
                    timeout: TimeInterval = 600) throws -> ProcessResult {
        try Proc.run(try Paths.wasmaot(), ["run"] + arguments, environment: environment, cwd: cwd, timeout: timeout)
    }
}

/// The architecture `runWAT` builds for: the host, or WASMAOT_E2E_TARGET (x86_64, aarch64). With
/// a foreign one, executables run under qemu-user (`qemu-<arch>-static` or `qemu-<arch>`), so
/// the suites that go through `runWAT` (TrapTests, SemanticsTests, …) check that target:
///   WASMAOT_E2E_TARGET=aarch64 swift test --filter 'TrapTests|SemanticsTests'
enum E2ETarget {
    static var hostArchitecture: String {
        #if arch(arm64)
        return "aarch64"
        #else
        return "x86_64"
        #endif
    }

    static let architecture: String = {
        let requested = ProcessInfo.processInfo.environment["WASMAOT_E2E_TARGET"] ?? ""
        return requested.isEmpty ? hostArchitecture : requested
    }()

    static var isForeign: Bool { architecture != hostArchitecture }

    static var compileArguments: [String] { isForeign ? ["--target", architecture] : [] }

    /// qemu-user for `arch`, nil if not installed.
    static func qemu(for arch: String) -> String? {
        Paths.which("qemu-\(arch)-static", "qemu-\(arch)")
    }

    /// Runs an executable built for `architecture` (through qemu-user when foreign).
    static func run(_ executable: String, _ arguments: [String] = [], environment: [String: String]? = nil,
                    cwd: URL? = nil, timeout: TimeInterval = 300) throws -> ProcessResult {
        guard isForeign else {
            return try Proc.run(executable, arguments, environment: environment, cwd: cwd, timeout: timeout)
        }
        guard let qemu = qemu(for: architecture) else {
            throw E2EError("WASMAOT_E2E_TARGET=\(architecture) needs qemu-\(architecture)-static or qemu-\(architecture) (apt-get install qemu-user-static)")
        }
        return try Proc.run(qemu, [executable] + arguments, environment: environment, cwd: cwd, timeout: timeout)
    }
}

extension XCTestCase {
    /// A fresh directory removed when the test ends.
    func makeTempDir(_ label: String = "t") throws -> URL {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("wasmaot-e2e-\(label)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    /// Writes `bytes` to `dir/name` and returns its URL.
    func write(_ bytes: [UInt8], to dir: URL, as name: String) throws -> URL {
        let url = dir.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url
    }

    /// WAT text → binary module file in `dir`.
    func watFile(_ source: String, in dir: URL, name: String = "module.wasm") throws -> URL {
        try write(try wat2wasm(source), to: dir, as: name)
    }

    /// Compiles `source` (WAT) to an executable in a temp dir (`opt`: compile arguments, separated
    /// by spaces) and runs it with `args` and an
    /// empty environment — for `E2ETarget.architecture` (the host unless WASMAOT_E2E_TARGET says
    /// otherwise; a foreign target runs under qemu-user).
    /// `legacyText`: the source uses the legacy exception instructions (try/catch/delegate/rethrow),
    /// which only wabt's wat2wasm encodes.
    func runWAT(_ source: String, opt: String = "-O2", args: [String] = [], legacyText: Bool = false) throws -> ProcessResult {
        let dir = try makeTempDir("wat")
        let wasm: URL
        if legacyText {
            guard let tool = Paths.which("wat2wasm") else { throw E2EError("wat2wasm (wabt) is needed for legacy exception text") }
            let text = dir.appendingPathComponent("module.wat")
            try source.write(to: text, atomically: true, encoding: .utf8)
            wasm = dir.appendingPathComponent("module.wasm")
            try Proc.check(tool, ["--enable-exceptions", text.path, "-o", wasm.path])
        } else {
            wasm = try watFile(source, in: dir)
        }
        let exe = dir.appendingPathComponent("module")
        try WasmAOT.compile(wasm, to: exe, opt.split(separator: " ").map(String.init) + E2ETarget.compileArguments)
        return try E2ETarget.run(exe.path, args, environment: [:], timeout: E2ETarget.isForeign ? 60 : 20)
    }
}

/// Shell-quotes one word for WASMAOT_WASI (same rules as the CLI).
func shellQuote(_ word: String) -> String {
    let safe = word.allSatisfy { $0.isLetter || $0.isNumber || "-_./:=@%+,".contains($0) }
    if safe && !word.isEmpty { return word }
    return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

/// A value shared between threads under a lock (for collecting results of concurrent work).
final class Locked<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()
    init(_ value: Value) { self.value = value }
    func withLock<R>(_ body: (inout Value) -> R) -> R {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}

/// Runs `work` on every item with at most `width` in flight; returns results in input order.
func concurrentMap<T: Sendable, R: Sendable>(_ items: [T], width: Int = 2, _ work: @escaping @Sendable (T) -> R) -> [R] {
    let results = Locked([R?](repeating: nil, count: items.count))
    let next = Locked(0)
    let group = DispatchGroup()
    for _ in 0..<min(width, items.count) {
        DispatchQueue.global().async(group: group) {
            while true {
                let i = next.withLock { n -> Int in defer { n += 1 }; return n }
                guard i < items.count else { return }
                let r = work(items[i])
                results.withLock { $0[i] = r }
            }
        }
    }
    group.wait()
    return results.withLock { $0.map { $0! } }
}
