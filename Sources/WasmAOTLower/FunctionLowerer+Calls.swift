import CLLVM
import WasmAOTCore
import WasmParser
import WasmTypes

extension FunctionLowerer {
    func call(_ f: UInt32) throws(CompileError) {
        guard Int(f) < m.wasm.functionTypeIndices.count else { throw error("unknown function \(f)") }
        let typeIndex = Int(m.wasm.functionTypeIndices[Int(f)])
        let ft = m.wasm.types[typeIndex]
        let args = try pop(ft.parameters)
        guard emitting else {
            for t in ft.results { push(t, nil) }
            return
        }
        let llvmType = m.llvmFunctionTypes[typeIndex]
        let result: LLVMValueRef
        if Int(f) < m.wasm.importedFunctionCount {
            let record = ir.load(ir.ptr, ir.gep(vmctx, m.layout.importedFunction(Int(f))))
            ir.markInvariant(record)
            result = callThroughRecord(record, llvmType, args)
        } else {
            let callee = m.definedFunction(Int(f) - m.wasm.importedFunctionCount)
            m.directCallees.insert(Int(f) - m.wasm.importedFunctionCount)
            result = ir.call(llvmType, callee, [vmctx] + args.map { value($0) })
        }
        pushResults(ft.results, result)
    }

    /// Calls `record->code(record->vmctx, args...)` (a wasmaot_funcref).
    private func callThroughRecord(_ record: LLVMValueRef, _ llvmType: LLVMTypeRef, _ args: [Operand]) -> LLVMValueRef {
        let code = ir.load(ir.ptr, ir.gep(record, VMContextLayout.funcrefCode))
        let calleeContext = ir.load(ir.ptr, ir.gep(record, VMContextLayout.funcrefVMContext))
        return ir.call(llvmType, code, [calleeContext] + args.map { value($0) })
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

    func callIndirect(typeIndex: UInt32, table: UInt32) throws(CompileError) {
        guard Int(table) < m.wasm.tables.count else { throw error("unknown table \(table)") }
        guard m.wasm.isFunctionReference(.ref(m.wasm.tables[Int(table)].elementType)) else { throw error("type mismatch: call_indirect needs a funcref table") }
        guard Int(typeIndex) < m.wasm.types.count else { throw error("unknown type \(typeIndex)") }
        let ft = m.wasm.types[Int(typeIndex)]
        let index = try pop(.i32)
        let args = try pop(ft.parameters)
        guard emitting else {
            for t in ft.results { push(t, nil) }
            return
        }
        let record = ir.load(ir.ptr, tableSlot(table, index, outOfBounds: TrapKind.undefinedElement))
        trapIf(LLVMBuildIsNull(ir.builder, record, "")!, TrapKind.uninitializedElement)
        // Exact type identity: records and the vmctx hold interned type texts (wasmaot_intern_type),
        // equal exactly when the types are, in any module; never a hash that could collide.
        let actual = ir.load(ir.ptr, ir.gep(record, VMContextLayout.funcrefType))
        let expected = ir.load(ir.ptr, ir.gep(vmctx, m.layout.typeID(Int(typeIndex))))
        ir.markInvariant(expected)
        trapIf(LLVMBuildICmp(ir.builder, LLVMIntNE, actual, expected, "")!, TrapKind.indirectCallMismatch)
        let result = callThroughRecord(record, m.llvmFunctionTypes[Int(typeIndex)], args)
        pushResults(ft.results, result)
    }

    /// `call_ref $t`: calls a `(ref null $t)`, trapping on null. The static type guarantees the
    /// signature, so there is no type check.
    func callRef(typeIndex: UInt32) throws(CompileError) {
        guard Int(typeIndex) < m.wasm.types.count else { throw error("unknown type \(typeIndex)") }
        let ft = m.wasm.types[Int(typeIndex)]
        let ref = try pop(.ref(ReferenceType(isNullable: true, heapType: .concrete(typeIndex: typeIndex))))
        let args = try pop(ft.parameters)
        guard emitting else {
            for t in ft.results { push(t, nil) }
            return
        }
        trapIf(LLVMBuildIsNull(ir.builder, value(ref), "")!, TrapKind.nullFunctionReference)
        pushResults(ft.results, callThroughRecord(value(ref), m.llvmFunctionTypes[Int(typeIndex)], args))
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
        if emitting { ir.store(value(v), globalCell(Int(i))) }
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
