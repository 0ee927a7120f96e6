import CLLVM
import CWasmAOTRuntime
import WasmAOTCore
import WasmParser
import WasmTypes

/// Exception handling (see "Exceptions" in Runtime/include/wasmaot_rt.h). Every frame that
/// handles exceptions — a `try_table`, or a legacy `try` while in its body — gets, once
/// something in its body may throw, a landing pad (where the unwinder enters for calls made
/// there with `invoke`) and a dispatch block (a phi of the exception: the landing pad and local
/// throws branch to it). The dispatch, emitted at the frame's end, compares the exception's tag
/// with the clauses in order and branches to the first that matches; without a match it goes on
/// to the next handler outwards in the function, or throws out of it.
extension FunctionLowerer {
    static let exnRef = ValueType.ref(ReferenceType(isNullable: false, heapType: .abstract(.exnRef)))
    static let nullableExnRef = ValueType.ref(ReferenceType(isNullable: true, heapType: .abstract(.exnRef)))

    /// The innermost frame at or below `index` whose body handles exceptions (nil: none in this
    /// function — a throw leaves it).
    func handlerFrame(from index: Int) -> Int? {
        var i = index
        while i >= 0 {
            if frames[i].kind == .tryTable || frames[i].kind == .legacyTry { return i }
            i -= 1
        }
        return nil
    }

    var currentHandler: Int? { m.wasm.usesExceptions ? handlerFrame(from: frames.count - 1) : nil }

    /// The landing pad of handler frame `h` (made on first use).
    func landingPad(_ h: Int) -> LLVMBasicBlockRef {
        if let pad = frames[h].landingPad { return pad }
        let pad = newBlock("landing_pad")
        let current = LLVMGetInsertBlock(ir.builder)!
        LLVMPositionBuilderAtEnd(ir.builder, pad)
        var members: [LLVMTypeRef?] = [ir.ptr, ir.i32]
        let padType = LLVMStructTypeInContext(ir.context, &members, 2, 0)!
        let lp = LLVMBuildLandingPad(ir.builder, padType, m.personality, 0, "")!
        LLVMSetCleanup(lp, 1)
        if LLVMGetPersonalityFn(function) == nil { LLVMSetPersonalityFn(function, m.personality) }
        let exn = LLVMBuildExtractValue(ir.builder, lp, 0, "exn")!
        routeException(exn, to: h)
        LLVMPositionBuilderAtEnd(ir.builder, current)
        frames[h].landingPad = pad
        return pad
    }

    /// The dispatch block of handler frame `h` and its exception phi (made on first use).
    func dispatch(_ h: Int) -> (block: LLVMBasicBlockRef, exn: LLVMValueRef) {
        if let block = frames[h].dispatch, let phi = frames[h].dispatchException { return (block, phi) }
        let block = newBlock("dispatch")
        let current = LLVMGetInsertBlock(ir.builder)
        LLVMPositionBuilderAtEnd(ir.builder, block)
        let phi = LLVMBuildPhi(ir.builder, ir.ptr, "exn")!
        if let current { LLVMPositionBuilderAtEnd(ir.builder, current) }
        frames[h].dispatch = block
        frames[h].dispatchException = phi
        return (block, phi)
    }

    /// Ends the current block by handing `exn` to handler frame `h` (nil: throws it out of the
    /// function).
    func routeException(_ exn: LLVMValueRef, to h: Int?) {
        guard let h else {
            ir.call(m.exnThrow.1, m.exnThrow.0, [exn])
            LLVMBuildUnreachable(ir.builder)
            return
        }
        let (block, phi) = dispatch(h)
        var incoming: [LLVMValueRef?] = [exn]
        var blocks: [LLVMBasicBlockRef?] = [LLVMGetInsertBlock(ir.builder)]
        LLVMAddIncoming(phi, &incoming, &blocks, 1)
        LLVMBuildBr(ir.builder, block)
    }

    /// A call that may throw: an `invoke` to the current handler's landing pad inside one, else a
    /// plain call.
    func emitCall(_ type: LLVMTypeRef, _ fn: LLVMValueRef, _ args: [LLVMValueRef], wasmConvention: Bool) -> LLVMValueRef {
        let call: LLVMValueRef
        if let h = currentHandler {
            let normal = newBlock("invoke_cont")
            var values: [LLVMValueRef?] = args
            call = LLVMBuildInvoke2(ir.builder, type, fn, &values, UInt32(values.count), normal, landingPad(h), "")!
            LLVMPositionBuilderAtEnd(ir.builder, normal)
        } else {
            call = ir.call(type, fn, args)
        }
        if wasmConvention && m.wasm.usesTailCalls { LLVMSetInstructionCallConv(call, ModuleContext.tailCallConv) }
        return call
    }

    // MARK: tags and payloads

    func tagType(_ x: UInt32) throws(CompileError) -> FunctionType {
        guard Int(x) < m.wasm.tags.count else { throw error("unknown tag \(x)") }
        return m.wasm.types[Int(m.wasm.tags[Int(x)])]
    }

