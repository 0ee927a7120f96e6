import CLLVM
import CWasmAOTRuntime
import WasmAOTCore
import WasmParser
import WasmTypes

/// One operand of the validation stack. `type == nil` is the spec's "unknown" type that only
/// appears in unreachable code; `value` is nil wherever no IR is being emitted.
struct Operand {
    var type: ValueType?
    var value: LLVMValueRef?
}

/// A control frame. Branch targets carry their values through allocas ("slots") rather than phi
/// nodes: SROA/mem2reg turn them into phis, and the lowering stays one simple pass.
struct ControlFrame {
    enum Kind { case function, block, loop, ifThen, ifElse, tryTable, legacyTry, legacyCatch }
    var kind: Kind
    var params: [ValueType]
    var results: [ValueType]
    var height: Int
    /// The rest of this frame is unreachable (after br/return/unreachable...).
    var unreachable = false
    /// The whole frame started in unreachable code: validate only, emit nothing.
    var dead: Bool
    var target: LLVMBasicBlockRef?      // end block (block/if/function) or loop header
    var elseBlock: LLVMBasicBlockRef?   // `if` until its `else`
    var slots: [LLVMValueRef] = []      // label values: results, or params for loops
    var initializedHeight = 0           // FunctionLowerer.initialized.count at the frame's start
    var ifParams: [Operand] = []
    /// Exception handling (FunctionLowerer+Exceptions): the landing pad and dispatch of a frame
    /// that handles exceptions, made on first use.
    var landingPad: LLVMBasicBlockRef?
    var dispatch: LLVMBasicBlockRef?
    var dispatchException: LLVMValueRef?
    struct Clause {
        var tag: UInt32?        // nil: catch_all
        var target: Int         // frame index of the label
        var withReference: Bool
    }
    var clauses: [Clause] = []  // try_table
    struct LegacyCatch {
        var tag: UInt32?        // nil: catch_all
        var block: LLVMBasicBlockRef
        var lastPayloadLoad: LLVMValueRef?
        var rethrown = false
    }
    var legacyCatches: [LegacyCatch] = []
    var catchesAll = false

    var labelTypes: [ValueType] { kind == .loop ? params : results }
}

/// Validates one function body and emits its LLVM IR in the same pass (the spec's validation
/// algorithm, with each instruction's IR emitted next to its type check).
final class FunctionLowerer: AnyInstructionVisitor {
    typealias VisitorError = CompileError
    var binaryOffset: Int = 0

    let m: ModuleContext
    var ir: IR { m.ir }
    let index: UInt32
    let type: FunctionType
    let function: LLVMValueRef
    let vmctx: LLVMValueRef
    /// Base of each memory (loaded once at entry: bases never move).
    var memBases: [LLVMValueRef] = []
    var locals: [(type: ValueType, slot: LLVMValueRef)] = []
    /// Which locals are set (parameters and defaultable locals always); non-nullable locals
    /// become set by local.set/tee until the end of the enclosing block (`initialized` lists them
    /// in order, each frame remembers how many were set when it began).
    var isSet: [Bool] = []
    var initialized: [Int] = []
    var stack: [Operand] = []
    var frames: [ControlFrame] = []
    private var trapBlocks: [Int32: LLVMBasicBlockRef] = [:]
    let allocaBuilder: LLVMBuilderRef
    let entryBlock: LLVMBasicBlockRef

