import WasmParser
import WasmTypes

/// Canonical type text shared with the runtime (see wasmaot_import_desc.type): `call_indirect`
/// and import linking compare types by it, exactly (equal structural types have equal text).
public enum Signature {
    public static func letter(_ t: ValueType) -> String {
        switch t {
        case .i32: "i"
        case .i64: "I"
        case .f32: "f"
        case .f64: "F"
        case .v128: "v"
        case .ref(let r): r.heapType == .externRef ? "e" : "r"
        }
    }

    public static func text(_ ft: FunctionType) -> String {
        ft.parameters.map(letter).joined() + ":" + ft.results.map(letter).joined()
    }

    public static func globalText(_ g: GlobalType) -> String {
        (g.mutability == .variable ? "m" : "") + letter(g.valueType)
    }
}
