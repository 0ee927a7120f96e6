import CWasmAOTRuntime
import Foundation
import WasmAOTCodegen
import WasmAOTCore
import WasmAOTLink
import WasmAOTLower

/// A Wasm value crossing the embedding boundary. Floats are carried as bit patterns (NaN payloads
/// survive); references as the raw pointer bits the runtime uses (nil = null).
public enum Value: Hashable, Sendable {
    case i32(UInt32)
    case i64(UInt64)
    case f32(UInt32)
    case f64(UInt64)
    case funcref(UInt?)
    case externref(UInt?)
    /// A v128 as two little-endian halves: `lo` holds bytes 0-7 (lane 0 first).
    case v128(lo: UInt64, hi: UInt64)

    /// The first 64-bit slot (the only one except for v128).
    var slot: UInt64 { slots[0] }

    /// The 64-bit slots the value takes at the C boundary: two for a v128, one otherwise.
    var slots: [UInt64] {
        switch self {
        case .i32(let v): [UInt64(v)]
        case .i64(let v): [v]
        case .f32(let v): [UInt64(v)]
        case .f64(let v): [v]
        case .funcref(let p), .externref(let p): [UInt64(p ?? 0)]
        case .v128(let lo, let hi): [lo, hi]
        }
    }

    /// The number of slots a value of type `letter` takes.
    static func slotCount(_ letter: Character) -> Int { letter == "v" ? 2 : 1 }

    /// Reads the value of type `letter` at `slots[i]` (and `slots[i + 1]` for a v128).
    static func from(slots: UnsafeBufferPointer<UInt64>, at i: Int, letter: Character) -> Value {
        letter == "v" ? .v128(lo: slots[i], hi: slots[i + 1]) : from(slot: slots[i], letter: letter)
    }

    static func from(slot: UInt64, letter: Character) -> Value {
        switch letter {
        case "i": .i32(UInt32(truncatingIfNeeded: slot))
        case "I": .i64(slot)
        case "f": .f32(UInt32(truncatingIfNeeded: slot))
        case "F": .f64(slot)
        case "r": .funcref(slot == 0 ? nil : UInt(slot))
        case "v": .v128(lo: slot, hi: 0)
        default: .externref(slot == 0 ? nil : UInt(slot))
        }
    }

    /// The type letter of the canonical type text ("iIfFrev").
    public var letter: Character {
        switch self {
        case .i32: "i"
        case .i64: "I"
        case .f32: "f"
        case .f64: "F"
        case .funcref: "r"
        case .externref: "e"
        case .v128: "v"
        }
    }
}

/// A trap raised by Wasm code; the process and the engine stay usable.
public struct Trap: Error, CustomStringConvertible, Sendable {
    public let kind: Int32
    /// The runtime's message for the kind (wasmaot_trap_text in wasmaot_rt.h: one table).
    public var description: String { String(cString: wasmaot_trap_text(kind)) }
    /// Not a trap but a Wasm exception no handler caught ("thrown Wasm exception").
    public var isUncaughtException: Bool { kind == Int32(WASMAOT_TRAP_UNCAUGHT_EXCEPTION.rawValue) }
}

/// Compilation, link (import) or instantiation failures.
public struct EmbedError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Loads the shared runtime once per process and compiles modules to shared objects.
/// Wasm code runs only on the thread that created the engine (its stack bounds are registered).
public final class Engine: @unchecked Sendable {
    let symbols: RuntimeSymbols
    let scratch: URL
    private var counter = 0
    private let lock = NSLock()
    /// The core spec edition modules are validated against (`compile(_ bytes:)`).
    public let standard: WasmStandard
    /// The CPU modules are compiled for: this machine's (default), or e.g. `.baseline` to run the
    /// code `wasmaot compile` makes by default (x86-64-v2), or a named CPU this machine can run.
    public let cpu: CPUChoice

