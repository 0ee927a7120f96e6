import ArgumentParser
import Foundation
import WasmAOTCodegen

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compile a WASI module for this CPU and run it.",
        discussion: """
            Options may come before or right after the module; everything after the module that is
            not one of them (or everything after `--`) goes to the guest. The guest's argv[0] is the
            module path as given. The exit status is the guest's (134 on a trap).

            Examples:
              wasmaot run hello.wasm
              wasmaot run --dir . app.wasm input.txt
              wasmaot run app.wasm --dir /data::/ --env A=1 -- --guest-flag
            """
    )

    @OptionGroup var codegen: CodegenOptions
    @OptionGroup(title: "WASI") var wasi: WASIOptions

    @Flag(name: .customLong("bench-timing"), help: "Print the time between bench.start and bench.end to stderr.")
    var benchTiming = false

    @Argument(help: "Module to run (.wasm).")
    var input: String

    @Argument(parsing: .captureForPassthrough, help: "Arguments for the guest.")
    var arguments: [String] = []

    mutating func run() throws {
        var guestArgs = arguments
        try consumeTrailingOptions(&guestArgs)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("wasmaot-run-\(getpid())")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let executable = dir.appendingPathComponent("module").path
        let pipeline = Pipeline(input: input, output: executable, opt: OptLevel(rawValue: codegen.optLevel)!,
                                architecture: .host, cpu: .native, emit: .exe)
        do {
            try pipeline.run()
        } catch {
            fail(error.description)
        }
        var config = wasi.wasiString
        if benchTiming { config += " --bench-timing" }
        var environment = ProcessInfo.processInfo.environment
        environment["WASMAOT_WASI"] = config
        let status = spawnAndWait(executable, argv: [input] + guestArgs, environment: environment)
        try? FileManager.default.removeItem(at: dir)
        Foundation.exit(status)
    }

    /// Leading wasmaot options after the module path, up to the first guest argument or `--`.
    private mutating func consumeTrailingOptions(_ args: inout [String]) throws {
        while let first = args.first {
            func value() throws -> String {
                guard args.count >= 2 else { throw ValidationError("\(first) needs a value") }
                let v = args[1]
                args.removeFirst(2)
                return v
            }
            switch first {
            case "--": args.removeFirst(); return
            case "--dir": wasi.dirs.append(try value())
            case "--env":
                let e = try value()
                guard e.contains("=") else { throw ValidationError("--env expects K=V, got '\(e)'") }
                wasi.env.append(e)
            case "--inherit-env": wasi.inheritEnv = true; args.removeFirst()
            case "--bench-timing": benchTiming = true; args.removeFirst()
            default:
                if first.hasPrefix("--dir=") { wasi.dirs.append(String(first.dropFirst(6))); args.removeFirst() }
                else if first.hasPrefix("--env=") { wasi.env.append(String(first.dropFirst(6))); args.removeFirst() }
                else { return }
            }
        }
    }
}

/// posix_spawn + wait, so the temporary artifact can be removed afterwards. A guest killed by a
/// signal is reported the way shells do (128 + signal).
func spawnAndWait(_ path: String, argv: [String], environment: [String: String]) -> Int32 {
    var pid: pid_t = 0
    let cArgs = argv.map { strdup($0) } + [nil]
    let cEnv = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
        cArgs.forEach { free($0) }
        cEnv.forEach { free($0) }
    }
    let rc = posix_spawn(&pid, path, nil, nil, cArgs, cEnv)
    guard rc == 0 else { fail("cannot start \(path): \(String(cString: strerror(rc)))") }
    // Let the guest, not us, react to ^C; we only relay its status.
    signal(SIGINT, SIG_IGN)
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let signalNumber = status & 0x7f
    if signalNumber == 0 { return (status >> 8) & 0xff }
    return 128 + signalNumber
}
