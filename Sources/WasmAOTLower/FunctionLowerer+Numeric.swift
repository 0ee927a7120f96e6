import CLLVM
import WasmAOTCore
import WasmParser
import WasmTypes

/// Numeric instructions, with the Wasm semantics LLVM does not give for free (DESIGN.md §3):
/// masked shifts, trapping division and conversion, NaN-propagating min/max, roundeven.
extension FunctionLowerer {
    private var b: LLVMBuilderRef { ir.builder }

    private func unaryOp(_ t: ValueType, _ result: ValueType, _ emit: (LLVMValueRef) -> LLVMValueRef) throws(CompileError) {
        let a = try pop(t)
        push(result, emitting ? emit(value(a)) : nil)
    }

    private func binaryOp(_ t: ValueType, _ result: ValueType, _ emit: (LLVMValueRef, LLVMValueRef) -> LLVMValueRef) throws(CompileError) {
        let rhs = try pop(t)
        let lhs = try pop(t)
        push(result, emitting ? emit(value(lhs), value(rhs)) : nil)
    }

    private func bool(_ v: LLVMValueRef) -> LLVMValueRef { LLVMBuildZExt(b, v, ir.i32, "") }

    /// Wasm arithmetic must return a quiet ("arithmetic") NaN for NaN inputs. LLVM folds
    /// identities such as x-0, x*1, x/-1 and demote(promote(x)) to x or -x and lets minimum
    /// pass a signalling NaN through; setting the quiet bit on a NaN result restores the rule
    /// (a canonical NaN stays canonical) without giving up those folds for other values.
    private func quiet(_ v: LLVMValueRef, _ t: ValueType) -> LLVMValueRef {
        let intType = t == .f32 ? ir.i32 : ir.i64
        let quietBit = t == .f32 ? ir.c32(0x0040_0000) : ir.c64u(0x0008_0000_0000_0000)
        let bits = LLVMBuildBitCast(b, v, intType, "")
        let quieted = LLVMBuildBitCast(b, LLVMBuildOr(b, bits, quietBit, ""), ir.type(t), "")
        let isNaN = LLVMBuildFCmp(b, LLVMRealUNO, v, v, "")
        return LLVMBuildSelect(b, isNaN, quieted, v, "")
    }

    /// True for the constants that make add/sub/mul/div an identity or a negation.
    private func isIdentityConstant(_ v: LLVMValueRef) -> Bool {
        guard LLVMIsAConstantFP(v) != nil else { return false }
        var lossy: LLVMBool = 0
        let d = LLVMConstRealGetDouble(v, &lossy)
        return d == 0 || d == 1 || d == -1
    }

    func eqz(_ t: ValueType) throws(CompileError) {
        try unaryOp(t, .i32) { bool(LLVMBuildICmp(b, LLVMIntEQ, $0, LLVMConstNull(ir.type(t)), "")) }
    }

