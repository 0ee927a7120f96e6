import CLLVM
import WasmAOTCore
import WasmParser
import WasmTypes

extension FunctionLowerer {
    private func requireMemory(_ index: UInt32) throws(CompileError) {
        guard Int(index) < m.wasm.memories.count else { throw error("unknown memory \(index)") }
    }

    private func checkAlignment(_ memarg: MemArg, bytes: Int) throws(CompileError) {
        guard memarg.align < 32, (1 << Int(memarg.align)) <= bytes else {
            throw error("alignment must not be larger than natural")
        }
    }

    /// base + zext(addr) + offset: always inside the 8 GiB reservation, so an out-of-bounds
    /// access faults in the guard region instead of needing a check.
    ///
    /// Because the fault *is* the bounds check, every access is emitted `volatile`: LLVM may then
    /// neither delete a load whose value is unused, nor merge adjacent accesses into a wider one
    /// (which would fault as a whole, dropping its in-bounds bytes), nor remove a store that a
    /// later trapping store overwrites, nor move an access across another one or across a call
    /// (volatile accesses are barriers for the machine scheduler too), nor turn a loop into
    /// memset/memcpy. Globals and tables live in the vmctx, which LLVM cannot prove distinct from
    /// linear memory, so their updates are not moved past a trapping access either. What LLVM
    /// still does: address arithmetic, folding an access into an instruction (`add r, [m]`,
    /// `cmov r, [m]`, which read unconditionally) and everything on locals.
    private func address(_ addr: Operand, _ memarg: MemArg) -> LLVMValueRef {
        var ea = LLVMBuildZExt(ir.builder, value(addr), ir.i64, "")!
        if memarg.offset != 0 {
            ea = LLVMBuildNUWAdd(ir.builder, ea, ir.c64u(memarg.offset), "")
        }
        return ir.gep(memBases[Int(memarg.memory)], ea)
    }

    func load(_ op: Instruction.Load, _ memarg: MemArg) throws(CompileError) {
        try requireMemory(memarg.memory)
        let (result, memType, bytes, signed): (ValueType, LLVMTypeRef, Int, Bool)
        switch op {
        case .i32Load: (result, memType, bytes, signed) = (.i32, ir.i32, 4, false)
        case .i64Load: (result, memType, bytes, signed) = (.i64, ir.i64, 8, false)
        case .f32Load: (result, memType, bytes, signed) = (.f32, ir.f32, 4, false)
        case .f64Load: (result, memType, bytes, signed) = (.f64, ir.f64, 8, false)
        case .i32Load8S: (result, memType, bytes, signed) = (.i32, ir.i8, 1, true)
        case .i32Load8U: (result, memType, bytes, signed) = (.i32, ir.i8, 1, false)
        case .i32Load16S: (result, memType, bytes, signed) = (.i32, ir.i16, 2, true)
        case .i32Load16U: (result, memType, bytes, signed) = (.i32, ir.i16, 2, false)
        case .i64Load8S: (result, memType, bytes, signed) = (.i64, ir.i8, 1, true)
        case .i64Load8U: (result, memType, bytes, signed) = (.i64, ir.i8, 1, false)
        case .i64Load16S: (result, memType, bytes, signed) = (.i64, ir.i16, 2, true)
        case .i64Load16U: (result, memType, bytes, signed) = (.i64, ir.i16, 2, false)
        case .i64Load32S: (result, memType, bytes, signed) = (.i64, ir.i32, 4, true)
        case .i64Load32U: (result, memType, bytes, signed) = (.i64, ir.i32, 4, false)
        default: throw unsupportedAccess(.load(op, memarg: memarg), "\(op)")
        }
        try checkAlignment(memarg, bytes: bytes)
        let addr = try pop(.i32)
        guard emitting else { return push(result, nil) }
        let loaded = ir.load(memType, address(addr, memarg), align: 1)
        LLVMSetVolatile(loaded, 1)
        let target = ir.type(result)
        var v = loaded
        if memType != target {
            v = signed ? LLVMBuildSExt(ir.builder, loaded, target, "") : LLVMBuildZExt(ir.builder, loaded, target, "")
        }
        push(result, v)
    }

