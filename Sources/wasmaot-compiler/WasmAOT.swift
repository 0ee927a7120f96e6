import ArgumentParser
import CWasmAOTRuntime
import Foundation
import WasmAOTCodegen
import WasmAOTCore
import WasmAOTFastPath
import WasmAOTLink

@main
struct WasmAOT: ParsableCommand {
    static let version = WASMAOT_VERSION  // Runtime/include/wasmaot_rt.h

    static let configuration = CommandConfiguration(
        commandName: "wasmaot",
        abstract: "Ahead-of-time WebAssembly compiler: .wasm → static native executable.",
        discussion: """
            Examples:
              # a static executable for any x86-64-v2 machine
              wasmaot compile app.wasm -o app
              # for 64-bit Arm (armv8-a)
              wasmaot compile app.wasm -o app --target aarch64
              wasmaot compile app.wasm -o app --dir .::/data --env MODE=prod
              # replace the baked-in WASI configuration at start
              WASMAOT_WASI='--dir .' ./app input.txt
              # compile for this CPU (once, cached) and run
              wasmaot run --dir . app.wasm -- input.txt
              wasmaot cache list            # what `run` has compiled
              wasmaot image build app.wasm -o app.tar    # an OCI image
              wasmaot --version

            Shell completion: wasmaot --generate-completion-script bash|zsh|fish
            See also: README.md (Usage, What is supported), deploy/README.md.
            """,
        subcommands: [Compile.self, Run.self, Cache.self, Image.self, SpecTest.self, FuzzExec.self, FuzzMalformed.self]
    )

    @Flag(name: .long, help: "Print compiler, LLVM and runtime versions.")
    var version = false

    /// The launcher's pre-parsed cold `run` (ColdRun) bypasses the argument parser.
    static func main() {
        Timeline.mark("main")
        let arguments = CommandLine.arguments
        if arguments.count > 1 && arguments[1] == "__run" { ColdRun.main(arguments) }
        main(nil)
    }

    func run() throws {
        guard version else { throw CleanExit.helpRequest(self) }
        print(Self.identity())
    }

    /// Compiler identity for artifacts of `arch`: everything that changes them (compiler and LLVM
    /// versions, that architecture's runtime archive). The host's is `wasmaot --version`, part of
    /// every cache key; a cross-compiled image artifact carries its own architecture's, which is
    /// what a node of that architecture computes for itself.
    static func identity(for arch: Architecture = .host) -> String {
        if let known = identityLock.withLock({ identities[arch.rawValue] }) { return known }
        let text = computeIdentity(for: arch)
        identityLock.withLock { identities[arch.rawValue] = text }
        return text
    }

    nonisolated(unsafe) private static var identities: [String: String] = [:]
    private static let identityLock = NSLock()

    private static func computeIdentity(for arch: Architecture) -> String {
        let runtime: String
        do {
            let archive = try RuntimeArchive.locate(gnuTriple: arch.gnuTriple)
            runtime = "sha256:\(archive.digest())"
        } catch {
            runtime = "unavailable (\(error))"
        }
        var buildID = [CChar](repeating: 0, count: 128)
        let build = wafp_build_id(&buildID, buildID.count) == 0
            ? String(decoding: buildID.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "unknown"
        return """
            wasmaot \(version) (build \(build))
            LLVM \(LLVMBackend.version)
            runtime \(arch.gnuTriple) \(runtime)
            """
    }
}

/// WASI configuration flags shared by `compile` (baked in) and `run` (passed at start).
struct WASIOptions: ParsableArguments {
    @Option(name: .customLong("dir"), help: ArgumentHelp("Preopen a host directory (guest path defaults to the host path).", valueName: "HOST[::GUEST]"))
    var dirs: [String] = []

    @Option(name: .customLong("env"), help: ArgumentHelp("Set a guest environment variable.", valueName: "K=V"))
    var env: [String] = []

    @Flag(name: .customLong("inherit-env"), help: "Pass the host environment to the guest.")
    var inheritEnv = false

    func validate() throws {
        for e in env { _ = try checkedEnvEntry(e) }
    }

    /// The flags in WASMAOT_WASI syntax (shell-quoted words).
    var wasiString: String {
        var words: [String] = []
        for d in dirs { words += ["--dir", d] }
        for e in env { words += ["--env", e] }
        if inheritEnv { words.append("--inherit-env") }
        return words.map(shellQuote).joined(separator: " ")
    }
}

/// One word of WASMAOT_WASI, quoted by the runtime header's wasmaot_wasi_quote (the launcher and
/// wasmaot-oci use the same function).
func shellQuote(_ word: String) -> String {
    var out = [CChar](repeating: 0, count: 4 * word.utf8.count + 3)
    let n = wasmaot_wasi_quote(word, &out)
    return String(decoding: out.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

struct CodegenOptions: ParsableArguments {
    @Option(name: .customShort("O", allowingJoined: true), help: ArgumentHelp("Optimization level 0-3.", valueName: "N"))
    var optLevel: Int = 2

    @Option(name: .customLong("target"), help: ArgumentHelp(
        "Target architecture: x86_64 or aarch64 (aliases amd64, arm64); a comma-separated list with --for-image.",
        valueName: "ARCH[,ARCH...]"))
    var target: String = Architecture.host.rawValue

    /// `--target`, parsed: one or more architectures, in the order given, without repeats.
    var architectures: [Architecture] {
        var seen: [Architecture] = []
        for word in target.split(separator: ",") {
            if let arch = Architecture(name: String(word)), !seen.contains(arch) { seen.append(arch) }
        }
        return seen
    }

    func validate() throws {
        guard OptLevel(rawValue: optLevel) != nil else { throw ValidationError("-O expects 0, 1, 2 or 3") }
        let words = target.split(separator: ",", omittingEmptySubsequences: false)
        for word in words where Architecture(name: String(word)) == nil {
            let known = Architecture.allCases.map(\.rawValue).joined(separator: ", ")
            throw ValidationError("unknown --target '\(word)' (supported: \(known))")
        }
    }
}

extension Architecture {
    /// The canonical names plus the Debian/Go/OCI spellings (amd64, arm64).
    init?(name: String) {
        switch name.lowercased() {
        case "x86_64", "x86-64", "amd64": self = .x86_64
        case "aarch64", "arm64": self = .aarch64
        default: return nil
        }
    }
}

/// A module file's bytes once its header says it is a core module; otherwise the error, in words
/// (ModuleFile), and exit 1.
func readModuleOrFail(_ path: String) -> [UInt8] {
    do {
        let bytes = try ModuleFile.read(path)
        if let problem = ModuleFile.headerProblem(bytes) { throw problem }
        return bytes
    } catch {
        fail("\(path): \(error)")
    }
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    exit(1)
}

extension Tier: ExpressibleByArgument {}

/// `--env` values, checked by the grammar every component shares (wasmaot_env_entry_error in
/// Runtime/include/wasmaot_rt.h: the launcher and WASMAOT_WASI use the same function).
func checkedEnvEntry(_ entry: String) throws -> String {
    if let why = wasmaot_env_entry_error(entry) { throw ValidationError("--env '\(entry)': \(String(cString: why))") }
    return entry
}
