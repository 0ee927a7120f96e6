import CLLVM
import CLLVMShim
import Foundation

/// Architectures wasmaot emits code for. Everything target-specific (triple, baseline CPU, the
/// runtime archive's folder) hangs off this one enum, so adding a target touches one place.
public enum Architecture: String, CaseIterable, Sendable {
    case x86_64
    case aarch64

    public var triple: String {
        switch self {
        case .x86_64: "x86_64-unknown-linux-gnu"
        case .aarch64: "aarch64-unknown-linux-gnu"
        }
    }

    /// Folder name of the runtime archive (the GNU triple the C toolchain uses).
    public var gnuTriple: String {
        switch self {
        case .x86_64: "x86_64-linux-gnu"
        case .aarch64: "aarch64-linux-gnu"
        }
    }

    /// Portable baseline for `wasmaot compile` artifacts that may run on other machines.
    /// x86_64: x86-64-v2 (SSE4.2, POPCNT; every x86-64 server since ~2009).
    /// aarch64: LLVM's "generic" = Armv8.0-A with FP and Advanced SIMD (NEON), which every 64-bit
    /// Arm Linux machine has: Graviton 1-4, Ampere Altra/AmpereOne (Neoverse N1 class), Raspberry
    /// Pi 3+. Generated code needs nothing newer (no atomics: Wasm threads are not supported);
    /// `--cpu neoverse-n1` / `--cpu neoverse-v1` tune for a known fleet.
    public var baselineCPU: String {
        switch self {
        case .x86_64: "x86-64-v2"
        case .aarch64: "generic"
        }
    }

    public static var host: Architecture {
        #if arch(arm64)
        return .aarch64
        #else
        return .x86_64
        #endif
    }
}

/// Which CPU the code may assume: a portable baseline, the machine that compiles, or a name.
public enum CPUChoice: Sendable, Equatable, CustomStringConvertible {
    case baseline
    case native
    case named(String)

    public init(_ text: String) {
        switch text {
        case "native": self = .native
        case "baseline", "": self = .baseline
        default: self = .named(text)
        }
    }

    public var description: String {
        switch self {
        case .baseline: "baseline"
        case .native: "native"
        case .named(let name): name
        }
    }
}

/// Target triple + CPU + features, resolved to what LLVM needs.
public struct TargetSpec: Sendable, CustomStringConvertible {
    public var architecture: Architecture
    public var cpu: String
    public var features: String

    public init(architecture: Architecture, cpu choice: CPUChoice) throws(CodegenError) {
        self.architecture = architecture
        switch choice {
        case .baseline:
            cpu = architecture.baselineCPU
            features = ""
        case .native:
            guard architecture == .host else {
                throw CodegenError("--cpu native needs the target to be the host (\(Architecture.host.rawValue))")
            }
            LLVMBackend.initialize()
            cpu = String(cString: LLVMGetHostCPUName())
            features = String(cString: LLVMGetHostCPUFeatures())
        case .named(let name):
            LLVMBackend.initialize()
            guard wasmaot_cpu_is_valid(architecture.triple, name) != 0 else {
                throw CodegenError("unknown CPU '\(name)' for \(architecture.rawValue) (LLVM's names, e.g. \(architecture == .x86_64 ? "x86-64-v3, skylake, znver3" : "neoverse-n1, cortex-a72, apple-m1"))")
            }
            cpu = name
            features = ""
        }
    }

    public var description: String { "\(architecture.triple) cpu=\(cpu)" }
}

public struct CodegenError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// One-time LLVM initialization for every architecture we support.
public enum LLVMBackend {
    private static let once: Void = {
        LLVMInitializeX86TargetInfo()
        LLVMInitializeX86Target()
        LLVMInitializeX86TargetMC()
        LLVMInitializeX86AsmPrinter()
        LLVMInitializeAArch64TargetInfo()
        LLVMInitializeAArch64Target()
        LLVMInitializeAArch64TargetMC()
        LLVMInitializeAArch64AsmPrinter()
        // Wasm memory accesses are volatile (see FunctionLowerer.load): each one happens, in
        // order, and traps when out of bounds. x86's cmov-to-branch conversion breaks that: it
        // unfolds a load folded into a `cmov` (which always reads, so faults) into the branch
        // that uses its value, and a load whose value is discarded stops trapping.
        var options = ["-x86-cmov-converter=false"]
        // Developer knob for measuring code generator options (`-enable-misched=false`, …):
        // LLVM's own command-line options, process-wide.
        if let extra = Environment.value("WASMAOT_LLVM_ARGS"), !extra.isEmpty {
            options += extra.split(separator: " ").map(String.init)
        }
        parseOptions(options)
    }()

    static func parseOptions(_ options: [String]) {
        var cArgs = (["wasmaot"] + options).map { UnsafePointer(strdup($0)) }
        LLVMParseCommandLineOptions(Int32(cArgs.count), &cArgs, nil)
    }

    public static func initialize() { _ = once }

    /// Initializes LLVM for compiling with `profiles`.
    public static func prepare(for profiles: [CodegenProfile]) {
        initialize()
    }

    public static var version: String {
        var major: UInt32 = 0, minor: UInt32 = 0, patch: UInt32 = 0
        LLVMGetVersion(&major, &minor, &patch)
        return "\(major).\(minor).\(patch)"
    }
}
