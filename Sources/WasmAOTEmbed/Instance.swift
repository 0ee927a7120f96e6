import CWasmAOTRuntime
import Foundation
import WasmAOTCore
import WasmParser
import WasmTypes

/// A loaded shared object holding one compiled module.
public final class Module: @unchecked Sendable {
    public let engine: Engine
    let handle: UnsafeMutableRawPointer
    let desc: UnsafePointer<wasmaot_module_desc>
    public let wasm: WasmModule

    init(engine: Engine, handle: UnsafeMutableRawPointer, desc: UnsafePointer<wasmaot_module_desc>, wasm: WasmModule) {
        self.engine = engine
        self.handle = handle
        self.desc = desc
        self.wasm = wasm
    }

    // Instances may outlive references to their module (tables hold their funcrefs), so the
    // shared object is never unloaded.
}

/// A function anyone can call: a wasmaot_funcref plus the C-ABI entry for libffi.
public struct Function: @unchecked Sendable {
    public let record: UnsafeMutablePointer<wasmaot_funcref>
    public let type: String
    let cEntry: UnsafeMutableRawPointer?
}

/// Something an instance exports or another imports.
public enum Extern: @unchecked Sendable {
    case function(Function)
    /// `type`: the element type's canonical text ("r", "e", "r;?{i:i}").
    case table(UnsafeMutablePointer<wasmaot_table>, type: String)
    case memory(UnsafeMutablePointer<wasmaot_memory>)
    /// A global's 16-byte cell and its type text ("i", "mI", ...).
    case global(UnsafeMutableRawPointer, type: String)
    /// A tag: its identity (what thrown exceptions carry, see wasmaot_module_desc.tags_offset) and
    /// the canonical text of its function type ("iF:").
    case tag(UnsafeRawPointer, type: String)
}

public final class Instance: @unchecked Sendable {
    public let module: Module
    let vmctx: UnsafeMutablePointer<wasmaot_vmctx>
    /// The C entries of imported functions, by import index, when the provider had one (another
    /// instance's export, a host function): re-exported, they are called through it (several
    /// results and v128 values have no plain C signature).
    private var importedCEntries: [UInt32: UnsafeMutableRawPointer] = [:]
    var symbols: RuntimeSymbols { module.engine.symbols }
    var desc: wasmaot_module_desc { module.desc.pointee }

    init(module: Module, resolve: (String, String) -> Extern?) throws {
        self.module = module
        let symbols = module.engine.symbols
        var error: UnsafePointer<CChar>? = nil
        guard let vm = symbols.instanceNew(module.desc, &error) else {
            throw EmbedError("instantiation failed: \(error.map { String(cString: $0) } ?? "unknown error")")
        }
        vmctx = vm
        vm.pointee.stack_limit = symbols.stackLimit()
        try link(resolve)
        let kind = symbols.initialize(vm)
        // A trapping start/segment keeps its effects on shared tables and memories, which may
        // now reference this instance: it is deliberately never freed.
        if kind >= 0 { throw Trap(kind: kind) }
    }

    private func slot<T>(_ offset: UInt32, _: T.Type) -> UnsafeMutablePointer<T> {
        (UnsafeMutableRawPointer(vmctx) + Int(offset)).assumingMemoryBound(to: T.self)
    }

