/// WasmKit 0.4.2 builds an element segment's flags field as an option set without checking it, so
/// a flags value of 0x41 decodes as if it were 1. The binary format allows 0-7 only. This walks the
/// element section WasmKit has accepted and throws at the first other value — as the spec's own
/// decoder does ("malformed elements segment kind").
enum ElementSegmentFlags {
    /// `start`: offset of the section's id byte (9). Returns each segment's flags (as far as the
    /// walk got).
    @discardableResult
    static func check(_ bytes: [UInt8], sectionStart start: Int) throws(CompileError) -> [UInt32] {
        var r = Reader(bytes: bytes, position: start)
        var all: [UInt32] = []
        guard r.byte() == 9, let size = r.u32() else { return all }
        let end = r.position + Int(size)
        guard end <= bytes.count, let count = r.u32() else { return all }
        for _ in 0..<count {
            let at = r.position
            guard let flags = r.u32() else { return all }
            guard flags <= 7 else {
                throw CompileError("malformed elements segment kind (flags \(flags), expected 0-7)", offset: at)
            }
            let passive = flags & 1 != 0, explicitTable = flags & 2 != 0, expressions = flags & 4 != 0
            if !passive && explicitTable { guard r.u32() != nil else { return all } }   // table index
            if !passive { guard r.skipConstExpr() else { return all } }                 // offset
            if passive || explicitTable { guard r.byte() != nil else { return all } }   // elemkind / reftype
            guard let n = r.u32() else { return all }
            for _ in 0..<n {
                guard expressions ? r.skipConstExpr() : r.u32() != nil else { return all }
            }
            all.append(flags)
            guard r.position <= end else { return all }
        }
        return all
    }

    struct Reader {
        let bytes: [UInt8]
        var position: Int

        mutating func byte() -> UInt8? {
            guard position < bytes.count else { return nil }
            defer { position += 1 }
            return bytes[position]
        }

        mutating func u32() -> UInt32? {
            var value: UInt32 = 0
            for shift in stride(from: 0, to: 35, by: 7) {
                guard let b = byte() else { return nil }
                value |= UInt32(b & 0x7F) << UInt32(shift)
                if b & 0x80 == 0 { return value }
            }
            return nil
        }

        mutating func skipLEB(maxBytes: Int) -> Bool {
            for _ in 0..<maxBytes {
                guard let b = byte() else { return false }
                if b & 0x80 == 0 { return true }
            }
            return false
        }

        /// Skips a constant expression through its `end`; false where it cannot tell (WasmKit
        /// already validated the section, so the walk just stops there).
        mutating func skipConstExpr() -> Bool {
            while let op = byte() {
                switch op {
                case 0x0B: return true
                case 0x41: guard skipLEB(maxBytes: 5) else { return false }
                case 0x42: guard skipLEB(maxBytes: 10) else { return false }
                case 0x43: position += 4
                case 0x44: position += 8
                case 0x23, 0xD2: guard u32() != nil else { return false }
                case 0xD0: guard byte() != nil else { return false }
                case 0x6A, 0x6B, 0x6C, 0x7C, 0x7D, 0x7E: break
                default: return false
                }
            }
            return false
        }
    }
}
