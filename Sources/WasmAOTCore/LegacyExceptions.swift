import WasmParser

/// An instruction of the legacy exception-handling encoding (`try`/`catch`/`catch_all`/
/// `delegate`/`rethrow`), which WasmKit 0.4.2 does not decode but compilers still emit by
/// default. Decoding rewrites each one, in place and at the same length, to an instruction
/// WasmKit decodes with the same immediate — `try bt` to `block bt`, `catch x` / `rethrow l` /
/// `delegate l` to `br x|l`, `catch_all` to `nop` — and records what it really is by its byte
/// offset (`WasmModule.legacyExceptions`); the lowering looks an instruction up there only in
/// functions that have such entries.
public enum LegacyExceptionOp: Sendable, Equatable {
    case `try`, `catch`, catchAll, rethrow, delegate

    var opcode: UInt8 {
        switch self {
        case .try: 0x06
        case .catch: 0x07
        case .catchAll: 0x19
        case .rethrow: 0x09
        case .delegate: 0x18
        }
    }

    init?(opcode: UInt8) {
        switch opcode {
        case 0x06: self = .try
        case 0x07: self = .catch
        case 0x19: self = .catchAll
        case 0x09: self = .rethrow
        case 0x18: self = .delegate
        default: return nil
        }
    }

    /// The opcode WasmKit decodes instead (same immediate encoding).
    var standIn: UInt8 {
        switch self {
        case .try: 0x02
        case .catchAll: 0x01
        case .catch, .rethrow, .delegate: 0x0C
        }
    }
}

enum LegacyExceptions {
    /// Rewrites the legacy instructions of every body (see LegacyExceptionOp); nil when there are
    /// none. Each body is decoded once: after a rewritten instruction, decoding continues on the
    /// rest of the body, made into a one-body module (WasmKit has no public way to start a parser
    /// mid-body), so each legacy instruction costs a copy of the bytes after it.
    static func rewrite(_ module: WasmModule, _ bytes: [UInt8], features: WasmFeatureSet) -> (bytes: [UInt8], ops: [Int: LegacyExceptionOp])? {
        var patched = bytes
        var ops: [Int: LegacyExceptionOp] = [:]
        for code in module.codes {
            // Cheap filter: no candidate opcode byte anywhere in the body.
            guard code.expression.contains(where: { LegacyExceptionOp(opcode: $0) != nil }) else { continue }
            var parser = ExpressionParser(code: code)
            var bias = 0  // original offset = parser offset + bias
            let end = code.expression.endIndex
            while true {
                let start = parser.offset + bias
                do {
                    guard try parser.parse() != nil else { break }
                    continue
                } catch {
                    guard start < end, let op = LegacyExceptionOp(opcode: patched[start]) else { break }
                    patched[start] = op.standIn
                    ops[start] = op
                    // Continue from the rewritten instruction, in a module of the rest of the body.
                    guard let rest = restOfBody(patched[start..<end], features: features) else { break }
                    parser = rest.parser
                    bias = start - rest.start
                }
            }
        }
        return ops.isEmpty ? nil : (patched, ops)
    }

    /// An expression parser over `rest` (a suffix of a body), and the module offset its first
    /// byte has there.
    private static func restOfBody(_ rest: ArraySlice<UInt8>, features: WasmFeatureSet) -> (parser: ExpressionParser, start: Int)? {
        func leb(_ value: Int) -> [UInt8] {
            var v = value, out: [UInt8] = []
            repeat {
                var byte = UInt8(v & 0x7F)
                v >>= 7
                if v != 0 { byte |= 0x80 }
                out.append(byte)
            } while v != 0
            return out
        }
        let body = [0x00] + Array(rest)  // no locals
        let section = [0x01] + leb(body.count) + body
        let module: [UInt8] = [0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00, 0x0A] + leb(section.count) + section
        let start = module.count - rest.count
        var parser = Parser(bytes: module, features: features)
        do {
            while let payload = try parser.parseNext() {
                if case .codeSection(let codes) = payload, let code = codes.first {
                    return (ExpressionParser(code: code), start)
                }
            }
        } catch {}
        return nil
    }
}
