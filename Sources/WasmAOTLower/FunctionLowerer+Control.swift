import CLLVM
import WasmAOTCore
import WasmParser
import WasmTypes

extension FunctionLowerer {
    func visit(_ instruction: Instruction) throws(CompileError) {
        guard !frames.isEmpty else { throw error("operators remaining after end of function") }
        switch instruction {
        case .unreachable:
            if emitting { trapNow(TrapKind.unreachable) }
            markUnreachable()
        case .nop:
            if legacyOp == .catchAll { try legacyCatch(nil) }
        case .block(let bt):
            if legacyOp == .try { try enterBlock(.legacyTry, bt) } else { try enterBlock(.block, bt) }
        case .tryTable(let bt, let tryCatch): try enterTryTable(bt, tryCatch)
        case .throw(let x): try throwException(x)
        case .throwRef: try throwReference()
        case .loop(let bt): try enterBlock(.loop, bt)
        case .if(let bt):
            let condition = try pop(.i32)
            try enterBlock(.ifThen, bt, condition: condition)
        case .else: try visitElseBranch()
        case .end: try visitEndOfFrame()
        case .br(let depth):
            switch legacyOp {
            case .catch: try legacyCatch(depth)
            case .rethrow: try legacyRethrow(depth)
            case .delegate: try visitEndOfFrame(delegate: depth)
            default:
                try branch(to: depth)
                markUnreachable()
            }
        case .brIf(let depth): try branchIf(depth)
        case .brTable(let targets): try branchTable(targets)
        case .return:
            try branch(to: UInt32(frames.count - 1))
            markUnreachable()
        case .call(let f): try call(f)
        case .callIndirect(let t, let table): try callIndirect(typeIndex: t, table: table)
        case .drop: _ = try pop()
        case .select: try select(nil)
        case .typedSelect(let t): try select(t)
        case .localGet(let i):
            let local = try local(i)
            guard isSet[Int(i)] else { throw error("uninitialized local \(i)") }
            push(local.type, emitting ? ir.load(ir.type(local.type), local.slot) : nil)
        case .localSet(let i):
            let local = try local(i)
            let v = try pop(local.type)
            markSet(i)
            if emitting {
                ir.store(value(v), local.slot)
            }
        case .localTee(let i):
            let local = try local(i)
            let v = try pop(local.type)
            markSet(i)
            if emitting { ir.store(value(v), local.slot) }
            push(local.type, v.value)
        case .callRef(let t): try callRef(typeIndex: t)
        case .returnCall(let f): try call(f, tail: true)
        case .returnCallIndirect(let t, let table): try callIndirect(typeIndex: t, table: table, tail: true)
        case .returnCallRef(let t): try callRef(typeIndex: t, tail: true)
        case .refAsNonNull: try refAsNonNull()
        case .brOnNull(let depth): try branchOnNull(depth)
        case .brOnNonNull(let depth): try branchOnNonNull(depth)
        case .globalGet(let i): try globalGet(i)
        case .globalSet(let i): try globalSet(i)
        case .load(let op, let memarg): try load(op, memarg)
        case .store(let op, let memarg): try store(op, memarg)
        case .memorySize(let mem): try memorySize(mem)
        case .memoryGrow(let mem): try memoryGrow(mem)
        case .i32Const(let v): push(.i32, emitting ? ir.c32(Int(v)) : nil)
        case .i64Const(let v): push(.i64, emitting ? ir.c64(Int(v)) : nil)
        case .f32Const(let v): push(.f32, emitting ? ir.cf32(bits: v.bitPattern) : nil)
        case .f64Const(let v): push(.f64, emitting ? ir.cf64(bits: v.bitPattern) : nil)
        case .refNull(let heap): try refNull(heap)
        case .refIsNull: try refIsNull()
        case .refFunc(let f): try refFunc(f)
        case .i32Eqz: try eqz(.i32)
        case .i64Eqz: try eqz(.i64)
        case .cmp(let op): try compare(op)
        case .unary(let op): try unary(op)
        case .binary(let op): try binary(op)
        case .conversion(let op): try convert(op)
        case .memoryInit(let data, let mem): try memoryInit(data, mem)
        case .dataDrop(let data): try dataDrop(data)
        case .memoryCopy(let dst, let src): try memoryCopy(dst, src)
        case .memoryFill(let mem): try memoryFill(mem)
        case .tableInit(let elem, let table): try tableInit(elem, table)
        case .elemDrop(let elem): try elemDrop(elem)
        case .tableCopy(let dst, let src): try tableCopy(dst, src)
        case .tableFill(let table): try tableFill(table)
        case .tableGet(let table): try tableGet(table)
        case .tableSet(let table): try tableSet(table)
        case .tableGrow(let table): try tableGrow(table)
        case .tableSize(let table): try tableSize(table)
        case .v128Const(let v): v128Const(v)
        case .i8x16Shuffle(let mask): try shuffle(mask)
        case .simd(let op): try simd(op)
        case .simdLane(let op, let lane): try simdLane(op, lane)
        case .simdMemLane(let op, let memarg, let lane): try simdMemLane(op, memarg, lane)
        default:
            throw unsupported(instruction)
        }
    }

