import ArgumentParser
import Foundation
import WasmAOTCodegen

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compile a WASI module for this CPU (once, cached) and run it.",
        usage: "wasmaot run [<options>] <input> [<options>] [--] [<arguments> ...]",
        discussion: """
            Options may come before or right after the module; everything after the
            module that is not one of them (or everything after `--`) goes to the
            guest. The guest's argv[0] is the module path as given. The exit status is
            the guest's (134 on a trap).

            Tiers: the first run of a module compiles a quick baseline tier and starts
            it; the optimized tier (-O, default 2) is built in the background, at low
            priority, and every later run starts that one. --tier optimized waits for
            the optimized tier instead; `wasmaot cache wait` waits for background builds.

            Examples:
              wasmaot run hello.wasm
              wasmaot run --dir . app.wasm input.txt
              wasmaot run app.wasm --dir /data::/ --env A=1 -- --guest-flag
              wasmaot run --tier optimized -O3 app.wasm

            See also: README.md (Usage, Tiers and compile time).
            """
    )

    @OptionGroup var codegen: CodegenOptions
    @OptionGroup var tiers: TierOptions
    @OptionGroup(title: "WASI") var wasi: WASIOptions

    @Flag(name: .customLong("bench-timing"), help: "Print the time between bench.start and bench.end to stderr.")
    var benchTiming = false

    @Argument(help: "Module to run (.wasm).")
    var input: String

    @Argument(parsing: .captureForPassthrough, help: "Arguments for the guest.")
    var arguments: [String] = []

    @OptionGroup var cache: CacheOptions

    @Flag(name: .shortAndLong, help: "Say on stderr whether the artifact came from the cache (also WASMAOT_LOG=1).")
    var verbose = false

    func validate() throws {
        guard codegen.architectures == [.host] else {
            throw ValidationError("wasmaot run compiles for this machine (\(Architecture.host.rawValue)); use `wasmaot compile --target` to cross-compile")
        }
    }

    mutating func run() throws {
        Timeline.mark("parsed")
        var guestArgs = arguments
        try consumeTrailingOptions(&guestArgs)
        // Compiled once per (module, compiler, CPU, options); later runs start the cached artifact.
        let artifact = tieredArtifact(input: input, choice: tiers.tier, opt: OptLevel(rawValue: codegen.optLevel)!, cache: cache.open(),
                                      verbose: verbose, backgroundJobs: tiers.jobs)
        var config = wasi.wasiString
        if benchTiming { config += " --bench-timing" }
        var environment = ProcessInfo.processInfo.environment
        environment["WASMAOT_WASI"] = config
        // exec: the guest's exit status and signals are ours, with no process in between.
        Timeline.mark("exec")
        execute(artifact.path, argv: [input] + guestArgs, environment: environment)
    }

    // The `wasmaot` launcher (Sources/wasmaot/main.c) parses this same grammar for its fast path.

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
            case "--env": wasi.env.append(try checkedEnvEntry(try value()))
            case "--tier":
                let t = try value()
                guard let choice = TierChoice(rawValue: t) else { throw ValidationError("--tier expects auto, baseline or optimized, got '\(t)'") }
                tiers.tier = choice
            case "--inherit-env": wasi.inheritEnv = true; args.removeFirst()
            case "--bench-timing": benchTiming = true; args.removeFirst()
            case "-v", "--verbose": verbose = true; args.removeFirst()
            default:
                if first.hasPrefix("--dir=") { wasi.dirs.append(String(first.dropFirst(6))); args.removeFirst() }
                else if first.hasPrefix("--env=") { wasi.env.append(try checkedEnvEntry(String(first.dropFirst(6)))); args.removeFirst() }
                else if first.hasPrefix("--tier="), let choice = TierChoice(rawValue: String(first.dropFirst(7))) { tiers.tier = choice; args.removeFirst() }
                else { return }
            }
        }
    }
}

func execute(_ path: String, argv: [String], environment: [String: String]) -> Never {
    let cArgs = argv.map { strdup($0) } + [nil]
    let cEnv = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    execve(path, cArgs, cEnv)
    fail("cannot start \(path): \(String(cString: strerror(errno)))")
}
