/// Line numbers of a script's top-level S-expressions, in order, found by a scan that skips
/// comments and strings. The WAST parser's own `Location.computeLineAndColumn()` rescans the
/// script from its start on every call, which is quadratic over a large script; the directives
/// come in the same order as these groups, so the k-th directive starts on `lines[k]`.
struct ScriptLines {
    private(set) var lines: [Int] = []
    /// Byte offset of each top-level group's opening parenthesis.
    private(set) var starts: [Int] = []
    private let bytes: [UInt8]

    init(_ text: String) {
        let bytes = Array(text.utf8)
        self.bytes = bytes
        var i = 0, line = 1, depth = 0
        let n = bytes.count
        while i < n {
            let c = bytes[i]
            switch c {
            case UInt8(ascii: "\n"):
                line += 1
                i += 1
            case UInt8(ascii: ";") where i + 1 < n && bytes[i + 1] == UInt8(ascii: ";"):
                while i < n && bytes[i] != UInt8(ascii: "\n") { i += 1 }
            case UInt8(ascii: "(") where i + 1 < n && bytes[i + 1] == UInt8(ascii: ";"):
                // Block comment, nestable.
                var nest = 1
                i += 2
                while i < n && nest > 0 {
                    if bytes[i] == UInt8(ascii: "\n") { line += 1; i += 1 }
                    else if bytes[i] == UInt8(ascii: "(") && i + 1 < n && bytes[i + 1] == UInt8(ascii: ";") { nest += 1; i += 2 }
                    else if bytes[i] == UInt8(ascii: ";") && i + 1 < n && bytes[i + 1] == UInt8(ascii: ")") { nest -= 1; i += 2 }
                    else { i += 1 }
                }
            case UInt8(ascii: "\""):
                i += 1
                while i < n && bytes[i] != UInt8(ascii: "\"") {
                    if bytes[i] == UInt8(ascii: "\\") { i += 1 }
                    if i < n && bytes[i] == UInt8(ascii: "\n") { line += 1 }
                    i += 1
                }
                i += 1
            case UInt8(ascii: "("):
                if depth == 0 { lines.append(line); starts.append(i) }
                depth += 1
                i += 1
            case UInt8(ascii: ")"):
                depth = max(0, depth - 1)
                i += 1
            default:
                i += 1
            }
        }
    }

    func line(ofDirective k: Int) -> Int { k < lines.count ? lines[k] : (lines.last ?? 0) }

    /// The text of the first `(module …)` in directive `k` (the directive itself, or the module
    /// an assertion holds), for encoding it with another tool.
    func moduleText(ofDirective k: Int) -> String? {
        guard k < starts.count else { return nil }
        let end = k + 1 < starts.count ? starts[k + 1] : bytes.count
        let keyword = Array("(module".utf8)
        var i = starts[k]
        while i + keyword.count <= end, Array(bytes[i..<(i + keyword.count)]) != keyword { i += 1 }
        guard i + keyword.count <= end else { return nil }
        let start = i
        var depth = 0
        while i < end {
            switch bytes[i] {
            case UInt8(ascii: "\""):
                i += 1
                while i < end && bytes[i] != UInt8(ascii: "\"") { if bytes[i] == UInt8(ascii: "\\") { i += 1 }; i += 1 }
            case UInt8(ascii: ";") where i + 1 < end && bytes[i + 1] == UInt8(ascii: ";"):
                while i < end && bytes[i] != UInt8(ascii: "\n") { i += 1 }
                continue
            case UInt8(ascii: "("): depth += 1
            case UInt8(ascii: ")"):
                depth -= 1
                if depth == 0 { return String(decoding: bytes[start...i], as: UTF8.self) }
            default: break
            }
            i += 1
        }
        return nil
    }
}

extension ScriptLines {
    /// The float-shaped `v128.const` groups of directive `k` that hold NaN patterns, in text
    /// order: for each, the lanes written `nan:canonical` and those written `nan:canonical` or
    /// `nan:arithmetic` (bit i = lane i). WasmKit's WAST parser keeps only the second mask
    /// (`V128Expectation.nanLaneMask`); the runner needs the first to check canonical lanes.
    func v128NaNLanes(ofDirective k: Int) -> [(canonical: UInt8, any: UInt8)] {
        guard k < starts.count else { return [] }
        let end = k + 1 < starts.count ? starts[k + 1] : bytes.count
        var atoms: [String] = []
        var i = starts[k]
        while i < end {
            let c = bytes[i]
            if c == UInt8(ascii: ";") && i + 1 < end && bytes[i + 1] == UInt8(ascii: ";") {
                while i < end && bytes[i] != UInt8(ascii: "\n") { i += 1 }
            } else if c == UInt8(ascii: "(") && i + 1 < end && bytes[i + 1] == UInt8(ascii: ";") {
                var nest = 1
                i += 2
                while i < end && nest > 0 {
                    if bytes[i] == UInt8(ascii: "(") && i + 1 < end && bytes[i + 1] == UInt8(ascii: ";") { nest += 1; i += 2 }
                    else if bytes[i] == UInt8(ascii: ";") && i + 1 < end && bytes[i + 1] == UInt8(ascii: ")") { nest -= 1; i += 2 }
                    else { i += 1 }
                }
            } else if c == UInt8(ascii: "\"") {
                i += 1
                while i < end && bytes[i] != UInt8(ascii: "\"") { if bytes[i] == UInt8(ascii: "\\") { i += 1 }; i += 1 }
                i += 1
                atoms.append("\"")
            } else if c == UInt8(ascii: "(") || c == UInt8(ascii: ")") {
                atoms.append(c == UInt8(ascii: "(") ? "(" : ")")
                i += 1
            } else if c == UInt8(ascii: " ") || c == UInt8(ascii: "\n") || c == UInt8(ascii: "\t") || c == UInt8(ascii: "\r") {
                i += 1
            } else {
                let start = i
                while i < end, ![UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\t"), UInt8(ascii: "\r"),
                                 UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "\"")].contains(bytes[i]) { i += 1 }
                atoms.append(String(decoding: bytes[start..<i], as: UTF8.self))
            }
        }
        var groups: [(canonical: UInt8, any: UInt8)] = []
        var j = 0
        while j + 1 < atoms.count {
            defer { j += 1 }
            guard atoms[j] == "v128.const" else { continue }
            let count = atoms[j + 1] == "f32x4" ? 4 : atoms[j + 1] == "f64x2" ? 2 : 0
            guard count > 0, j + 1 + count < atoms.count else { continue }
            var canonical: UInt8 = 0, any: UInt8 = 0
            for lane in 0..<count {
                let atom = atoms[j + 2 + lane]
                if atom == "nan:canonical" { canonical |= 1 << UInt8(lane) }
                if atom == "nan:canonical" || atom == "nan:arithmetic" { any |= 1 << UInt8(lane) }
            }
            if any != 0 { groups.append((canonical, any)) }
        }
        return groups
    }
}
