import WasmParser
import WasmTypes

/// Canonical type text shared with the runtime (see wasmaot_import_desc.type) and the 64-bit
/// signature id that `call_indirect` compares: equal structural types hash equal in any module.
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

    /// FNV-1a 64.
    public static func hash(_ text: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            h ^= UInt64(byte)
            h = h &* 0x100_0000_01b3
        }
        return h
    }
}
