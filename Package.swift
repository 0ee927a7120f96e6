// swift-tools-version:6.0
import PackageDescription

// LLVM 19 from Debian's llvm-19-dev; the default llvm-config on these machines is 14, so the
// paths are explicit rather than discovered.
let llvmInclude = "/usr/lib/llvm-19/include"
let llvmLib = "/usr/lib/llvm-19/lib"
let llvmC: [CSetting] = [.unsafeFlags(["-I\(llvmInclude)"])]
let llvmSwift: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-I\(llvmInclude)"])]
let llvmLink: [LinkerSetting] = [.unsafeFlags(["-L\(llvmLib)", "-Xlinker", "-rpath", "-Xlinker", llvmLib])]
/// Tests and debug builds load libLLVM-19.so. Release builds of the compiler link LLVM's static
/// component libraries (what `llvm-config-19 --link-static --libs` lists for the components the
/// C API calls here use), the Swift runtime and Foundation statically, as a non-PIE executable:
/// nothing to resolve or relocate at start, which took ~40 of its ~56 ms before any work — paid
/// on every cache miss of `wasmaot run` and every background tier-up.
let llvmDynamic: [LinkerSetting] = [.linkedLibrary("LLVM-19")]
let llvmStaticComponents = """
    AArch64CodeGen AArch64Desc AArch64Utils AArch64Info X86CodeGen X86Desc X86Info MCDisassembler GlobalISel \
    SelectionDAG AsmPrinter Passes IRPrinter HipStdPar Coroutines ipo Instrumentation Vectorize Linker FrontendOpenMP \
    FrontendOffloading CodeGen Target ScalarOpts InstCombine ObjCARCOpts CodeGenTypes BitWriter CFGuard \
    AggressiveInstCombine TransformUtils Analysis ProfileData Symbolize DebugInfoBTF DebugInfoPDB DebugInfoMSF \
    DebugInfoDWARF Object TextAPI MCParser IRReader AsmParser MC DebugInfoCodeView BitReader Core Remarks \
    BitstreamReader BinaryFormat TargetParser Support Demangle
    """.split(separator: " ").map { "-lLLVM\($0)" }
/// lld as a library (liblld-19-dev: in-process links, no linker process per artifact) and what
/// its ELF driver needs beyond the compiler's components (LTO support, option tables).
let lldEntryPoints = ["_ZN3lld7lldMainEN4llvm8ArrayRefIPKcEERNS0_11raw_ostreamES6_NS1_INS_9DriverDefEEE",
                      "_ZN3lld3elf4linkEN4llvm8ArrayRefIPKcEERNS1_11raw_ostreamES7_bb"]
    .flatMap { ["-Xlinker", "--undefined=\($0)"] }  // the shim refers to them weakly: pull them in
let lldStatic = ["-llldELF", "-llldCommon", "-lLLVMX86AsmParser", "-lLLVMAArch64AsmParser", "-lLLVMLTO", "-lLLVMOption", "-lLLVMExtensions", "-lLLVMObjCARCOpts",
                 "-lLLVMPasses", "-lLLVMCoroutines", "-lLLVMipo", "-lLLVMInstrumentation", "-lLLVMLinker", "-lLLVMIRPrinter",
                 "-lLLVMFrontendOpenMP", "-lLLVMFrontendOffloading"]
let compilerLink: [LinkerSetting] = [
    .linkedLibrary("LLVM-19", .when(configuration: .debug)),
    .unsafeFlags(lldEntryPoints + ["-Xlinker", "-llldELF", "-Xlinker", "-llldCommon", "-Xlinker", "-lz", "-Xlinker", "-l:libzstd.so.1"],
                 .when(configuration: .debug)),
    .unsafeFlags(lldEntryPoints + ["-static-stdlib", "-Xclang-linker", "-no-pie", "-Xlinker", "--start-group"]
                 + (lldStatic + llvmStaticComponents).flatMap { ["-Xlinker", $0] }
                 + ["-Xlinker", "-lz", "-Xlinker", "-l:libzstd.so.1", "-Xlinker", "--end-group",
                    "-Xlinker", "--start-group", "-Xlinker", "-lFoundationInternationalization", "-Xlinker", "-lFoundationEssentials",
                    "-Xlinker", "-l_FoundationCollections", "-Xlinker", "-l_FoundationCShims", "-Xlinker", "-lswiftSynchronization",
                    "-Xlinker", "-lCoreFoundation", "-Xlinker", "-l_FoundationICU", "-Xlinker", "-lBlocksRuntime",
                    "-Xlinker", "--end-group"],
                 .when(configuration: .release)),
]

