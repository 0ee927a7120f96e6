import CLLVM
import Foundation

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
        try prepare(module, target: target, machine: machine)
        return try optimizeAndEmit(module, machine: machine, opt: opt, kind: kind)
    }

    /// Like `emit(kind: .object)`, but a large module is split into partitions that are optimized
    /// and compiled on all cores (see Partitioner); link all the objects. Functions are not
    /// inlined across partitions, so the result can differ slightly in speed.
    public static func emitObjects(_ module: LLVMModuleRef, target: TargetSpec, opt: OptLevel,
                                   pic: Bool = true) throws(CodegenError) -> [[UInt8]] {
        LLVMBackend.initialize()
        let machine = try makeMachine(target, opt: opt, pic: pic)
        defer { LLVMDisposeTargetMachine(machine) }
        try prepare(module, target: target, machine: machine)
        guard let plan = Partitioner.plan(module) else {
            return [try optimizeAndEmit(module, machine: machine, opt: opt, kind: .object)]
        }
        let results = ResultSlots(count: plan.count)
        // Plain threads, one per partition: the OS shares the cores among them.
        let done = DispatchSemaphore(value: 0)
        for index in 0..<plan.count {
            let thread = Thread {
                let started = Date()
                defer { reportTime(partition: index, of: plan.count, since: started) }
                results.set(index, Result { () throws(CodegenError) -> [UInt8] in
                    let context = LLVMContextCreate()!
                    defer { LLVMContextDispose(context) }
                    let part = try Partitioner.load(plan, index: index, into: context)
                    defer { LLVMDisposeModule(part) }
                    let machine = try makeMachine(target, opt: opt, pic: pic)
                    defer { LLVMDisposeTargetMachine(machine) }
                    return try optimizeAndEmit(part, machine: machine, opt: opt, kind: .object)
                })
                done.signal()
            }
            thread.stackSize = 64 << 20 // LLVM recursion on big functions
            thread.start()
        }
        for _ in 0..<plan.count { done.wait() }
        var objects: [[UInt8]] = []
        for index in 0..<plan.count {
            switch results.get(index) {
            case .success(let bytes): objects.append(bytes)
            case .failure(let error): throw error
            case nil: throw CodegenError("internal error: partition \(index) produced nothing")
            }
        }
        return objects
    }

    /// Target triple and data layout on the module, then the verifier (our IR must be valid).
    static func prepare(_ module: LLVMModuleRef, target: TargetSpec, machine: LLVMTargetMachineRef) throws(CodegenError) {
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
    }

    static func optimizeAndEmit(_ module: LLVMModuleRef, machine: LLVMTargetMachineRef, opt: OptLevel,
                                kind: EmitKind) throws(CodegenError) -> [UInt8] {
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

/// With WASMAOT_TIMING=1: how long each partition took (balance of the split).
private func reportTime(partition: Int, of count: Int, since start: Date) {
    guard ProcessInfo.processInfo.environment["WASMAOT_TIMING"] != nil else { return }
    let line = String(format: "wasmaot: partition %d/%d: %.2f s\n", partition + 1, count, Date().timeIntervalSince(start))
    FileHandle.standardError.write(Data(line.utf8))
}

/// One result per partition, written from the worker threads.
private final class ResultSlots: @unchecked Sendable {
    private var slots: [Result<[UInt8], CodegenError>?]
    private let lock = NSLock()
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ value: Result<[UInt8], CodegenError>) { lock.withLock { slots[index] = value } }
    func get(_ index: Int) -> Result<[UInt8], CodegenError>? { lock.withLock { slots[index] } }
}
