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
