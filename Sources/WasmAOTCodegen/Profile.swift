import CLLVM
import Foundation

/// Optimization level of `wasmaot compile -O<n>`.
public enum OptLevel: Int, Sendable, CaseIterable {
    case o0 = 0, o1, o2, o3
}

/// The two tiers of `wasmaot run`, `cache artifact` and wasmaot-oci: a *baseline* built for
/// compile speed, started on a cache miss, and the *optimized* tier built in the background and
/// used from the next start on.
public enum Tier: String, Sendable, CaseIterable {
    case baseline, optimized
}

/// What one LLVM module goes through: an IR pass pipeline and a code generator configuration.
/// Chosen by measurement (README, "Tiers and compile time"); every profile keeps the Wasm
/// semantics of the lowering (traps, NaN bits, stack checks), only the quality of the code differs.
public enum CodegenProfile: Hashable, Sendable, CustomStringConvertible {
    /// The baseline tier: locals promoted to registers and one cheap clean-up round (mem2reg, early
    /// CSE, instcombine, simplifycfg), then LLVM's -O0 instruction selector (FastISel) with the
    /// greedy register allocator. Chosen by measurement (README, "Tiers and compile time"): against
    /// the same IR with the fast allocator, loops ran 1.3-2.2x faster for 1.2-2x the compile time;
    /// the greedy allocator is what is superlinear in a function's size, so huge functions take
    /// `baselineHuge` (PartitionPlan).
    case baseline
    /// The baseline tier's huge functions: mem2reg, FastISel and the fast register allocator —
    /// linear in the function's size (one 323 KB function: 0.5 s instead of 1.7 s).
    case baselineHuge
    /// Functions too large for the optimizing pipeline (PartitionPlan's huge functions at
    /// -O2/-O3): a short IR pipeline, then FastISel with the greedy register allocator (LLVM's
    /// optimizing passes, instruction selection and machine passes are superlinear in a
    /// function's size: 4-15 s for one 60 KB function of shootout-ed25519).
    case reduced
    /// `-O<n>`. O0, O1 and O3 are LLVM's `default<On>` pipelines; O2 is the optimized tier's
    /// pipeline for code an optimizing compiler already produced (see `optimizedPipeline`).
    case level(OptLevel)

    public var description: String {
        switch self {
        case .baseline: "baseline"
        case .baselineHuge: "baseline-huge"
        case .reduced: "reduced"
        case .level(let o): "O\(o.rawValue)"
        }
    }

    /// Whether this profile belongs to the baseline tier.
    public var isBaseline: Bool { self == .baseline || self == .baselineHuge }

    /// What a plan's huge functions (PartitionPlan) are compiled with under this profile.
    public var forHugeFunctions: CodegenProfile {
        switch self {
        case .baseline, .baselineHuge: .baselineHuge
        default: .reduced
        }
    }

    /// The optimized tier's IR pipeline: LLVM's `default<O2>`. Measured against hand-made
    /// function pipelines for Wasm that an optimizing compiler already produced (the README,
    /// "Tiers and compile time"): dropping the inliner and the interprocedural passes saved 20-25%
    /// of the compile time but lost 3% of throughput (10-40% on TinyGo, C string code and
    /// ed25519); dropping SLP vectorization or the second jump-threading/CVP/constraint rounds
    /// saved nothing measurable. Compile time is cut elsewhere: parallel partitions, a linear
    /// pipeline for huge functions (`reduced`), the static compiler and the link.
    static let optimizedPipeline = "default<O2>"

    /// Huge functions: promote locals, one round of CSE and instcombine — the rest of the O2
    /// pipeline was superlinear on them (5 s of IR passes for one 53 KB switch function).
    static let reducedPipeline = "function(sroa,early-cse<memssa>,instcombine<no-verify-fixpoint>)"

    /// The baseline tier promotes locals with mem2reg, not SROA: our allocas are all scalar (Wasm
    /// locals and block-result slots), where the two give the same IR, and mem2reg took 43 ms
    /// instead of 137 ms on sightglass hashset's 129 K-cost function (the cold start's critical path).
    static let baselinePipeline = "function(mem2reg,early-cse,instcombine<no-verify-fixpoint>,simplifycfg)"
    static let baselineHugePipeline = "function(mem2reg)"

