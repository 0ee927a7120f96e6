import WAT
import WasmAOTEmbed
import WasmParser
import WasmTypes

/// Conversions between the WAST parser's constants/expectations and embedding `Value`s.
///
/// `ref.extern N` is carried as externref pointer bits N+1 in both directions, so that
/// `ref.extern 0` is not the null reference.
enum SpecValues {
    struct Unsupported: Error, CustomStringConvertible {
        var description: String
    }

    static func argument(_ c: WASTConstValue) throws(Unsupported) -> Value {
        switch c {
        case .i32(let v): return .i32(v)
        case .i64(let v): return .i64(v)
        case .f32(let v): return .f32(v)
        case .f64(let v): return .f64(v)
        case .refNull(.abstract(.funcRef)): return .funcref(nil)
        case .refNull(.abstract(.externRef)): return .externref(nil)
        // Exception references cross as pointers, with the letter of function references.
        case .refNull(.abstract(.exnRef)), .refNull(.abstract(.noExn)): return .funcref(nil)
        case .refNull(let t): throw Unsupported(description: "ref.null \(t) arguments are not supported")
        case .refExtern(let v): return .externref(UInt(v) + 1)
        case .refFunc: throw Unsupported(description: "ref.func arguments are not supported")
        case .refHost: throw Unsupported(description: "ref.host arguments are not supported")
        case .v128(let v): return .v128(lo: halves(v.bytes).lo, hi: halves(v.bytes).hi)
        }
    }

    static func matches(_ actual: Value, _ expected: Expected) -> Bool {
        switch (actual, expected) {
        case (_, .value(let e)): return matches(actual, e)
        case (.v128(let lo, let hi), .v128(let e, let canonical)): return matches(lo: lo, hi: hi, e, canonical: canonical)
        case (_, .either(let candidates)): return candidates.contains { matches(actual, $0) }
        default: return false
        }
    }

    static func matches(_ actual: Value, _ expected: WASTExpectValue) -> Bool {
        switch (actual, expected) {
        case (.i32(let a), .i32(let e)): return a == e
        case (.i64(let a), .i64(let e)): return a == e
        // Concrete floats, NaNs included, must match bit for bit (the spec interpreter does too).
        case (.f32(let a), .f32(let e)): return a == e
        case (.f64(let a), .f64(let e)): return a == e
        case (.f32(let a), .f32CanonicalNaN): return a & 0x7fff_ffff == 0x7fc0_0000
        case (.f32(let a), .f32ArithmeticNaN): return a & 0x7fc0_0000 == 0x7fc0_0000
        case (.f64(let a), .f64CanonicalNaN): return a & 0x7fff_ffff_ffff_ffff == 0x7ff8_0000_0000_0000
        case (.f64(let a), .f64ArithmeticNaN): return a & 0x7ff8_0000_0000_0000 == 0x7ff8_0000_0000_0000
        case (.funcref(nil), .refNull(nil)), (.externref(nil), .refNull(nil)): return true
        case (.funcref(nil), .refNull(.abstract(.funcRef)?)), (.funcref(nil), .refNull(.abstract(.exnRef)?)): return true
        case (.externref(nil), .refNull(.abstract(.externRef)?)): return true
        case (.funcref(let p), .refFunc): return p != nil
        case (.externref(let p?), .refExtern(let v)): return v.map { UInt($0) + 1 == p } ?? true
        case (.v128(let lo, let hi), .v128(let e)): return halves(e.bytes) == (lo, hi)
        case (.v128(let lo, let hi), .v128Pattern(let e)): return matches(lo: lo, hi: hi, e, canonical: 0)
        case (_, .either(let candidates)): return candidates.contains { matches(actual, $0) }
        default: return false
        }
    }

    /// Little-endian bytes 0-7 and 8-15.
    static func halves(_ bytes: [UInt8]) -> (lo: UInt64, hi: UInt64) {
        var lo: UInt64 = 0, hi: UInt64 = 0
        for i in (0..<8).reversed() {
            lo = lo << 8 | UInt64(bytes[i])
            hi = hi << 8 | UInt64(bytes[8 + i])
        }
        return (lo, hi)
    }

    static func bytes(lo: UInt64, hi: UInt64) -> [UInt8] {
        (0..<16).map { UInt8(truncatingIfNeeded: ($0 < 8 ? lo : hi) >> (8 * UInt64($0 % 8))) }
    }

    /// A float-shaped v128 expectation: lanes in `canonical` hold a canonical NaN (either sign),
    /// the other lanes in `nanLaneMask` any arithmetic NaN, the rest match bit for bit.
    static func matches(lo: UInt64, hi: UInt64, _ e: V128Expectation, canonical: UInt8) -> Bool {
        let actual = bytes(lo: lo, hi: hi)
        let width = e.shape == .f64x2 ? 8 : 4
        for lane in 0..<(16 / width) {
            let range = (lane * width)..<((lane + 1) * width)
            let a = actual[range].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            if e.nanLaneMask & (1 << UInt8(lane)) != 0 {
                let quiet: UInt64 = width == 8 ? 0x7ff8_0000_0000_0000 : 0x7fc0_0000
                let magnitude: UInt64 = width == 8 ? 0x7fff_ffff_ffff_ffff : 0x7fff_ffff
                if canonical & (1 << UInt8(lane)) != 0 {
                    if a & magnitude != quiet { return false }
                } else if a & quiet != quiet {
                    return false
                }
            } else if Array(actual[range]) != Array(e.bytes[range]) {
                return false
            }
        }
        return true
    }

