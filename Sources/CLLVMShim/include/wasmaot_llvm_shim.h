// What wasmaot needs from LLVM beyond its C API (C++ behind a C interface; LLVM 19).
#ifndef WASMAOT_LLVM_SHIM_H
#define WASMAOT_LLVM_SHIM_H

#include <llvm-c/TargetMachine.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Like LLVMTargetMachineEmitToMemoryBuffer (object file), with the register allocator chosen
/// per call: `optimized_regalloc` = 1 takes LLVM's greedy allocator even when the target
/// machine's code generation level is None (FastISel), 0 the level's default (fast at None,
/// greedy above). LLVM offers that choice only as the process-wide `-optimize-regalloc`, read
/// while the code generation pipeline is put together: the shim sets it around that (under a
/// lock) and runs the pipeline outside it, so partitions on other threads can choose otherwise.
/// Returns 0 and the object in `*out`, or 1 with a message in `*error` (LLVMDisposeMessage).
int wasmaot_emit_object(LLVMTargetMachineRef machine, LLVMModuleRef module, int optimized_regalloc,
                        char **error, LLVMMemoryBufferRef *out);

/// Links with LLVM's lld (ELF driver, in this process): `args` as for `ld.lld` without the
/// program name. One link at a time per process (lld keeps global state; calls are serialized).
/// Returns 0 on success; otherwise non-zero, with lld's messages in `*messages` (free()). Returns
/// -1 without linking when this program does not contain lld, or once lld has reported that it cannot run again in this process (after a
/// crash it recovered from): callers then use an external linker.
int wasmaot_lld_link(const char *const *args, int count, char **messages);

/// 1 if code for `machine` (its CPU and feature string) may use the target feature `feature`
/// (LLVM's name without the sign, e.g. "ssse3"), else 0. LLVM's C API cannot ask that.
int wasmaot_target_has_feature(LLVMTargetMachineRef machine, const char *feature);

/// 1 if LLVM knows `cpu` for `triple` (the target must be initialized), else 0. A target machine
/// made for an unknown CPU name warns and then aborts the process in code generation.
int wasmaot_cpu_is_valid(const char *triple, const char *cpu);

#ifdef __cplusplus
}
#endif
#endif
