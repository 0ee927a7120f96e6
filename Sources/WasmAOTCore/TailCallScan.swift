import WasmParser

/// Whether a module has any `return_call`, `return_call_indirect` or `return_call_ref`. Only such
/// modules compile their functions with LLVM's `tailcc` convention (needed for guaranteed tail
/// calls between functions of different signatures); the others keep the C convention, whose code
/// is what wasmaot has always generated (tailcc measured up to 1.4x slower on call-heavy code).
/// Also whether a module has handlers or rethrows without tags (exception handling). A body that
/// fails to decode counts as none: lowering reports its error.
enum TailCallScan {
    private protocol Finder: InstructionVisitor where VisitorError == WasmParserError {
        var found: Bool { get }
        init()
    }

    private struct ReturnCallFinder: Finder {
        var binaryOffset = 0
        var found = false
        mutating func visitReturnCall(functionIndex: UInt32) throws(WasmParserError) { found = true }
        mutating func visitReturnCallIndirect(typeIndex: UInt32, tableIndex: UInt32) throws(WasmParserError) { found = true }
        mutating func visitReturnCallRef(typeIndex: UInt32) throws(WasmParserError) { found = true }
    }

    private struct HandlerFinder: Finder {
        var binaryOffset = 0
        var found = false
        mutating func visitTryTable(blockType: BlockType, tryCatch: TryCatch) throws(WasmParserError) { found = true }
        mutating func visitThrowRef() throws(WasmParserError) { found = true }
    }

    static func usesTailCalls(_ codes: [Code]) -> Bool {
        any(codes, ReturnCallFinder.self, opcodes: [0x12, 0x13, 0x15])
    }

    /// Whether a body has `try_table` or `throw_ref` (which need no tag: catch_all, an exnref
    /// parameter).
    static func usesExceptionHandling(_ codes: [Code]) -> Bool {
        any(codes, HandlerFinder.self, opcodes: [0x1F, 0x0A])
    }

    /// Whether `F` finds its instructions in any body. Cheap filter first: a body without any of
    /// the opcode bytes has none of them.
    private static func any<F: Finder>(_ codes: [Code], _: F.Type, opcodes: Set<UInt8>) -> Bool {
        for code in codes where code.expression.contains(where: opcodes.contains) {
            var parser = ExpressionParser(code: code)
            var finder = F()
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
