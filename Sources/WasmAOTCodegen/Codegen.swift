import CLLVM
import CLLVMShim
import Foundation

/// What `Codegen.emit` produces.
public enum EmitKind: Sendable {
    case object
    case assembly
    case llvmIR
}

/// An LLVM module together with the context that owns it (disposed together).
public final class OwnedModule: @unchecked Sendable {
    public let context: LLVMContextRef
    public let module: LLVMModuleRef

    public init(context: LLVMContextRef, module: LLVMModuleRef) {
        self.context = context
        self.module = module
    }

    deinit {
        LLVMDisposeModule(module)
        LLVMContextDispose(context)
    }
}

/// One partition of a module for `Codegen.emitObjects`: its profile and estimated cost (workers
/// take the most expensive partitions first, so the last one to finish is a small one).
public struct PartitionJob: Sendable {
    public var profile: CodegenProfile
    public var cost: Int

    public init(profile: CodegenProfile, cost: Int) {
        self.profile = profile
        self.cost = cost
    }
}

/// Failures of some partitions of `Codegen.emitObjects`, by partition index.
public struct PartitionFailures: Error, Sendable {
    public var errors: [(partition: Int, error: any Error)]
}

/// Optimizes LLVM modules and emits them: the codegen stage's entry points.
public enum Codegen {
    /// Runs `profile`'s pipeline on `module` for `target`, then emits the requested form.
    /// `pic` picks PIC (shared objects) vs static relocation.
    public static func emit(_ module: LLVMModuleRef, target: TargetSpec, profile: CodegenProfile,
                            kind: EmitKind, pic: Bool = true) throws(CodegenError) -> [UInt8] {
        LLVMBackend.prepare(for: [profile])
        let machine = try makeMachine(target, profile: profile, pic: pic)
        defer { LLVMDisposeTargetMachine(machine) }
        try prepare(module, target: target, machine: machine)
        return try optimizeAndEmit(module, machine: machine, profile: profile, kind: kind)
    }

    public static func emit(_ module: LLVMModuleRef, target: TargetSpec, opt: OptLevel,
                            kind: EmitKind, pic: Bool = true) throws(CodegenError) -> [UInt8] {
        try emit(module, target: target, profile: .level(opt), kind: kind, pic: pic)
    }