    static func describeV128(_ bytes: [UInt8]) -> String {
        "v128:i8x16 " + bytes.map { String($0) }.joined(separator: " ")
    }

    static func describe(_ v: Value) -> String {
        switch v {
        case .i32(let x): return "i32:\(Int32(bitPattern: x))"
        case .i64(let x): return "i64:\(Int64(bitPattern: x))"
        case .f32(let x): return "f32:\(describeF32(x))"
        case .f64(let x): return "f64:\(describeF64(x))"
        case .funcref(nil): return "ref.null func"
        case .funcref(let p?): return "ref.func@0x\(String(p, radix: 16))"
        case .externref(nil): return "ref.null extern"
        case .externref(let p?): return p > 0 && p <= UInt(UInt32.max) + 1 ? "ref.extern \(p - 1)" : "ref.extern@0x\(String(p, radix: 16))"
        case .v128(let lo, let hi): return describeV128(bytes(lo: lo, hi: hi))
        }
    }

    static func describe(_ e: WASTExpectValue) -> String {
        switch e {
        case .i32(let x): return "i32:\(Int32(bitPattern: x))"
        case .i64(let x): return "i64:\(Int64(bitPattern: x))"
        case .f32(let x): return "f32:\(describeF32(x))"
        case .f64(let x): return "f64:\(describeF64(x))"
        case .f32CanonicalNaN: return "f32:nan:canonical"
        case .f32ArithmeticNaN: return "f32:nan:arithmetic"
        case .f64CanonicalNaN: return "f64:nan:canonical"
        case .f64ArithmeticNaN: return "f64:nan:arithmetic"
        case .refNull(let t?): return "ref.null \(t == .funcRef ? "func" : t == .externRef ? "extern" : "\(t)")"
        case .refNull(nil): return "ref.null"
        case .refFunc(let i): return "ref.func\(i.map { " \($0)" } ?? "")"
        case .refExtern(let v): return "ref.extern\(v.map { " \($0)" } ?? "")"
        case .either(let c): return "(either \(c.map(describe).joined(separator: " ")))"
        case .v128(let v): return describeV128(v.bytes)
        case .v128Pattern(let p): return describeV128(p.bytes) + " (NaN lanes mask \(p.nanLaneMask))"
        default: return "\(e)"
        }
    }

    static func describe(_ values: [Value]) -> String { "[" + values.map(describe).joined(separator: ", ") + "]" }
    static func describe(_ values: [WASTExpectValue]) -> String { "[" + values.map(describe).joined(separator: ", ") + "]" }
    static func describe(_ values: [Expected]) -> String { "[" + values.map(describe).joined(separator: ", ") + "]" }

    static func describe(_ e: Expected) -> String {
        switch e {
        case .value(let v): return describe(v)
        case .v128(let p, let canonical):
            return describeV128(p.bytes) + " (\(p.shape == .f64x2 ? "f64x2" : "f32x4") NaN lanes mask \(p.nanLaneMask), canonical \(canonical))"
        case .either(let c): return "(either \(c.map(describe).joined(separator: " ")))"
        }
    }

    static func describeF32(_ bits: UInt32) -> String {
        let f = Float(bitPattern: bits)
        return f.isNaN ? "nan(0x\(String(bits, radix: 16)))" : "\(f) (0x\(String(bits, radix: 16)))"
    }

    static func describeF64(_ bits: UInt64) -> String {
        let f = Double(bitPattern: bits)
        return f.isNaN ? "nan(0x\(String(bits, radix: 16)))" : "\(f) (0x\(String(bits, radix: 16)))"
    }
}

// WasmTypes has its own `Value`; this target means the embedding one.
typealias Value = WasmAOTEmbed.Value

/// An expected result: the WAST parser's, with the lanes of v128 NaN patterns that must hold a
/// canonical NaN (which the parser does not keep apart from arithmetic ones).
indirect enum Expected {
    case value(WASTExpectValue)
    case v128(V128Expectation, canonicalLanes: UInt8)
    case either([Expected])

    /// Pairs each v128 pattern with NaN lanes, in text order (`either` candidates included), with
    /// the masks `nanLanes` found in the directive's text; nil if they do not line up.
    static func convert(_ values: [WASTExpectValue], nanLanes: () -> [(canonical: UInt8, any: UInt8)]) -> [Expected]? {
        func hasPattern(_ v: WASTExpectValue) -> Bool {
            switch v {
            case .v128Pattern(let p): return p.nanLaneMask != 0
            case .either(let c): return c.contains(where: hasPattern)
            default: return false
            }
        }
        guard values.contains(where: hasPattern) else { return values.map { .value($0) } }
        let groups = nanLanes()
        var next = 0
        var consistent = true
        func convert(_ v: WASTExpectValue) -> Expected {
            switch v {
            case .v128Pattern(let p) where p.nanLaneMask != 0:
                guard next < groups.count, groups[next].any == p.nanLaneMask else { consistent = false; return .value(v) }
                defer { next += 1 }
                return .v128(p, canonicalLanes: groups[next].canonical)
            case .either(let c): return .either(c.map(convert))
            default: return .value(v)
            }
        }
        let converted = values.map(convert)
        return consistent && next == groups.count ? converted : nil
    }
}
