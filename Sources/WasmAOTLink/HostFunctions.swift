import CWasmAOTRuntime

/// Imports the runtime provides to executables, with their canonical type text.
public enum HostFunctions {
    public static let wasiModule = "wasi_snapshot_preview1"

    /// module → name → canonical type text, from the runtime's own list (wasmaot_host_funcs.def
    /// through wasmaot_rt.h): a host function added there is known here.
    public static let types: [String: [String: String]] = {
        var table: [String: [String: String]] = [:]
        var i: UInt32 = 0
        var module: UnsafePointer<CChar>?, name: UnsafePointer<CChar>?, type: UnsafePointer<CChar>?
        while wasmaot_host_func_type(i, &module, &name, &type) != 0 {
            table[String(cString: module!), default: [:]][String(cString: name!)] = String(cString: type!)
            i += 1
        }
        return table
    }()

    /// One line per import an executable cannot satisfy (unknown, or wrong type).
    /// `imports`: (module, name, kind, type text) with kind "func"/"table"/"memory"/"global".
    public static func unresolved(_ imports: [(module: String, name: String, kind: String, type: String)]) -> [String] {
        imports.compactMap { imp in
            guard imp.kind == "func" else {
                return "\(imp.module).\(imp.name): \(imp.kind) imports cannot be satisfied by an executable"
            }
            guard let expected = types[imp.module]?[imp.name] else {
                return "\(imp.module).\(imp.name): unknown import (type \(imp.type))"
            }
            return expected == imp.type ? nil : "\(imp.module).\(imp.name): type \(imp.type) does not match the host function's \(expected)"
        }
    }
}
