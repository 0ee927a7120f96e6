#include "wasmaot_llvm_shim.h"

#include <llvm-c/Core.h>
#include <llvm/ADT/SmallVector.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Module.h>
#include <llvm/MC/MCSubtargetInfo.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Support/CommandLine.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>

#include <lld/Common/Driver.h>

#include <cstring>
#include <string>
#include <vector>
#include <mutex>

using namespace llvm;

// lld is linked into wasmaot-compiler only (liblld-19-dev); other programs that link this shim
// (tests, the embedding library) get null here and link with an external linker instead.
namespace lld {
__attribute__((weak)) Result lldMain(llvm::ArrayRef<const char *> args, llvm::raw_ostream &stdoutOS,
                                     llvm::raw_ostream &stderrOS, llvm::ArrayRef<DriverDef> drivers);
namespace elf {
__attribute__((weak)) bool link(llvm::ArrayRef<const char *> args, llvm::raw_ostream &stdoutOS,
                                llvm::raw_ostream &stderrOS, bool exitEarly, bool disableOutput);
}
} // namespace lld

namespace {
std::mutex pipelineLock;

/// `-optimize-regalloc` (TargetPassConfig.cpp: cl::opt<cl::boolOrDefault>), or null if this
/// LLVM has no such option.
cl::opt<cl::boolOrDefault> *optimizeRegAllocOption() {
    static cl::opt<cl::boolOrDefault> *option = [] {
        auto &options = cl::getRegisteredOptions();
        auto found = options.find("optimize-regalloc");
        return found == options.end() ? nullptr : static_cast<cl::opt<cl::boolOrDefault> *>(found->second);
    }();
    return option;
}

char *copy(const std::string &text) {
    char *p = static_cast<char *>(malloc(text.size() + 1));
    if (p) memcpy(p, text.c_str(), text.size() + 1);
    return p;
}
} // namespace

extern "C" int wasmaot_emit_object(LLVMTargetMachineRef machineRef, LLVMModuleRef moduleRef, int optimizedRegAlloc,
                                   char **error, LLVMMemoryBufferRef *out) {
    auto *machine = reinterpret_cast<TargetMachine *>(machineRef);
    Module *module = unwrap(moduleRef);
    module->setDataLayout(machine->createDataLayout());
    SmallVector<char, 0> bytes;
    raw_svector_ostream stream(bytes);
    legacy::PassManager passes;
    {
        std::lock_guard<std::mutex> guard(pipelineLock);
        cl::opt<cl::boolOrDefault> *option = optimizedRegAlloc ? optimizeRegAllocOption() : nullptr;
        cl::boolOrDefault saved = option ? option->getValue() : cl::BOU_UNSET;
        if (option) option->setValue(cl::BOU_TRUE);
        bool failed = machine->addPassesToEmitFile(passes, stream, nullptr, CodeGenFileType::ObjectFile);
        if (option) option->setValue(saved);
        if (failed) {
            *error = copy("this target machine cannot emit object files");
            return 1;
        }
    }
    passes.run(*module);
    *out = LLVMCreateMemoryBufferWithMemoryRangeCopy(bytes.data(), bytes.size(), "object");
    return 0;
}

namespace {
std::mutex lldLock;
bool lldUnusable = false;
} // namespace

extern "C" int wasmaot_lld_link(const char *const *args, int count, char **messages) {
    std::lock_guard<std::mutex> guard(lldLock);
    *messages = nullptr;
    if (lldUnusable || !&lld::lldMain || !&lld::elf::link) return -1;
    std::vector<const char *> argv{"ld.lld"};
    argv.insert(argv.end(), args, args + count);
    std::string out, err;
    raw_string_ostream outStream(out), errStream(err);
    lld::Result result = lld::lldMain(argv, outStream, errStream, {{lld::Gnu, &lld::elf::link}});
    outStream.flush();
    errStream.flush();
    if (!result.canRunAgain) lldUnusable = true;
    std::string text = out + err;
    if (result.retCode != 0 || !text.empty()) *messages = copy(text);
    return result.retCode == 0 ? 0 : (result.retCode > 0 ? result.retCode : 1);
}

int wasmaot_target_has_feature(LLVMTargetMachineRef machine, const char *feature) {
    const MCSubtargetInfo *info = reinterpret_cast<TargetMachine *>(machine)->getMCSubtargetInfo();
    return info && info->checkFeatures(std::string("+") + feature) ? 1 : 0;
}

int wasmaot_cpu_is_valid(const char *triple, const char *cpu) {
    std::string error;
    const Target *target = TargetRegistry::lookupTarget(triple, error);
    if (!target) return 0;
    std::unique_ptr<MCSubtargetInfo> info(target->createMCSubtargetInfo(triple, "", ""));
    return info && info->isCPUStringValid(cpu) ? 1 : 0;
}
