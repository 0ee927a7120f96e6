import CLLVM
import Foundation

/// Parallel code generation. LLVM optimizes and selects instructions one module at a time on one
/// thread, which is most of a large module's compile time. Splitting the module by functions lets
/// every core work: each partition is a copy of the module (bitcode round trip into its own
/// LLVMContext, since contexts are not thread-safe) in which only its own functions keep their
/// bodies; the partitions' objects are linked together.
///
/// To make that link possible, module-local symbols become hidden external ones (renamed so they
/// cannot clash with the runtime's). Mutable globals are defined in partition 0 only; constant
/// ones stay visible everywhere as `available_externally`, so loads from them still fold.
enum Partitioner {
    /// About this many instructions per partition; at most `maximumPartitions`. The count depends
    /// on the module only (not on this machine's cores), so the artifact is the same wherever
    /// it is built.
    static let instructionsPerPartition = 40_000
    static let maximumPartitions = 4

    struct Plan {
        var bitcode: [UInt8]
        /// Partition of each defined function, by name.
        var owner: [String: Int]
        var count: Int
    }

    /// Prepares `module` in place and returns its bitcode and function assignment, or nil when a
    /// split would not pay off.
    static func plan(_ module: LLVMModuleRef) -> Plan? {
        var functions: [(ref: LLVMValueRef, size: Int)] = []
        var fn = LLVMGetFirstFunction(module)
        while let f = fn {
            fn = LLVMGetNextFunction(f)
            if LLVMCountBasicBlocks(f) > 0 { functions.append((f, instructionCount(f))) }
        }
        let total = functions.reduce(0) { $0 + $1.size }
        let partitions = min(maximumPartitions, total / instructionsPerPartition, functions.count)
        guard partitions > 1 else { return nil }

        var counter = 0
        func exportLocal(_ value: LLVMValueRef) {
            let linkage = LLVMGetLinkage(value)
            guard linkage == LLVMInternalLinkage || linkage == LLVMPrivateLinkage else { return }
            counter += 1
            let exported = "__wasmaot_p\(counter)_\(name(of: value))"
            LLVMSetValueName2(value, exported, exported.utf8.count)
            LLVMSetLinkage(value, LLVMExternalLinkage)
            LLVMSetVisibility(value, LLVMHiddenVisibility)
        }
        for f in functions { exportLocal(f.ref) }
        var global = LLVMGetFirstGlobal(module)
        while let g = global {
            global = LLVMGetNextGlobal(g)
            if LLVMGetLinkage(g) != LLVMAppendingLinkage { exportLocal(g) }
        }

        // Largest first onto the least loaded partition.
        var load = [Int](repeating: 0, count: partitions)
        var owner: [String: Int] = [:]
        let order = functions.indices.sorted { (functions[$0].size, $1) > (functions[$1].size, $0) }
        for f in order.map({ functions[$0] }) {
            let p = load.indices.min { load[$0] < load[$1] }!
            owner[name(of: f.ref)] = p
            load[p] += f.size
        }
        let buffer = LLVMWriteBitcodeToMemoryBuffer(module)!
        defer { LLVMDisposeMemoryBuffer(buffer) }
        let bytes = LLVMGetBufferStart(buffer)!.withMemoryRebound(to: UInt8.self, capacity: LLVMGetBufferSize(buffer)) {
            Array(UnsafeBufferPointer(start: $0, count: LLVMGetBufferSize(buffer)))
        }
        return Plan(bitcode: bytes, owner: owner, count: partitions)
    }

    /// Partition `index` of `plan`, loaded into `context`.
    static func load(_ plan: Plan, index: Int, into context: LLVMContextRef) throws(CodegenError) -> LLVMModuleRef {
        var module: LLVMModuleRef? = nil
        let ok = plan.bitcode.withUnsafeBufferPointer { bytes -> Bool in
            let buffer = bytes.baseAddress!.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                LLVMCreateMemoryBufferWithMemoryRangeCopy($0, bytes.count, "partition")
            }
            defer { LLVMDisposeMemoryBuffer(buffer) }
            return LLVMParseBitcodeInContext2(context, buffer, &module) == 0
        }
        guard ok, let module else { throw CodegenError("internal error: cannot reload partition \(index)") }

        var fn = LLVMGetFirstFunction(module)
        while let f = fn {
            fn = LLVMGetNextFunction(f)
            guard LLVMCountBasicBlocks(f) > 0, plan.owner[name(of: f)] != index else { continue }
            // Dropping the body leaves a declaration, resolved against the owner at link time.
            while let block = LLVMGetFirstBasicBlock(f) { LLVMDeleteBasicBlock(block) }
            LLVMSetLinkage(f, LLVMExternalLinkage)
        }
        if index != 0 {
            var global = LLVMGetFirstGlobal(module)
            while let g = global {
                global = LLVMGetNextGlobal(g)
                if LLVMGetLinkage(g) == LLVMAppendingLinkage {
                    LLVMDeleteGlobal(g) // llvm.used & co. belong to partition 0
                } else if LLVMGetInitializer(g) != nil {
                    if LLVMIsGlobalConstant(g) != 0 {
                        LLVMSetLinkage(g, LLVMAvailableExternallyLinkage)
                    } else {
                        LLVMSetInitializer(g, nil)
                        LLVMSetLinkage(g, LLVMExternalLinkage)
                    }
                }
            }
        }
        return module
    }

    static func name(of value: LLVMValueRef) -> String {
        var length = 0
        guard let text = LLVMGetValueName2(value, &length) else { return "" }
        return text.withMemoryRebound(to: UInt8.self, capacity: length) {
            String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
        }
    }

    static func instructionCount(_ f: LLVMValueRef) -> Int {
        var count = 0
        var block = LLVMGetFirstBasicBlock(f)
        while let b = block {
            var inst = LLVMGetFirstInstruction(b)
            while let i = inst {
                count += 1
                inst = LLVMGetNextInstruction(i)
            }
            block = LLVMGetNextBasicBlock(b)
        }
        return count
    }
}