    func compare(_ op: Instruction.Cmp) throws(CompileError) {
        let (t, ip, fp): (ValueType, LLVMIntPredicate?, LLVMRealPredicate?)
        switch op {
        case .i32Eq: (t, ip, fp) = (.i32, LLVMIntEQ, nil)
        case .i32Ne: (t, ip, fp) = (.i32, LLVMIntNE, nil)
        case .i32LtS: (t, ip, fp) = (.i32, LLVMIntSLT, nil)
        case .i32LtU: (t, ip, fp) = (.i32, LLVMIntULT, nil)
        case .i32GtS: (t, ip, fp) = (.i32, LLVMIntSGT, nil)
        case .i32GtU: (t, ip, fp) = (.i32, LLVMIntUGT, nil)
        case .i32LeS: (t, ip, fp) = (.i32, LLVMIntSLE, nil)
        case .i32LeU: (t, ip, fp) = (.i32, LLVMIntULE, nil)
        case .i32GeS: (t, ip, fp) = (.i32, LLVMIntSGE, nil)
        case .i32GeU: (t, ip, fp) = (.i32, LLVMIntUGE, nil)
        case .i64Eq: (t, ip, fp) = (.i64, LLVMIntEQ, nil)
        case .i64Ne: (t, ip, fp) = (.i64, LLVMIntNE, nil)
        case .i64LtS: (t, ip, fp) = (.i64, LLVMIntSLT, nil)
        case .i64LtU: (t, ip, fp) = (.i64, LLVMIntULT, nil)
        case .i64GtS: (t, ip, fp) = (.i64, LLVMIntSGT, nil)
        case .i64GtU: (t, ip, fp) = (.i64, LLVMIntUGT, nil)
        case .i64LeS: (t, ip, fp) = (.i64, LLVMIntSLE, nil)
        case .i64LeU: (t, ip, fp) = (.i64, LLVMIntULE, nil)
        case .i64GeS: (t, ip, fp) = (.i64, LLVMIntSGE, nil)
        case .i64GeU: (t, ip, fp) = (.i64, LLVMIntUGE, nil)
        case .f32Eq: (t, ip, fp) = (.f32, nil, LLVMRealOEQ)
        case .f32Ne: (t, ip, fp) = (.f32, nil, LLVMRealUNE)
        case .f32Lt: (t, ip, fp) = (.f32, nil, LLVMRealOLT)
        case .f32Gt: (t, ip, fp) = (.f32, nil, LLVMRealOGT)
        case .f32Le: (t, ip, fp) = (.f32, nil, LLVMRealOLE)
        case .f32Ge: (t, ip, fp) = (.f32, nil, LLVMRealOGE)
        case .f64Eq: (t, ip, fp) = (.f64, nil, LLVMRealOEQ)
        case .f64Ne: (t, ip, fp) = (.f64, nil, LLVMRealUNE)
        case .f64Lt: (t, ip, fp) = (.f64, nil, LLVMRealOLT)
        case .f64Gt: (t, ip, fp) = (.f64, nil, LLVMRealOGT)
        case .f64Le: (t, ip, fp) = (.f64, nil, LLVMRealOLE)
        case .f64Ge: (t, ip, fp) = (.f64, nil, LLVMRealOGE)
        }
        try binaryOp(t, .i32) { l, r in
            if let ip { return bool(LLVMBuildICmp(b, ip, l, r, "")) }
            return bool(LLVMBuildFCmp(b, fp!, l, r, ""))
        }
    }

    func unary(_ op: Instruction.Unary) throws(CompileError) {
        func intrinsic(_ t: ValueType, _ name: String, extra: [LLVMValueRef] = []) throws(CompileError) {
            try unaryOp(t, t) { ir.callIntrinsic(name, [ir.type(t)], [$0] + extra) }
        }
        func extend(_ t: ValueType, from narrow: LLVMTypeRef) throws(CompileError) {
            try unaryOp(t, t) { LLVMBuildSExt(b, LLVMBuildTrunc(b, $0, narrow, ""), ir.type(t), "") }
        }
        let no = LLVMConstInt(ir.i1, 0, 0)!
        switch op {
        case .i32Clz: try intrinsic(.i32, "llvm.ctlz", extra: [no])
        case .i32Ctz: try intrinsic(.i32, "llvm.cttz", extra: [no])
        case .i32Popcnt: try intrinsic(.i32, "llvm.ctpop")
        case .i64Clz: try intrinsic(.i64, "llvm.ctlz", extra: [no])
        case .i64Ctz: try intrinsic(.i64, "llvm.cttz", extra: [no])
        case .i64Popcnt: try intrinsic(.i64, "llvm.ctpop")
        case .f32Abs: try intrinsic(.f32, "llvm.fabs")
        case .f32Neg: try unaryOp(.f32, .f32) { LLVMBuildFNeg(b, $0, "") }
        case .f32Ceil: try intrinsic(.f32, "llvm.ceil")
        case .f32Floor: try intrinsic(.f32, "llvm.floor")
        case .f32Trunc: try intrinsic(.f32, "llvm.trunc")
        case .f32Nearest: try intrinsic(.f32, "llvm.roundeven")
        case .f32Sqrt: try intrinsic(.f32, "llvm.sqrt")
        case .f64Abs: try intrinsic(.f64, "llvm.fabs")
        case .f64Neg: try unaryOp(.f64, .f64) { LLVMBuildFNeg(b, $0, "") }
        case .f64Ceil: try intrinsic(.f64, "llvm.ceil")
        case .f64Floor: try intrinsic(.f64, "llvm.floor")
        case .f64Trunc: try intrinsic(.f64, "llvm.trunc")
        case .f64Nearest: try intrinsic(.f64, "llvm.roundeven")
        case .f64Sqrt: try intrinsic(.f64, "llvm.sqrt")
        case .i32Extend8S: try extend(.i32, from: ir.i8)
        case .i32Extend16S: try extend(.i32, from: ir.i16)
        case .i64Extend8S: try extend(.i64, from: ir.i8)
        case .i64Extend16S: try extend(.i64, from: ir.i16)
        case .i64Extend32S: try extend(.i64, from: ir.i32)
        }
    }

