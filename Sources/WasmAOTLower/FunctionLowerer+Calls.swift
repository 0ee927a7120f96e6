import CLLVM
import WasmAOTCore
import WasmParser
import WasmTypes

extension FunctionLowerer {
    func call(_ f: UInt32) throws(CompileError) {
        try call(f, tail: false)
    }

    /// `call f` / `return_call f` (a guaranteed tail call: the caller's frame is gone, so
    /// unbounded mutual recursion runs in constant stack).
    func call(_ f: UInt32, tail: Bool) throws(CompileError) {
        guard Int(f) < m.wasm.functionTypeIndices.count else { throw error("unknown function \(f)") }
        let typeIndex = Int(m.wasm.functionTypeIndices[Int(f)])
        let ft = m.wasm.types[typeIndex]
        if tail { try checkTailCallResults(ft) }
        let args = try pop(ft.parameters)
        guard emitting else { return finishCall(ft, nil, tail: tail) }
        let llvmType = m.llvmFunctionTypes[typeIndex]
        if Int(f) < m.wasm.importedFunctionCount {
            let record = ir.load(ir.ptr, ir.gep(vmctx, m.layout.importedFunction(Int(f))))
            ir.markInvariant(record)
            return finishCall(ft, callThroughRecord(record, llvmType, args, tail: tail), tail: tail)
        }
        let callee = m.definedFunction(Int(f) - m.wasm.importedFunctionCount)
        m.directCallees.insert(Int(f) - m.wasm.importedFunctionCount)
        if tail { allowTailCalls() }
        let values = [vmctx] + args.map { value($0) }
        let result = tail ? m.callWasm(llvmType, callee, values, tail: true) : emitCall(llvmType, callee, values, wasmConvention: true)
        if tail { returnValue(result) }
        finishCall(ft, result, tail: tail)
    }

    /// After a call of type `ft`: its results on the stack (`result` nil: not emitting), or for a
    /// tail call (already returned) the rest of the block unreachable.
    private func finishCall(_ ft: FunctionType, _ result: LLVMValueRef?, tail: Bool) {
        if tail {
            markUnreachable()
        } else if let result {
            pushResults(ft.results, result)
        } else {
            for t in ft.results { push(t, nil) }
        }
    }

    /// return_call*: the callee's results must be the caller's (up to subtyping).
    private func checkTailCallResults(_ callee: FunctionType) throws(CompileError) {
        guard callee.results.count == type.results.count,
              zip(callee.results, type.results).allSatisfy({ m.wasm.isSubtype($0, of: $1) }) else {
            throw error("type mismatch: tail call results differ from the function's")
        }
    }

    /// `musttail` calls are refused by the backend in a function that disables tail calls (the
    /// attribute keeps LLVM from turning plain Wasm recursion into loops).
    private func allowTailCalls() {
        LLVMRemoveStringAttributeAtIndex(function, UInt32(bitPattern: Int32(LLVMAttributeFunctionIndex)), "disable-tail-calls", 18)
    }

    /// Returns a tail call's result (the callee's results are the function's own).
    private func returnValue(_ result: LLVMValueRef) {
        if type.results.isEmpty { LLVMBuildRetVoid(ir.builder) } else { LLVMBuildRet(ir.builder, result) }
    }

