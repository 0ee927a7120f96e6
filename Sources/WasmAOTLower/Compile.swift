import CLLVM
import Foundation
import WasmAOTCodegen
import WasmAOTCore

extension PartitionPlan.Policy {
    /// How finely `profile` splits a module. Partitions of ~24 KB of Wasm code keep both cores of
    /// a small machine busy on modules from 50 KB up, and many-core machines on large ones; the
    /// per-partition overhead (a context, a target machine, one more object to link) is about a
    /// millisecond. Above 48 KB a single function costs the optimizing pipeline seconds (LLVM's
    /// passes and instruction selection are superlinear in function size: one 60 KB function of
    /// shootout-ed25519 took 14 s at default<O2>), so the optimizing levels compile such
    /// functions with the `reduced` profile in partitions of their own.
    ///
    /// The baseline tier compiles functions up to 8 KB with the greedy register allocator
    /// (`baseline`) and larger ones with the fast one (`baselineHuge`): greedy's cost grows
    /// superlinearly with a function's size.
    ///
    /// Developer knobs for measuring the split (not settings: the artifact depends on them):
    /// WASMAOT_PARTITION_KB (target per partition), WASMAOT_HUGE_KB (functions above it are
    /// huge; 0: none), WASMAOT_IMPORT_BYTES (inlinable copies of small callees across partitions;
    /// off by default: up to +4% throughput in one run, within noise in another, for 20-80% more
    /// compile time).
    public init(profile: CodegenProfile) {
        let knob = { (name: String) -> Int? in getenv(name).flatMap { Int(String(cString: $0)) } }
        let defaults: (partition: Int, huge: Int?, percent: Int, budget: Int?) = switch profile {
        case .baseline, .baselineHuge: (8, 8, 40, 32)
        case .reduced, .level(.o0), .level(.o1): (24, nil, 100, nil)
        case .level(.o2), .level(.o3): (24, 48, 40, nil)
        }
        let huge = knob("WASMAOT_HUGE_KB").map { $0 == 0 ? nil : $0 } ?? defaults.huge
        let budget = knob("WASMAOT_GREEDY_BUDGET_KB").map { $0 == 0 ? nil : $0 } ?? defaults.budget
        // Off by default: with 8 KB partitions and copies up to 1000 bytes, -O2 compiled 10% faster
        // (40% on small modules) but ran 1.5% slower (ctype 1.24x) and large modules compiled
        // 20-28% slower (the copies are optimized once per calling partition).
        let optimizing = profile == .level(.o2) || profile == .level(.o3)
        let imports = optimizing ? (knob("WASMAOT_IMPORT_BYTES") ?? 0) : 0
        self.init(targetCost: (knob("WASMAOT_PARTITION_KB") ?? defaults.partition) << 10, maximumPartitions: 64,
                  hugeFunctionBytes: huge.map { $0 << 10 }, reducedCostPercent: defaults.percent, importBytes: imports == 0 ? nil : imports,
                  fullProfileBudget: profile.isBaseline ? budget.map { $0 << 10 } : nil)
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
        var adjusted = options
        adjusted.target = TargetTraits(target)
        let options = adjusted
        let jobs = plan.partitions.map { PartitionJob(profile: $0.reduced ? profile.forHugeFunctions : profile, cost: $0.cost) }
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
