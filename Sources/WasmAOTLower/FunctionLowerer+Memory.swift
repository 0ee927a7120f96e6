import CLLVM
import WasmAOTCore
import WasmParser
import WasmTypes

extension FunctionLowerer {
    func requireMemory(_ index: UInt32) throws(CompileError) {
        guard Int(index) < m.wasm.memories.count else { throw error("unknown memory \(index)") }
    }

    private func is64(_ index: UInt32) -> Bool { m.wasm.memories[Int(index)].isMemory64 }

    /// The address type of memory `index`: i64 for memory64.
    func addressType(_ index: UInt32) -> ValueType { is64(index) ? .i64 : .i32 }

    /// An address operand widened to the runtime's 64-bit parameters.
    private func wide(_ v: Operand, _ index: UInt32) -> LLVMValueRef {
        is64(index) ? value(v) : LLVMBuildZExt(ir.builder, value(v), ir.i64, "")!
    }

    func checkAlignment(_ memarg: MemArg, bytes: Int) throws(CompileError) {
        // The decoder reads offsets as u64 (memory64); a 32-bit memory's must fit 32 bits.
        if !is64(memarg.memory) && memarg.offset > UInt64(UInt32.max) { throw error("offset out of range") }
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
    ///
    /// A 64-bit memory (memory64) cannot be covered by a guard region: its accesses are checked
    /// against the current size, `addr + offset + bytes <= size` computed in 128 bits (no wrap),
    /// and trap "out of bounds memory access" before touching memory.
    func address(_ addr: Operand, _ memarg: MemArg, bytes: Int) -> LLVMValueRef {
        if is64(memarg.memory) {
            let i128 = LLVMInt128TypeInContext(ir.context)!
            let size = ir.load(ir.i64, ir.gep(memoryObject(memarg.memory), VMContextLayout.memorySize))
            let wideAddr = LLVMBuildZExt(ir.builder, value(addr), i128, "")!
            let extent = LLVMConstIntOfArbitraryPrecision(i128, 2, [memarg.offset &+ UInt64(bytes), memarg.offset > UInt64.max - UInt64(bytes) ? 1 : 0])!
            let end = LLVMBuildAdd(ir.builder, wideAddr, extent, "")!
            trapIf(LLVMBuildICmp(ir.builder, LLVMIntUGT, end, LLVMBuildZExt(ir.builder, size, i128, ""), "")!, TrapKind.memoryOutOfBounds)
            let ea = memarg.offset == 0 ? value(addr) : LLVMBuildNUWAdd(ir.builder, value(addr), ir.c64u(memarg.offset), "")!
            return ir.gep(memBases[Int(memarg.memory)], ea)
        }
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
        default:
            if try v128Load(op, memarg) { return }
            throw unsupportedAccess(.load(op, memarg: memarg), "\(op)")
        }
        try checkAlignment(memarg, bytes: bytes)
        let addr = try pop(addressType(memarg.memory))
        guard emitting else { return push(result, nil) }
        let loaded = ir.load(memType, address(addr, memarg, bytes: bytes), align: 1)
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
        case .v128Store: return try v128Store(memarg)
        default: throw unsupportedAccess(.store(op, memarg: memarg), "\(op)")
        }
        try checkAlignment(memarg, bytes: bytes)
        let v = try pop(operandType)
        let addr = try pop(addressType(memarg.memory))
        guard emitting else { return }
        var stored = value(v)
        if memType != ir.type(operandType) { stored = LLVMBuildTrunc(ir.builder, stored, memType, "") }
        LLVMSetVolatile(ir.store(stored, address(addr, memarg, bytes: bytes), align: 1), 1)
    }

    /// The wasmaot_memory* of memory `index` (memory 0 from the vmctx head).
    func memoryObject(_ index: UInt32) -> LLVMValueRef {
        let memory = ir.load(ir.ptr, ir.gep(vmctx, index == 0 ? VMContextLayout.memory : m.layout.memory(Int(index))))
        ir.markInvariant(memory)
        return memory
    }

    func memorySize(_ mem: UInt32) throws(CompileError) {
        try requireMemory(mem)
        let type = addressType(mem)
        guard emitting else { return push(type, nil) }
        let bytes = ir.load(ir.i64, ir.gep(memoryObject(mem), VMContextLayout.memorySize))
        let pages = LLVMBuildLShr(ir.builder, bytes, ir.c64(16), "")!
        push(type, is64(mem) ? pages : LLVMBuildTrunc(ir.builder, pages, ir.i32, ""))
    }

    func memoryGrow(_ mem: UInt32) throws(CompileError) {
        try requireMemory(mem)
        let type = addressType(mem)
        let delta = try pop(type)
        guard emitting else { return push(type, nil) }
        let fn = m.runtimeFunction("wasmaot_memory_grow", ir.i64, [ir.ptr, ir.i64])
        let old = ir.call(fn.1, fn.0, [memoryObject(mem), wide(delta, mem)])
        push(type, is64(mem) ? old : LLVMBuildTrunc(ir.builder, old, ir.i32, ""))
    }

    private func requireData(_ index: UInt32) throws(CompileError) {
        guard let count = m.wasm.dataCount else { throw error("data count section required") }
        guard index < count else { throw error("unknown data segment \(index)") }
    }

    func memoryInit(_ data: UInt32, _ mem: UInt32) throws(CompileError) {
        try requireMemory(mem)
        try requireData(data)
        let args = try pop([addressType(mem), .i32, .i32])
        guard emitting else { return }
        let length = ir.load(ir.i32, ir.gep(vmctx, m.layout.dataLength(Int(data))), align: 4)
        let fn = m.runtimeFunction("wasmaot_memory_init", ir.void, [ir.ptr, ir.ptr, ir.i32, ir.i64, ir.i32, ir.i32])
        ir.call(fn.1, fn.0, [memoryObject(mem), m.dataSegment(Int(data)), length, wide(args[0], mem), value(args[1]), value(args[2])])
    }

    func dataDrop(_ data: UInt32) throws(CompileError) {
        try requireData(data)
        guard emitting else { return }
        ir.store(ir.c32(0), ir.gep(vmctx, m.layout.dataLength(Int(data))), align: 4)
    }

    func memoryCopy(_ dst: UInt32, _ src: UInt32) throws(CompileError) {
        try requireMemory(dst)
        try requireMemory(src)
        // The length has the narrower of the two address types.
        let lengthIs64 = is64(dst) && is64(src)
        let args = try pop([addressType(dst), addressType(src), lengthIs64 ? .i64 : .i32])
        guard emitting else { return }
        let fn = m.runtimeFunction("wasmaot_memory_copy", ir.void, [ir.ptr, ir.ptr, ir.i64, ir.i64, ir.i64])
        let n = lengthIs64 ? value(args[2]) : LLVMBuildZExt(ir.builder, value(args[2]), ir.i64, "")!
        ir.call(fn.1, fn.0, [memoryObject(dst), memoryObject(src), wide(args[0], dst), wide(args[1], src), n])
    }

    func memoryFill(_ mem: UInt32) throws(CompileError) {
        try requireMemory(mem)
        let args = try pop([addressType(mem), .i32, addressType(mem)])
        guard emitting else { return }
        let fn = m.runtimeFunction("wasmaot_memory_fill", ir.void, [ir.ptr, ir.i64, ir.i32, ir.i64])
        ir.call(fn.1, fn.0, [memoryObject(mem), wide(args[0], mem), value(args[1]), wide(args[2], mem)])
    }

    // MARK: tables

    private func tableType(_ table: UInt32) throws(CompileError) -> ValueType {
        guard Int(table) < m.wasm.tables.count else { throw error("unknown table \(table)") }
        return .ref(m.wasm.tables[Int(table)].elementType)
    }

    /// Whether `table` is a 64-bit table (memory64's table64: i64 indices).
    func isTable64(_ table: UInt32) -> Bool { m.wasm.tables[Int(table)].limits.isMemory64 }

    /// The index type of `table`.
    func tableIndexType(_ table: UInt32) -> ValueType { isTable64(table) ? .i64 : .i32 }

    /// A 64-bit table index, length or delta as the runtime's u32: tables never hold 2^32
    /// elements, so a larger value traps "out of bounds table access" (as the access would).
    private func narrowed(_ v: Operand, _ is64: Bool) -> LLVMValueRef {
        guard is64 else { return value(v) }
        trapIf(LLVMBuildICmp(ir.builder, LLVMIntUGT, value(v), ir.c64(Int(UInt32.max)), "")!, TrapKind.tableOutOfBounds)
        return LLVMBuildTrunc(ir.builder, value(v), ir.i32, "")!
    }

    /// Address of element `index` of `table`, trapping with `outOfBounds` past its size
    /// (`call_indirect` reports that as "undefined element").
    func tableSlot(_ table: UInt32, _ index: Operand, outOfBounds: Int32 = TrapKind.tableOutOfBounds) -> LLVMValueRef {
        let t = tablePointer(table)
        let size = ir.load(ir.i32, ir.gep(t, VMContextLayout.tableSize), align: 4)
        let wideIndex = isTable64(table) ? value(index) : LLVMBuildZExt(ir.builder, value(index), ir.i64, "")!
        trapIf(LLVMBuildICmp(ir.builder, LLVMIntUGE, wideIndex, LLVMBuildZExt(ir.builder, size, ir.i64, ""), "")!, outOfBounds)
        let elems = ir.load(ir.ptr, ir.gep(t, VMContextLayout.tableElems))
        return ir.gep(elems, LLVMBuildShl(ir.builder, wideIndex, ir.c64(3), ""))
    }

    func tableGet(_ table: UInt32) throws(CompileError) {
        let type = try tableType(table)
        let index = try pop(tableIndexType(table))
        push(type, emitting ? ir.load(ir.ptr, tableSlot(table, index)) : nil)
    }

    func tableSet(_ table: UInt32) throws(CompileError) {
        let type = try tableType(table)
        let v = try pop(type)
        let index = try pop(tableIndexType(table))
        if emitting {
            pinIfException(value(v), type)
            ir.store(value(v), tableSlot(table, index))
        }
    }

    func tableSize(_ table: UInt32) throws(CompileError) {
        _ = try tableType(table)
        let it = tableIndexType(table)
        guard emitting else { return push(it, nil) }
        let size = ir.load(ir.i32, ir.gep(tablePointer(table), VMContextLayout.tableSize), align: 4)
        push(it, isTable64(table) ? LLVMBuildZExt(ir.builder, size, ir.i64, "") : size)
    }

    func tableGrow(_ table: UInt32) throws(CompileError) {
        let type = try tableType(table)
        let it = tableIndexType(table)
        let n = try pop(it)
        let initial = try pop(type)
        guard emitting else { return push(it, nil) }
        pinIfException(value(initial), type)
        let fn = m.runtimeFunction("wasmaot_table_grow", ir.i32, [ir.ptr, ir.ptr, ir.i32])
        guard isTable64(table) else {
            return push(it, ir.call(fn.1, fn.0, [tablePointer(table), value(initial), value(n)]))
        }
        // A delta of 2^32 or more can never succeed: ask for UINT32_MAX, which fails too.
        let big = LLVMBuildICmp(ir.builder, LLVMIntUGT, value(n), ir.c64(Int(UInt32.max)), "")!
        let delta = LLVMBuildSelect(ir.builder, big, ir.c32(-1), LLVMBuildTrunc(ir.builder, value(n), ir.i32, ""), "")!
        let old = ir.call(fn.1, fn.0, [tablePointer(table), value(initial), delta])
        push(it, LLVMBuildSExt(ir.builder, old, ir.i64, ""))
    }

    func tableFill(_ table: UInt32) throws(CompileError) {
        let type = try tableType(table)
        let it = tableIndexType(table)
        let n = try pop(it)
        let v = try pop(type)
        let i = try pop(it)
        guard emitting else { return }
        pinIfException(value(v), type)
        let fn = m.runtimeFunction("wasmaot_table_fill", ir.void, [ir.ptr, ir.i32, ir.ptr, ir.i32])
        let is64 = isTable64(table)
        ir.call(fn.1, fn.0, [tablePointer(table), narrowed(i, is64), value(v), narrowed(n, is64)])
    }

    func tableCopy(_ dst: UInt32, _ src: UInt32) throws(CompileError) {
        let dstType = try tableType(dst), srcType = try tableType(src)
        guard m.wasm.isSubtype(srcType, of: dstType) else { throw error("type mismatch: table.copy between different element types") }
        // The length has the narrower of the two index types.
        let lengthIs64 = isTable64(dst) && isTable64(src)
        let args = try pop([tableIndexType(dst), tableIndexType(src), lengthIs64 ? .i64 : .i32])
        guard emitting else { return }
        let fn = m.runtimeFunction("wasmaot_table_copy", ir.void, [ir.ptr, ir.ptr, ir.i32, ir.i32, ir.i32])
        ir.call(fn.1, fn.0, [tablePointer(dst), tablePointer(src), narrowed(args[0], isTable64(dst)),
                             narrowed(args[1], isTable64(src)), narrowed(args[2], lengthIs64)])
    }

    private func elementSegment(_ elem: UInt32) throws(CompileError) -> ElementSegment {
        guard Int(elem) < m.wasm.elements.count else { throw error("unknown elem segment \(elem)") }
        return m.wasm.elements[Int(elem)]
    }

    func tableInit(_ elem: UInt32, _ table: UInt32) throws(CompileError) {
        let type = try tableType(table)
        let segment = try elementSegment(elem)
        guard m.wasm.isSubtype(.ref(m.wasm.elementTypes[Int(elem)]), of: type) else { throw error("type mismatch: element segment and table types differ") }
        let args = try pop([tableIndexType(table), .i32, .i32])
        guard emitting else { return }
        let base = ir.gep(vmctx, m.layout.elementSegments[Int(elem)])
        let length = ir.load(ir.i32, base, align: 4)
        let fn = m.runtimeFunction("wasmaot_table_init", ir.void, [ir.ptr, ir.ptr, ir.i32, ir.i32, ir.i32, ir.i32])
        ir.call(fn.1, fn.0, [tablePointer(table), ir.gep(base, 8), length, narrowed(args[0], isTable64(table)), value(args[1]), value(args[2])])
    }

    func elemDrop(_ elem: UInt32) throws(CompileError) {
        _ = try elementSegment(elem)
        guard emitting else { return }
        ir.store(ir.c32(0), ir.gep(vmctx, m.layout.elementSegments[Int(elem)]), align: 4)
    }
}