    /// Calls the function of a wasmaot_funcref: its tailcc entry when it has one (generated
    /// code), else its C entry (a host function, called and returned from; only calls between
    /// Wasm functions are tail calls). `tail`: the caller returns the result right away.
    private func callThroughRecord(_ record: LLVMValueRef, _ llvmType: LLVMTypeRef, _ args: [Operand], tail: Bool = false) -> LLVMValueRef {
        let calleeContext = ir.load(ir.ptr, ir.gep(record, VMContextLayout.funcrefVMContext))
        guard m.wasm.usesTailCalls else {
            // C convention on both sides (a tailcc function of another module has a C entry).
            let code = ir.load(ir.ptr, ir.gep(record, VMContextLayout.funcrefCode))
            let values = [calleeContext] + args.map { value($0) }
            return tail ? ir.call(llvmType, code, values) : emitCall(llvmType, code, values, wasmConvention: false)
        }
        let tailCode = ir.load(ir.ptr, ir.gep(record, VMContextLayout.funcrefTailCode))
        let values = [calleeContext] + args.map { value($0) }
        let wasmBlock = newBlock("call_wasm"), hostBlock = newBlock("call_host")
        let isHost = LLVMBuildIsNull(ir.builder, tailCode, "")!
        setUnlikelyFirst(LLVMBuildCondBr(ir.builder, isHost, hostBlock, wasmBlock)!)
        if tail { allowTailCalls() }
        LLVMPositionBuilderAtEnd(ir.builder, wasmBlock)
        let wasmResult = tail ? m.callWasm(llvmType, tailCode, values, tail: true) : emitCall(llvmType, tailCode, values, wasmConvention: true)
        if tail { returnValue(wasmResult) }
        // Both calls may be invokes: their results come from the blocks they continue in.
        let wasmDone = LLVMGetInsertBlock(ir.builder)!
        LLVMPositionBuilderAtEnd(ir.builder, hostBlock)
        let code = ir.load(ir.ptr, ir.gep(record, VMContextLayout.funcrefCode))
        let hostResult = tail ? ir.call(llvmType, code, values) : emitCall(llvmType, code, values, wasmConvention: false)
        if tail {
            returnValue(hostResult)
            return wasmResult
        }
        let hostDone = LLVMGetInsertBlock(ir.builder)!
        let join = newBlock("call_done")
        LLVMBuildBr(ir.builder, join)
        LLVMPositionBuilderAtEnd(ir.builder, wasmDone)
        LLVMBuildBr(ir.builder, join)
        LLVMPositionBuilderAtEnd(ir.builder, join)
        if LLVMGetTypeKind(LLVMGetReturnType(llvmType)) == LLVMVoidTypeKind { return wasmResult }
        let phi = LLVMBuildPhi(ir.builder, LLVMGetReturnType(llvmType), "")!
        var incoming: [LLVMValueRef?] = [wasmResult, hostResult]
        var blocks: [LLVMBasicBlockRef?] = [wasmDone, hostDone]
        LLVMAddIncoming(phi, &incoming, &blocks, 2)
        return phi
    }

    func pushResults(_ results: [ValueType], _ result: LLVMValueRef) {
        switch results.count {
        case 0: break
        case 1: push(results[0], result)
        default:
            for (i, t) in results.enumerated() {
                push(t, LLVMBuildExtractValue(ir.builder, result, UInt32(i), ""))
            }
        }
    }

    func callIndirect(typeIndex: UInt32, table: UInt32, tail: Bool = false) throws(CompileError) {
        guard Int(table) < m.wasm.tables.count else { throw error("unknown table \(table)") }
        guard m.wasm.isFunctionReference(.ref(m.wasm.tables[Int(table)].elementType)) else { throw error("type mismatch: call_indirect needs a funcref table") }
        guard Int(typeIndex) < m.wasm.types.count else { throw error("unknown type \(typeIndex)") }
        let ft = m.wasm.types[Int(typeIndex)]
        if tail { try checkTailCallResults(ft) }
        let index = try pop(tableIndexType(table))
        let args = try pop(ft.parameters)
        guard emitting else { return finishCall(ft, nil, tail: tail) }
        let record = ir.load(ir.ptr, tableSlot(table, index, outOfBounds: TrapKind.undefinedElement))
        trapIf(LLVMBuildIsNull(ir.builder, record, "")!, TrapKind.uninitializedElement)
        // Exact type identity: records and the vmctx hold interned type texts (wasmaot_intern_type),
        // equal exactly when the types are, in any module; never a hash that could collide.
        let actual = ir.load(ir.ptr, ir.gep(record, VMContextLayout.funcrefType))
        let expected = ir.load(ir.ptr, ir.gep(vmctx, m.layout.typeID(Int(typeIndex))))
        ir.markInvariant(expected)
        trapIf(LLVMBuildICmp(ir.builder, LLVMIntNE, actual, expected, "")!, TrapKind.indirectCallMismatch)
        finishCall(ft, callThroughRecord(record, m.llvmFunctionTypes[Int(typeIndex)], args, tail: tail), tail: tail)
    }

    /// `call_ref $t`: calls a `(ref null $t)`, trapping on null. The static type guarantees the
    /// signature, so there is no type check.
    func callRef(typeIndex: UInt32, tail: Bool = false) throws(CompileError) {
        guard Int(typeIndex) < m.wasm.types.count else { throw error("unknown type \(typeIndex)") }
        let ft = m.wasm.types[Int(typeIndex)]
        if tail { try checkTailCallResults(ft) }
        let ref = try pop(.ref(ReferenceType(isNullable: true, heapType: .concrete(typeIndex: typeIndex))))
        let args = try pop(ft.parameters)
        guard emitting else { return finishCall(ft, nil, tail: tail) }
        trapIf(LLVMBuildIsNull(ir.builder, value(ref), "")!, TrapKind.nullFunctionReference)
        finishCall(ft, callThroughRecord(value(ref), m.llvmFunctionTypes[Int(typeIndex)], args, tail: tail), tail: tail)
    }

