import CLLVM
import CWasmAOTRuntime
import WasmAOTCore
import WasmParser
import WasmTypes

/// Emits `const wasmaot_module_desc wasmaot_module` — field for field the C struct of
/// Runtime/include/wasmaot_rt.h (LLVM's natural struct layout equals the C layout here).
struct DescriptorEmitter {
    static let abiVersion = Int(WASMAOT_ABI_VERSION)
    /// wasmaot_rt.h's WASMAOT_EXTERN_* (the runtime's own numbers, not copies).
    static let externFunc = Int(WASMAOT_EXTERN_FUNC), externTable = Int(WASMAOT_EXTERN_TABLE)
    static let externMemory = Int(WASMAOT_EXTERN_MEMORY), externGlobal = Int(WASMAOT_EXTERN_GLOBAL)
    static let externTag = Int(WASMAOT_EXTERN_TAG)

    let m: ModuleContext
    let initFunction: LLVMValueRef
    let wasiDefaults: String
    var ir: IR { m.ir }

    init(_ m: ModuleContext, initFunction: LLVMValueRef, wasiDefaults: String) {
        self.m = m
        self.initFunction = initFunction
        self.wasiDefaults = wasiDefaults
    }

    private func limitsMax(_ max: UInt64?) -> LLVMValueRef { ir.c64u(max ?? UInt64.max) }

    func emit() {
        let wasm = m.wasm
        var kindIndex = [0, 0, 0, 0, 0]  // per extern kind, tags (4) included
        let importType = structType([ir.ptr, ir.ptr, ir.i32, ir.i32, ir.ptr, ir.i64, ir.i64])
        let imports: [LLVMValueRef] = wasm.imports.map { imp in
            let (kind, type, min, max): (Int, LLVMValueRef, UInt64, LLVMValueRef)
            switch imp.descriptor {
            case .function(let t):
                // The canonical string: the runtime's funcref record of a host import points at it.
                (kind, type, min, max) = (Self.externFunc, m.canonicalType(wasm.typeTexts[Int(t)]), 0, ir.c64(0))
            case .table(let t):
                (kind, type, min, max) = (Self.externTable, ir.cString(Signature.tableText(t, texts: wasm.typeTexts)), t.limits.min, limitsMax(t.limits.max))
            case .memory(let l):
                // "i64" for a 64-bit memory: links only to one.
                (kind, type, min, max) = (Self.externMemory, ir.cString(l.isMemory64 ? "i64" : ""), l.min, limitsMax(l.max))
            case .global(let g):
                (kind, type, min, max) = (Self.externGlobal, ir.cString(Signature.globalText(g, texts: wasm.typeTexts)), 0, ir.c64(0))
            case .tag(let t):
                (kind, type, min, max) = (Self.externTag, m.canonicalType(wasm.typeTexts[Int(t)]), 0, ir.c64(0))
            }
            defer { kindIndex[kind] += 1 }
            return ir.constStruct([ir.cString(imp.module), ir.cString(imp.name), ir.c32(kind), ir.c32(kindIndex[kind]),
                                   type, ir.c64u(min), max])
        }
        let exportType = structType([ir.ptr, ir.i32, ir.i32])
        let exports: [LLVMValueRef] = wasm.exports.map { export in
            let (kind, index): (Int, UInt32)
            switch export.descriptor {
            case .function(let i): (kind, index) = (Self.externFunc, i)
            case .table(let i): (kind, index) = (Self.externTable, i)
            case .memory(let i): (kind, index) = (Self.externMemory, i)
            case .global(let i): (kind, index) = (Self.externGlobal, i)
            case .tag(let i): (kind, index) = (Self.externTag, i)
            }
            return ir.constStruct([ir.cString(export.name), ir.c32(kind), ir.c32(Int(index))])
        }
        let funcType = structType([ir.ptr])
        let funcs: [LLVMValueRef] = wasm.functionTypeIndices.map { t in
            ir.constStruct([m.canonicalType(wasm.typeTexts[Int(t)])])
        }
        let tableType = structType([ir.i32, ir.i32, ir.i64, ir.i64, ir.ptr])
        let tables: [LLVMValueRef] = wasm.tables.enumerated().map { i, t in
            ir.constStruct([ir.c32(Signature.letter(.ref(t.elementType)) == "e" ? 1 : 0), ir.c32(i < wasm.importedTableCount ? 1 : 0),
                            ir.c64u(t.limits.min), limitsMax(t.limits.max),
                            ir.cString(Signature.tableText(t, texts: wasm.typeTexts))])
        }
        let globalType = structType([ir.ptr, ir.i32, ir.i32])
        let globals: [LLVMValueRef] = wasm.globals.enumerated().map { i, g in
            let imported = i < wasm.importedGlobalCount
            let offset = imported ? m.layout.importedGlobal(i) : m.layout.definedGlobal(i - wasm.importedGlobalCount)
            return ir.constStruct([ir.cString(Signature.globalText(g, texts: wasm.typeTexts)), ir.c32(imported ? 1 : 0), ir.c32(offset)])
        }
        let memoryType = structType([ir.i32, ir.i32, ir.i64, ir.i64])
        let memories: [LLVMValueRef] = wasm.memories.enumerated().map { i, l in
            ir.constStruct([ir.c32(i < wasm.importedMemoryCount ? 1 : 0), ir.c32(l.isMemory64 ? 1 : 0), ir.c64u(l.min),
                            ir.c64u(l.max ?? (l.isMemory64 ? 1 << 48 : 65536))])
        }
        let cEntryCode = makeCEntryCode()
        let fields: [LLVMValueRef] = [
            ir.c32(Self.abiVersion), ir.c32(m.layout.size),
            ir.c32(imports.count), ir.constArrayGlobal(importType, imports, name: "imports"),
            ir.c32(exports.count), ir.constArrayGlobal(exportType, exports, name: "exports"),
            ir.c32(wasm.functionTypeIndices.count), ir.c32(wasm.importedFunctionCount),
            ir.constArrayGlobal(funcType, funcs, name: "funcs"),
            ir.constArrayGlobal(ir.ptr, cEntryCode, name: "func_code"),
            ir.c32(m.layout.importedFuncs), ir.c32(m.layout.funcrefs),
            ir.c32(tables.count), ir.constArrayGlobal(tableType, tables, name: "tables"), ir.c32(m.layout.tables),
            ir.c32(memories.count), ir.c32(m.layout.memories), ir.constArrayGlobal(memoryType, memories, name: "memories"),
            ir.c32(globals.count), ir.constArrayGlobal(globalType, globals, name: "globals"),
            initFunction, ir.cString(wasiDefaults),
            ir.constArrayGlobal(ir.ptr, cEntries(cEntryCode), name: "func_c_entry"),
            sectionBound("__start_"), sectionBound("__stop_"),
            ir.c32(wasm.types.count), ir.c32(m.layout.typeIDs),
            ir.constArrayGlobal(ir.ptr, wasm.typeTexts.map { m.canonicalType($0) }, name: "types"),
            wasm.usesTailCalls ? ir.constArrayGlobal(ir.ptr, m.allDefinedFunctions, name: "func_tail_code") : ir.nullPtr,
            ir.c32(wasm.tags.count), ir.c32(wasm.importedTagCount), ir.c32(m.layout.tags), ir.c32(0),
            ir.constArrayGlobal(ir.ptr, wasm.tags.map { m.canonicalType(wasm.typeTexts[Int($0)]) }, name: "tag_types"),
        ]
        let descriptor = ir.constStruct(fields)
        let global = LLVMAddGlobal(ir.module, LLVMTypeOf(descriptor), "wasmaot_module")!
        LLVMSetInitializer(global, descriptor)
        LLVMSetGlobalConstant(global, 1)
        LLVMSetAlignment(global, 8)
    }

