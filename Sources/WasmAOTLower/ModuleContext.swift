import CLLVM
import WasmAOTCodegen
import WasmAOTCore
import WasmParser
import WasmTypes

/// Everything function lowering shares across one module: the LLVM declarations of all Wasm
/// functions, the runtime entry points, data segment constants and the vmctx layout.
final class ModuleContext {
    let wasm: WasmModule
    let ir: IR
    let layout: VMContextLayout
    /// LLVM types of every Wasm type (by type index).
    let llvmFunctionTypes: [LLVMTypeRef]
    /// The partition being lowered (nil: the whole module in one LLVM module).
    let plan: PartitionPlan?
    let partition: Int
    /// The target the code is for (the few instructions lowered per target: SIMD swizzle, relaxed
    /// SIMD's fused multiply-add).
    let target: TargetTraits
    var architecture: Architecture { target.architecture }
    /// LLVM functions of the defined functions (index - importedFunctionCount), declared on use.
    private var functions: [LLVMValueRef?]
    private var dataSegments: [LLVMValueRef?]
    /// Defined functions called directly from the bodies lowered so far.
    var directCallees = Set<Int>()
    private var typeTexts: [String: LLVMValueRef] = [:]

    /// Whether symbols must be visible to the other partitions' objects (hidden, so that nothing
    /// leaves the executable or shared object).
    var partitioned: Bool { (plan?.partitions.count ?? 1) > 1 }
    /// Partition 0 (or the only one) holds instantiation, the descriptor and the data segments.
    var holdsModuleCode: Bool { partition == 0 }

    func owns(_ definedIndex: Int) -> Bool { plan.map { $0.owner[definedIndex] == partition } ?? true }
    private(set) lazy var trap: (LLVMValueRef, LLVMTypeRef) = {
        let fn = runtimeFunction("wasmaot_trap", ir.void, [ir.i32])
        ir.addFunctionAttribute(fn.0, "noreturn")
        ir.addFunctionAttribute(fn.0, "cold")
        ir.addFunctionAttribute(fn.0, "nounwind")
        return fn
    }()

    /// Exceptions (Runtime/src/exn.c): allocation, the throw that unwinds, the free after a catch.
    private(set) lazy var exnNew: (LLVMValueRef, LLVMTypeRef) = runtimeFunction("wasmaot_exn_new", ir.ptr, [ir.ptr, ir.i32])
    private(set) lazy var exnFree: (LLVMValueRef, LLVMTypeRef) = runtimeFunction("wasmaot_exn_free", ir.void, [ir.ptr])
    private(set) lazy var exnPin: (LLVMValueRef, LLVMTypeRef) = runtimeFunction("wasmaot_exn_pin", ir.void, [ir.ptr])
    private(set) lazy var exnThrow: (LLVMValueRef, LLVMTypeRef) = {
        let fn = runtimeFunction("wasmaot_exn_throw", ir.void, [ir.ptr], mayUnwind: true)
        ir.addFunctionAttribute(fn.0, "noreturn")
        ir.addFunctionAttribute(fn.0, "cold")
        return fn
    }()
    /// libgcc's C personality: it enters landing pads with cleanup clauses, which is all the
    /// generated code needs (it matches tags itself).
    private(set) lazy var personality: LLVMValueRef = {
        if let existing = LLVMGetNamedFunction(ir.module, "__gcc_personality_v0") { return existing }
        return LLVMAddFunction(ir.module, "__gcc_personality_v0", LLVMFunctionType(ir.i32, nil, 0, 1))!
    }()

    /// The partition's string constant for canonical type `text` (Signature.text), one per type, for
    /// the descriptor's function, import and type lists (the runtime interns them: identity does
    /// not depend on which object the string is in).
    func canonicalType(_ text: String) -> LLVMValueRef {
        if let g = typeTexts[text] { return g }
        let g = ir.cString(text, name: "wasmaot_type.\(text)")
        typeTexts[text] = g
        return g
    }

    init(wasm: WasmModule, ir: IR, plan: PartitionPlan?, partition: Int, target: TargetTraits) {
        self.wasm = wasm
        self.target = target
        self.ir = ir
        self.plan = plan
        self.partition = partition
        self.layout = VMContextLayout(wasm)
        self.llvmFunctionTypes = wasm.types.map { ir.functionType($0) }
        functions = Array(repeating: nil, count: wasm.definedFunctionCount)
        dataSegments = Array(repeating: nil, count: wasm.data.count)
    }

    /// The LLVM function of defined function `j`: a definition-to-be when this partition owns
    /// it, else a declaration resolved against its owner's object at link time.
    func definedFunction(_ j: Int) -> LLVMValueRef {
        if let f = functions[j] { return f }
        let index = wasm.importedFunctionCount + j
        let typeIndex = Int(wasm.functionTypeIndices[index])
        let fn = LLVMAddFunction(ir.module, "wasm_f\(index)", llvmFunctionTypes[typeIndex])!
        if wasm.usesTailCalls { LLVMSetFunctionCallConv(fn, Self.tailCallConv) }
        // In a module with exception handling any function may unwind (and LLVM must keep the
        // invokes of its handlers).
        if !wasm.usesExceptions { ir.addFunctionAttribute(fn, "nounwind") }
        if owns(j) {
            if partitioned {
                LLVMSetVisibility(fn, LLVMHiddenVisibility)
            } else {
                LLVMSetLinkage(fn, LLVMInternalLinkage)
            }
            // A function with a huge frame must not jump over the stack guard.
            ir.addStringAttribute(fn, "probe-stack", "inline-asm")
            // Wasm recursion must exhaust the stack and trap; tail-recursion elimination would
            // turn `(func $f (call $f))` into an endless loop.
            ir.addStringAttribute(fn, "disable-tail-calls", "true")
        } else {
            LLVMSetVisibility(fn, LLVMHiddenVisibility)
        }
        functions[j] = fn
        return fn
    }