    /// The payload types of a tag already validated.
    private func tagParameters(_ x: UInt32) -> [ValueType] { m.wasm.types[Int(m.wasm.tags[Int(x)])].parameters }

    /// The exception is reachable through an exnref from now on: wasmaot_exn_free leaves it.
    private func markReferenced(_ exn: LLVMValueRef) {
        let flags = ir.gep(exn, VMContextLayout.exceptionFlags)
        ir.store(LLVMBuildOr(ir.builder, ir.load(ir.i32, flags, align: 4), ir.c32(Int(WASMAOT_EXN_EXPOSED)), "")!, flags, align: 4)
    }

    /// An exnref stored where the runtime's stack scan does not look (a global, a table, a
    /// payload) keeps its exception forever (wasmaot_rt.h, "Lifetime").
    func pinIfException(_ value: LLVMValueRef, _ type: ValueType?) {
        guard let type, m.wasm.isSubtype(type, of: Self.nullableExnRef) else { return }
        ir.call(m.exnPin.1, m.exnPin.0, [value])
    }

    private func tagIdentity(_ x: UInt32) -> LLVMValueRef {
        let id = ir.load(ir.ptr, ir.gep(vmctx, m.layout.tag(Int(x))))
        ir.markInvariant(id)
        return id
    }

    /// Payload layout: 8-byte slots after the header, a v128 value taking two (wasmaot_exn_new
    /// counts slots). Returns each value's byte offset and the slot count.
    private func payloadLayout(_ types: [ValueType]) -> (offsets: [Int], slots: Int) {
        var slots = 0
        let offsets = types.map { t in
            defer { slots += t == .v128 ? 2 : 1 }
            return VMContextLayout.exceptionValues + 8 * slots
        }
        return (offsets, slots)
    }

    private func payload(_ exn: LLVMValueRef, _ types: [ValueType]) -> [LLVMValueRef] {
        zip(types, payloadLayout(types).offsets).map { t, offset in ir.load(ir.type(t), ir.gep(exn, offset)) }
    }

    private func freeException(_ exn: LLVMValueRef) {
        ir.call(m.exnFree.1, m.exnFree.0, [exn])
    }

    // MARK: instructions

    /// `throw x`: a new exception with the tag's parameters as its payload.
    func throwException(_ x: UInt32) throws(CompileError) {
        let type = try tagType(x)
        let values = try pop(type.parameters)
        if emitting {
            let layout = payloadLayout(type.parameters)
            let exn = ir.call(m.exnNew.1, m.exnNew.0, [tagIdentity(x), ir.c32(layout.slots)])
            for (i, v) in values.enumerated() {
                pinIfException(value(v), type.parameters[i])
                ir.store(value(v), ir.gep(exn, layout.offsets[i]))
            }
            routeException(exn, to: currentHandler)
        }
        markUnreachable()
    }

    /// `throw_ref`: throws the exception again (traps on null).
    func throwReference() throws(CompileError) {
        let ref = try pop(Self.nullableExnRef)
        if emitting {
            trapIf(LLVMBuildIsNull(ir.builder, value(ref), "")!, TrapKind.nullReference)
            routeException(value(ref), to: currentHandler)
        }
        markUnreachable()
    }

    /// `try_table bt clause* … end`: a block whose body's exceptions branch to the clauses' labels
    /// (resolved outside the block).
    func enterTryTable(_ bt: BlockType, _ tryCatch: TryCatch) throws(CompileError) {
        var clauses: [ControlFrame.Clause] = []
        for clause in tryCatch.catches {
            let (tag, depth, withReference): (UInt32?, UInt32, Bool)
            switch clause {
            case .catch(let x, let l): (tag, depth, withReference) = (x, l, false)
            case .catchRef(let x, let l): (tag, depth, withReference) = (x, l, true)
            case .catchAll(let l): (tag, depth, withReference) = (nil, l, false)
            case .catchAllRef(let l): (tag, depth, withReference) = (nil, l, true)
            }
            let target = try label(depth)
            var types = try tag.map { (x: UInt32) throws(CompileError) in try tagType(x).parameters } ?? []
            if withReference { types.append(Self.exnRef) }
            let labelTypes = frames[target].labelTypes
            guard types.count == labelTypes.count, zip(types, labelTypes).allSatisfy({ m.wasm.isSubtype($0, of: $1) }) else {
                throw error("type mismatch: catch clause does not match its label")
            }
            clauses.append(.init(tag: tag, target: target, withReference: withReference))
        }
        try enterBlock(.tryTable, bt)
        frames[frames.count - 1].clauses = clauses
    }

