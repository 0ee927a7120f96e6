import ArgumentParser
import Foundation
import WasmAOTCodegen

struct Compile: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compile a .wasm module to a static native executable (or an object / LLVM IR).",
        discussion: """
            The executable passes its whole argv to the guest. Preopens and environment given here
            are defaults baked into it; the variable WASMAOT_WASI (same flags) replaces them at start.

            Examples:
              wasmaot compile hello.wasm -o hello
              wasmaot compile app.wasm -o app -O3 --cpu native
              wasmaot compile app.wasm -o app.ll --emit llvm-ir
              wasmaot compile app.wasm -o app --dir /srv/data::/data --env LANG=C
            """
    )

    @Argument(help: "Input module (.wasm).")
    var input: String

    @Option(name: .shortAndLong, help: "Output file.")
    var output: String

    @OptionGroup var codegen: CodegenOptions

    @Option(name: .customLong("cpu"), help: "CPU to tune for: baseline (x86-64-v2), native, or an LLVM CPU name.")
    var cpu: String = "baseline"

    @Option(name: .customLong("emit"), help: "What to write: exe, obj, asm, llvm-ir.")
    var emit: String = "exe"

    @OptionGroup(title: "WASI defaults baked into the executable") var wasi: WASIOptions

    func validate() throws {
        guard Pipeline.Emit(rawValue: emit) != nil else {
            throw ValidationError("--emit expects one of exe, obj, asm, llvm-ir")
        }
    }

    func run() throws {
        let pipeline = Pipeline(
            input: input, output: output, opt: OptLevel(rawValue: codegen.optLevel)!,
            architecture: Architecture(rawValue: codegen.target)!, cpu: CPUChoice(cpu),
            emit: Pipeline.Emit(rawValue: emit)!, wasiDefaults: wasi.wasiString)
        do {
            try pipeline.run()
        } catch {
            fail(error.description)
        }
    }
}