    /// Resolves every import not already bound to a runtime host function, checking types the
    /// way the spec's linking rules do ("incompatible import type", "unknown import").
    private func link(_ resolve: (String, String) -> Extern?) throws {
        let d = desc
        for i in 0..<Int(d.num_imports) {
            let imp = d.imports[i]
            // Names from the decoded module, not the descriptor's C strings: a name may hold a
            // NUL byte ("g\0x" is not "g"). The descriptor lists the imports in module order.
            let decoded = module.wasm.imports[i]
            let moduleName = decoded.module, name = decoded.name
            let type = String(cString: imp.type)
            // Bound by the runtime to one of its host functions — which it matched by C string, so
            // only if the names hold no NUL byte ("fd_write\0x" is not "fd_write").
            let exactNames = String(cString: imp.module) == moduleName && String(cString: imp.name) == name
            if imp.kind == UInt32(WASMAOT_EXTERN_FUNC), exactNames, slot(d.imported_funcs_offset + 8 * imp.index, UnsafeMutableRawPointer?.self).pointee != nil { continue }
            guard let provided = resolve(moduleName, name) else {
                throw EmbedError("unknown import \(moduleName).\(name)")
            }
            switch (Int(imp.kind), provided) {
            case (Int(WASMAOT_EXTERN_FUNC), .function(let f)):
                guard f.type == type else { throw EmbedError("incompatible import type for \(moduleName).\(name)") }
                slot(d.imported_funcs_offset + 8 * imp.index, UnsafeMutablePointer<wasmaot_funcref>?.self).pointee = f.record
                importedCEntries[imp.index] = f.cEntry
            case (Int(WASMAOT_EXTERN_TABLE), .table(let t, let elementType)):
                // Table element types are invariant: equal canonical texts.
                guard elementType == type, limitsMatch(UInt64(t.pointee.size), t.pointee.max == UInt32.max ? nil : UInt64(t.pointee.max), imp.min, imp.max) else {
                    throw EmbedError("incompatible import type for \(moduleName).\(name)")
                }
                slot(d.tables_offset + 8 * imp.index, UnsafeMutablePointer<wasmaot_table>?.self).pointee = t
            case (Int(WASMAOT_EXTERN_MEMORY), .memory(let m)):
                guard (m.pointee.is64 != 0) == (type == "i64"), limitsMatch(m.pointee.size / 65536, m.pointee.max_pages, imp.min, imp.max) else {
                    throw EmbedError("incompatible import type for \(moduleName).\(name)")
                }
                slot(d.memories_offset + 8 * imp.index, UnsafeMutablePointer<wasmaot_memory>?.self).pointee = m
                if imp.index == 0 {
                    vmctx.pointee.memory = m
                    vmctx.pointee.mem_base = m.pointee.base
                }
            case (Int(WASMAOT_EXTERN_GLOBAL), .global(let cell, let gtype)):
                guard Self.globalTypeMatches(provided: gtype, wanted: type) else { throw EmbedError("incompatible import type for \(moduleName).\(name)") }
                slot(d.globals[Int(imp.index)].offset, UnsafeMutableRawPointer?.self).pointee = cell
            case (Int(WASMAOT_EXTERN_TAG), .tag(let identity, let ttype)):
                // Tag types are matched exactly (equal canonical texts).
                guard ttype == type else { throw EmbedError("incompatible import type for \(moduleName).\(name)") }
                slot(d.tags_offset + 8 * imp.index, UnsafeRawPointer?.self).pointee = identity
            default:
                throw EmbedError("incompatible import type for \(moduleName).\(name)")
            }
        }
    }

    /// Import subtyping on global types (canonical texts, Signature): a mutable global matches only
    /// its exact type; an immutable one any subtype — `(ref $t)` satisfies `(ref null $t)` and
    /// `funcref`, `(ref null nofunc)` any function reference.
    static func globalTypeMatches(provided: String, wanted: String) -> Bool {
        if provided == wanted { return true }
        guard !provided.hasPrefix("m"), !wanted.hasPrefix("m"), let p = provided.first, p == wanted.first, p == "r" || p == "e" else { return false }
        func token(_ text: String) -> (nullable: Bool, heap: String) {
            guard let semi = text.firstIndex(of: ";") else { return (true, p == "e" ? "extern" : "func") }
            let t = text[text.index(after: semi)...]
            return t.hasPrefix("?") ? (true, String(t.dropFirst())) : (false, String(t))
        }
        let (pn, ph) = token(provided), (wn, wh) = token(wanted)
        if pn && !wn { return false }
        if ph == wh { return true }
        switch (ph, wh) {
        case (_, "func"): return ph.hasPrefix("{") || ph == "nofunc"
        case ("nofunc", _): return wh.hasPrefix("{")
        case ("noextern", "extern"): return true
        default: return false
        }
    }

    /// Import subtyping on limits: the provider's current size must cover the required minimum,
    /// and a required maximum needs a provider maximum no larger.
    private func limitsMatch(_ size: UInt64, _ max: UInt64?, _ wantMin: UInt64, _ wantMax: UInt64) -> Bool {
        guard size >= wantMin else { return false }
        if wantMax == UInt64.max { return true }
        // A memory without a declared maximum records 65536 pages, which only satisfies an
        // import asking for at most 65536.
        guard let max else { return false }
        return max <= wantMax
    }

    // MARK: exports