    /// At the end of a try_table (`frame`, just popped, at index `index`): its dispatch.
    func finishTryTable(_ frame: ControlFrame, index: Int) {
        guard let block = frame.dispatch, let exn = frame.dispatchException else { return }
        let current = LLVMGetInsertBlock(ir.builder)!
        LLVMPositionBuilderAtEnd(ir.builder, block)
        let tag = ir.load(ir.ptr, ir.gep(exn, VMContextLayout.exceptionTag))
        // Clauses in order; a catch_all ends the chain, else no match goes to the next handler.
        var open = true
        for clause in frame.clauses where open {
            var next: LLVMBasicBlockRef?
            if let x = clause.tag {
                let matched = newBlock("catch")
                next = newBlock("catch_next")
                LLVMBuildCondBr(ir.builder, LLVMBuildICmp(ir.builder, LLVMIntEQ, tag, tagIdentity(x), "")!, matched, next)
                LLVMPositionBuilderAtEnd(ir.builder, matched)
            }
            var values = clause.tag.map { payload(exn, tagParameters($0)) } ?? []
            if clause.withReference {
                markReferenced(exn)
                values.append(exn)
            } else {
                freeException(exn)
            }
            jump(to: clause.target, with: values)
            if let next { LLVMPositionBuilderAtEnd(ir.builder, next) } else { open = false }
        }
        if open { routeException(exn, to: handlerFrame(from: index - 1)) }
        LLVMPositionBuilderAtEnd(ir.builder, current)
    }

    // MARK: legacy exception handling

    /// `catch x` / `catch_all` of a legacy `try`: the previous part falls through to the end; the
    /// handler begins (with the payload on the stack) and the try's body no longer handles.
    func legacyCatch(_ tag: UInt32?) throws(CompileError) {
        let i = frames.count - 1
        guard frames[i].kind == .legacyTry || frames[i].kind == .legacyCatch else {
            throw error(tag == nil ? "catch_all without matching try" : "catch without matching try")
        }
        if frames[i].catchesAll { throw error("catch after catch_all") }
        let types = try tag.map { (x: UInt32) throws(CompileError) in try tagType(x).parameters } ?? []
        try fallThrough()
        resetInitialized(to: frames[i].initializedHeight)
        frames[i].kind = .legacyCatch
        frames[i].unreachable = false
        frames[i].catchesAll = tag == nil
        guard !frames[i].dead else {
            for t in types { push(t, nil) }
            return
        }
        let block = newBlock(tag == nil ? "catch_all" : "catch")
        let exn = dispatch(i).exn
        LLVMPositionBuilderAtEnd(ir.builder, block)
        let values = payload(exn, types)
        frames[i].legacyCatches.append(.init(tag: tag, block: block, lastPayloadLoad: values.last))
        for (t, v) in zip(types, values) { push(t, v) }
    }

    /// `rethrow l`: throws again the exception the catch at label `l` handles.
    func legacyRethrow(_ depth: UInt32) throws(CompileError) {
        let target = try label(depth)
        guard frames[target].kind == .legacyCatch else { throw error("invalid rethrow label") }
        if emitting {
            let exn = dispatch(target).exn
            frames[target].legacyCatches[frames[target].legacyCatches.count - 1].rethrown = true
            // A handler inside this catch may catch it again and would free it while this catch
            // can still rethrow it: from now on only the collector frees it.
            markReferenced(exn)
            routeException(exn, to: currentHandler)
        }
        markUnreachable()
    }

    /// How a legacy try ends: `end` (its catches handle), or `delegate` to the handler frame
    /// outside (nil: out of the function).
    enum LegacyEnd { case catches, delegate(to: Int?) }

    /// At the end of a legacy try (`frame`, just popped, at `index`): the dispatch over its
    /// catches, or for `delegate` a branch to the handler it names. A catch that nobody rethrows
    /// frees the exception once it has its payload.
    func finishLegacyTry(_ frame: ControlFrame, index: Int, _ end: LegacyEnd) {
        guard let block = frame.dispatch, let exn = frame.dispatchException else { return }
        let current = LLVMGetInsertBlock(ir.builder)!
        LLVMPositionBuilderAtEnd(ir.builder, block)
        if case .delegate(let handler) = end {
            routeException(exn, to: handler)
        } else {
            let tag = ir.load(ir.ptr, ir.gep(exn, VMContextLayout.exceptionTag))
            var open = true
            for c in frame.legacyCatches {
                if let x = c.tag {
                    let next = newBlock("catch_next")
                    LLVMBuildCondBr(ir.builder, LLVMBuildICmp(ir.builder, LLVMIntEQ, tag, tagIdentity(x), "")!, c.block, next)
                    LLVMPositionBuilderAtEnd(ir.builder, next)
                } else {
                    LLVMBuildBr(ir.builder, c.block)
                    open = false
                    break
                }
            }
            if open { routeException(exn, to: handlerFrame(from: index - 1)) }
            for c in frame.legacyCatches where !c.rethrown {
                if let load = c.lastPayloadLoad, let after = LLVMGetNextInstruction(load) {
                    LLVMPositionBuilderBefore(ir.builder, after)
                } else if let first = LLVMGetFirstInstruction(c.block) {
                    LLVMPositionBuilderBefore(ir.builder, first)
                } else {
                    LLVMPositionBuilderAtEnd(ir.builder, c.block)
                }
                freeException(exn)
            }
        }
        LLVMPositionBuilderAtEnd(ir.builder, current)
    }
}
