import WasmParser

/// Whether a module has any `return_call`, `return_call_indirect` or `return_call_ref`. Only such
/// modules compile their functions with LLVM's `tailcc` convention (needed for guaranteed tail
/// calls between functions of different signatures); the others keep the C convention, whose code
/// is what wasmaot has always generated (tailcc measured up to 1.4x slower on call-heavy code).
/// A body that fails to decode counts as none: lowering reports its error.
enum TailCallScan {
    private struct Finder: InstructionVisitor {
        typealias VisitorError = WasmParserError
        var binaryOffset = 0
        var found = false
        mutating func visitReturnCall(functionIndex: UInt32) throws(WasmParserError) { found = true }
        mutating func visitReturnCallIndirect(typeIndex: UInt32, tableIndex: UInt32) throws(WasmParserError) { found = true }
        mutating func visitReturnCallRef(typeIndex: UInt32) throws(WasmParserError) { found = true }
    }

    static func usesTailCalls(_ codes: [Code]) -> Bool {
        // Cheap filter first: a body without any of the three opcode bytes has none of them.
        for code in codes where code.expression.contains(where: { $0 == 0x12 || $0 == 0x13 || $0 == 0x15 }) {
            var parser = ExpressionParser(code: code)
            var finder = Finder()
            do {
                while let visit = try parser.parse() {
                    try visit(visitor: &finder)
                    if finder.found { return true }
                }
            } catch {
                continue
            }
        }
        return false
    }
}
