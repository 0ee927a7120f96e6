import CLLVM
import WasmAOTCore
import WasmParser
import WasmTypes

/// An LLVM module produced by the lowering, owning its context.
public final class LoweredModule {
    public let context: LLVMContextRef
    public let module: LLVMModuleRef

    init(context: LLVMContextRef, module: LLVMModuleRef) {
        self.context = context
        self.module = module
    }

    deinit {
        LLVMDisposeModule(module)
        LLVMContextDispose(context)
    }
}

public struct LoweringOptions: Sendable {
    /// Baked-in WASI configuration (WASMAOT_WASI syntax), used when the variable is unset.
    public var wasiDefaults: String = ""
    /// Called after each function body with (done, total).
    public var progress: (@Sendable (Int, Int) -> Void)? = nil

    public init(wasiDefaults: String = "", progress: (@Sendable (Int, Int) -> Void)? = nil) {
        self.wasiDefaults = wasiDefaults
        self.progress = progress
    }
}

/// Validation + lowering stage: the one public entry point.
public enum Lowering {
    /// Validates every function body of `wasm` and lowers the module to LLVM IR following the
    /// ABI of Runtime/include/wasmaot_rt.h.
    public static func lower(_ wasm: WasmModule, options: LoweringOptions = LoweringOptions()) throws(CompileError) -> LoweredModule {
        let context = LLVMContextCreate()!
        let llvmModule = LLVMModuleCreateWithNameInContext("wasm", context)!
        let lowered = LoweredModule(context: context, module: llvmModule)
        let ir = IR(context: context, module: llvmModule)
        let m = ModuleContext(wasm: wasm, ir: ir)

        for i in 0..<wasm.definedFunctionCount {
            let typeIndex = Int(wasm.functionTypeIndices[wasm.importedFunctionCount + i])
            let fn = LLVMAddFunction(llvmModule, "wasm_f\(wasm.importedFunctionCount + i)", m.llvmFunctionTypes[typeIndex])!
            LLVMSetLinkage(fn, LLVMInternalLinkage)
            ir.addFunctionAttribute(fn, "nounwind")
            // A function with a huge frame must not jump over the stack guard.
            ir.addStringAttribute(fn, "probe-stack", "inline-asm")
            // Wasm recursion must exhaust the stack and trap; tail-recursion elimination would
            // turn `(func $f (call $f))` into an endless loop.
            ir.addStringAttribute(fn, "disable-tail-calls", "true")
            m.definedFunctions.append(fn)
        }
        for (i, segment) in wasm.data.enumerated() {
            let bytes: ArraySlice<UInt8>
            switch segment {
            case .passive(let b): bytes = b
            case .active(let a): bytes = a.initializer
            }
            m.dataSegmentGlobals.append(byteArray(ir, Array(bytes), name: "data\(i)"))
        }
        for i in 0..<wasm.definedFunctionCount {
            let index = UInt32(wasm.importedFunctionCount + i)
            let lowerer = try FunctionLowerer(module: m, index: index, code: wasm.codes[i])
            try lowerer.lower(wasm.codes[i])
            options.progress?(i + 1, wasm.definedFunctionCount)
        }
        let initFunction = InitEmitter(m).emit()
        DescriptorEmitter(m, initFunction: initFunction, wasiDefaults: options.wasiDefaults).emit()
        return lowered
    }

    static func byteArray(_ ir: IR, _ bytes: [UInt8], name: String) -> LLVMValueRef {
        let type = LLVMArrayType2(ir.i8, UInt64(bytes.count))
        let global = LLVMAddGlobal(ir.module, type, name)!
        let initializer = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) {
                LLVMConstStringInContext2(ir.context, $0.baseAddress, bytes.count, 1)
            }
        }
        LLVMSetInitializer(global, initializer)
        LLVMSetGlobalConstant(global, 1)
        LLVMSetLinkage(global, LLVMPrivateLinkage)
        return global
    }
}