    func store(_ op: Instruction.Store, _ memarg: MemArg) throws(CompileError) {
        try requireMemory(memarg.memory)
        let (operandType, memType, bytes): (ValueType, LLVMTypeRef, Int)
        switch op {
        case .i32Store: (operandType, memType, bytes) = (.i32, ir.i32, 4)
        case .i64Store: (operandType, memType, bytes) = (.i64, ir.i64, 8)
        case .f32Store: (operandType, memType, bytes) = (.f32, ir.f32, 4)
        case .f64Store: (operandType, memType, bytes) = (.f64, ir.f64, 8)
        case .i32Store8: (operandType, memType, bytes) = (.i32, ir.i8, 1)
        case .i32Store16: (operandType, memType, bytes) = (.i32, ir.i16, 2)
        case .i64Store8: (operandType, memType, bytes) = (.i64, ir.i8, 1)
        case .i64Store16: (operandType, memType, bytes) = (.i64, ir.i16, 2)
        case .i64Store32: (operandType, memType, bytes) = (.i64, ir.i32, 4)
        default: throw unsupportedAccess(.store(op, memarg: memarg), "\(op)")
        }
        try checkAlignment(memarg, bytes: bytes)
        let v = try pop(operandType)
        let addr = try pop(.i32)
        guard emitting else { return }
        var stored = value(v)
        if memType != ir.type(operandType) { stored = LLVMBuildTrunc(ir.builder, stored, memType, "") }
        LLVMSetVolatile(ir.store(stored, address(addr, memarg), align: 1), 1)
    }

    /// The wasmaot_memory* of memory `index` (memory 0 from the vmctx head).
    func memoryObject(_ index: UInt32) -> LLVMValueRef {
        let memory = ir.load(ir.ptr, ir.gep(vmctx, index == 0 ? VMContextLayout.memory : m.layout.memory(Int(index))))
        ir.markInvariant(memory)
        return memory
    }

    func memorySize(_ mem: UInt32) throws(CompileError) {
        try requireMemory(mem)
        guard emitting else { return push(.i32, nil) }
        let bytes = ir.load(ir.i64, ir.gep(memoryObject(mem), VMContextLayout.memorySize))
        push(.i32, LLVMBuildTrunc(ir.builder, LLVMBuildLShr(ir.builder, bytes, ir.c64(16), ""), ir.i32, ""))
    }

    func memoryGrow(_ mem: UInt32) throws(CompileError) {
        try requireMemory(mem)
        let delta = try pop(.i32)
        guard emitting else { return push(.i32, nil) }
        let fn = m.runtimeFunction("wasmaot_memory_grow", ir.i32, [ir.ptr, ir.i32])
        push(.i32, ir.call(fn.1, fn.0, [memoryObject(mem), value(delta)]))
    }

    private func requireData(_ index: UInt32) throws(CompileError) {
        guard let count = m.wasm.dataCount else { throw error("data count section required") }
        guard index < count else { throw error("unknown data segment \(index)") }
    }

    func memoryInit(_ data: UInt32, _ mem: UInt32) throws(CompileError) {
        try requireMemory(mem)
        try requireData(data)
        let args = try pop([.i32, .i32, .i32])
        guard emitting else { return }
        let length = ir.load(ir.i32, ir.gep(vmctx, m.layout.dataLength(Int(data))), align: 4)
        let fn = m.runtimeFunction("wasmaot_memory_init", ir.void, [ir.ptr, ir.ptr, ir.i32, ir.i32, ir.i32, ir.i32])
        ir.call(fn.1, fn.0, [memoryObject(mem), m.dataSegment(Int(data)), length] + args.map { value($0) })
    }

    func dataDrop(_ data: UInt32) throws(CompileError) {
        try requireData(data)
        guard emitting else { return }
        ir.store(ir.c32(0), ir.gep(vmctx, m.layout.dataLength(Int(data))), align: 4)
    }

    func memoryCopy(_ dst: UInt32, _ src: UInt32) throws(CompileError) {
        try requireMemory(dst)
        try requireMemory(src)
        let args = try pop([.i32, .i32, .i32])
        guard emitting else { return }
        let fn = m.runtimeFunction("wasmaot_memory_copy", ir.void, [ir.ptr, ir.ptr, ir.i32, ir.i32, ir.i32])
        ir.call(fn.1, fn.0, [memoryObject(dst), memoryObject(src)] + args.map { value($0) })
    }

    func memoryFill(_ mem: UInt32) throws(CompileError) {
        try requireMemory(mem)
        let args = try pop([.i32, .i32, .i32])
        guard emitting else { return }
        let fn = m.runtimeFunction("wasmaot_memory_fill", ir.void, [ir.ptr, ir.i32, ir.i32, ir.i32])
        ir.call(fn.1, fn.0, [memoryObject(mem)] + args.map { value($0) })
    }

    // MARK: tables

    private func tableType(_ table: UInt32) throws(CompileError) -> ValueType {
        guard Int(table) < m.wasm.tables.count else { throw error("unknown table \(table)") }
        return .ref(m.wasm.tables[Int(table)].elementType)
    }

