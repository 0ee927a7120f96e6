import CLLVM
import WasmAOTCodegen
import WasmAOTCore

extension PartitionPlan.Policy {
    /// How finely `profile` splits a module. Partitions of ~24 KB of Wasm code keep both cores of
    /// a small machine busy on modules from 50 KB up, and many-core machines on large ones; the
    /// per-partition overhead (a context, a target machine, one more object to link) is about a
    /// millisecond. Above 48 KB a single function costs the optimizing pipeline seconds (LLVM's
    /// passes and instruction selection are superlinear in function size: one 60 KB function of
    /// shootout-ed25519 took 14 s at default<O2>), so the optimizing levels compile such
    /// functions with the baseline pipeline instead.
    public init(profile: CodegenProfile) {
        switch profile {
        case .baseline, .level(.o0), .level(.o1):
            self.init(targetCost: 24 << 10, maximumPartitions: 64, hugeFunctionBytes: nil)
        case .level(.o2), .level(.o3):
            self.init(targetCost: 24 << 10, maximumPartitions: 64, hugeFunctionBytes: 48 << 10, reducedCostPercent: 40)
        }
    }
}

extension Lowering {
    /// Validates, lowers and compiles `wasm` with `profile`: partitions (see PartitionPlan) lowered,
    /// optimized and compiled in parallel, each in its own LLVM context. Returns the objects to
    /// link together. Throws the validation error of the lowest function index, as a serial
    /// lowering would, or a code generation error.
    public static func compileObjects(_ wasm: WasmModule, profile: CodegenProfile, target: TargetSpec, pic: Bool,
                                      options: LoweringOptions = LoweringOptions(), threads: Int? = nil) throws -> [[UInt8]] {
        let plan = PartitionPlan(wasm, policy: PartitionPlan.Policy(profile: profile))
        let jobs = plan.partitions.map { PartitionJob(profile: $0.reduced ? .baseline : profile, cost: $0.cost) }
        do {
            return try Codegen.emitObjects(jobs, target: target, pic: pic, threads: threads) { index, context in
                try Lowering.lower(wasm, plan: plan, partition: index, into: context, options: options)
            }
        } catch let failures as PartitionFailures {
            // Validation errors first, the one of the lowest function index (deterministic whatever
            // the scheduling: each partition validates its functions in order up to its first error).
            let validation = failures.errors.compactMap { $0.error as? CompileError }
            if let first = validation.min(by: { ($0.function ?? .max, $0.offset ?? .max) < ($1.function ?? .max, $1.offset ?? .max) }) {
                throw first
            }
            throw failures.errors.min(by: { $0.partition < $1.partition })!.error
        }
    }
}