    public init(standard: WasmStandard = .wasm3, cpu: CPUChoice = .native) throws(EmbedError) {
        self.standard = standard
        self.cpu = cpu
        let archive: RuntimeArchive
        do {
            archive = try RuntimeArchive.locate(gnuTriple: Architecture.host.gnuTriple)
        } catch {
            throw EmbedError(error.description)
        }
        symbols = try RuntimeSymbols.load(archive.sharedLibraryPath)
        symbols.prepareThread()
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("wasmaot-embed-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try? FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: scratch) }

    /// Registers the calling thread's stack so Wasm code may run on it.
    public func prepareCurrentThread() { symbols.prepareThread() }

    /// Validates and compiles `bytes` to a shared object and loads it. Thread-safe: modules may be
    /// compiled concurrently (instantiation and calls stay on prepared threads). `profile`:
    /// `.baseline` (the tier `wasmaot run` starts first) or an optimization level.
    public func compile(_ bytes: [UInt8], profile: CodegenProfile = .level(.o1)) throws(EmbedError) -> Module {
        let wasm: WasmModule
        do {
            wasm = try WasmModule.decode(bytes: bytes, standard: standard)
        } catch {
            throw EmbedError(error.description)
        }
        return try compile(wasm, profile: profile)
    }

    public func compile(_ bytes: [UInt8], opt: OptLevel) throws(EmbedError) -> Module {
        try compile(bytes, profile: .level(opt))
    }

    public func compile(_ wasm: WasmModule, profile: CodegenProfile = .level(.o1)) throws(EmbedError) -> Module {
        let objects: [[UInt8]]
        do {
            // Serial per module: embedders (the spec runner) compile many small modules at once.
            objects = try Lowering.compileObjects(wasm, profile: profile, target: try TargetSpec(architecture: .host, cpu: cpu),
                                                  pic: true, threads: 1)
        } catch let error as CompileError {
            throw EmbedError(error.description)
        } catch {
            throw EmbedError("\(error)")
        }
        let path = lock.withLock { () -> String in
            counter += 1
            return scratch.appendingPathComponent("module\(counter).so").path
        }
        do {
            let archive = try RuntimeArchive.locate(gnuTriple: Architecture.host.gnuTriple)
            try Linker.link(objects: objects, runtime: archive, output: path, kind: .sharedObject)
        } catch {
            throw EmbedError(error.description)
        }
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            throw EmbedError("cannot load \(path): \(String(cString: dlerror()))")
        }
        // The file may go: the mapping stays valid as long as the handle is open.
        try? FileManager.default.removeItem(atPath: path)
        guard let symbol = dlsym(handle, "wasmaot_module") else {
            throw EmbedError("\(path) has no wasmaot_module")
        }
        return Module(engine: self, handle: handle, desc: symbol.assumingMemoryBound(to: wasmaot_module_desc.self), wasm: wasm)
    }

    /// Instantiates `module`, asking `resolve` for each import (module name, field name).
    public func instantiate(_ module: Module, resolve: (String, String) -> Extern?) throws -> Instance {
        try Instance(module: module, resolve: resolve)
    }

    /// A host function of canonical type `type` ("ii:i"; at most one result) implemented in Swift.
    public func hostFunction(type: String, _ body: @escaping ([Value]) -> [Value]) throws(EmbedError) -> Extern {
        let box = HostFunctionBox(type: type, body: body)
        let data = Unmanaged.passRetained(box).toOpaque()
        guard let code = symbols.hostFunction(type, hostCallback, data) else {
            throw EmbedError("host function type \(type) is not supported (at most one result, no v128)")
        }
        let record = UnsafeMutablePointer<wasmaot_funcref>.allocate(capacity: 1)
        // The type's process-wide identity, what call_indirect compares (wasmaot_intern_type).
        guard let id = symbols.internType(type) else { throw EmbedError("out of memory") }
        record.initialize(to: wasmaot_funcref(type: id, code: code, vmctx: nil, tail_code: nil))
        return .function(Function(record: record, type: type, cEntry: code))
    }
}

final class HostFunctionBox {
    let params: [Character]
    let body: ([Value]) -> [Value]

    init(type: String, body: @escaping ([Value]) -> [Value]) {
        params = Array(type.prefix { $0 != ":" })
        self.body = body
    }
}

private let hostCallback: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<UInt64>?, UnsafeMutablePointer<UInt64>?) -> Void = { data, args, results in
    let box = Unmanaged<HostFunctionBox>.fromOpaque(data!).takeUnretainedValue()
    let values = box.params.enumerated().map { Value.from(slot: args![$0.offset], letter: $0.element) }
    for (i, v) in box.body(values).enumerated() { results![i] = v.slot }
}