    /// Address of element `index` of `table`, trapping with `outOfBounds` past its size
    /// (`call_indirect` reports that as "undefined element").
    func tableSlot(_ table: UInt32, _ index: Operand, outOfBounds: Int32 = TrapKind.tableOutOfBounds) -> LLVMValueRef {
        let t = tablePointer(table)
        let size = ir.load(ir.i32, ir.gep(t, VMContextLayout.tableSize), align: 4)
        trapIf(LLVMBuildICmp(ir.builder, LLVMIntUGE, value(index), size, "")!, outOfBounds)
        let elems = ir.load(ir.ptr, ir.gep(t, VMContextLayout.tableElems))
        return ir.gep(elems, LLVMBuildShl(ir.builder, LLVMBuildZExt(ir.builder, value(index), ir.i64, ""), ir.c64(3), ""))
    }

    func tableGet(_ table: UInt32) throws(CompileError) {
        let type = try tableType(table)
        let index = try pop(.i32)
        push(type, emitting ? ir.load(ir.ptr, tableSlot(table, index)) : nil)
    }

    func tableSet(_ table: UInt32) throws(CompileError) {
        let type = try tableType(table)
        let v = try pop(type)
        let index = try pop(.i32)
        if emitting { ir.store(value(v), tableSlot(table, index)) }
    }

    func tableSize(_ table: UInt32) throws(CompileError) {
        _ = try tableType(table)
        push(.i32, emitting ? ir.load(ir.i32, ir.gep(tablePointer(table), VMContextLayout.tableSize), align: 4) : nil)
    }

    func tableGrow(_ table: UInt32) throws(CompileError) {
        let type = try tableType(table)
        let n = try pop(.i32)
        let initial = try pop(type)
        guard emitting else { return push(.i32, nil) }
        let fn = m.runtimeFunction("wasmaot_table_grow", ir.i32, [ir.ptr, ir.ptr, ir.i32])
        push(.i32, ir.call(fn.1, fn.0, [tablePointer(table), value(initial), value(n)]))
    }

    func tableFill(_ table: UInt32) throws(CompileError) {
        let type = try tableType(table)
        let n = try pop(.i32)
        let v = try pop(type)
        let i = try pop(.i32)
        guard emitting else { return }
        let fn = m.runtimeFunction("wasmaot_table_fill", ir.void, [ir.ptr, ir.i32, ir.ptr, ir.i32])
        ir.call(fn.1, fn.0, [tablePointer(table), value(i), value(v), value(n)])
    }

    func tableCopy(_ dst: UInt32, _ src: UInt32) throws(CompileError) {
        let dstType = try tableType(dst), srcType = try tableType(src)
        guard m.wasm.isSubtype(srcType, of: dstType) else { throw error("type mismatch: table.copy between different element types") }
        let args = try pop([.i32, .i32, .i32])
        guard emitting else { return }
        let fn = m.runtimeFunction("wasmaot_table_copy", ir.void, [ir.ptr, ir.ptr, ir.i32, ir.i32, ir.i32])
        ir.call(fn.1, fn.0, [tablePointer(dst), tablePointer(src)] + args.map { value($0) })
    }

    private func elementSegment(_ elem: UInt32) throws(CompileError) -> ElementSegment {
        guard Int(elem) < m.wasm.elements.count else { throw error("unknown elem segment \(elem)") }
        return m.wasm.elements[Int(elem)]
    }

    func tableInit(_ elem: UInt32, _ table: UInt32) throws(CompileError) {
        let type = try tableType(table)
        let segment = try elementSegment(elem)
        guard m.wasm.isSubtype(.ref(m.wasm.elementTypes[Int(elem)]), of: type) else { throw error("type mismatch: element segment and table types differ") }
        let args = try pop([.i32, .i32, .i32])
        guard emitting else { return }
        let base = ir.gep(vmctx, m.layout.elementSegments[Int(elem)])
        let length = ir.load(ir.i32, base, align: 4)
        let fn = m.runtimeFunction("wasmaot_table_init", ir.void, [ir.ptr, ir.ptr, ir.i32, ir.i32, ir.i32, ir.i32])
        ir.call(fn.1, fn.0, [tablePointer(table), ir.gep(base, 8), length] + args.map { value($0) })
    }

    func elemDrop(_ elem: UInt32) throws(CompileError) {
        _ = try elementSegment(elem)
        guard emitting else { return }
        ir.store(ir.c32(0), ir.gep(vmctx, m.layout.elementSegments[Int(elem)]), align: 4)
    }
}
