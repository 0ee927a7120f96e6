/// Line numbers of a script's top-level S-expressions, in order, found by a scan that skips
/// comments and strings. The WAST parser's own `Location.computeLineAndColumn()` rescans the
/// script from its start on every call, which is quadratic over a large script; the directives
/// come in the same order as these groups, so the k-th directive starts on `lines[k]`.
struct ScriptLines {
    private(set) var lines: [Int] = []

    init(_ text: String) {
        let bytes = Array(text.utf8)
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
                if depth == 0 { lines.append(line) }
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
}
