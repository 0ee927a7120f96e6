import CLLVM
import WasmParser
import WasmTypes

/// Shorthands over llvm-c for the lowering: types, constants, intrinsics and the few
/// instruction patterns used everywhere. One per LLVM module.
final class IR {
    let context: LLVMContextRef
    let module: LLVMModuleRef
    let builder: LLVMBuilderRef

    let void: LLVMTypeRef
    let i1: LLVMTypeRef
    let i8: LLVMTypeRef
    let i16: LLVMTypeRef
    let i32: LLVMTypeRef
    let i64: LLVMTypeRef
    let f32: LLVMTypeRef
    let f64: LLVMTypeRef
    let ptr: LLVMTypeRef

    init(context: LLVMContextRef, module: LLVMModuleRef) {
        self.context = context
        self.module = module
        builder = LLVMCreateBuilderInContext(context)
        void = LLVMVoidTypeInContext(context)
        i1 = LLVMInt1TypeInContext(context)
        i8 = LLVMInt8TypeInContext(context)
        i16 = LLVMInt16TypeInContext(context)
        i32 = LLVMInt32TypeInContext(context)
        i64 = LLVMInt64TypeInContext(context)
        f32 = LLVMFloatTypeInContext(context)
        f64 = LLVMDoubleTypeInContext(context)
        ptr = LLVMPointerTypeInContext(context, 0)
    }

    deinit { LLVMDisposeBuilder(builder) }

    func type(_ t: ValueType) -> LLVMTypeRef {
        switch t {
        case .i32: i32
        case .i64: i64
        case .f32: f32
        case .f64: f64
        case .v128: LLVMVectorType(i64, 2)
        case .ref: ptr
        }
    }

    /// Wasm results → LLVM return type: void, the value, or a first-class struct.
    func returnType(_ results: [ValueType]) -> LLVMTypeRef {
        switch results.count {
        case 0: return void
        case 1: return type(results[0])
        default:
            var members: [LLVMTypeRef?] = results.map { type($0) }
            return LLVMStructTypeInContext(context, &members, UInt32(members.count), 0)
        }
    }

    func functionType(_ ft: FunctionType) -> LLVMTypeRef {
        var params: [LLVMTypeRef?] = [ptr] + ft.parameters.map { type($0) }
        return LLVMFunctionType(returnType(ft.results), &params, UInt32(params.count), 0)
    }

    func fnType(_ ret: LLVMTypeRef, _ params: [LLVMTypeRef]) -> LLVMTypeRef {
        var ps: [LLVMTypeRef?] = params
        return LLVMFunctionType(ret, &ps, UInt32(ps.count), 0)
    }

    // MARK: constants
    func c32(_ v: Int) -> LLVMValueRef { LLVMConstInt(i32, UInt64(UInt32(truncatingIfNeeded: v)), 0) }
    func c64(_ v: Int) -> LLVMValueRef { LLVMConstInt(i64, UInt64(bitPattern: Int64(v)), 0) }
    func c64u(_ v: UInt64) -> LLVMValueRef { LLVMConstInt(i64, v, 0) }
    func cf32(bits: UInt32) -> LLVMValueRef { LLVMConstBitCast(LLVMConstInt(i32, UInt64(bits), 0), f32) }
    func cf64(bits: UInt64) -> LLVMValueRef { LLVMConstBitCast(LLVMConstInt(i64, bits, 0), f64) }
    func cf(_ type: LLVMTypeRef, _ v: Double) -> LLVMValueRef { LLVMConstReal(type, v) }
    var nullPtr: LLVMValueRef { LLVMConstNull(ptr) }
    func zero(_ t: ValueType) -> LLVMValueRef { LLVMConstNull(type(t)) }

    func cString(_ s: String, name: String = "str") -> LLVMValueRef {
        let bytes = Array(s.utf8) + [0]
        let arrayType = LLVMArrayType2(i8, UInt64(bytes.count))
        let global = LLVMAddGlobal(module, arrayType, name)!
        var values: [LLVMValueRef?] = bytes.map { LLVMConstInt(i8, UInt64($0), 0) }
        LLVMSetInitializer(global, LLVMConstArray2(i8, &values, UInt64(values.count)))
        LLVMSetGlobalConstant(global, 1)
        LLVMSetLinkage(global, LLVMPrivateLinkage)
        LLVMSetUnnamedAddress(global, LLVMGlobalUnnamedAddr)
        return global
    }