    init(module: ModuleContext, index: UInt32, code: Code) throws(CompileError) {
        self.m = module
        self.index = index
        self.type = module.wasm.functionType(ofFunction: index)
        self.function = module.definedFunction(Int(index) - module.wasm.importedFunctionCount)
        self.vmctx = LLVMGetParam(function, 0)
        let ir = module.ir
        entryBlock = LLVMAppendBasicBlockInContext(ir.context, function, "entry")
        allocaBuilder = LLVMCreateBuilderInContext(ir.context)
        LLVMPositionBuilderAtEnd(allocaBuilder, entryBlock)
        LLVMPositionBuilderAtEnd(ir.builder, entryBlock)

        for (i, p) in type.parameters.enumerated() {
            let slot = alloca(p)
            ir.store(LLVMGetParam(function, UInt32(i + 1)), slot, align: 8)
            locals.append((p, slot))
            isSet.append(true)
        }
        for t in code.locals {
            let slot = alloca(t)
            ir.store(ir.zero(t), slot, align: 8)
            locals.append((t, slot))
            isSet.append(WasmModule.isDefaultable(t))
        }
        for i in module.wasm.memories.indices {
            // Memory 0 from the vmctx head, the others through their memory objects.
            let base: LLVMValueRef
            if i == 0 {
                base = ir.load(ir.ptr, vmctx)
            } else {
                let object = ir.load(ir.ptr, ir.gep(vmctx, module.layout.memory(i)))
                ir.markInvariant(object)
                base = ir.load(ir.ptr, ir.gep(object, VMContextLayout.memoryBase))
            }
            ir.markInvariant(base)
            memBases.append(base)
        }
        emitStackCheck()
        let body = LLVMAppendBasicBlockInContext(ir.context, function, "body")!
        LLVMBuildBr(ir.builder, body)
        LLVMPositionBuilderAtEnd(allocaBuilder, entryBlock)
        LLVMPositionBuilderBefore(allocaBuilder, LLVMGetFirstInstruction(entryBlock))
        LLVMPositionBuilderAtEnd(ir.builder, body)

        let exit = LLVMAppendBasicBlockInContext(ir.context, function, "exit")!
        var frame = ControlFrame(kind: .function, params: [], results: type.results, height: 0, dead: false)
        frame.target = exit
        frame.slots = type.results.map { alloca($0) }
        frames.append(frame)
    }

    deinit { LLVMDisposeBuilder(allocaBuilder) }

    /// Lowers the whole body; throws the first validation error with its location.
    func lower(_ code: Code) throws(CompileError) {
        var parser = ExpressionParser(code: code)
        do {
            var visitor = self
            while let visit = try parser.parse() {
                try visit(visitor: &visitor)
            }
        } catch let error as WasmParserError {
            // The error's own offset is relative to the body; the parser's is the module's.
            throw WasmModule.namingUnsupported(WasmModule.locate(error, function: index, name: m.functionName(index), offset: parser.offset),
                                               m.wasm.bytes, function: index)
        } catch let error as CompileError {
            throw error
        } catch {
            throw CompileError("\(error)", offset: parser.offset, function: index, functionName: m.functionName(index))
        }
        if !frames.isEmpty {
            throw CompileError("unexpected end of function body", offset: parser.offset, function: index, functionName: m.functionName(index))
        }
    }

    /// An instruction of a proposal wasmaot does not compile yet, named as such.
    func unsupported(_ instruction: Instruction) -> CompileError {
        guard let feature = UnsupportedProposal.feature(of: instruction) else {
            return error("unsupported instruction \(UnsupportedProposal.instructionName(instruction))")
        }
        return unsupported(feature, UnsupportedProposal.instructionName(instruction))
    }

    /// A load or store opcode outside the supported set (SIMD or atomic forms share the enums).
    func unsupportedAccess(_ instruction: Instruction, _ op: String) -> CompileError {
        UnsupportedProposal.feature(of: instruction).map { unsupported($0, op) } ?? error("unsupported instruction \(op)")
    }

    func unsupported(_ feature: WasmFeatureSet.Feature, _ what: String) -> CompileError {
        UnsupportedProposal.error(feature, what, offset: binaryOffset, function: index, functionName: m.functionName(index))
    }

    func error(_ reason: String) -> CompileError {
        CompileError(reason, offset: binaryOffset, function: index, functionName: m.functionName(index))
    }

    // MARK: emission state

    var emitting: Bool {
        guard let top = frames.last else { return false }
        return !top.unreachable && !top.dead
    }

    func alloca(_ t: ValueType) -> LLVMValueRef {
        let slot = LLVMBuildAlloca(allocaBuilder, ir.type(t), "")!
        LLVMSetAlignment(slot, t == .v128 ? 16 : 8)
        return slot
    }

    func newBlock(_ name: String) -> LLVMBasicBlockRef {
        LLVMAppendBasicBlockInContext(ir.context, function, name)
    }

    /// Branch to a shared per-kind trap block when `condition` holds.
    func trapIf(_ condition: LLVMValueRef, _ kind: Int32) {
        let trapBlock: LLVMBasicBlockRef
        if let existing = trapBlocks[kind] {
            trapBlock = existing
        } else {
            trapBlock = newBlock("trap\(kind)")
            let current = LLVMGetInsertBlock(ir.builder)!
            LLVMPositionBuilderAtEnd(ir.builder, trapBlock)
            ir.call(m.trap.1, m.trap.0, [ir.c32(Int(kind))])
            LLVMBuildUnreachable(ir.builder)
            LLVMPositionBuilderAtEnd(ir.builder, current)
            trapBlocks[kind] = trapBlock
        }
        let cont = newBlock("ok")
        let br = LLVMBuildCondBr(ir.builder, condition, trapBlock, cont)!
        setUnlikelyFirst(br)
        LLVMPositionBuilderAtEnd(ir.builder, cont)
    }

