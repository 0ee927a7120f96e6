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
    var profile: CodegenProfile = .level(.o2)
    var architecture: Architecture = .x86_64
    var cpu: CPUChoice = .baseline
    var emit: Emit = .exe
    var wasiDefaults = ""
    /// The module's bytes when the caller has read (and hashed) them already: exactly those are
    /// compiled, whatever `input` holds by now (it only names the module in messages).
    var bytes: [UInt8]? = nil

    /// A failure already formatted for the user (without the leading "error: ").
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    func run() throws(Failure) {
        let progress = Progress(enabled: isatty(2) == 1)
        defer { progress.finish() }
        let timing = PhaseTimer(enabled: ProcessInfo.processInfo.environment["WASMAOT_TIMING"] != nil)
        defer { timing.report(input) }
        let module: [UInt8]
        if let bytes {
            module = bytes
        } else {
            do {
                module = try ModuleFile.read(input)
            } catch {
                throw Failure(description: "\(input): \(error)")
            }
        }
        timing.mark("read")
        Timeline.mark("module read")
        let wasm: WasmModule
        do {
            wasm = try WasmModule.decode(bytes: module)
        } catch {
            throw Failure(description: "\(input): \(error)")
        }
        timing.mark("decode")
        Timeline.mark("decoded")
        if emit == .exe {
            let imports = wasm.imports.map { imp -> (module: String, name: String, kind: String, type: String) in
                switch imp.descriptor {
                case .function(let t): (imp.module, imp.name, "func", wasm.typeTexts[Int(t)])
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
        Timeline.mark("toolchain")
        let total = wasm.definedFunctionCount
        let lowered = Counter()
        var options = LoweringOptions(wasiDefaults: wasiDefaults) { n, _ in
            let done = lowered.add(n)
            progress.update("compiling (\(profile)): \(done)/\(total) functions")
        }
        var objects: [[UInt8]]
        do {
            let target = try TargetSpec(architecture: architecture, cpu: cpu)
            options.target = TargetTraits(target)
            if emit == .exe {
                objects = try Lowering.compileObjects(wasm, profile: profile, target: target, pic: false, options: options)
            } else {
                let module = try Lowering.lower(wasm, options: options)
                timing.mark("decode+lower")
                let kind: EmitKind = emit == .llvmIR ? .llvmIR : (emit == .asm ? .assembly : .object)
                objects = [try Codegen.emit(module.module, target: target, profile: profile, kind: kind, pic: true)]
            }
        } catch {
            throw Failure(description: "\(input): \(error)")
        }
        if emit != .exe {
            guard FileManager.default.createFile(atPath: output, contents: Data(objects[0])) else {
                throw Failure(description: "\(output): cannot write file")
            }
            return
        }
        Timeline.mark("objects")
        timing.mark("decode+lower+optimize+codegen (\(objects.count) partition\(objects.count == 1 ? "" : "s"))")
        progress.update("linking")
        do {
            try Linker.link(objects: objects, runtime: runtime!, output: output, kind: .executable)
        } catch {
            throw Failure(description: "\(input): \(error)")
        }
        timing.mark("link")
        Timeline.mark("linked")
    }
}

/// Wall time per phase on stderr with WASMAOT_TIMING=1 (for profiling compile time).
/// A counter shared by worker threads.
final class Counter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()
    func add(_ n: Int) -> Int { lock.withLock { value += n; return value } }
}

final class PhaseTimer {
    let enabled: Bool
    private var last = Date()
    private var phases: [(String, TimeInterval)] = []

    init(enabled: Bool) { self.enabled = enabled }

    func mark(_ phase: String) {
        let now = Date()
        phases.append((phase, now.timeIntervalSince(last)))
        last = now
    }

    func report(_ input: String) {
        guard enabled, !phases.isEmpty else { return }
        let text = phases.map { String(format: "%@ %.2f s", $0.0, $0.1) }.joined(separator: ", ")
        FileHandle.standardError.write(Data("wasmaot: \(input): \(text)\n".utf8))
    }
}

/// One self-overwriting status line on stderr, only when stderr is a terminal. Thread-safe
/// (partitions report from their worker threads).
final class Progress: @unchecked Sendable {
    let enabled: Bool
    private var shown = false
    private var last = Date.distantPast
    private let lock = NSLock()

    init(enabled: Bool) { self.enabled = enabled }

    func update(_ text: String) {
        guard enabled else { return }
        lock.withLock {
            let now = Date()
            guard now.timeIntervalSince(last) > 0.1 else { return }
            last = now
            FileHandle.standardError.write(Data("\r\u{1B}[K[wasmaot] \(text)".utf8))
            shown = true
        }
    }

    func finish() {
        lock.withLock {
            if shown { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        }
    }
}
