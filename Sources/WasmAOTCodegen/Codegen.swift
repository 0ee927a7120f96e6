import CLLVM

/// Optimization level of the new pass manager pipeline (`default<On>`).
public enum OptLevel: Int, Sendable, CaseIterable {
    case o0 = 0, o1, o2, o3

    var codegenLevel: LLVMCodeGenOptLevel {
        switch self {
        case .o0: LLVMCodeGenLevelNone
        case .o1: LLVMCodeGenLevelLess
        case .o2: LLVMCodeGenLevelDefault
        case .o3: LLVMCodeGenLevelAggressive
        }
    }
}

/// What `Codegen.emit` produces.
public enum EmitKind: Sendable {
    case object
    case assembly
    case llvmIR
}

/// Optimizes an LLVM module and emits it: the codegen stage's one entry point.
public enum Codegen {
    /// Runs `default<On>` on `module` for `target`, then emits the requested form.
    /// `relocatable` picks PIC (shared objects) vs static relocation.
    public static func emit(_ module: LLVMModuleRef, target: TargetSpec, opt: OptLevel,
                            kind: EmitKind, pic: Bool = true) throws(CodegenError) -> [UInt8] {
        LLVMBackend.initialize()
        let machine = try makeMachine(target, opt: opt, pic: pic)
        defer { LLVMDisposeTargetMachine(machine) }
        LLVMSetTarget(module, target.architecture.triple)
        let layout = LLVMCreateTargetDataLayout(machine)
        LLVMSetModuleDataLayout(module, layout)
        LLVMDisposeTargetData(layout)

        var message: UnsafeMutablePointer<CChar>? = nil
        if LLVMVerifyModule(module, LLVMReturnStatusAction, &message) != 0 {
            let text = message.map { String(cString: $0) } ?? "unknown"
            LLVMDisposeMessage(message)
            throw CodegenError("internal error: invalid LLVM IR: \(text.prefix(2000))")
        }
        LLVMDisposeMessage(message)

        let options = LLVMCreatePassBuilderOptions()
        defer { LLVMDisposePassBuilderOptions(options) }
        LLVMPassBuilderOptionsSetLoopVectorization(options, opt.rawValue >= 2 ? 1 : 0)
        LLVMPassBuilderOptionsSetSLPVectorization(options, opt.rawValue >= 2 ? 1 : 0)
        LLVMPassBuilderOptionsSetLoopUnrolling(options, opt.rawValue >= 2 ? 1 : 0)
        LLVMPassBuilderOptionsSetLoopInterleaving(options, opt.rawValue >= 2 ? 1 : 0)
        if let error = LLVMRunPasses(module, "default<O\(opt.rawValue)>", machine, options) {
            let text = LLVMGetErrorMessage(error)
            defer { LLVMDisposeErrorMessage(text) }
            throw CodegenError("LLVM pass pipeline failed: \(text.map { String(cString: $0) } ?? "")")
        }

        switch kind {
        case .llvmIR:
            let text = LLVMPrintModuleToString(module)!
            defer { LLVMDisposeMessage(text) }
            return Array(String(cString: text).utf8)
        case .object, .assembly:
            var buffer: LLVMMemoryBufferRef? = nil
            var error: UnsafeMutablePointer<CChar>? = nil
            let fileType = kind == .object ? LLVMObjectFile : LLVMAssemblyFile
            if LLVMTargetMachineEmitToMemoryBuffer(machine, module, fileType, &error, &buffer) != 0 {
                let text = error.map { String(cString: $0) } ?? "unknown"
                LLVMDisposeMessage(error)
                throw CodegenError("LLVM code generation failed: \(text)")
            }
            defer { LLVMDisposeMemoryBuffer(buffer) }
            let start = LLVMGetBufferStart(buffer)!
            let size = LLVMGetBufferSize(buffer)
            return start.withMemoryRebound(to: UInt8.self, capacity: size) {
                Array(UnsafeBufferPointer(start: $0, count: size))
            }
        }
    }

    static func makeMachine(_ target: TargetSpec, opt: OptLevel, pic: Bool) throws(CodegenError) -> LLVMTargetMachineRef {
        var llvmTarget: LLVMTargetRef? = nil
        var error: UnsafeMutablePointer<CChar>? = nil
        if LLVMGetTargetFromTriple(target.architecture.triple, &llvmTarget, &error) != 0 {
            let text = error.map { String(cString: $0) } ?? "unknown"
            LLVMDisposeMessage(error)
            throw CodegenError("no LLVM target for \(target.architecture.triple): \(text)")
        }
        guard let machine = LLVMCreateTargetMachine(
            llvmTarget, target.architecture.triple, target.cpu, target.features,
            opt.codegenLevel, pic ? LLVMRelocPIC : LLVMRelocStatic, LLVMCodeModelDefault)
        else { throw CodegenError("cannot create a target machine for \(target)") }
        return machine
    }
}
