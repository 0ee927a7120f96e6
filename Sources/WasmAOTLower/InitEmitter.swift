import CLLVM
import WasmAOTCore
import WasmParser
import WasmTypes

/// Emits `init(vmctx)`: the instantiation steps of Wasm 2.0 in spec order (the runtime has
/// filled the funcref records before) — globals, element segment items, active element segments, active data segments (each may
/// trap, keeping earlier effects), then the start function.
struct InitEmitter {
    let m: ModuleContext
    var ir: IR { m.ir }

    init(_ m: ModuleContext) { self.m = m }

    func emit() -> LLVMValueRef {
        let fn = LLVMAddFunction(ir.module, "wasmaot_init", ir.fnType(ir.void, [ir.ptr]))!
        LLVMSetLinkage(fn, LLVMInternalLinkage)
        let vmctx = LLVMGetParam(fn, 0)!
        LLVMPositionBuilderAtEnd(ir.builder, LLVMAppendBasicBlockInContext(ir.context, fn, "entry"))
        let wasm = m.wasm

        for (j, expression) in wasm.globalInitializers.enumerated() {
            ir.store(constant(expression, vmctx), ir.gep(vmctx, m.layout.definedGlobal(j)))
        }
        // Tables with an initializer (typed function references): every element starts as its value.
        for (j, expression) in wasm.tableInitializers.enumerated() {
            guard let expression else { continue }
            let tablePtr = ir.load(ir.ptr, ir.gep(vmctx, m.layout.table(wasm.importedTableCount + j)))
            let size = ir.load(ir.i32, ir.gep(tablePtr, VMContextLayout.tableSize), align: 4)
            let fn = m.runtimeFunction("wasmaot_table_fill", ir.void, [ir.ptr, ir.i32, ir.ptr, ir.i32])
            ir.call(fn.1, fn.0, [tablePtr, ir.c32(0), constant(expression, vmctx), size])
        }
        for (k, segment) in wasm.elements.enumerated() {
            let base = ir.gep(vmctx, m.layout.elementSegments[k])
            for (i, expression) in segment.initializer.enumerated() {
                ir.store(constant(expression, vmctx), ir.gep(base, 8 + 8 * i))
            }
            if case .passive = segment.mode {
                ir.store(ir.c32(segment.initializer.count), base, align: 4)
            }
        }
        for (k, segment) in wasm.elements.enumerated() {
            guard case .active(let table, let offset) = segment.mode else { continue }
            let base = ir.gep(vmctx, m.layout.elementSegments[k])
            let tablePtr = ir.load(ir.ptr, ir.gep(vmctx, m.layout.table(Int(table))))
            let n = ir.c32(segment.initializer.count)
            let fn = m.runtimeFunction("wasmaot_table_init", ir.void, [ir.ptr, ir.ptr, ir.i32, ir.i32, ir.i32, ir.i32])
            var dst = constant(offset, vmctx)
            if wasm.tables[Int(table)].limits.isMemory64 {
                // Beyond 2^32 is beyond any table: UINT32_MAX makes wasmaot_table_init trap.
                let big = LLVMBuildICmp(ir.builder, LLVMIntUGT, dst, ir.c64(Int(UInt32.max)), "")!
                dst = LLVMBuildSelect(ir.builder, big, ir.c32(-1), LLVMBuildTrunc(ir.builder, dst, ir.i32, ""), "")!
            }
            ir.call(fn.1, fn.0, [tablePtr, ir.gep(base, 8), n, dst, ir.c32(0), n])
        }
        for (k, segment) in wasm.data.enumerated() {
            switch segment {
            case .passive(let bytes):
                ir.store(ir.c32(bytes.count), ir.gep(vmctx, m.layout.dataLength(k)), align: 4)
            case .active(let active):
                let n = ir.c32(active.initializer.count)
                let fn = m.runtimeFunction("wasmaot_memory_init", ir.void, [ir.ptr, ir.ptr, ir.i32, ir.i64, ir.i32, ir.i32])
                let memory = ir.load(ir.ptr, ir.gep(vmctx, m.layout.memory(Int(active.index))))
                var offset = constant(active.offset, vmctx)
                if !wasm.memories[Int(active.index)].isMemory64 { offset = LLVMBuildZExt(ir.builder, offset, ir.i64, "")! }
                ir.call(fn.1, fn.0, [memory, m.dataSegment(k), n, offset, ir.c32(0), n])
            }
        }
        if let start = wasm.start {
            if Int(start) < wasm.importedFunctionCount {
                let record = ir.load(ir.ptr, ir.gep(vmctx, m.layout.importedFunction(Int(start))))
                let code = ir.load(ir.ptr, ir.gep(record, VMContextLayout.funcrefCode))
                let calleeContext = ir.load(ir.ptr, ir.gep(record, VMContextLayout.funcrefVMContext))
                ir.call(ir.fnType(ir.void, [ir.ptr]), code, [calleeContext])
            } else {
                let callee = m.definedFunction(Int(start) - wasm.importedFunctionCount)
                m.callWasm(ir.fnType(ir.void, [ir.ptr]), callee, [vmctx])
            }
        }
        LLVMBuildRetVoid(ir.builder)
        return fn
    }

    /// Evaluates a (validated) constant expression at instantiation time.
    func constant(_ expression: ConstExpression, _ vmctx: LLVMValueRef) -> LLVMValueRef {
        var stack: [LLVMValueRef] = []
        for instruction in expression {
            switch instruction {
            case .i32Const(let v): stack.append(ir.c32(Int(v)))
            case .i64Const(let v): stack.append(ir.c64(Int(v)))
            case .f32Const(let v): stack.append(ir.cf32(bits: v.bitPattern))
            case .f64Const(let v): stack.append(ir.cf64(bits: v.bitPattern))
            case .v128Const(let v):
                func word(_ at: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(v.bytes[at + $1]) << (8 * UInt64($1)) } }
                var words: [LLVMValueRef?] = [ir.c64u(word(0)), ir.c64u(word(8))]
                stack.append(LLVMConstVector(&words, 2))
            case .refNull: stack.append(ir.nullPtr)
            case .refFunc(let f):
                if Int(f) < m.wasm.importedFunctionCount {
                    stack.append(ir.load(ir.ptr, ir.gep(vmctx, m.layout.importedFunction(Int(f)))))
                } else {
                    stack.append(ir.gep(vmctx, m.layout.funcref(Int(f) - m.wasm.importedFunctionCount)))
                }
            case .globalGet(let g):
                let type = ir.type(m.wasm.globals[Int(g)].valueType)
                let cell = Int(g) < m.wasm.importedGlobalCount
                    ? ir.load(ir.ptr, ir.gep(vmctx, m.layout.importedGlobal(Int(g))))
                    : ir.gep(vmctx, m.layout.definedGlobal(Int(g) - m.wasm.importedGlobalCount))
                stack.append(ir.load(type, cell))
            case .binary(let op):
                let b = stack.removeLast(), a = stack.removeLast()
                switch op {
                case .i32Add, .i64Add: stack.append(LLVMBuildAdd(ir.builder, a, b, ""))
                case .i32Sub, .i64Sub: stack.append(LLVMBuildSub(ir.builder, a, b, ""))
                default: stack.append(LLVMBuildMul(ir.builder, a, b, ""))  // i32.mul, i64.mul (validated)
                }
            default: break
            }
        }
        return stack.last!
    }
}