let package = Package(
    name: "wasmaot",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "wasmaot", targets: ["wasmaot"]),
        .executable(name: "wasmaot-compiler", targets: ["wasmaot-compiler"]),
        .library(name: "WasmAOTEmbed", targets: ["WasmAOTEmbed"]),
        .executable(name: "wasmaot-oci", targets: ["wasmaot-oci"]),
        .executable(name: "wasmaot-bench", targets: ["wasmaot-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/swiftwasm/WasmKit", exact: "0.4.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        .systemLibrary(name: "CLLVM", path: "Sources/CLLVM"),
        // Module model, decoding (WasmKit's WasmParser) and module-level validation.
        .target(name: "WasmAOTCore", dependencies: [.product(name: "WasmParser", package: "WasmKit")]),
        // The few things LLVM's C API lacks (C++ behind a C header): per-partition register allocator choice.
        .target(name: "CLLVMShim", cxxSettings: [.unsafeFlags(["-I\(llvmInclude)", "-fno-rtti", "-fno-exceptions", "-O2",
                                                                 "-D__STDC_CONSTANT_MACROS", "-D__STDC_FORMAT_MACROS", "-D__STDC_LIMIT_MACROS"])],
                linkerSettings: llvmLink),
        // Thin wrappers over llvm-c: context/module/builder, passes, target machines, emission.
        .target(name: "WasmAOTCodegen", dependencies: ["CLLVM", "CLLVMShim"], swiftSettings: llvmSwift, linkerSettings: llvmLink),
        // Function-body validation fused with LLVM IR emission.
        .target(name: "WasmAOTLower", dependencies: ["WasmAOTCore", "WasmAOTCodegen", "CLLVM", "CWasmAOTRuntime",
                                                      .product(name: "WasmParser", package: "WasmKit")],
                swiftSettings: llvmSwift, linkerSettings: llvmLink),
        // Object + runtime archive → static executable.
        .target(name: "WasmAOTLink", dependencies: ["CLLVMShim", "CWasmAOTRuntime", .product(name: "Crypto", package: "swift-crypto")],
                swiftSettings: llvmSwift),
        .systemLibrary(name: "CWasmAOTRuntime", path: "Sources/CWasmAOTRuntime"),
        // In-process embedding: compile to a shared object, dlopen, instantiate, invoke via libffi.
        .target(name: "WasmAOTEmbed", dependencies: ["WasmAOTCore", "WasmAOTLower", "WasmAOTCodegen", "WasmAOTLink", "CWasmAOTRuntime",
                                                      .product(name: "WasmParser", package: "WasmKit")],
                swiftSettings: llvmSwift, linkerSettings: llvmLink),
        // The official spec-test (.wast) runner, over the embedding API.
        .target(name: "WasmAOTSpec", dependencies: ["WasmAOTCore", "WasmAOTEmbed", "WasmAOTCodegen", .product(name: "WAT", package: "WasmKit"),
                                                     .product(name: "WasmParser", package: "WasmKit")],
                swiftSettings: llvmSwift, linkerSettings: llvmLink),
        // OCI images of Wasm modules (`wasmaot image build`): layout, archive, index; tar + gzip by
        // libarchive (Debian's libarchive-dev), SHA-256 by swift-crypto.
        .systemLibrary(name: "CArchive", path: "Sources/CArchive"),
        .target(name: "WasmAOTImage", dependencies: ["CArchive", .product(name: "Crypto", package: "swift-crypto")]),
        // Content-addressed artifact store (`wasmaot run`, `wasmaot cache`, the OCI handler).
        .target(name: "WasmAOTCache", dependencies: [.product(name: "Crypto", package: "swift-crypto"), "WasmAOTFastPath"]),
        // `run` fast-path records: written by the compiler, read by the launcher (C: both use it).
        .target(name: "WasmAOTFastPath", linkerSettings: [.linkedLibrary("crypto")]),  // SHA-256: OpenSSL
        // The `wasmaot` command: a static C launcher that starts cached artifacts itself and
        // execs wasmaot-compiler for everything else (Swift + libLLVM cost ~25 ms to load).
        .executableTarget(name: "wasmaot", dependencies: ["WasmAOTFastPath"],
                          cSettings: [.unsafeFlags(["-O2"])], linkerSettings: [.unsafeFlags(["-static-executable"])]),
        .executableTarget(name: "wasmaot-compiler", dependencies: [
            "WasmAOTFastPath", "WasmAOTCore", "WasmAOTLower", "WasmAOTCodegen", "WasmAOTLink", "WasmAOTEmbed", "WasmAOTSpec", "WasmAOTCache",
            "WasmAOTImage", "CWasmAOTRuntime",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: llvmSwift, linkerSettings: llvmLink + compilerLink),
        // OCI runtime wrapper: argument parsing, settings (TOML via toml11, one C++ file), Wasm
        // detection, config.json via yajl (static), the artifact from the fast path in-process. C,
        // because it runs in front of every runc call (create, start, state, kill, delete).
        .target(name: "CWasmAOTOCI", dependencies: ["WasmAOTFastPath"],
                cSettings: [.unsafeFlags(["-O2"])], cxxSettings: [.unsafeFlags(["-O2"])],
                linkerSettings: [.linkedLibrary("yajl_s")]),
        // A static executable with no Swift runtime (see Sources/wasmaot/no_swift_runtime.c).
        .executableTarget(name: "wasmaot-oci", dependencies: ["CWasmAOTOCI"],
                          cSettings: [.unsafeFlags(["-O2"])], linkerSettings: [.unsafeFlags(["-static-executable"])]),
        // Benchmark harness (Benchmarks/): drives the built binaries, wasmtime and native builds as
        // processes. No LLVM, no compiler targets: it builds in seconds.
        .target(name: "WasmAOTBench", path: "Benchmarks/Sources/WasmAOTBench"),
        .executableTarget(name: "wasmaot-bench", dependencies: ["WasmAOTBench", .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          path: "Benchmarks/Sources/wasmaot-bench"),
        .testTarget(name: "BenchmarksTests", dependencies: ["WasmAOTBench"]),
        .testTarget(name: "WasmAOTOCITests", dependencies: ["CWasmAOTOCI", "wasmaot-oci", "wasmaot", "wasmaot-compiler"]),
        .testTarget(name: "WasmAOTCoreTests", dependencies: ["WasmAOTCore", .product(name: "WAT", package: "WasmKit"), .product(name: "WasmParser", package: "WasmKit")]),
        .testTarget(name: "WasmAOTLowerTests", dependencies: ["WasmAOTCore", "WasmAOTLower", "WasmAOTCodegen", .product(name: "WAT", package: "WasmKit")],
                    swiftSettings: llvmSwift, linkerSettings: llvmLink + llvmDynamic),
        .testTarget(name: "WasmAOTEmbedTests", dependencies: ["WasmAOTEmbed", .product(name: "WAT", package: "WasmKit")],
                    swiftSettings: llvmSwift, linkerSettings: llvmLink + llvmDynamic),
        .testTarget(name: "SpecTests", dependencies: ["wasmaot", "wasmaot-compiler", "WasmAOTSpec", "WasmAOTEmbed", "WasmAOTCodegen", "WasmAOTCore"],
                    swiftSettings: llvmSwift, linkerSettings: llvmLink + llvmDynamic),
        .testTarget(name: "WasmAOTCacheTests", dependencies: ["WasmAOTCache"]),
        .testTarget(name: "WasmAOTImageTests", dependencies: ["WasmAOTImage", "wasmaot", "wasmaot-compiler"]),
        .testTarget(name: "EndToEndTests", dependencies: ["wasmaot", "wasmaot-compiler", .product(name: "WAT", package: "WasmKit")], exclude: ["Fixtures"]),
        // podman/buildah/containerd driving wasmaot-oci end to end (each suite skips without its engine).
        .testTarget(name: "ContainerTests", dependencies: ["wasmaot", "wasmaot-compiler", "wasmaot-oci"], exclude: ["cri"]),
    ],
    cxxLanguageStandard: .cxx17
)
