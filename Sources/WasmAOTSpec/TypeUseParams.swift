/// WasmKit 0.4.2's WAT parser drops the parameter names of a function whose header has both a
/// type use and inline parameters — `(func (type $t) (param $x i32) … (local.get $x))` fails with
/// "Unknown ResolvedLocalDecl Name $x" although the text is valid. Until the parser is fixed, the
/// runner rewrites such functions before parsing: the named parameter becomes anonymous
/// (`(param i32)`, so the type use and its check stay as they are) and `local.get/set/tee $x` in
/// that function use its index. Lines stay where they were (diagnostics keep their line numbers);
/// strings and comments are never touched, so quoted modules reach the parser verbatim.
enum TypeUseParams {
    static func rewrite(_ text: String) -> String {
        let bytes = Array(text.utf8)
        guard bytes.count > 5, text.contains("(type"), text.contains("(param $") else { return text }
        let tokens = tokenize(bytes)
        var edits: [(range: Range<Int>, replacement: [UInt8])] = []
        var i = 0
        while i < tokens.count {
            if tokens[i].kind == .open, i + 1 < tokens.count, tokens[i + 1].text(bytes) == "func" {
                rewriteFunction(bytes, tokens, at: i, into: &edits)
            }
            i += 1
        }
        guard !edits.isEmpty else { return text }
        var out = bytes
        for edit in edits.sorted(by: { $0.range.lowerBound > $1.range.lowerBound }) {
            out.replaceSubrange(edit.range, with: edit.replacement)
        }
        return String(decoding: out, as: UTF8.self)
    }

    enum Kind { case open, close, atom }

    struct Token {
        var kind: Kind
        var range: Range<Int>
        func text(_ bytes: [UInt8]) -> String { String(decoding: bytes[range], as: UTF8.self) }
    }

    /// Parentheses and atoms; strings and comments skipped (strings become atoms).
    static func tokenize(_ b: [UInt8]) -> [Token] {
        var tokens: [Token] = []
        var i = 0, depth = 0
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: ";"), i + 1 < b.count, b[i + 1] == UInt8(ascii: ";") {
                while i < b.count, b[i] != UInt8(ascii: "\n") { i += 1 }
            } else if c == UInt8(ascii: "("), i + 1 < b.count, b[i + 1] == UInt8(ascii: ";") {
                var nest = 1
                i += 2
                while i < b.count, nest > 0 {
                    if b[i] == UInt8(ascii: "("), i + 1 < b.count, b[i + 1] == UInt8(ascii: ";") { nest += 1; i += 2 }
                    else if b[i] == UInt8(ascii: ";"), i + 1 < b.count, b[i + 1] == UInt8(ascii: ")") { nest -= 1; i += 2 }
                    else { i += 1 }
                }
            } else if c == UInt8(ascii: "(") {
                tokens.append(Token(kind: .open, range: i..<(i + 1))); depth += 1; i += 1
            } else if c == UInt8(ascii: ")") {
                tokens.append(Token(kind: .close, range: i..<(i + 1))); depth -= 1; i += 1
            } else if c == UInt8(ascii: "\"") {
                let start = i
                i += 1
                while i < b.count, b[i] != UInt8(ascii: "\"") { i += b[i] == UInt8(ascii: "\\") ? 2 : 1 }
                i = min(i + 1, b.count)
                tokens.append(Token(kind: .atom, range: start..<i))
            } else if c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D {
                i += 1
            } else {
                let start = i
                while i < b.count, ![0x20, 0x09, 0x0A, 0x0D, UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "\"")].contains(b[i]) { i += 1 }
                tokens.append(Token(kind: .atom, range: start..<i))
            }
        }
        return tokens
    }

    /// Index of the token closing the form opened at `open`.
    static func close(_ tokens: [Token], _ open: Int) -> Int {
        var depth = 0
        for k in open..<tokens.count {
            if tokens[k].kind == .open { depth += 1 }
            if tokens[k].kind == .close { depth -= 1; if depth == 0 { return k } }
        }
        return tokens.count - 1
    }

    static func rewriteFunction(_ b: [UInt8], _ tokens: [Token], at open: Int, into edits: inout [(range: Range<Int>, replacement: [UInt8])]) {
        let end = close(tokens, open)
        var k = open + 2
        if k < end, tokens[k].kind == .atom, tokens[k].text(b).hasPrefix("$") { k += 1 }   // the function's name
        var hasTypeUse = false, index = 0
        var names: [String: Int] = [:]
        var paramEdits: [(range: Range<Int>, replacement: [UInt8])] = []
        // Header forms: (export …) (import …) (type …) (param …) (result …)
        header: while k < end, tokens[k].kind == .open, k + 1 < end {
            let head = tokens[k + 1].text(b)
            let formEnd = close(tokens, k)
            switch head {
            case "type": hasTypeUse = true
            case "param":
                let first = k + 2
                if first < formEnd, tokens[first].kind == .atom, tokens[first].text(b).hasPrefix("$") {
                    names[tokens[first].text(b)] = index
                    index += 1
                    // "(param $x i32)" → "(param i32)": the name and the space after it go.
                    let next = first + 1 < formEnd ? tokens[first + 1].range.lowerBound : tokens[first].range.upperBound
                    paramEdits.append((tokens[first].range.lowerBound..<next, []))
                } else {
                    index += max(0, formEnd - first)
                }
            case "export", "import", "result": break
            default: break header   // the body starts here
            }
            k = formEnd + 1
        }
        guard hasTypeUse, !names.isEmpty else { return }
        edits += paramEdits
        var t = k
        while t + 1 < end {
            let word = tokens[t].text(b)
            if tokens[t].kind == .atom, word == "local.get" || word == "local.set" || word == "local.tee",
               tokens[t + 1].kind == .atom, let i = names[tokens[t + 1].text(b)] {
                edits.append((tokens[t + 1].range, Array(String(i).utf8)))
            }
            t += 1
        }
    }
}