    /// Whether C code may call defined function `j`: it can be referenced (export, element
    /// segment, ref.func — all in declaredFunctionReferences) or is the start function.
    private func reachableFromC(_ j: Int) -> Bool {
        let index = UInt32(m.wasm.importedFunctionCount + j)
        return m.wasm.declaredFunctionReferences.contains(index) || m.wasm.start == index
    }

    /// C-convention entries (wasmaot_module_desc.func_code, funcref.code): the functions
    /// themselves, or in a module with tail calls a wrapper that calls the tailcc function, for
    /// each function C code can reach (NULL for the others).
    private func makeCEntryCode() -> [LLVMValueRef] {
        let wasm = m.wasm
        guard wasm.usesTailCalls else { return m.allDefinedFunctions }
        return m.allDefinedFunctions.enumerated().map { j, fn in
            guard reachableFromC(j) else { return ir.nullPtr }
            let type = m.llvmFunctionTypes[Int(wasm.functionTypeIndices[wasm.importedFunctionCount + j])]
            let wrapper = LLVMAddFunction(ir.module, "wasm_f\(wasm.importedFunctionCount + j)_ccc", type)!
            LLVMSetLinkage(wrapper, LLVMInternalLinkage)
            let current = LLVMGetInsertBlock(ir.builder)
            LLVMPositionBuilderAtEnd(ir.builder, LLVMAppendBasicBlockInContext(ir.context, wrapper, "entry"))
            let args = (0..<LLVMCountParams(wrapper)).map { LLVMGetParam(wrapper, $0)! }
            let result = m.callWasm(type, fn, args)
            if LLVMGetTypeKind(LLVMGetReturnType(type)) == LLVMVoidTypeKind { LLVMBuildRetVoid(ir.builder) } else { LLVMBuildRet(ir.builder, result) }
            if let current { LLVMPositionBuilderAtEnd(ir.builder, current) }
            return wrapper
        }
    }