    /// The `LLVMRunPasses` pipeline text (`WASMAOT_PASSES_<PROFILE>` overrides it: a developer
    /// knob for measuring candidate pipelines, not a user setting; `-` in the profile name is `_`).
    var irPipeline: String {
        if let override = Environment.value("WASMAOT_PASSES_\(knobName)"), !override.isEmpty { return override }
        switch self {
        case .baseline: return Self.baselinePipeline
        case .baselineHuge: return Self.baselineHugePipeline
        case .reduced: return Self.reducedPipeline
        case .level(.o2): return Self.optimizedPipeline
        case .level(let o): return "default<O\(o.rawValue)>"
        }
    }

    private var knobName: String { description.uppercased().replacingOccurrences(of: "-", with: "_") }

    var codegenLevel: LLVMCodeGenOptLevel {
        // Developer knob, like WASMAOT_PASSES_<PROFILE>: WASMAOT_CODEGEN_<PROFILE>=0..3.
        if let v = Environment.value("WASMAOT_CODEGEN_\(knobName)"), let n = Int(v), (0...3).contains(n) {
            return [LLVMCodeGenLevelNone, LLVMCodeGenLevelLess, LLVMCodeGenLevelDefault, LLVMCodeGenLevelAggressive][n]
        }
        switch self {
        case .baseline, .baselineHuge, .reduced, .level(.o0): return LLVMCodeGenLevelNone
        case .level(.o1): return LLVMCodeGenLevelLess
        case .level(.o2): return LLVMCodeGenLevelDefault
        case .level(.o3): return LLVMCodeGenLevelAggressive
        }
    }

    /// The greedy register allocator at code generation level None (FastISel); the optimizing
    /// levels use it anyway. Knob: WASMAOT_GREEDY_<PROFILE>=0|1.
    var greedyRegisterAllocation: Int32 {
        if let v = Environment.value("WASMAOT_GREEDY_\(knobName)") { return v == "1" ? 1 : 0 }
        switch self {
        case .baseline, .reduced: return 1
        case .baselineHuge, .level: return 0
        }
    }

    var vectorize: Bool {
        // Developer knob, like the others: WASMAOT_VECTORIZE_<PROFILE>=0|1.
        if let v = Environment.value("WASMAOT_VECTORIZE_\(knobName)") { return v == "1" }
        switch self {
        case .reduced, .level(.o2), .level(.o3): return true
        default: return false
        }
    }
}

/// getenv without Foundation (this module is used by the launcher-side tools too).
enum Environment {
    static func value(_ name: String) -> String? {
        guard let v = getenv(name) else { return nil }
        return String(cString: v)
    }
}

/// Developer timeline of one compiler process (WASMAOT_TIMELINE=1): milliseconds since the
/// process started, per named point, on stderr. For finding where a cold start's time goes.
public enum Timeline {
    private static let setting = Environment.value("WASMAOT_TIMELINE")
    public static let enabled = setting != nil
    private static let absolute = setting == "abs"

    public static func mark(_ what: @autoclosure () -> String) {
        guard enabled else { return }
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        // The process start time in clock ticks since boot (field 22 of /proc/self/stat).
        // WASMAOT_TIMELINE=abs: absolute CLOCK_MONOTONIC milliseconds, for lining the points up
        // with a caller's own clock (the process start time below has clock-tick resolution).
        let ms = Double(now.tv_sec) * 1000 + Double(now.tv_nsec) / 1e6 - (absolute ? 0 : startMilliseconds)
        let line = Array(String(format: "wasmaot: timeline %7.2f ms %@\n", ms, what()).utf8)
        _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }

    private static let startMilliseconds: Double = {
        guard let f = fopen("/proc/self/stat", "r") else { return 0 }
        defer { fclose(f) }
        var buffer = [CChar](repeating: 0, count: 1024)
        guard fgets(&buffer, Int32(buffer.count), f) != nil else { return 0 }
        let text = String(cString: buffer)
        guard let close = text.lastIndex(of: ")") else { return 0 }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state): field 22 is fields[19].
        guard fields.count > 19, let ticks = Double(fields[19]) else { return 0 }
        return ticks * 1000 / Double(sysconf(Int32(_SC_CLK_TCK)))
    }()
}