    func markSet(_ i: UInt32) {
        if !isSet[Int(i)] {
            isSet[Int(i)] = true
            initialized.append(Int(i))
        }
    }

    /// Locals set inside the frame that ends (or reaches its `else`) are unset again.
    func resetInitialized(to height: Int) {
        while initialized.count > height { isSet[initialized.removeLast()] = false }
    }

    func local(_ i: UInt32) throws(CompileError) -> (type: ValueType, slot: LLVMValueRef) {
        guard Int(i) < locals.count else { throw error("unknown local \(i)") }
        return locals[Int(i)]
    }

    func blockSignature(_ bt: BlockType) throws(CompileError) -> (params: [ValueType], results: [ValueType]) {
        switch bt {
        case .empty: return ([], [])
        case .type(let t):
            try checkType(t)
            if let feature = UnsupportedProposal.feature(of: t) { throw unsupported(feature, "block of type \(UnsupportedProposal.typeName(t))") }
            return ([], [t])
        case .funcType(let i):
            guard Int(i) < m.wasm.types.count else { throw error("unknown type \(i)") }
            let ft = m.wasm.types[Int(i)]
            return (ft.parameters, ft.results)
        }
    }

    func enterBlock(_ kind: ControlFrame.Kind, _ bt: BlockType, condition: Operand? = nil) throws(CompileError) {
        let (params, results) = try blockSignature(bt)
        let args = try pop(params)
        let live = emitting
        var frame = ControlFrame(kind: kind, params: params, results: results, height: stack.count, dead: !live)
        frame.initializedHeight = initialized.count
        if live {
            switch kind {
            case .loop:
                frame.slots = params.map { alloca($0) }
                for (slot, arg) in zip(frame.slots, args) { ir.store(value(arg), slot) }
                let header = newBlock("loop")
                LLVMBuildBr(ir.builder, header)
                LLVMPositionBuilderAtEnd(ir.builder, header)
                frame.target = header
                frames.append(frame)
                for (t, slot) in zip(params, frame.slots) { push(t, ir.load(ir.type(t), slot)) }
                return
            case .ifThen:
                frame.slots = results.map { alloca($0) }
                let then = newBlock("then")
                let otherwise = newBlock("else")
                frame.target = newBlock("endif")
                frame.elseBlock = otherwise
                frame.ifParams = args
                let cond = LLVMBuildICmp(ir.builder, LLVMIntNE, value(condition!), ir.c32(0), "")!
                LLVMBuildCondBr(ir.builder, cond, then, otherwise)
                LLVMPositionBuilderAtEnd(ir.builder, then)
            default:
                frame.slots = results.map { alloca($0) }
                frame.target = newBlock("end")
            }
        } else {
            frame.ifParams = args.map { Operand(type: $0.type, value: nil) }
        }
        frames.append(frame)
        for (t, arg) in zip(params, args) { push(t, live ? arg.value : nil) }
    }

    /// Checks that the stack holds exactly `frame.results` above the frame's height and, when
    /// emitting, stores them into the frame's slots and jumps to its end.
    func fallThrough() throws(CompileError) {
        let frame = frames[frames.count - 1]
        let values = try pop(frame.results)
        guard stack.count == frame.height else { throw error("type mismatch: values remaining on stack at end of block") }
        if emitting {
            for (slot, v) in zip(frame.slots, values) { ir.store(value(v), slot) }
            LLVMBuildBr(ir.builder, frame.target)
        }
    }

    private func visitElseBranch() throws(CompileError) {
        guard frames.last?.kind == .ifThen else { throw error("else without matching if") }
        try fallThrough()
        let i = frames.count - 1
        resetInitialized(to: frames[i].initializedHeight)
        frames[i].kind = .ifElse
        frames[i].unreachable = false
        let frame = frames[i]
        if !frame.dead {
            LLVMPositionBuilderAtEnd(ir.builder, frame.elseBlock)
            frames[i].elseBlock = nil
        }
        for (t, arg) in zip(frame.params, frame.ifParams) { push(t, frame.dead ? nil : arg.value) }
    }

