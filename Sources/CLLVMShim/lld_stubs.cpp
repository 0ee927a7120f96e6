// lld's ELF driver initializes every LLVM target for link-time optimization, which wasmaot never
// asks for (its links take ELF objects only). The compiler links only the x86-64 and AArch64
// back ends, so the other targets' initializers are no-ops here; weak, so that a build linking
// all of LLVM (libLLVM-19.so in debug builds) keeps its own.
#include <llvm/Passes/PassPlugin.h>

extern "C" {
__attribute__((weak)) void LLVMInitializeAMDGPUAsmParser(void) {}
__attribute__((weak)) void LLVMInitializeAMDGPUAsmPrinter(void) {}
__attribute__((weak)) void LLVMInitializeAMDGPUTarget(void) {}
__attribute__((weak)) void LLVMInitializeAMDGPUTargetInfo(void) {}
__attribute__((weak)) void LLVMInitializeAMDGPUTargetMC(void) {}
__attribute__((weak)) void LLVMInitializeARMAsmParser(void) {}
__attribute__((weak)) void LLVMInitializeARMAsmPrinter(void) {}
__attribute__((weak)) void LLVMInitializeARMTarget(void) {}
__attribute__((weak)) void LLVMInitializeARMTargetInfo(void) {}
__attribute__((weak)) void LLVMInitializeARMTargetMC(void) {}
__attribute__((weak)) void LLVMInitializeAVRAsmParser(void) {}
__attribute__((weak)) void LLVMInitializeAVRAsmPrinter(void) {}
__attribute__((weak)) void LLVMInitializeAVRTarget(void) {}
__attribute__((weak)) void LLVMInitializeAVRTargetInfo(void) {}
__attribute__((weak)) void LLVMInitializeAVRTargetMC(void) {}
__attribute__((weak)) void LLVMInitializeBPFAsmParser(void) {}
__attribute__((weak)) void LLVMInitializeBPFAsmPrinter(void) {}
__attribute__((weak)) void LLVMInitializeBPFTarget(void) {}
__attribute__((weak)) void LLVMInitializeBPFTargetInfo(void) {}
__attribute__((weak)) void LLVMInitializeBPFTargetMC(void) {}
__attribute__((weak)) void LLVMInitializeHexagonAsmParser(void) {}
__attribute__((weak)) void LLVMInitializeHexagonAsmPrinter(void) {}
__attribute__((weak)) void LLVMInitializeHexagonTarget(void) {}
__attribute__((weak)) void LLVMInitializeHexagonTargetInfo(void) {}
__attribute__((weak)) void LLVMInitializeHexagonTargetMC(void) {}
__attribute__((weak)) void LLVMInitializeLanaiAsmParser(void) {}
__attribute__((weak)) void LLVMInitializeLanaiAsmPrinter(void) {}
__attribute__((weak)) void LLVMInitializeLanaiTarget(void) {}
__attribute__((weak)) void LLVMInitializeLanaiTargetInfo(void) {}
__attribute__((weak)) void LLVMInitializeLanaiTargetMC(void) {}
__attribute__((weak)) void LLVMInitializeLoongArchAsmParser(void) {}
__attribute__((weak)) void LLVMInitializeLoongArchAsmPrinter(void) {}
__attribute__((weak)) void LLVMInitializeLoongArchTarget(void) {}
__attribute__((weak)) void LLVMInitializeLoongArchTargetInfo(void) {}
__attribute__((weak)) void LLVMInitializeLoongArchTargetMC(void) {}
__attribute__((weak)) void LLVMInitializeM68kAsmParser(void) {}
__attribute__((weak)) void LLVMInitializeM68kAsmPrinter(void) {}
__attribute__((weak)) void LLVMInitializeM68kTarget(void) {}
__attribute__((weak)) void LLVMInitializeM68kTargetInfo(void) {}
__attribute__((weak)) void LLVMInitializeM68kTargetMC(void) {}
__attribute__((weak)) void LLVMInitializeMSP430AsmParser(void) {}
__attribute__((weak)) void LLVMInitializeMSP430AsmPrinter(void) {}
__attribute__((weak)) void LLVMInitializeMSP430Target(void) {}
__attribute__((weak)) void LLVMInitializeMSP430TargetInfo(void) {}
__attribute__((weak)) void LLVMInitializeMSP430TargetMC(void) {}
__attribute__((weak)) void LLVMInitializeMipsAsmParser(void) {}
__attribute__((weak)) void LLVMInitializeMipsAsmPrinter(void) {}
__attribute__((weak)) void LLVMInitializeMipsTarget(void) {}
__attribute__((weak)) void LLVMInitializeMipsTargetInfo(void) {}
__attribute__((weak)) void LLVMInitializeMipsTargetMC(void) {}
__attribute__((weak)) void LLVMInitializeNVPTXAsmPrinter(void) {}
__attribute__((weak)) void LLVMInitializeNVPTXTarget(void) {}
__attribute__((weak)) void LLVMInitializeNVPTXTargetInfo(void) {}
__attribute__((weak)) void LLVMInitializeNVPTXTargetMC(void) {}
__attribute__((weak)) void LLVMInitializePowerPCAsmParser(void) {}
__attribute__((weak)) void LLVMInitializePowerPCAsmPrinter(void) {}
__attribute__((weak)) void LLVMInitializePowerPCTarget(void) {}
__attribute__((weak)) void LLVMInitializePowerPCTargetInfo(void) {}
__attribute__((weak)) void LLVMInitializePowerPCTargetMC(void) {}
__attribute__((weak)) void LLVMInitializeRISCVAsmParser(void) {}
__attribute__((weak)) void LLVMInitializeRISCVAsmPrinter(void) {}
__attribute__((weak)) void LLVMInitializeRISCVTarget(void) {}
__attribute__((weak)) void LLVMInitializeRISCVTargetInfo(void) {}
__attribute__((weak)) void LLVMInitializeRISCVTargetMC(void) {}
__attribute__((weak)) void LLVMInitializeSparcAsmParser(void) {}
__attribute__((weak)) void LLVMInitializeSparcAsmPrinter(void) {}
__attribute__((weak)) void LLVMInitializeSparcTarget(void) {}
__attribute__((weak)) void LLVMInitializeSparcTargetInfo(void) {}
__attribute__((weak)) void LLVMInitializeSparcTargetMC(void) {}
__attribute__((weak)) void LLVMInitializeSystemZAsmParser(void) {}
__attribute__((weak)) void LLVMInitializeSystemZAsmPrinter(void) {}
__attribute__((weak)) void LLVMInitializeSystemZTarget(void) {}
__attribute__((weak)) void LLVMInitializeSystemZTargetInfo(void) {}
__attribute__((weak)) void LLVMInitializeSystemZTargetMC(void) {}
__attribute__((weak)) void LLVMInitializeVEAsmParser(void) {}
__attribute__((weak)) void LLVMInitializeVEAsmPrinter(void) {}
__attribute__((weak)) void LLVMInitializeVETarget(void) {}
__attribute__((weak)) void LLVMInitializeVETargetInfo(void) {}
__attribute__((weak)) void LLVMInitializeVETargetMC(void) {}
__attribute__((weak)) void LLVMInitializeWebAssemblyAsmParser(void) {}
__attribute__((weak)) void LLVMInitializeWebAssemblyAsmPrinter(void) {}
__attribute__((weak)) void LLVMInitializeWebAssemblyTarget(void) {}
__attribute__((weak)) void LLVMInitializeWebAssemblyTargetInfo(void) {}
__attribute__((weak)) void LLVMInitializeWebAssemblyTargetMC(void) {}
__attribute__((weak)) void LLVMInitializeXCoreAsmPrinter(void) {}
__attribute__((weak)) void LLVMInitializeXCoreTarget(void) {}
__attribute__((weak)) void LLVMInitializeXCoreTargetInfo(void) {}
__attribute__((weak)) void LLVMInitializeXCoreTargetMC(void) {}
__attribute__((weak)) void LLVMInitializeXtensaAsmParser(void) {}
__attribute__((weak)) void LLVMInitializeXtensaAsmPrinter(void) {}
__attribute__((weak)) void LLVMInitializeXtensaTarget(void) {}
__attribute__((weak)) void LLVMInitializeXtensaTargetInfo(void) {}
__attribute__((weak)) void LLVMInitializeXtensaTargetMC(void) {}
}

// Polly's static plugin entry, referenced by the LTO pipeline set-up: no passes.
__attribute__((weak)) llvm::PassPluginLibraryInfo getPollyPluginInfo() {
    return {LLVM_PLUGIN_API_VERSION, "polly (not linked)", "0", [](llvm::PassBuilder &) {}};
}
