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
/// Chosen by measurement (README, "Compile time"); every profile keeps the Wasm semantics of
/// the lowering (traps, NaN bits, stack checks), only the quality of the code differs.
public enum CodegenProfile: Hashable, Sendable, CustomStringConvertible {
    /// The baseline tier, and functions too large for the optimizing pipeline: locals promoted to
    /// registers (SROA), then LLVM's -O0 code generator (FastISel, the fast register allocator).
    /// Measured against richer variants (README, "Tiers"): early CSE + instcombine + simplifycfg
    /// and the greedy allocator made the code 1.2-1.8x faster but cost 1.5-3x the compile time
    /// (and superlinear time on huge switches), which loses on a cold start; without SROA, loops
    /// that keep values in locals ran up to 2x slower.
    case baseline
    /// `-O<n>`. O0, O1 and O3 are LLVM's `default<On>` pipelines; O2 is the optimized tier's
    /// pipeline for code an optimizing compiler already produced (see `optimizedPipeline`).
    case level(OptLevel)

    public var description: String {
        switch self {
        case .baseline: "baseline"
        case .level(let o): "O\(o.rawValue)"
        }
    }

    /// The optimized tier's IR pipeline. Wasm from clang/rustc/Go has been inlined, unrolled and
    /// simplified once already; what pays off again is what the lowering leaves to LLVM (locals
    /// in allocas, redundant vmctx/memory-base loads, trap checks) and what Wasm cannot express
    /// (vector code, addressing modes). Measured pass by pass against `default<O2>`: the inliner,
    /// the CGSCC re-simplification loop, loop unswitching, jump threading, IPSCCP and the second
    /// instcombine rounds cost a large share of the time and won ≤ 1% of throughput.
    public static let optimizedPipeline = [
        "function(sroa<modify-cfg>,early-cse<memssa>,simplifycfg,instcombine<no-verify-fixpoint>",
        "reassociate,loop-mssa(licm<allowspeculation>),gvn,sccp,bdce,instcombine<no-verify-fixpoint>",
        "dse,adce,simplifycfg,loop-simplify,lcssa,loop-rotate,indvars,loop-vectorize,loop-load-elim",
        "instcombine<no-verify-fixpoint>,simplifycfg<forward-switch-cond;switch-range-to-icmp;switch-to-lookup>",
        "slp-vectorizer,instcombine<no-verify-fixpoint>,loop-mssa(licm),alignment-from-assumptions,loop-sink,instsimplify,div-rem-pairs)",
    ].joined(separator: ",")

    static let baselinePipeline = "function(sroa)"

    /// The `LLVMRunPasses` pipeline text (`WASMAOT_PASSES_<PROFILE>` overrides it: a developer
    /// knob for measuring candidate pipelines, not a user setting).
    var irPipeline: String {
        if let override = Environment.value("WASMAOT_PASSES_\(description.uppercased())"), !override.isEmpty { return override }
        switch self {
        case .baseline: return Self.baselinePipeline
        case .level(.o2): return Self.optimizedPipeline
        case .level(let o): return "default<O\(o.rawValue)>"
        }
    }

    var codegenLevel: LLVMCodeGenOptLevel {
        switch self {
        case .baseline, .level(.o0): LLVMCodeGenLevelNone
        case .level(.o1): LLVMCodeGenLevelLess
        case .level(.o2): LLVMCodeGenLevelDefault
        case .level(.o3): LLVMCodeGenLevelAggressive
        }
    }

    var vectorize: Bool {
        switch self {
        case .level(.o2), .level(.o3): true
        default: false
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