    /// The legacy exception instruction at this offset (nil: the instruction is what it says).
    private var legacyOp: LegacyExceptionOp? {
        m.wasm.legacyExceptions.isEmpty ? nil : m.wasm.legacyExceptions[binaryOffset]
    }

    /// `end`, or `delegate l` (which ends a legacy try's body and hands its exceptions to label l).
    private func visitEndOfFrame(delegate: UInt32? = nil) throws(CompileError) {
        if delegate != nil && frames[frames.count - 1].kind != .legacyTry { throw error("delegate without matching try") }
        if frames[frames.count - 1].kind == .loop {
            // A loop's label is its header; falling off its end continues after it with the
            // values as they are (SSA values dominate the single edge into `after`).
            let frame = frames[frames.count - 1]
            let values = try pop(frame.results)
            guard stack.count == frame.height else { throw error("type mismatch: values remaining on stack at end of block") }
            let wasEmitting = emitting
            resetInitialized(to: frame.initializedHeight)
            frames.removeLast()
            if frame.dead {
                for t in frame.results { push(t, nil) }
                return
            }
            let after = newBlock("after_loop")
            if wasEmitting { LLVMBuildBr(ir.builder, after) }
            LLVMPositionBuilderAtEnd(ir.builder, after)
            for (t, v) in zip(frame.results, values) {
                push(t, wasEmitting ? value(v) : LLVMGetUndef(ir.type(t)))
            }
            return
        }
        try fallThrough()
        let frame = frames.removeLast()
        resetInitialized(to: frame.initializedHeight)
        switch frame.kind {
        case .tryTable: finishTryTable(frame, index: frames.count)
        case .legacyTry, .legacyCatch:
            // `delegate l`: exceptions go on as if thrown by an instruction directly inside label l.
            let end: LegacyEnd = try delegate.map { (l: UInt32) throws(CompileError) in .delegate(to: handlerFrame(from: try label(l))) } ?? .catches
            finishLegacyTry(frame, index: frames.count, end)
        default: break
        }
        if frame.kind == .ifThen {
            // An `if` without `else` passes its parameters through the implicit else branch.
            guard frame.params.count == frame.results.count,
                  zip(frame.params, frame.results).allSatisfy({ m.wasm.isSubtype($0, of: $1) }) else { throw error("type mismatch: if without else must not change the stack") }
            if !frame.dead {
                LLVMPositionBuilderAtEnd(ir.builder, frame.elseBlock)
                for (slot, v) in zip(frame.slots, frame.ifParams) { ir.store(value(v), slot) }
                LLVMBuildBr(ir.builder, frame.target)
            }
        }
        if frame.dead {
            for t in frame.results { push(t, nil) }
            return
        }
        LLVMPositionBuilderAtEnd(ir.builder, frame.target)
        let loaded = zip(frame.results, frame.slots).map { ir.load(ir.type($0.0), $0.1) }
        if frame.kind == .function {
            switch loaded.count {
            case 0: LLVMBuildRetVoid(ir.builder)
            case 1: LLVMBuildRet(ir.builder, loaded[0])
            default:
                var values: [LLVMValueRef?] = loaded
                LLVMBuildAggregateRet(ir.builder, &values, UInt32(values.count))
            }
            return
        }
        for (t, v) in zip(frame.results, loaded) { push(t, v) }
    }

    // MARK: branches

    func label(_ depth: UInt32) throws(CompileError) -> Int {
        guard Int(depth) < frames.count else { throw error("unknown label \(depth)") }
        return frames.count - 1 - Int(depth)
    }

    /// Emits a jump to the label at `depth` with the label's values from the top of the stack
    /// (popped and checked).
    private func branch(to depth: UInt32) throws(CompileError) {
        let target = try label(depth)
        let values = try pop(frames[target].labelTypes)
        if emitting { jump(to: target, with: values.map { value($0) }) }
    }

    func jump(to target: Int, with values: [LLVMValueRef]) {
        let frame = frames[target]
        for (slot, v) in zip(frame.slots, values) { ir.store(v, slot) }
        LLVMBuildBr(ir.builder, frame.target)
    }

    private func branchIf(_ depth: UInt32) throws(CompileError) {
        let condition = try pop(.i32)
        let target = try label(depth)
        let types = frames[target].labelTypes
        let values = try pop(types)
        if emitting {
            branch(to: target, with: values, when: LLVMBuildICmp(ir.builder, LLVMIntNE, value(condition), ir.c32(0), "")!)
        }
        for (t, v) in zip(types, values) { push(t, v.value) }
    }