    func binary(_ op: Instruction.Binary) throws(CompileError) {
        typealias Build = (LLVMBuilderRef?, LLVMValueRef?, LLVMValueRef?, UnsafePointer<CChar>?) -> LLVMValueRef?
        func simple(_ t: ValueType, _ f: Build) throws(CompileError) {
            try binaryOp(t, t) { f(b, $0, $1, "")! }
        }
        /// Float arithmetic: quieted when an operand is a constant LLVM could fold away.
        func float(_ t: ValueType, _ f: Build) throws(CompileError) {
            try binaryOp(t, t) { l, r in
                let v = f(b, l, r, "")!
                return isIdentityConstant(l) || isIdentityConstant(r) ? quiet(v, t) : v
            }
        }
        func minMax(_ t: ValueType, _ name: String) throws(CompileError) {
            try binaryOp(t, t) { quiet(ir.callIntrinsic(name, [ir.type(t)], [$0, $1]), t) }
        }
        func shift(_ t: ValueType, _ f: Build) throws(CompileError) {
            let mask = t == .i32 ? ir.c32(31) : ir.c64(63)
            try binaryOp(t, t) { f(b, $0, LLVMBuildAnd(b, $1, mask, ""), "")! }
        }
        func intrinsic(_ t: ValueType, _ name: String, rotate: Bool = false) throws(CompileError) {
            try binaryOp(t, t) { rotate ? ir.callIntrinsic(name, [ir.type(t)], [$0, $0, $1]) : ir.callIntrinsic(name, [ir.type(t)], [$0, $1]) }
        }
        func divide(_ t: ValueType, signed: Bool, remainder: Bool) throws(CompileError) {
            try binaryOp(t, t) { l, r in
                let type = ir.type(t)
                trapIf(LLVMBuildICmp(b, LLVMIntEQ, r, LLVMConstNull(type), "")!, TrapKind.divideByZero)
                if !signed {
                    return remainder ? LLVMBuildURem(b, l, r, "") : LLVMBuildUDiv(b, l, r, "")
                }
                let minusOne = LLVMConstAllOnes(type)!
                let isMinusOne = LLVMBuildICmp(b, LLVMIntEQ, r, minusOne, "")!
                if remainder {
                    // rem_s(x, -1) = 0, and LLVM's srem(INT_MIN, -1) is UB: divide by 1 instead.
                    let safe = LLVMBuildSelect(b, isMinusOne, LLVMConstInt(type, 1, 0), r, "")
                    return LLVMBuildSRem(b, l, safe, "")
                }
                let minValue = t == .i32 ? ir.c32(Int(Int32.min)) : ir.c64(Int(Int64.min))
                let overflow = LLVMBuildAnd(b, isMinusOne, LLVMBuildICmp(b, LLVMIntEQ, l, minValue, ""), "")!
                trapIf(overflow, TrapKind.integerOverflow)
                return LLVMBuildSDiv(b, l, r, "")
            }
        }
        switch op {
        case .i32Add: try simple(.i32, LLVMBuildAdd)
        case .i32Sub: try simple(.i32, LLVMBuildSub)
        case .i32Mul: try simple(.i32, LLVMBuildMul)
        case .i32DivS: try divide(.i32, signed: true, remainder: false)
        case .i32DivU: try divide(.i32, signed: false, remainder: false)
        case .i32RemS: try divide(.i32, signed: true, remainder: true)
        case .i32RemU: try divide(.i32, signed: false, remainder: true)
        case .i32And: try simple(.i32, LLVMBuildAnd)
        case .i32Or: try simple(.i32, LLVMBuildOr)
        case .i32Xor: try simple(.i32, LLVMBuildXor)
        case .i32Shl: try shift(.i32, LLVMBuildShl)
        case .i32ShrS: try shift(.i32, LLVMBuildAShr)
        case .i32ShrU: try shift(.i32, LLVMBuildLShr)
        case .i32Rotl: try intrinsic(.i32, "llvm.fshl", rotate: true)
        case .i32Rotr: try intrinsic(.i32, "llvm.fshr", rotate: true)
        case .i64Add: try simple(.i64, LLVMBuildAdd)
        case .i64Sub: try simple(.i64, LLVMBuildSub)
        case .i64Mul: try simple(.i64, LLVMBuildMul)
        case .i64DivS: try divide(.i64, signed: true, remainder: false)
        case .i64DivU: try divide(.i64, signed: false, remainder: false)
        case .i64RemS: try divide(.i64, signed: true, remainder: true)
        case .i64RemU: try divide(.i64, signed: false, remainder: true)
        case .i64And: try simple(.i64, LLVMBuildAnd)
        case .i64Or: try simple(.i64, LLVMBuildOr)
        case .i64Xor: try simple(.i64, LLVMBuildXor)
        case .i64Shl: try shift(.i64, LLVMBuildShl)
        case .i64ShrS: try shift(.i64, LLVMBuildAShr)
        case .i64ShrU: try shift(.i64, LLVMBuildLShr)
        case .i64Rotl: try intrinsic(.i64, "llvm.fshl", rotate: true)
        case .i64Rotr: try intrinsic(.i64, "llvm.fshr", rotate: true)
        case .f32Add: try float(.f32, LLVMBuildFAdd)
        case .f32Sub: try float(.f32, LLVMBuildFSub)
        case .f32Mul: try float(.f32, LLVMBuildFMul)
        case .f32Div: try float(.f32, LLVMBuildFDiv)
        case .f32Min: try minMax(.f32, "llvm.minimum")
        case .f32Max: try minMax(.f32, "llvm.maximum")
        case .f32Copysign: try intrinsic(.f32, "llvm.copysign")
        case .f64Add: try float(.f64, LLVMBuildFAdd)
        case .f64Sub: try float(.f64, LLVMBuildFSub)
        case .f64Mul: try float(.f64, LLVMBuildFMul)
        case .f64Div: try float(.f64, LLVMBuildFDiv)
        case .f64Min: try minMax(.f64, "llvm.minimum")
        case .f64Max: try minMax(.f64, "llvm.maximum")
        case .f64Copysign: try intrinsic(.f64, "llvm.copysign")
        }
    }