    /// Makes defined function `j` (owned by another partition) an `available_externally`
    /// definition here: its body is lowered into this module too, so the optimizer may inline
    /// it, and it is dropped before code generation (the owner's object has the real one).
    func importFunction(_ j: Int) -> LLVMValueRef {
        let fn = definedFunction(j)
        LLVMSetLinkage(fn, LLVMAvailableExternallyLinkage)
        ir.addStringAttribute(fn, "probe-stack", "inline-asm")
        ir.addStringAttribute(fn, "disable-tail-calls", "true")
        return fn
    }

    /// The constant holding data segment `k`'s bytes (defined with the module code, declared in
    /// the other partitions).
    func dataSegment(_ k: Int) -> LLVMValueRef {
        if let g = dataSegments[k] { return g }
        let bytes: ArraySlice<UInt8>
        switch wasm.data[k] {
        case .passive(let b): bytes = b
        case .active(let a): bytes = a.initializer
        }
        let name = "wasmaot_data\(k)"
        let global: LLVMValueRef
        if holdsModuleCode {
            global = Lowering.byteArray(ir, Array(bytes), name: name)
            if partitioned {
                LLVMSetLinkage(global, LLVMExternalLinkage)
                LLVMSetVisibility(global, LLVMHiddenVisibility)
            }
        } else {
            global = LLVMAddGlobal(ir.module, LLVMArrayType2(ir.i8, UInt64(bytes.count)), name)!
            LLVMSetGlobalConstant(global, 1)
            LLVMSetVisibility(global, LLVMHiddenVisibility)
        }
        dataSegments[k] = global
        return global
    }

    /// LLVM's `tailcc` (CallingConv::Tail; the C API has no constant for it): in a module with
    /// return_call* every Wasm function uses it, so that those are guaranteed tail calls
    /// (`musttail`) between functions of any signatures — the callee pops its own stack
    /// arguments. C callers go through the C-convention entries of the descriptor
    /// (wasmaot_funcref.code). Modules without tail calls keep the C convention throughout.
    static let tailCallConv: UInt32 = 18

    /// A call to a defined function of this module (or a record's tail_code); `tail`: a
    /// guaranteed tail call (the caller returns its result right after).
    @discardableResult
    func callWasm(_ type: LLVMTypeRef, _ fn: LLVMValueRef, _ args: [LLVMValueRef], tail: Bool = false) -> LLVMValueRef {
        let call = ir.call(type, fn, args)
        if wasm.usesTailCalls { LLVMSetInstructionCallConv(call, Self.tailCallConv) }
        if tail {
            LLVMSetTailCallKind(call, Self.resultsFitInRegisters(LLVMGetReturnType(type)) ? LLVMTailCallKindMustTail : LLVMTailCallKindTail)
        }
        return call
    }

    /// Whether LLVM returns a function's results in registers: at most 2 integer and 2 floating
    /// point values (x86-64's RAX/RDX and XMM0/XMM1; aarch64 has more, the same rule keeps both
    /// targets alike). More results come back through memory the caller provides, and such a
    /// call cannot be a guaranteed tail call (the backend refuses `musttail`); a return call to a
    /// function of such a type is a plain call.
    static func resultsFitInRegisters(_ type: LLVMTypeRef) -> Bool {
        guard LLVMGetTypeKind(type) == LLVMStructTypeKind else { return true }
        var ints = 0, floats = 0
        for i in 0..<LLVMCountStructElementTypes(type) {
            switch LLVMGetTypeKind(LLVMStructGetTypeAtIndex(type, i)) {
            case LLVMFloatTypeKind, LLVMDoubleTypeKind: floats += 1
            default: ints += 1
            }
        }
        return ints <= 2 && floats <= 2
    }

    /// Every defined function, declared (the descriptor lists them all).
    var allDefinedFunctions: [LLVMValueRef] { (0..<wasm.definedFunctionCount).map(definedFunction) }

    /// Declares (once) an external runtime function from wasmaot_rt.h.
    func runtimeFunction(_ name: String, _ ret: LLVMTypeRef, _ params: [LLVMTypeRef], mayUnwind: Bool = false) -> (LLVMValueRef, LLVMTypeRef) {
        let type = ir.fnType(ret, params)
        if let existing = LLVMGetNamedFunction(ir.module, name) { return (existing, type) }
        let fn = LLVMAddFunction(ir.module, name, type)!
        if !mayUnwind { ir.addFunctionAttribute(fn, "nounwind") }
        return (fn, type)
    }

    func functionName(_ index: UInt32) -> String? { wasm.functionNames[index] }
}