    /// Builds, optimizes and compiles the partitions of one Wasm module in parallel and returns
    /// their objects (in partition order; link them all). `build(i, context)` creates partition
    /// `i` in a context of its own (LLVM contexts are not thread-safe; each worker has one at a
    /// time, so memory stays bounded by `threads` partitions however large the module). Workers
    /// take partitions in decreasing order of cost. After the first failure the remaining
    /// partitions are still built (so that the caller can report the first error in module
    /// order, whatever the scheduling) but not compiled.
    public static func emitObjects(_ jobs: [PartitionJob], target: TargetSpec, pic: Bool, threads: Int? = nil,
                                   build: @escaping @Sendable (Int, LLVMContextRef) throws -> LLVMModuleRef) throws -> [[UInt8]] {
        LLVMBackend.prepare(for: jobs.map(\.profile))
        let order = jobs.indices.sorted { (jobs[$0].cost, $1) > (jobs[$1].cost, $0) }
        let queue = WorkQueue(order: order, count: jobs.count)
        let workers = max(1, min(threads ?? ProcessInfo.processInfo.activeProcessorCount, jobs.count))
        let timing = Environment.value("WASMAOT_TIMING") != nil
        let work: @Sendable () -> Void = {
            while let index = queue.next() {
                let started = Date()
                let job = jobs[index]
                var phases = PhaseTimes()
                let result = Result { () throws -> [UInt8]? in
                    let context = LLVMContextCreate()!
                    defer { LLVMContextDispose(context) }
                    let module = try build(index, context)
                    defer { LLVMDisposeModule(module) }
                    phases.mark(.build)
                    if queue.failed { return nil }
                    let machine = try makeMachine(target, profile: job.profile, pic: pic)
                    defer { LLVMDisposeTargetMachine(machine) }
                    try prepare(module, target: target, machine: machine)
                    phases.mark(.verify)
                    return try optimizeAndEmit(module, machine: machine, profile: job.profile, kind: .object, phases: &phases)
                }
                queue.finish(index, result)
                if timing {
                    let line = String(format: "wasmaot: partition %d/%d (%@, cost %d): %.3f s (lower %.3f, verify %.3f, passes %.3f, codegen %.3f)\n",
                                      index + 1, jobs.count, job.profile.description, job.cost, Date().timeIntervalSince(started),
                                      phases.build, phases.verify, phases.passes, phases.codegen)
                    FileHandle.standardError.write(Data(line.utf8))
                }
            }
        }
        if workers == 1 {
            work()
        } else {
            let done = DispatchSemaphore(value: 0)
            for _ in 0..<workers {
                let thread = Thread {
                    work()
                    done.signal()
                }
                thread.stackSize = 64 << 20 // LLVM recursion on big functions
                thread.start()
            }
            for _ in 0..<workers { done.wait() }
        }
        return try queue.objects()
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

    static func optimizeAndEmit(_ module: LLVMModuleRef, machine: LLVMTargetMachineRef, profile: CodegenProfile,
                                kind: EmitKind) throws(CodegenError) -> [UInt8] {
        var phases = PhaseTimes()
        return try optimizeAndEmit(module, machine: machine, profile: profile, kind: kind, phases: &phases)
    }

    static func optimizeAndEmit(_ module: LLVMModuleRef, machine: LLVMTargetMachineRef, profile: CodegenProfile,
                                kind: EmitKind, phases: inout PhaseTimes) throws(CodegenError) -> [UInt8] {
        let options = LLVMCreatePassBuilderOptions()
        defer { LLVMDisposePassBuilderOptions(options) }
        let vectorize: LLVMBool = profile.vectorize ? 1 : 0
        LLVMPassBuilderOptionsSetLoopVectorization(options, vectorize)
        LLVMPassBuilderOptionsSetSLPVectorization(options, vectorize)
        LLVMPassBuilderOptionsSetLoopUnrolling(options, vectorize)
        LLVMPassBuilderOptionsSetLoopInterleaving(options, vectorize)
        if let error = LLVMRunPasses(module, profile.irPipeline, machine, options) {
            let text = LLVMGetErrorMessage(error)
            defer { LLVMDisposeErrorMessage(text) }
            throw CodegenError("LLVM pass pipeline failed: \(text.map { String(cString: $0) } ?? "")")
        }
        FaultingLoads.protect(module)
        phases.mark(.passes)
        defer { phases.mark(.codegen) }

        switch kind {
        case .llvmIR:
            let text = LLVMPrintModuleToString(module)!
            defer { LLVMDisposeMessage(text) }
            return Array(String(cString: text).utf8)
        case .object, .assembly:
            var buffer: LLVMMemoryBufferRef? = nil
            var error: UnsafeMutablePointer<CChar>? = nil
            let fileType = kind == .object ? LLVMObjectFile : LLVMAssemblyFile
            // Objects through the shim: it picks the register allocator per module (profile).
            let failed = kind == .object
                ? wasmaot_emit_object(machine, module, profile.greedyRegisterAllocation, &error, &buffer) != 0
                : LLVMTargetMachineEmitToMemoryBuffer(machine, module, fileType, &error, &buffer) != 0
            if failed {
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

    static func makeMachine(_ target: TargetSpec, profile: CodegenProfile, pic: Bool) throws(CodegenError) -> LLVMTargetMachineRef {
        var llvmTarget: LLVMTargetRef? = nil
        var error: UnsafeMutablePointer<CChar>? = nil
        if LLVMGetTargetFromTriple(target.architecture.triple, &llvmTarget, &error) != 0 {
            let text = error.map { String(cString: $0) } ?? "unknown"
            LLVMDisposeMessage(error)
            throw CodegenError("no LLVM target for \(target.architecture.triple): \(text)")
        }
        guard let machine = LLVMCreateTargetMachine(
            llvmTarget, target.architecture.triple, target.cpu, target.features,
            profile.codegenLevel, pic ? LLVMRelocPIC : LLVMRelocStatic, LLVMCodeModelDefault)
        else { throw CodegenError("cannot create a target machine for \(target)") }
        return machine
    }
}

/// Seconds spent per phase of one partition (WASMAOT_TIMING).
struct PhaseTimes {
    enum Phase { case build, verify, passes, codegen }
    var build = 0.0, verify = 0.0, passes = 0.0, codegen = 0.0
    private var last = Date()
    mutating func mark(_ phase: Phase) {
        let now = Date()
        let elapsed = now.timeIntervalSince(last)
        last = now
        switch phase {
        case .build: build += elapsed
        case .verify: verify += elapsed
        case .passes: passes += elapsed
        case .codegen: codegen += elapsed
        }
    }
}

/// Partition indices in the order workers take them, and their results.
private final class WorkQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var order: [Int]
    private var results: [Result<[UInt8]?, any Error>?]
    private var anyFailure = false

    init(order: [Int], count: Int) {
        self.order = order.reversed()
        results = Array(repeating: nil, count: count)
    }

    func next() -> Int? { lock.withLock { order.popLast() } }

    var failed: Bool { lock.withLock { anyFailure } }

    func finish(_ index: Int, _ result: Result<[UInt8]?, any Error>) {
        lock.withLock {
            results[index] = result
            if case .failure = result { anyFailure = true }
        }
    }

    func objects() throws -> [[UInt8]] {
        try lock.withLock {
            var objects: [[UInt8]] = []
            var failures: [(partition: Int, error: any Error)] = []
            for (index, result) in results.enumerated() {
                switch result {
                case .success(let bytes?): objects.append(bytes)
                case .failure(let error): failures.append((index, error))
                case .success(nil), nil: break
                }
            }
            if !failures.isEmpty { throw PartitionFailures(errors: failures) }
            guard objects.count == results.count else { throw CodegenError("internal error: a partition produced no object") }
            return objects
        }
    }
}

extension TargetSpec {
    /// Whether code for this target may use each LLVM target feature of `features` ("ssse3",
    /// "sse4.1", …): what its CPU implies plus its feature string. Answers are kept per target
    /// for the process (a target machine costs a little to make, and every compile asks).
    public func hasFeatures(_ features: [String]) -> [Bool] {
        let key = "\(architecture.triple) \(cpu) \(self.features) \(features.joined(separator: ","))"
        if let known = TargetFeatureCache.shared.lookup(key) { return known }
        LLVMBackend.initialize()
        guard let machine = try? Codegen.makeMachine(self, profile: .level(.o0), pic: false) else {
            return features.map { _ in false }
        }
        defer { LLVMDisposeTargetMachine(machine) }
        let answer = features.map { wasmaot_target_has_feature(machine, $0) != 0 }
        TargetFeatureCache.shared.store(key, answer)
        return answer
    }

    public func hasFeature(_ feature: String) -> Bool { hasFeatures([feature])[0] }
}

private final class TargetFeatureCache: @unchecked Sendable {
    static let shared = TargetFeatureCache()
    private var answers: [String: [Bool]] = [:]
    private let lock = NSLock()
    func lookup(_ key: String) -> [Bool]? { lock.withLock { answers[key] } }
    func store(_ key: String, _ value: [Bool]) { lock.withLock { answers[key] = value } }
}