    func convert(_ op: Instruction.Conversion) throws(CompileError) {
        func cast(_ from: ValueType, _ to: ValueType, _ opcode: LLVMOpcode) throws(CompileError) {
            try unaryOp(from, to) { LLVMBuildCast(b, opcode, $0, ir.type(to), "") }
        }
        func saturating(_ from: ValueType, _ to: ValueType, signed: Bool) throws(CompileError) {
            try unaryOp(from, to) {
                ir.callIntrinsic(signed ? "llvm.fptosi.sat" : "llvm.fptoui.sat", [ir.type(to), ir.type(from)], [$0])
            }
        }
        /// Spec-exact trapping truncation: NaN → invalid conversion, out of range → overflow.
        /// `lower` is exclusive unless `lowerInclusive`; `upper` is always exclusive.
        func trapping(_ from: ValueType, _ to: ValueType, signed: Bool, lower: Double, lowerInclusive: Bool, upper: Double) throws(CompileError) {
            try unaryOp(from, to) { x in
                let ft = ir.type(from)
                trapIf(LLVMBuildFCmp(b, LLVMRealUNO, x, x, "")!, TrapKind.invalidConversion)
                let aboveLower = LLVMBuildFCmp(b, lowerInclusive ? LLVMRealOGE : LLVMRealOGT, x, ir.cf(ft, lower), "")!
                let belowUpper = LLVMBuildFCmp(b, LLVMRealOLT, x, ir.cf(ft, upper), "")!
                trapIf(LLVMBuildNot(b, LLVMBuildAnd(b, aboveLower, belowUpper, ""), "")!, TrapKind.integerOverflow)
                return signed ? LLVMBuildFPToSI(b, x, ir.type(to), "") : LLVMBuildFPToUI(b, x, ir.type(to), "")
            }
        }
        let two31 = 2147483648.0, two32 = 4294967296.0, two63 = 9223372036854775808.0, two64 = 18446744073709551616.0
        switch op {
        case .i32WrapI64: try cast(.i64, .i32, LLVMTrunc)
        case .i32TruncF32S: try trapping(.f32, .i32, signed: true, lower: -two31, lowerInclusive: true, upper: two31)
        case .i32TruncF32U: try trapping(.f32, .i32, signed: false, lower: -1, lowerInclusive: false, upper: two32)
        case .i32TruncF64S: try trapping(.f64, .i32, signed: true, lower: -two31 - 1, lowerInclusive: false, upper: two31)
        case .i32TruncF64U: try trapping(.f64, .i32, signed: false, lower: -1, lowerInclusive: false, upper: two32)
        case .i64ExtendI32S: try cast(.i32, .i64, LLVMSExt)
        case .i64ExtendI32U: try cast(.i32, .i64, LLVMZExt)
        case .i64TruncF32S: try trapping(.f32, .i64, signed: true, lower: -two63, lowerInclusive: true, upper: two63)
        case .i64TruncF32U: try trapping(.f32, .i64, signed: false, lower: -1, lowerInclusive: false, upper: two64)
        case .i64TruncF64S: try trapping(.f64, .i64, signed: true, lower: -two63, lowerInclusive: true, upper: two63)
        case .i64TruncF64U: try trapping(.f64, .i64, signed: false, lower: -1, lowerInclusive: false, upper: two64)
        case .f32ConvertI32S: try cast(.i32, .f32, LLVMSIToFP)
        case .f32ConvertI32U: try cast(.i32, .f32, LLVMUIToFP)
        case .f32ConvertI64S: try cast(.i64, .f32, LLVMSIToFP)
        case .f32ConvertI64U: try cast(.i64, .f32, LLVMUIToFP)
        case .f32DemoteF64: try unaryOp(.f64, .f32) { quiet(LLVMBuildFPTrunc(b, $0, ir.f32, ""), .f32) }
        case .f64ConvertI32S: try cast(.i32, .f64, LLVMSIToFP)
        case .f64ConvertI32U: try cast(.i32, .f64, LLVMUIToFP)
        case .f64ConvertI64S: try cast(.i64, .f64, LLVMSIToFP)
        case .f64ConvertI64U: try cast(.i64, .f64, LLVMUIToFP)
        case .f64PromoteF32: try unaryOp(.f32, .f64) { quiet(LLVMBuildFPExt(b, $0, ir.f64, ""), .f64) }
        case .i32ReinterpretF32: try cast(.f32, .i32, LLVMBitCast)
        case .i64ReinterpretF64: try cast(.f64, .i64, LLVMBitCast)
        case .f32ReinterpretI32: try cast(.i32, .f32, LLVMBitCast)
        case .f64ReinterpretI64: try cast(.i64, .f64, LLVMBitCast)
        case .i32TruncSatF32S: try saturating(.f32, .i32, signed: true)
        case .i32TruncSatF32U: try saturating(.f32, .i32, signed: false)
        case .i32TruncSatF64S: try saturating(.f64, .i32, signed: true)
        case .i32TruncSatF64U: try saturating(.f64, .i32, signed: false)
        case .i64TruncSatF32S: try saturating(.f32, .i64, signed: true)
        case .i64TruncSatF32U: try saturating(.f32, .i64, signed: false)
        case .i64TruncSatF64S: try saturating(.f64, .i64, signed: true)
        case .i64TruncSatF64U: try saturating(.f64, .i64, signed: false)
        }
    }
}