    /// C-ABI entries for embedders (see wasmaot_module_desc.func_c_entry): a wrapper storing the
    /// results through a pointer for multi-value functions, the C-convention entry otherwise.
    private func cEntries(_ code: [LLVMValueRef]) -> [LLVMValueRef] {
        let wasm = m.wasm
        return m.allDefinedFunctions.enumerated().map { j, fn in
            let type = wasm.functionType(ofFunction: UInt32(wasm.importedFunctionCount + j))
            if (type.parameters + type.results).contains(.v128) {
                return reachableFromC(j) ? slotEntry(j, fn, type) : ir.nullPtr
            }
            guard type.results.count > 1, reachableFromC(j) else { return code[j] }
            let params = [ir.ptr] + type.parameters.map { ir.type($0) } + [ir.ptr]
            let wrapper = LLVMAddFunction(ir.module, "wasm_f\(wasm.importedFunctionCount + j)_c", ir.fnType(ir.void, params))!
            LLVMSetLinkage(wrapper, LLVMInternalLinkage)
            LLVMPositionBuilderAtEnd(ir.builder, LLVMAppendBasicBlockInContext(ir.context, wrapper, "entry"))
            let args = (0..<(params.count - 1)).map { LLVMGetParam(wrapper, UInt32($0))! }
            let result = m.callWasm(m.llvmFunctionTypes[Int(wasm.functionTypeIndices[wasm.importedFunctionCount + j])], fn, args)
            let out = LLVMGetParam(wrapper, UInt32(params.count - 1))!
            for i in 0..<type.results.count {
                ir.store(LLVMBuildExtractValue(ir.builder, result, UInt32(i), "")!, ir.gep(out, 8 * i))
            }
            LLVMBuildRetVoid(ir.builder)
            return wrapper
        }
    }

    /// `void f(vmctx, const uint64_t *args, uint64_t *results)` for a function with v128 values:
    /// one 8-byte slot per value (i32/f32 in the low bytes), two for a v128.
    private func slotEntry(_ j: Int, _ fn: LLVMValueRef, _ type: FunctionType) -> LLVMValueRef {
        let wasm = m.wasm
        let wrapper = LLVMAddFunction(ir.module, "wasm_f\(wasm.importedFunctionCount + j)_slots", ir.fnType(ir.void, [ir.ptr, ir.ptr, ir.ptr]))!
        LLVMSetLinkage(wrapper, LLVMInternalLinkage)
        LLVMPositionBuilderAtEnd(ir.builder, LLVMAppendBasicBlockInContext(ir.context, wrapper, "entry"))
        let input = LLVMGetParam(wrapper, 1)!, output = LLVMGetParam(wrapper, 2)!
        var offset = 0
        var args = [LLVMGetParam(wrapper, 0)!]
        for p in type.parameters {
            args.append(ir.load(ir.type(p), ir.gep(input, offset)))
            offset += p == .v128 ? 16 : 8
        }
        let result = m.callWasm(m.llvmFunctionTypes[Int(wasm.functionTypeIndices[wasm.importedFunctionCount + j])], fn, args)
        offset = 0
        for (i, r) in type.results.enumerated() {
            let v = type.results.count == 1 ? result : LLVMBuildExtractValue(ir.builder, result, UInt32(i), "")!
            ir.store(v, ir.gep(output, offset))
            offset += r == .v128 ? 16 : 8
        }
        LLVMBuildRetVoid(ir.builder)
        return wrapper
    }

    /// The linker's `__start_`/`__stop_` symbol of the generated-code section: weak (NULL if no
    /// object has the section), hidden (resolved inside this executable or shared object).
    private func sectionBound(_ prefix: String) -> LLVMValueRef {
        let bound = LLVMAddGlobal(ir.module, ir.i8, prefix + WASMAOT_CODE_SECTION)!
        LLVMSetLinkage(bound, LLVMExternalWeakLinkage)
        LLVMSetVisibility(bound, LLVMHiddenVisibility)
        return bound
    }

    private func structType(_ members: [LLVMTypeRef]) -> LLVMTypeRef {
        var ms: [LLVMTypeRef?] = members
        return LLVMStructTypeInContext(ir.context, &ms, UInt32(ms.count), 0)
    }
}
