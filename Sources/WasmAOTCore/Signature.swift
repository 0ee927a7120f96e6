import WasmParser
import WasmTypes

/// Canonical type text shared with the runtime (see wasmaot_import_desc.type): `call_indirect`
/// and import linking compare types by it, exactly (equal structural types have equal text).
///
/// One letter per value (`PARAMS:RESULTS`), `r` for every function reference and `e` for every
/// extern reference; when a signature holds a typed reference (non-nullable, a concrete type, a
/// bottom type) the letters are followed by `;` and one token per reference value, in order:
/// `?` if nullable, then `func`, `extern`, `nofunc`, `noextern`, or `{TEXT}` — the canonical text
/// of the concrete function type (`~` for the type being defined itself). The letters stay what
/// the embedding's C calls need; the tokens make the identity exact.
public enum Signature {
    public static func letter(_ t: ValueType) -> String {
        switch t {
        case .i32: "i"
        case .i64: "I"
        case .f32: "f"
        case .f64: "F"
        case .v128: "v"
        case .ref(let r):
            switch r.heapType {
            case .abstract(.externRef), .abstract(.noExtern): "e"
            default: "r"
            }
        }
    }

    /// The text of type `index` of `types` (concrete references resolved through `texts`, the
    /// texts of the types before it).
    public static func text(_ ft: FunctionType, index: Int? = nil, texts: [String]) -> String {
        let values = ft.parameters + ft.results
        let letters = ft.parameters.map(letter).joined() + ":" + ft.results.map(letter).joined()
        return letters + detail(values, self: index, texts: texts)
    }

    /// The text of a global's type: `m` if mutable, the letter, and the detail of a typed reference.
    public static func globalText(_ g: GlobalType, texts: [String]) -> String {
        (g.mutability == .variable ? "m" : "") + valueText(g.valueType, texts: texts)
    }

    /// A table's type: its element type's text, `@64` after it for a 64-bit table.
    public static func tableText(_ t: TableType, texts: [String]) -> String {
        valueText(.ref(t.elementType), texts: texts) + (t.limits.isMemory64 ? "@64" : "")
    }

    /// One value's letter and detail.
    public static func valueText(_ t: ValueType, texts: [String]) -> String {
        letter(t) + detail([t], self: nil, texts: texts)
    }

    private static func detail(_ values: [ValueType], self index: Int?, texts: [String]) -> String {
        var tokens: [String] = []
        var typed = false
        for case .ref(let r) in values {
            var token = r.isNullable ? "?" : ""
            switch r.heapType {
            case .abstract(.funcRef): token += "func"
            case .abstract(.externRef): token += "extern"
            case .abstract(.noFunc): token += "nofunc"; typed = true
            case .abstract(.noExtern): token += "noextern"; typed = true
            case .abstract(let a): token += "\(a)"; typed = true
            case .concrete(let i):
                typed = true
                if Int(i) == index { token += "~" } else { token += "{" + (Int(i) < texts.count ? texts[Int(i)] : "?\(i)") + "}" }
            }
            if !r.isNullable { typed = true }
            tokens.append(token)
        }
        return typed ? ";" + tokens.joined(separator: ",") : ""
    }
}

extension WasmModule {
    /// Canonical texts of the type section (each type may refer to earlier ones and itself).
    public static func canonicalTexts(_ types: [FunctionType]) -> [String] {
        var texts: [String] = []
        for (i, t) in types.enumerated() { texts.append(Signature.text(t, index: i, texts: texts)) }
        return texts
    }

    /// Wasm 3.0 subtyping without GC: numeric types match exactly; `(ref null? h1) <: (ref null? h2)`
    /// when nullability allows it and `h1 <: h2`, where a concrete function type is below `func`
    /// and `nofunc` below both, `noextern` below `extern`, and two concrete types match when they
    /// are equivalent (the same canonical text).
    public func isSubtype(_ a: ValueType, of b: ValueType) -> Bool {
        switch (a, b) {
        case (.ref(let ra), .ref(let rb)):
            if ra.isNullable && !rb.isNullable { return false }
            return isHeapSubtype(ra.heapType, of: rb.heapType)
        default: return a == b
        }
    }

    public func isHeapSubtype(_ a: HeapType, of b: HeapType) -> Bool {
        switch (a, b) {
        case (.concrete(let i), .concrete(let j)):
            return i == j || (Int(i) < typeTexts.count && Int(j) < typeTexts.count && typeTexts[Int(i)] == typeTexts[Int(j)])
        case (.concrete, .abstract(.funcRef)): return true
        case (.abstract(.noFunc), .concrete), (.abstract(.noFunc), .abstract(.funcRef)): return true
        case (.abstract(.noExtern), .abstract(.externRef)): return true
        case (.abstract(.noExn), .abstract(.exnRef)): return true
        case (.abstract(let x), .abstract(let y)): return x == y
        default: return false
        }
    }

    /// Whether `t` is a function reference type (`funcref`, `(ref null? $t)`, `nofunc`).
    public func isFunctionReference(_ t: ValueType) -> Bool {
        isSubtype(t, of: .ref(.funcRef))
    }

    /// Whether a local of type `t` needs no initialization (numbers and nullable references).
    public static func isDefaultable(_ t: ValueType) -> Bool {
        if case .ref(let r) = t { return r.isNullable }
        return true
    }
}