    func setUnlikelyFirst(_ br: LLVMValueRef) {
        var ops: [LLVMMetadataRef?] = [
            LLVMMDStringInContext2(ir.context, "branch_weights", 14),
            LLVMValueAsMetadata(ir.c32(1)),
            LLVMValueAsMetadata(ir.c32(1 << 20)),
        ]
        let node = LLVMMDNodeInContext2(ir.context, &ops, 3)
        let kind = LLVMGetMDKindIDInContext(ir.context, "prof", 4)
        LLVMSetMetadata(br, kind, LLVMMetadataAsValue(ir.context, node))
    }

    func trapNow(_ kind: Int32) {
        ir.call(m.trap.1, m.trap.0, [ir.c32(Int(kind))])
        LLVMBuildUnreachable(ir.builder)
    }

    private func emitStackCheck() {
        let sp = ir.callIntrinsic("llvm.stacksave", [ir.ptr], [])
        let spInt = LLVMBuildPtrToInt(ir.builder, sp, ir.i64, "")!
        let limit = ir.load(ir.i64, ir.gep(vmctx, VMContextLayout.stackLimit))
        trapIf(LLVMBuildICmp(ir.builder, LLVMIntULT, spInt, limit, "")!, TrapKind.stackExhausted)
    }

    // MARK: operand stack

    func push(_ type: ValueType?, _ value: LLVMValueRef?) {
        stack.append(Operand(type: type, value: value))
    }

    @discardableResult
    func pop(_ expected: ValueType? = nil) throws(CompileError) -> Operand {
        let frame = frames[frames.count - 1]
        if stack.count == frame.height {
            // Only code after br/return/unreachable *in this frame* sees a polymorphic stack; a
            // block that merely starts in dead code is validated normally.
            if frame.unreachable {
                return Operand(type: expected, value: nil)
            }
            throw error("type mismatch: operand stack is empty")
        }
        let operand = stack.removeLast()
        if let expected, let actual = operand.type, !m.wasm.isSubtype(actual, of: expected) {
            throw error("type mismatch: expected \(UnsupportedProposal.typeName(expected)), found \(UnsupportedProposal.typeName(actual))")
        }
        return operand
    }

    /// Pops values of `types` (last type on top); returns them in stack order.
    func pop(_ types: [ValueType]) throws(CompileError) -> [Operand] {
        var values: [Operand] = []
        for t in types.reversed() { values.append(try pop(t)) }
        return values.reversed()
    }

    func value(_ operand: Operand) -> LLVMValueRef {
        operand.value!
    }

    func markUnreachable() {
        frames[frames.count - 1].unreachable = true
        stack.removeSubrange(frames[frames.count - 1].height...)
    }
}

/// The runtime's trap kinds (wasmaot_trap_kind in Runtime/include/wasmaot_rt.h, which also owns
/// their messages).
enum TrapKind {
    private static func kind(_ k: wasmaot_trap_kind) -> Int32 { Int32(k.rawValue) }
    static let unreachable = kind(WASMAOT_TRAP_UNREACHABLE)
    static let memoryOutOfBounds = kind(WASMAOT_TRAP_MEMORY_OOB)
    static let divideByZero = kind(WASMAOT_TRAP_DIV_BY_ZERO)
    static let integerOverflow = kind(WASMAOT_TRAP_INT_OVERFLOW)
    static let invalidConversion = kind(WASMAOT_TRAP_INVALID_CONVERSION)
    static let undefinedElement = kind(WASMAOT_TRAP_UNDEFINED_ELEMENT)
    static let uninitializedElement = kind(WASMAOT_TRAP_UNINITIALIZED_ELEMENT)
    static let indirectCallMismatch = kind(WASMAOT_TRAP_INDIRECT_CALL_MISMATCH)
    static let stackExhausted = kind(WASMAOT_TRAP_STACK_EXHAUSTED)
    static let tableOutOfBounds = kind(WASMAOT_TRAP_TABLE_OOB)
    static let nullFunctionReference = kind(WASMAOT_TRAP_NULL_FUNC_REF)
    static let nullReference = kind(WASMAOT_TRAP_NULL_REF)
}