    func tablePointer(_ table: UInt32) -> LLVMValueRef {
        let t = ir.load(ir.ptr, ir.gep(vmctx, m.layout.table(Int(table))))
        ir.markInvariant(t)
        return t
    }

    // MARK: select, globals, references

    func select(_ typed: ValueType?) throws(CompileError) {
        let condition = try pop(.i32)
        if let typed {
            try checkType(typed)
            if let feature = UnsupportedProposal.feature(of: typed) { throw unsupported(feature, "select of \(UnsupportedProposal.typeName(typed))") }
            let b = try pop(typed), a = try pop(typed)
            push(typed, emitting ? emitSelect(condition, a, b) : nil)
            return
        }
        let b = try pop(), a = try pop()
        for t in [a.type, b.type] {
            if case .ref = t { throw error("type mismatch: select without type needs numeric operands") }
        }
        if let ta = a.type, let tb = b.type, ta != tb { throw error("type mismatch: select operands differ") }
        push(a.type ?? b.type, emitting ? emitSelect(condition, a, b) : nil)
    }

    private func emitSelect(_ condition: Operand, _ a: Operand, _ b: Operand) -> LLVMValueRef {
        let cond = LLVMBuildICmp(ir.builder, LLVMIntNE, value(condition), ir.c32(0), "")!
        return LLVMBuildSelect(ir.builder, cond, value(a), value(b), "")
    }

    /// Address of global `i`'s cell (imported: through the pointer the runtime filled in).
    private func globalCell(_ i: Int) -> LLVMValueRef {
        if i < m.wasm.importedGlobalCount {
            let cell = ir.load(ir.ptr, ir.gep(vmctx, m.layout.importedGlobal(i)))
            ir.markInvariant(cell)
            return cell
        }
        return ir.gep(vmctx, m.layout.definedGlobal(i - m.wasm.importedGlobalCount))
    }

    func globalGet(_ i: UInt32) throws(CompileError) {
        guard Int(i) < m.wasm.globals.count else { throw error("unknown global \(i)") }
        let g = m.wasm.globals[Int(i)]
        push(g.valueType, emitting ? ir.load(ir.type(g.valueType), globalCell(Int(i))) : nil)
    }

    func globalSet(_ i: UInt32) throws(CompileError) {
        guard Int(i) < m.wasm.globals.count else { throw error("unknown global \(i)") }
        let g = m.wasm.globals[Int(i)]
        guard g.mutability == .variable else { throw error("global is immutable") }
        let v = try pop(g.valueType)
        if emitting {
            pinIfException(value(v), g.valueType)
            ir.store(value(v), globalCell(Int(i)))
        }
    }

    func refNull(_ heap: HeapType) throws(CompileError) {
        let type = ReferenceType(isNullable: true, heapType: heap)
        try checkType(.ref(type))
        if let feature = UnsupportedProposal.feature(of: type) { throw unsupported(feature, "ref.null \(UnsupportedProposal.typeName(.ref(type)))") }
        push(.ref(type), emitting ? ir.nullPtr : nil)
    }

    func refIsNull() throws(CompileError) {
        let v = try pop()
        if let t = v.type, case .ref = t {} else if v.type != nil {
            throw error("type mismatch: ref.is_null needs a reference")
        }
        push(.i32, emitting ? LLVMBuildZExt(ir.builder, LLVMBuildIsNull(ir.builder, value(v), ""), ir.i32, "") : nil)
    }

    func refFunc(_ f: UInt32) throws(CompileError) {
        guard Int(f) < m.wasm.functionTypeIndices.count else { throw error("unknown function \(f)") }
        guard m.wasm.declaredFunctionReferences.contains(f) else { throw error("undeclared function reference") }
        // Wasm 3.0: the reference has the function's own type, non-nullable.
        let type = ReferenceType(isNullable: false, heapType: .concrete(typeIndex: m.wasm.functionTypeIndices[Int(f)]))
        push(.ref(type), emitting ? funcref(f) : nil)
    }

    /// The wasmaot_funcref* of function `f` in this instance.
    func funcref(_ f: UInt32) -> LLVMValueRef {
        if Int(f) < m.wasm.importedFunctionCount {
            let record = ir.load(ir.ptr, ir.gep(vmctx, m.layout.importedFunction(Int(f))))
            ir.markInvariant(record)
            return record
        }
        return ir.gep(vmctx, m.layout.funcref(Int(f) - m.wasm.importedFunctionCount))
    }
}