    func constStruct(_ values: [LLVMValueRef]) -> LLVMValueRef {
        var vs: [LLVMValueRef?] = values
        return LLVMConstStructInContext(context, &vs, UInt32(vs.count), 0)
    }

    /// A private constant array global; returns its address (or null for no elements).
    func constArrayGlobal(_ elementType: LLVMTypeRef, _ values: [LLVMValueRef], name: String) -> LLVMValueRef {
        if values.isEmpty { return nullPtr }
        var vs: [LLVMValueRef?] = values
        let arrayType = LLVMArrayType2(elementType, UInt64(vs.count))
        let global = LLVMAddGlobal(module, arrayType, name)!
        LLVMSetInitializer(global, LLVMConstArray2(elementType, &vs, UInt64(vs.count)))
        LLVMSetGlobalConstant(global, 1)
        LLVMSetLinkage(global, LLVMPrivateLinkage)
        return global
    }

    // MARK: intrinsics
    func intrinsic(_ name: String, _ overloads: [LLVMTypeRef]) -> (LLVMValueRef, LLVMTypeRef) {
        let id = LLVMLookupIntrinsicID(name, name.utf8.count)
        precondition(id != 0, "unknown intrinsic \(name)")
        var types: [LLVMTypeRef?] = overloads
        let fn = LLVMGetIntrinsicDeclaration(module, id, &types, types.count)!
        let type = LLVMIntrinsicGetType(context, id, &types, types.count)!
        return (fn, type)
    }

    @discardableResult
    func callIntrinsic(_ name: String, _ overloads: [LLVMTypeRef], _ args: [LLVMValueRef]) -> LLVMValueRef {
        let (fn, type) = intrinsic(name, overloads)
        return call(type, fn, args)
    }

    @discardableResult
    func call(_ type: LLVMTypeRef, _ fn: LLVMValueRef, _ args: [LLVMValueRef], name: String = "") -> LLVMValueRef {
        var as_: [LLVMValueRef?] = args
        return LLVMBuildCall2(builder, type, fn, &as_, UInt32(as_.count), name)
    }

    // MARK: memory helpers
    func gep(_ base: LLVMValueRef, _ byteOffset: LLVMValueRef) -> LLVMValueRef {
        var idx: [LLVMValueRef?] = [byteOffset]
        return LLVMBuildInBoundsGEP2(builder, i8, base, &idx, 1, "")
    }

    func gep(_ base: LLVMValueRef, _ byteOffset: Int) -> LLVMValueRef {
        byteOffset == 0 ? base : gep(base, c64(byteOffset))
    }

    func load(_ type: LLVMTypeRef, _ pointer: LLVMValueRef, align: UInt32 = 8) -> LLVMValueRef {
        let value = LLVMBuildLoad2(builder, type, pointer, "")!
        LLVMSetAlignment(value, align)
        return value
    }

    @discardableResult
    func store(_ value: LLVMValueRef, _ pointer: LLVMValueRef, align: UInt32 = 8) -> LLVMValueRef {
        let inst = LLVMBuildStore(builder, value, pointer)!
        LLVMSetAlignment(inst, align)
        return inst
    }

    func markInvariant(_ load: LLVMValueRef) {
        let kind = LLVMGetMDKindIDInContext(context, "invariant.load", 14)
        LLVMSetMetadata(load, kind, LLVMMetadataAsValue(context, LLVMMDNodeInContext2(context, nil, 0)))
    }

    func addFunctionAttribute(_ fn: LLVMValueRef, _ name: String, index: LLVMAttributeIndex = LLVMAttributeIndex(bitPattern: -1)) {
        let kind = LLVMGetEnumAttributeKindForName(name, name.utf8.count)
        LLVMAddAttributeAtIndex(fn, index, LLVMCreateEnumAttribute(context, kind, 0))
    }

    func addStringAttribute(_ fn: LLVMValueRef, _ key: String, _ value: String) {
        let attr = LLVMCreateStringAttribute(context, key, UInt32(key.utf8.count), value, UInt32(value.utf8.count))
        LLVMAddAttributeAtIndex(fn, LLVMAttributeIndex(bitPattern: -1), attr)
    }
}
