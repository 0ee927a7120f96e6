import CLLVM

/// Linear-memory loads are volatile (each one happens and faults when out of bounds; see
/// FunctionLowerer.load). x86's AVX-512 instruction selection still folds a load into a *masked*
/// instruction when the loaded value is an operand of a `select` — directly
/// (`vmovsd (mem), %xmm0 {%k1}`) or through the operation the select picks
/// (`vaddsd (mem), %xmm1, %xmm0 {%k1}`) — and a masked-out element's memory fault is suppressed:
/// the load stops trapping. Run after the IR pipeline (which creates selects from branches),
/// this puts a `freeze` between such a load and its users: instruction selection then cannot fold
/// it into anything, and the load stays an unconditional access of its own. Loads that feed no
/// select keep their folding (`add r, [m]`, unmasked); nothing else changes.
enum FaultingLoads {
    /// Returns the number of loads it froze.
    @discardableResult
    static func protect(_ module: LLVMModuleRef) -> Int {
        var targets: [LLVMValueRef] = []
        var function = LLVMGetFirstFunction(module)
        while let f = function {
            var block = LLVMGetFirstBasicBlock(f)
            while let b = block {
                var inst = LLVMGetFirstInstruction(b)
                while let i = inst {
                    if LLVMIsALoadInst(i) != nil, LLVMGetVolatile(i) != 0, feedsSelect(i) { targets.append(i) }
                    inst = LLVMGetNextInstruction(i)
                }
                block = LLVMGetNextBasicBlock(b)
            }
            function = LLVMGetNextFunction(f)
        }
        guard !targets.isEmpty else { return 0 }
        let builder = LLVMCreateBuilderInContext(LLVMGetModuleContext(module))!
        defer { LLVMDisposeBuilder(builder) }
        for load in targets {
            LLVMPositionBuilder(builder, LLVMGetInstructionParent(load), LLVMGetNextInstruction(load))
            let frozen = LLVMBuildFreeze(builder, load, "")!
            LLVMReplaceAllUsesWith(load, frozen)
            LLVMSetOperand(frozen, 0, load)  // RAUW rewrote the freeze's own operand too
        }
        return targets.count
    }

    /// `value` is a value operand (not the condition) of a select, or an operand of an
    /// instruction that is one.
    private static func feedsSelect(_ value: LLVMValueRef, depth: Int = 0) -> Bool {
        var use = LLVMGetFirstUse(value)
        while let u = use {
            use = LLVMGetNextUse(u)
            guard let user = LLVMGetUser(u) else { continue }
            if LLVMIsASelectInst(user) != nil {
                if LLVMGetOperand(user, 0) != value { return true }
            } else if depth == 0, LLVMIsAInstruction(user) != nil, LLVMIsAStoreInst(user) == nil, LLVMIsACallInst(user) == nil,
                      LLVMIsAPHINode(user) == nil, feedsSelect(user, depth: 1) {
                return true
            }
        }
        return false
    }
}
