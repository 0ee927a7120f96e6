import ArgumentParser
import Foundation
import WasmAOTCache
import WasmAOTCodegen

struct Compile: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compile a module to a static executable (or object, asm, LLVM IR).",
        usage: "wasmaot compile <input> (-o <output> | --for-image) [<options>]",
        discussion: """
            The executable passes its whole argv to the guest. Preopens and environment
            given here are defaults baked into it; the variable WASMAOT_WASI (same flags)
            replaces them at start.

            Examples:
              wasmaot compile hello.wasm -o hello
              wasmaot compile app.wasm -o app -O3 --cpu native
              wasmaot compile app.wasm -o app.ll --emit llvm-ir
              wasmaot compile app.wasm -o app --dir /srv/data::/data --env LANG=C
              wasmaot compile app.wasm -o app-arm64 --target aarch64
              # app.wasm.wasmaot/x86_64 + manifest.json, for an image
              wasmaot compile app.wasm --for-image
              wasmaot compile app.wasm --for-image --target x86_64,aarch64

            See also: README.md (Usage, aarch64 / Arm nodes).
            """
    )

    @Argument(help: "Input module (.wasm).")
    var input: String

    @Option(name: .shortAndLong, help: "Output file (not with --for-image).")
    var output: String?

    @Flag(name: .customLong("for-image"), help: "Write IN.wasm.wasmaot/<arch> + manifest.json for a container image (see README).")
    var forImage = false

    @OptionGroup var codegen: CodegenOptions

    @Option(name: .customLong("cpu"), help: "CPU to compile for: baseline (x86_64: x86-64-v2, aarch64: generic armv8-a), native (host target only), or an LLVM CPU name (e.g. neoverse-n1).")
    var cpu: String = "baseline"

    @Option(name: .customLong("emit"), help: "What to write: exe, obj, asm, llvm-ir.")
    var emit: String = "exe"

    @Option(name: .customLong("tier"), help: ArgumentHelp(
        "baseline: the quick-to-compile code `wasmaot run` starts first on a cache miss; optimized (default): -O<n>.",
        valueName: "baseline|optimized"))
    var tier: Tier = .optimized

    @OptionGroup(title: "WASI defaults baked into the executable") var wasi: WASIOptions

    func validate() throws {
        guard Pipeline.Emit(rawValue: emit) != nil else {
            throw ValidationError("--emit expects one of exe, obj, asm, llvm-ir")
        }
        if forImage {
            guard output == nil, emit == "exe" else { throw ValidationError("--for-image writes IN.wasm.wasmaot/; it takes no -o or --emit") }
            if codegen.architectures.count > 1, case .named(let name) = CPUChoice(cpu) {
                throw ValidationError("--cpu \(name) names one architecture's CPU; use it with a single --target")
            }
        } else {
            guard output != nil else { throw ValidationError("missing -o OUTPUT") }
            guard codegen.architectures.count == 1 else {
                throw ValidationError("--target takes one architecture here (several only with --for-image)")
            }
        }
    }

    var profile: CodegenProfile { tier == .baseline ? .baseline : .level(OptLevel(rawValue: codegen.optLevel)!) }

    func run() throws {
        if forImage { return buildForImage() }
        let pipeline = Pipeline(
            input: input, output: output!, profile: profile,
            architecture: codegen.architectures[0], cpu: CPUChoice(cpu),
            emit: Pipeline.Emit(rawValue: emit)!, wasiDefaults: wasi.wasiString)
        do {
            try pipeline.run()
        } catch {
            fail(error.description)
        }
    }

    /// Prebuilt artifacts (one per `--target` architecture) + manifest beside the module, for
    /// `COPY` into an image. Each artifact is recorded with the identity of its own architecture
    /// (that architecture's runtime archive), which is what a node of that architecture checks.
    private func buildForImage() {
        let data = readModuleOrFail(input)
        let opt = OptLevel(rawValue: codegen.optLevel)!
        for arch in codegen.architectures {
            do {
                // Build (or find) that architecture's runtime first: the identity names its digest.
                let identity = WasmAOT.identity(for: arch)
                try ImageArtifacts.publish(module: input, moduleBytes: Array(data), identity: identity, arch: arch.rawValue,
                                           cpu: CPUChoice(cpu).description, options: ArtifactKey.options(profile)) { temporary in
                    try Pipeline(input: input, output: temporary, profile: profile, architecture: arch, cpu: CPUChoice(cpu),
                                 emit: .exe, wasiDefaults: wasi.wasiString, bytes: Array(data)).run()
                }
            } catch {
                fail("\(error)")
            }
            print("\(ImageArtifacts.directory(forModule: input))/\(arch.rawValue)")
        }
    }
}