    public func export(_ name: String) -> Extern? {
        let d = desc
        // Byte comparison against the decoded names (the descriptor's C strings stop at a NUL,
        // which Wasm names may contain): canonically equivalent spellings stay different names.
        let wanted = Array(name.utf8)
        for (i, export) in module.wasm.exports.enumerated() where Array(export.name.utf8) == wanted {
            let e = d.exports[i]
            switch e.kind {
            case UInt32(WASMAOT_EXTERN_FUNC): return .function(function(e.index))
            case UInt32(WASMAOT_EXTERN_TABLE):
                let t = slot(d.tables_offset + 8 * e.index, UnsafeMutablePointer<wasmaot_table>.self).pointee
                return .table(t, type: String(cString: d.tables[Int(e.index)].type))
            case UInt32(WASMAOT_EXTERN_MEMORY):
                return .memory(slot(d.memories_offset + 8 * e.index, UnsafeMutablePointer<wasmaot_memory>.self).pointee)
            case UInt32(WASMAOT_EXTERN_GLOBAL):
                let g = d.globals[Int(e.index)]
                let cell = g.imported != 0
                    ? slot(g.offset, UnsafeMutableRawPointer.self).pointee
                    : UnsafeMutableRawPointer(vmctx) + Int(g.offset)
                return .global(cell, type: String(cString: g.type))
            case UInt32(WASMAOT_EXTERN_TAG):
                let identity = slot(d.tags_offset + 8 * e.index, UnsafeRawPointer.self).pointee
                return .tag(identity, type: String(cString: d.tag_types[Int(e.index)]!))
            default: return nil
            }
        }
        return nil
    }

    func function(_ index: UInt32) -> Function {
        let d = desc
        let type = String(cString: d.funcs[Int(index)].type)
        if index < d.num_imported_funcs {
            let record = slot(d.imported_funcs_offset + 8 * index, UnsafeMutablePointer<wasmaot_funcref>.self).pointee
            return Function(record: record, type: type, cEntry: importedCEntries[index])
        }
        let j = Int(index - d.num_imported_funcs)
        let record = slot(d.funcrefs_offset + UInt32(MemoryLayout<wasmaot_funcref>.stride * j), wasmaot_funcref.self)
        return Function(record: record, type: type, cEntry: d.func_c_entry[j])
    }

    /// Calls the exported function `name` with `args`; traps throw `Trap`, the instance stays usable.
    public func invoke(_ name: String, _ args: [Value]) throws -> [Value] {
        guard case .function(let f)? = export(name) else { throw EmbedError("unknown function export \(name)") }
        return try call(f, args)
    }

    public func call(_ f: Function, _ args: [Value]) throws -> [Value] {
        let params = f.type.prefix { $0 != ":" }
        // "PARAMS:RESULTS[;DETAIL]": one letter per value before the typed references' detail.
        // (The detail may hold ':' itself, in the texts of concrete types: the first one counts.)
        let results = Array(f.type.drop { $0 != ":" }.dropFirst().prefix { $0 != ";" })
        guard params.count == args.count, zip(params, args).allSatisfy({ $0 == $1.letter }) else {
            throw EmbedError("argument types do not match \(f.type)")
        }
        let usesV128 = params.contains("v") || results.contains("v")
        if f.cEntry == nil && (results.count > 1 || usesV128) {
            // An import the runtime bound (WASI) re-exported: it has no C entry.
            throw EmbedError("calling a re-exported runtime import of type \(f.type) is not supported (multi-value or v128)")
        }
        guard let code = f.cEntry ?? f.record.pointee.code else {
            throw EmbedError("function of type \(f.type) has no C entry (not referenced by the module)")
        }
        let slots = args.flatMap(\.slots)
        var out = [UInt64](repeating: 0, count: max(results.reduce(0) { $0 + Value.slotCount($1) }, 1))
        let kind = symbols.invoke(code, f.record.pointee.vmctx, f.type, slots, &out)
        if kind >= 0 { throw Trap(kind: kind) }
        var position = 0
        return out.withUnsafeBufferPointer { buffer in
            results.map { letter in
                defer { position += Value.slotCount(letter) }
                return Value.from(slots: buffer, at: position, letter: letter)
            }
        }
    }

    /// Reads an exported global.
    public func global(_ name: String) -> Value? {
        guard case .global(let cell, let type)? = export(name), let letter = type.first(where: { $0 != "m" }) else { return nil }
        if letter == "v" { return .v128(lo: cell.load(as: UInt64.self), hi: cell.load(fromByteOffset: 8, as: UInt64.self)) }
        return Value.from(slot: cell.load(as: UInt64.self), letter: letter)
    }
}
