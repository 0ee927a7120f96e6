import CLLVM
import CWasmAOTRuntime
import WasmAOTCodegen
import WasmAOTCore
import WasmParser
import WasmTypes

/// An LLVM module produced by the lowering, owning its context.
public typealias LoweredModule = OwnedModule

public struct LoweringOptions: Sendable {
    /// Baked-in WASI configuration (WASMAOT_WASI syntax), used when the variable is unset.
    public var wasiDefaults: String = ""
    /// Called after each function body with (1, number of defined functions): add them up. From
    /// several threads at once when the partitions of a module are lowered in parallel.
    public var progress: (@Sendable (Int, Int) -> Void)? = nil
    /// What the code is compiled for (compileObjects sets it from its target).
    public var target = TargetTraits()

    public init(wasiDefaults: String = "", progress: (@Sendable (Int, Int) -> Void)? = nil) {
        self.wasiDefaults = wasiDefaults
        self.progress = progress
    }
}

/// The little the lowering needs to know of the target: the few instructions lowered per target
/// (SIMD swizzle, relaxed SIMD's multiply-add).
public struct TargetTraits: Sendable {
    public var architecture: Architecture
    /// x86-64 with SSSE3 (pshufb, pmulhrsw, pmaddubsw): x86-64-v2 and later; a plain `--cpu x86-64`
    /// has only SSE2, and gets the same results from longer code.
    public var hasSSSE3: Bool
    /// x86-64 with SSE4.1 (packusdw): x86-64-v2 and later.
    public var hasSSE41: Bool

    public init(architecture: Architecture = .host, hasSSSE3: Bool = true, hasSSE41: Bool = true) {
        self.architecture = architecture
        self.hasSSSE3 = architecture == .x86_64 && hasSSSE3
        self.hasSSE41 = architecture == .x86_64 && hasSSE41
    }

    public init(_ target: TargetSpec) {
        guard target.architecture == .x86_64 else {
            self.init(architecture: target.architecture, hasSSSE3: false, hasSSE41: false)
            return
        }
        let has = target.hasFeatures(["ssse3", "sse4.1"])
        self.init(architecture: .x86_64, hasSSSE3: has[0], hasSSE41: has[1])
    }
}

/// Validation + lowering stage.
public enum Lowering {
    /// Validates every function body of `wasm` and lowers the whole module to one LLVM module
    /// following the ABI of Runtime/include/wasmaot_rt.h.
    public static func lower(_ wasm: WasmModule, options: LoweringOptions = LoweringOptions()) throws(CompileError) -> LoweredModule {
        let context = LLVMContextCreate()!
        let module = LLVMModuleCreateWithNameInContext("wasm", context)!
        let lowered = LoweredModule(context: context, module: module)
        try lowerFunctions(wasm, plan: nil, partition: 0, module: module, options: options)
        return lowered
    }

    /// Validates and lowers partition `partition` of `plan` into a new module in `context` (the
    /// caller owns both). Partition 0 also gets instantiation, the descriptor and the data
    /// segments; functions of other partitions are declared and resolved at link time.
    public static func lower(_ wasm: WasmModule, plan: PartitionPlan, partition: Int, into context: LLVMContextRef,
                             options: LoweringOptions = LoweringOptions()) throws(CompileError) -> LLVMModuleRef {
        let module = LLVMModuleCreateWithNameInContext("wasm.\(partition)", context)!
        do {
            try lowerFunctions(wasm, plan: plan, partition: partition, module: module, options: options)
        } catch {
            LLVMDisposeModule(module)
            throw error
        }
        return module
    }

    private static func lowerFunctions(_ wasm: WasmModule, plan: PartitionPlan?, partition: Int, module llvmModule: LLVMModuleRef,
                              options: LoweringOptions) throws(CompileError) {
        let ir = IR(context: LLVMGetModuleContext(llvmModule), module: llvmModule)
        let m = ModuleContext(wasm: wasm, ir: ir, plan: plan, partition: partition, target: options.target)
        let functions = plan.map { $0.partitions[partition].functions } ?? Array(0..<wasm.definedFunctionCount)
        for j in functions {
            let index = UInt32(wasm.importedFunctionCount + j)
            let lowerer = try FunctionLowerer(module: m, index: index, code: wasm.codes[j])
            try lowerer.lower(wasm.codes[j])
            options.progress?(1, wasm.definedFunctionCount)
        }
        // Small callees owned by other partitions, as inlinable copies (one level: their own
        // callees stay calls). Partitions would otherwise cut every small helper off from callers
        // in other partitions (measured: sieve and ctype 1.36x slower with 8 KB partitions and no
        // copies). Not into partitions of one big function (inlining dozens of helpers into a
        // 25 KB function of ed25519 made its partition 2.6x slower to compile), and at most as
        // many bytes as the partition's own.
        if let plan, let limit = plan.importBytes, plan.partitions.count > 1, !plan.partitions[partition].reduced,
           plan.partitions[partition].functions.count > 1 || plan.partitions[partition].cost <= plan.targetCost {
            var budget = plan.partitions[partition].cost
            for j in m.directCallees.sorted() where !m.owns(j) && wasm.codes[j].expression.count <= limit {
                budget -= wasm.codes[j].expression.count
                guard budget >= 0 else { break }
                m.directCallees.remove(j)
                _ = m.importFunction(j)
                let lowerer = try FunctionLowerer(module: m, index: UInt32(wasm.importedFunctionCount + j), code: wasm.codes[j])
                try lowerer.lower(wasm.codes[j])
            }
        }
        if m.holdsModuleCode {
            let initFunction = InitEmitter(m).emit()
            DescriptorEmitter(m, initFunction: initFunction, wasiDefaults: options.wasiDefaults).emit()
        }
        // Every function with a body into the generated-code section: the fault handler takes a
        // fault for a trap only at a PC inside it (wasmaot_module_desc.code_start/code_end).
        // And unwind tables for all of them, in every module: a Wasm exception may unwind through
        // the frames of a module without exception handling too (a call into another instance).
        let uwtable = LLVMCreateEnumAttribute(ir.context, LLVMGetEnumAttributeKindForName("uwtable", 7), 2)  // async
        var function = LLVMGetFirstFunction(llvmModule)
        while let f = function {
            if LLVMIsDeclaration(f) == 0 {
                LLVMSetSection(f, WASMAOT_CODE_SECTION)
                LLVMAddAttributeAtIndex(f, UInt32(bitPattern: Int32(LLVMAttributeFunctionIndex)), uwtable)
            }
            function = LLVMGetNextFunction(f)
        }
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
