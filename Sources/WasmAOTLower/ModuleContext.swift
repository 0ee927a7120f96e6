import CLLVM
import WasmAOTCore
import WasmParser
import WasmTypes

/// Everything function lowering shares across one module: the LLVM declarations of all Wasm
/// functions, the runtime entry points, data segment constants and the vmctx layout.
final class ModuleContext {
    let wasm: WasmModule
    let ir: IR
    let layout: VMContextLayout
    /// LLVM function of every defined function (index - importedFunctionCount).
    var definedFunctions: [LLVMValueRef] = []
    /// LLVM types of every Wasm type (by type index).
    let llvmFunctionTypes: [LLVMTypeRef]
    /// Private constants holding each data segment's bytes.
    var dataSegmentGlobals: [LLVMValueRef] = []

    private(set) lazy var trap: (LLVMValueRef, LLVMTypeRef) = {
        let fn = runtimeFunction("wasmaot_trap", ir.void, [ir.i32])
        ir.addFunctionAttribute(fn.0, "noreturn")
        ir.addFunctionAttribute(fn.0, "cold")
        ir.addFunctionAttribute(fn.0, "nounwind")
        return fn
    }()

    init(wasm: WasmModule, ir: IR) {
        self.wasm = wasm
        self.ir = ir
        self.layout = VMContextLayout(wasm)
        self.llvmFunctionTypes = wasm.types.map { ir.functionType($0) }
    }

    /// Declares (once) an external runtime function from wasmaot_rt.h.
    func runtimeFunction(_ name: String, _ ret: LLVMTypeRef, _ params: [LLVMTypeRef]) -> (LLVMValueRef, LLVMTypeRef) {
        let type = ir.fnType(ret, params)
        if let existing = LLVMGetNamedFunction(ir.module, name) { return (existing, type) }
        let fn = LLVMAddFunction(ir.module, name, type)!
        ir.addFunctionAttribute(fn, "nounwind")
        return (fn, type)
    }

    func functionName(_ index: UInt32) -> String? { wasm.functionNames[index] }
}