    /// Jumps to label `target` with `values` when `condition` holds; emission continues in a new
    /// block otherwise (br_if, br_on_null, br_on_non_null).
    func branch(to target: Int, with values: [Operand], when condition: LLVMValueRef) {
        let frame = frames[target]
        for (slot, v) in zip(frame.slots, values) { ir.store(value(v), slot) }
        let cont = newBlock("br_cont")
        LLVMBuildCondBr(ir.builder, condition, frame.target, cont)
        LLVMPositionBuilderAtEnd(ir.builder, cont)
    }

    private func branchTable(_ table: BrTable) throws(CompileError) {
        let index = try pop(.i32)
        let defaultTarget = try label(table.defaultIndex)
        let arity = frames[defaultTarget].labelTypes.count
        var targets: [Int] = []
        for depth in table.labelIndices {
            let t = try label(depth)
            guard frames[t].labelTypes.count == arity else { throw error("type mismatch: br_table targets have different arity") }
            targets.append(t)
        }
        // Every label's types must match the operands (checked against a scratch copy).
        for t in targets + [defaultTarget] {
            let saved = stack
            _ = try pop(frames[t].labelTypes)
            stack = saved
        }
        let values = try pop(frames[defaultTarget].labelTypes)
        if emitting {
            let vs = values.map { value($0) }
            var trampolines: [Int: LLVMBasicBlockRef] = [:]
            func trampoline(_ target: Int) -> LLVMBasicBlockRef {
                if let block = trampolines[target] { return block }
                let current = LLVMGetInsertBlock(ir.builder)!
                let block = newBlock("br_table_case")
                LLVMPositionBuilderAtEnd(ir.builder, block)
                jump(to: target, with: vs)
                LLVMPositionBuilderAtEnd(ir.builder, current)
                trampolines[target] = block
                return block
            }
            let defaultBlock = trampoline(defaultTarget)
            let sw = LLVMBuildSwitch(ir.builder, value(index), defaultBlock, UInt32(targets.count))!
            for (i, t) in targets.enumerated() {
                LLVMAddCase(sw, ir.c32(i), trampoline(t))
            }
        }
        markUnreachable()
    }
}

extension FunctionLowerer {
    /// A value type used in a body names an existing type (concrete references).
    func checkType(_ t: ValueType) throws(CompileError) {
        if case .ref(let r) = t, case .concrete(let i) = r.heapType, Int(i) >= m.wasm.types.count {
            throw error("unknown type \(i)")
        }
    }

    /// The operand is a reference; its heap type (nil: unknown, in unreachable code).
    func popReference() throws(CompileError) -> (operand: Operand, heap: HeapType?) {
        let v = try pop()
        guard let t = v.type else { return (v, nil) }
        guard case .ref(let r) = t else { throw error("type mismatch: expected a reference, found \(UnsupportedProposal.typeName(t))") }
        return (v, r.heapType)
    }

    /// `br_on_null l`: branches with the label's values when the reference is null; otherwise
    /// continues with it as non-nullable.
    func branchOnNull(_ depth: UInt32) throws(CompileError) {
        let (ref, heap) = try popReference()
        let target = try label(depth)
        let types = frames[target].labelTypes
        let values = try pop(types)
        if emitting { branch(to: target, with: values, when: LLVMBuildIsNull(ir.builder, value(ref), "")!) }
        for (t, v) in zip(types, values) { push(t, v.value) }
        push(heap.map { .ref(ReferenceType(isNullable: false, heapType: $0)) }, ref.value)
    }

    /// `br_on_non_null l`: branches with the label's values (the last one the reference, as
    /// non-nullable) when the reference is not null; otherwise drops it and continues.
    func branchOnNonNull(_ depth: UInt32) throws(CompileError) {
        let target = try label(depth)
        var types = frames[target].labelTypes
        guard let last = types.popLast(), case .ref(let labelRef) = last else {
            throw error("type mismatch: br_on_non_null needs a label whose last value is a reference")
        }
        let (ref, heap) = try popReference()
        if let heap, !m.wasm.isHeapSubtype(heap, of: labelRef.heapType) {
            throw error("type mismatch: br_on_non_null operand does not match its label")
        }
        let values = try pop(types)
        if emitting { branch(to: target, with: values + [ref], when: LLVMBuildIsNotNull(ir.builder, value(ref), "")!) }
        for (t, v) in zip(types, values) { push(t, v.value) }
    }

    func refAsNonNull() throws(CompileError) {
        let (ref, heap) = try popReference()
        if emitting { trapIf(LLVMBuildIsNull(ir.builder, value(ref), "")!, TrapKind.nullReference) }
        push(heap.map { .ref(ReferenceType(isNullable: false, heapType: $0)) }, ref.value)
    }
}
