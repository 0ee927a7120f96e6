import Foundation
import WasmAOTCodegen
import WasmAOTCore
import WasmAOTLink
import WasmAOTLower

/// The whole pipeline, stage after stage: decode → validate+lower → optimize+emit → link.
struct Pipeline {
    enum Emit: String, CaseIterable {
        case exe, obj, asm
        case llvmIR = "llvm-ir"
    }

    var input: String
    var output: String
    var opt: OptLevel = .o2
    var architecture: Architecture = .x86_64
    var cpu: CPUChoice = .baseline
    var emit: Emit = .exe
    var wasiDefaults = ""

    /// A failure already formatted for the user (without the leading "error: ").
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    func run() throws(Failure) {
        let progress = Progress(enabled: isatty(2) == 1)
        defer { progress.finish() }
        guard let data = FileManager.default.contents(atPath: input) else {
            throw Failure(description: "\(input): cannot read file")
        }
        let wasm: WasmModule
        do {
            wasm = try WasmModule.decode(bytes: Array(data))
        } catch {
            throw Failure(description: "\(input): \(error)")
        }
        if emit == .exe {
            let imports = wasm.imports.map { imp -> (module: String, name: String, kind: String, type: String) in
                switch imp.descriptor {
                case .function(let t): (imp.module, imp.name, "func", Signature.text(wasm.types[Int(t)]))
                case .table: (imp.module, imp.name, "table", "")
                case .memory: (imp.module, imp.name, "memory", "")
                case .global: (imp.module, imp.name, "global", "")
                case .tag: (imp.module, imp.name, "tag", "")
                }
            }
            let unresolved = HostFunctions.unresolved(imports)
            if !unresolved.isEmpty {
                throw Failure(description: "\(input): unresolved imports:\n" + unresolved.map { "  \($0)" }.joined(separator: "\n"))
            }
        }
        // Check the toolchain before the expensive part, so a missing package is named at once.
        var runtime: RuntimeArchive? = nil
        if emit == .exe {
            do {
                _ = try Toolchain.find(for: architecture.gnuTriple)
                runtime = try RuntimeArchive.locate(gnuTriple: architecture.gnuTriple)
            } catch {
                throw Failure(description: error.description)
            }
        }
        let total = wasm.definedFunctionCount
        let lowered: LoweredModule
        do {
            lowered = try Lowering.lower(wasm, options: LoweringOptions(wasiDefaults: wasiDefaults) { done, _ in
                progress.update("lowering functions \(done)/\(total)")
            })
        } catch {
            throw Failure(description: "\(input): \(error)")
        }
        let bytes: [UInt8]
        do {
            progress.update("optimizing and emitting (\(architecture.rawValue), O\(opt.rawValue))")
            let target = try TargetSpec(architecture: architecture, cpu: cpu)
            let kind: EmitKind = emit == .llvmIR ? .llvmIR : (emit == .asm ? .assembly : .object)
            bytes = try Codegen.emit(lowered.module, target: target, opt: opt, kind: kind, pic: emit != .exe)
        } catch {
            throw Failure(description: "\(input): \(error)")
        }
        if emit != .exe {
            guard FileManager.default.createFile(atPath: output, contents: Data(bytes)) else {
                throw Failure(description: "\(output): cannot write file")
            }
            return
        }
        progress.update("linking")
        do {
            try Linker.link(object: bytes, runtime: runtime!, output: output, kind: .executable)
        } catch {
            throw Failure(description: "\(input): \(error)")
        }
    }
}

/// One self-overwriting status line on stderr, only when stderr is a terminal.
final class Progress: @unchecked Sendable {
    let enabled: Bool
    private var shown = false
    private var last = Date.distantPast

    init(enabled: Bool) { self.enabled = enabled }

    func update(_ text: String) {
        guard enabled else { return }
        let now = Date()
        guard now.timeIntervalSince(last) > 0.1 else { return }
        last = now
        FileHandle.standardError.write(Data("\r\u{1B}[K[wasmaot] \(text)".utf8))
        shown = true
    }

    func finish() {
        if shown { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
