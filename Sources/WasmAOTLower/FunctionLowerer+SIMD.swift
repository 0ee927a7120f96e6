import CLLVM
import WasmAOTCore
import WasmParser
import WasmTypes

/// The interpretation of a v128 value an instruction works on.
enum LaneShape {
    case i8x16, i16x8, i32x4, i64x2, f32x4, f64x2

    var count: Int {
        switch self {
        case .i8x16: 16
        case .i16x8: 8
        case .i32x4, .f32x4: 4
        case .i64x2, .f64x2: 2
        }
    }

    var bits: Int { 128 / count }
    var isFloat: Bool { self == .f32x4 || self == .f64x2 }
    /// The integer shape of the same lane width (comparison masks of float lanes).
    var integer: LaneShape { self == .f32x4 ? .i32x4 : self == .f64x2 ? .i64x2 : self }
    /// The shape with lanes twice as wide (extends, extmul, extadd).
    var wider: LaneShape { self == .i8x16 ? .i16x8 : self == .i16x8 ? .i32x4 : .i64x2 }
    /// The scalar type a lane crosses the stack as (splat, extract/replace lane).
    var scalar: ValueType {
        switch self {
        case .i8x16, .i16x8, .i32x4: .i32
        case .i64x2: .i64
        case .f32x4: .f32
        case .f64x2: .f64
        }
    }
}

/// SIMD128 and relaxed SIMD (DESIGN.md §3). A v128 value is `<2 x i64>` on the operand stack, in
/// locals, globals and signatures; each instruction bitcasts it to the lanes it works on, so
/// LLVM's vector types pick the instructions (SSE4.1/AVX2/AVX-512 per `--cpu` on x86-64, NEON on
/// aarch64). Where LLVM's defaults differ from Wasm: min/max propagate NaN and order -0 < +0,
/// float→int conversions saturate, shift counts are taken modulo the lane width, swizzle
/// indices ≥ 16 select 0, narrowing saturates, q15mulr saturates the one overflowing case. A few
/// operations name the target's instruction where LLVM's own selection is poor or wrong for Wasm
/// (x86: cvttps2dq, pmaddwd, packs, minps; aarch64: sqrdmulh, sqxtun, tbl), always with the
/// exact Wasm result. Relaxed SIMD takes the architecture's instruction where the spec allows its
/// result, the same on every tier and CPU of an architecture (so an artifact for x86-64-v2 and
/// one for this CPU, or an executable and the embedding, agree): madd fused on aarch64 and
/// unfused on x86-64, whose x86-64-v2 baseline has no FMA.
extension FunctionLowerer {
    private var b: LLVMBuilderRef { ir.builder }
    private var v128: LLVMTypeRef { ir.type(.v128) }

    private func laneType(_ s: LaneShape) -> LLVMTypeRef {
        switch s {
        case .i8x16: ir.i8
        case .i16x8: ir.i16
        case .i32x4: ir.i32
        case .i64x2: ir.i64
        case .f32x4: ir.f32
        case .f64x2: ir.f64
        }
    }

    private func vector(_ element: LLVMTypeRef, _ count: Int) -> LLVMTypeRef { LLVMVectorType(element, UInt32(count)) }
    private func vector(_ s: LaneShape) -> LLVMTypeRef { vector(laneType(s), s.count) }
    private func lanes(_ v: LLVMValueRef, _ s: LaneShape) -> LLVMValueRef { LLVMBuildBitCast(b, v, vector(s), "")! }
    private func canonical(_ v: LLVMValueRef) -> LLVMValueRef { LLVMBuildBitCast(b, v, v128, "")! }

    private func constVector(_ values: [LLVMValueRef]) -> LLVMValueRef {
        var vs: [LLVMValueRef?] = values
        return LLVMConstVector(&vs, UInt32(vs.count))
    }

    /// A constant vector of `s` with every lane `value` (integer lanes).
    private func splatConstant(_ s: LaneShape, _ value: Int) -> LLVMValueRef {
        constVector(Array(repeating: LLVMConstInt(laneType(s), UInt64(bitPattern: Int64(value)), 1), count: s.count))
    }

    private func splat(_ scalar: LLVMValueRef, _ element: LLVMTypeRef, _ count: Int) -> LLVMValueRef {
        let one = LLVMBuildInsertElement(b, LLVMGetPoison(vector(element, count)), scalar, ir.c32(0), "")!
        return LLVMBuildShuffleVector(b, one, LLVMGetPoison(vector(element, count)), LLVMConstNull(vector(ir.i32, count)), "")!
    }

    private func shuffle(_ x: LLVMValueRef, _ y: LLVMValueRef, _ mask: [Int]) -> LLVMValueRef {
        LLVMBuildShuffleVector(b, x, y, constVector(mask.map { ir.c32($0) }), "")!
    }

    private func call(_ name: String, _ overloads: [LLVMTypeRef], _ args: [LLVMValueRef]) -> LLVMValueRef {
        ir.callIntrinsic(name, overloads, args)
    }

    // MARK: operand helpers (validation always, IR only when emitting)

    private func unary(_ s: LaneShape, _ emit: (LLVMValueRef) -> LLVMValueRef) throws(CompileError) {
        let a = try pop(.v128)
        push(.v128, emitting ? canonical(emit(lanes(value(a), s))) : nil)
    }

    private func binary(_ s: LaneShape, _ emit: (LLVMValueRef, LLVMValueRef) -> LLVMValueRef) throws(CompileError) {
        let y = try pop(.v128)
        let x = try pop(.v128)
        push(.v128, emitting ? canonical(emit(lanes(value(x), s), lanes(value(y), s))) : nil)
    }

    private func ternary(_ s: LaneShape, _ emit: (LLVMValueRef, LLVMValueRef, LLVMValueRef) -> LLVMValueRef) throws(CompileError) {
        let z = try pop(.v128)
        let y = try pop(.v128)
        let x = try pop(.v128)
        push(.v128, emitting ? canonical(emit(lanes(value(x), s), lanes(value(y), s), lanes(value(z), s))) : nil)
    }

    /// A v128 → i32 test (any_true, all_true, bitmask).
    private func test(_ s: LaneShape, _ emit: (LLVMValueRef) -> LLVMValueRef) throws(CompileError) {
        let a = try pop(.v128)
        push(.i32, emitting ? emit(lanes(value(a), s)) : nil)
    }

    // MARK: building blocks

    private func intCompare(_ s: LaneShape, _ p: LLVMIntPredicate) throws(CompileError) {
        try binary(s) { LLVMBuildSExt(b, LLVMBuildICmp(b, p, $0, $1, ""), vector(s), "")! }
    }

    private func floatCompare(_ s: LaneShape, _ p: LLVMRealPredicate) throws(CompileError) {
        try binary(s) { LLVMBuildSExt(b, LLVMBuildFCmp(b, p, $0, $1, ""), vector(s.integer), "")! }
    }

    private func intrinsic1(_ s: LaneShape, _ name: String) throws(CompileError) {
        try unary(s) { call(name, [vector(s)], [$0]) }
    }

    private func intrinsic2(_ s: LaneShape, _ name: String) throws(CompileError) {
        try binary(s) { call(name, [vector(s)], [$0, $1]) }
    }

    /// f32x4/f64x2.min/max: NaN-propagating, -0 < +0. aarch64: fmin/fmax are exactly that (and
    /// quiet a signalling NaN). x86-64 (LLVM's expansion of llvm.minimum/maximum is ~15
    /// instructions and may pass a signalling NaN through): minps/maxps in both operand orders —
    /// equal unless the operands are zeros of both signs (OR of the two gives -0 for min, AND
    /// gives +0 for max) or a NaN is involved, which gives the canonical NaN (an arithmetic NaN,
    /// so always a valid result).
    private func minMax(_ s: LaneShape, _ name: String) throws(CompileError) {
        try binary(s) { x, y in
            guard m.architecture == .x86_64 else { return call(name, [vector(s)], [x, y]) }
            let isMax = name == "llvm.maximum"
            let one = LLVMBuildBitCast(b, x86MinMax(x, y, s, max: isMax), vector(s.integer), "")!
            let other = LLVMBuildBitCast(b, x86MinMax(y, x, s, max: isMax), vector(s.integer), "")!
            let merged = isMax ? LLVMBuildAnd(b, one, other, "")! : LLVMBuildOr(b, one, other, "")!
            let canonicalNaN = splatConstant(s.integer, s == .f32x4 ? 0x7FC0_0000 : 0x7FF8_0000_0000_0000)
            let r = LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealUNO, x, y, ""), canonicalNaN, merged, "")!
            return LLVMBuildBitCast(b, r, vector(s), "")!
        }
    }

    /// relaxed_min/max: where a NaN or zeros of both signs meet, the spec allows either operand
    /// (or a NaN). x86-64: minps/maxps (`x < y ? x : y`: the second operand then), one instruction;
    /// aarch64: fmin/fmax, which give the exact result at no cost.
    private func relaxedMinMax(_ s: LaneShape, max: Bool) throws(CompileError) {
        guard m.architecture == .x86_64 else { return try minMax(s, max ? "llvm.maximum" : "llvm.minimum") }
        try binary(s) { x86MinMax($0, $1, s, max: max) }
    }

    /// minps/minpd/maxps/maxpd: `x < y ? x : y` (`>` for max), y whenever a NaN is involved or
    /// both are zeros. Named directly: LLVM does not always select them from that select (f64x2).
    private func x86MinMax(_ x: LLVMValueRef, _ y: LLVMValueRef, _ s: LaneShape, max: Bool) -> LLVMValueRef {
        x86((s == .f32x4 ? "sse." : "sse2.") + (max ? "max." : "min.") + (s == .f32x4 ? "ps" : "pd"), [x, y])
    }

    /// Lanes `from..<from+count` of `v` (a shorter vector).
    private func part(_ v: LLVMValueRef, _ from: Int, _ count: Int) -> LLVMValueRef {
        shuffle(v, LLVMGetPoison(LLVMTypeOf(v)), Array(from..<(from + count)))
    }

    /// The low or high half of `v` (of shape `s`) widened to `s.wider`.
    private func extend(_ v: LLVMValueRef, _ s: LaneShape, high: Bool, signed: Bool) -> LLVMValueRef {
        let half = part(v, high ? s.count / 2 : 0, s.count / 2)
        return signed ? LLVMBuildSExt(b, half, vector(s.wider), "")! : LLVMBuildZExt(b, half, vector(s.wider), "")!
    }

    /// Every lane widened to twice its width (a vector of the same lane count).
    private func widen(_ v: LLVMValueRef, _ s: LaneShape, signed: Bool) -> LLVMValueRef {
        let type = vector(laneType(s.wider), s.count)
        return signed ? LLVMBuildSExt(b, v, type, "")! : LLVMBuildZExt(b, v, type, "")!
    }

    /// Even + odd lanes of `v` (count n → n/2).
    private func pairwiseAdd(_ v: LLVMValueRef, count: Int) -> LLVMValueRef {
        let even = shuffle(v, LLVMGetPoison(LLVMTypeOf(v)), stride(from: 0, to: count, by: 2).map { $0 })
        let odd = shuffle(v, LLVMGetPoison(LLVMTypeOf(v)), stride(from: 1, to: count, by: 2).map { $0 })
        return LLVMBuildAdd(b, even, odd, "")!
    }

    /// Signed clamp of every lane to [lo, hi].
    private func clamp(_ v: LLVMValueRef, _ lo: Int, _ hi: Int) -> LLVMValueRef {
        let type = LLVMTypeOf(v)!
        let n = Int(LLVMGetVectorSize(type))
        let element = LLVMGetElementType(type)!
        func c(_ x: Int) -> LLVMValueRef { constVector(Array(repeating: LLVMConstInt(element, UInt64(bitPattern: Int64(x)), 1), count: n)) }
        let low = call("llvm.smax", [type], [v, c(lo)])
        return call("llvm.smin", [type], [low, c(hi)])
    }

    /// An x86 instruction named directly (`llvm.x86.NAME`), where LLVM's selection from the generic
    /// form is worse — with AVX2/AVX-512 it computes in wider registers: vpmulld for a dot product,
    /// a clamp and vpmovdw for a narrowing — with the same result.
    private func x86(_ name: String, _ args: [LLVMValueRef]) -> LLVMValueRef { call("llvm.x86." + name, [], args) }

    /// i8x16.narrow_i16x8_s/u, i16x8.narrow_i32x4_s/u: saturating, x's lanes then y's (x86:
    /// packsswb/packuswb/packssdw/packusdw, which read their input as signed, as Wasm does).
    private func narrow(_ from: LaneShape, signed: Bool) throws(CompileError) {
        let to: LaneShape = from == .i16x8 ? .i8x16 : .i16x8
        try binary(from) { x, y in
            if m.architecture == .x86_64 {
                switch (from, signed) {
                case (.i16x8, true): return x86("sse2.packsswb.128", [x, y])
                case (.i16x8, false): return x86("sse2.packuswb.128", [x, y])
                case (_, true): return x86("sse2.packssdw.128", [x, y])
                case (_, false) where m.target.hasSSE41: return x86("sse41.packusdw", [x, y])
                default: break
                }
            }
            if m.architecture == .aarch64 && !signed {
                // sqxtun + sqxtun2 (the generic clamp is not matched to them; sqxtn is)
                let half = vector(laneType(to), from.count)
                let nx = call("llvm.aarch64.neon.sqxtun", [half], [x]), ny = call("llvm.aarch64.neon.sqxtun", [half], [y])
                return shuffle(nx, ny, Array(0..<to.count))
            }
            let bits = to.bits
            let (lo, hi) = signed ? (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) : (0, (1 << bits) - 1)
            let half = vector(laneType(to), from.count)
            let nx = LLVMBuildTrunc(b, clamp(x, lo, hi), half, "")!
            let ny = LLVMBuildTrunc(b, clamp(y, lo, hi), half, "")!
            return shuffle(nx, ny, Array(0..<to.count))
        }
    }

    private func shift(_ s: LaneShape, _ op: (LLVMBuilderRef, LLVMValueRef, LLVMValueRef) -> LLVMValueRef) throws(CompileError) {
        let count = try pop(.i32)
        let a = try pop(.v128)
        guard emitting else { return push(.v128, nil) }
        var k = LLVMBuildAnd(b, value(count), ir.c32(s.bits - 1), "")!
        let element = laneType(s)
        if s.bits < 32 { k = LLVMBuildTrunc(b, k, element, "")! } else if s.bits > 32 { k = LLVMBuildZExt(b, k, element, "")! }
        push(.v128, canonical(op(b, lanes(value(a), s), splat(k, element, s.count))))
    }

    /// (a + b + 1) >> 1 without overflow, unsigned.
    private func averageRounded(_ s: LaneShape) throws(CompileError) {
        try binary(s) { x, y in
            let one = constVector(Array(repeating: LLVMConstInt(laneType(s.wider), 1, 0), count: s.count))
            let sum = LLVMBuildAdd(b, LLVMBuildAdd(b, widen(x, s, signed: false), widen(y, s, signed: false), ""), one, "")!
            return LLVMBuildTrunc(b, LLVMBuildLShr(b, sum, one, ""), vector(s), "")!
        }
    }

    /// i16x8.q15mulr_sat_s: (x*y + 2^14) >> 15, saturated — only -32768 * -32768 overflows, to
    /// +32768. aarch64: sqrdmulh is exactly that. x86-64: the wrapping form (pmulhrsw with
    /// SSSE3), whose one overflow gives 0x8000, a result no other input produces: flipped to
    /// 0x7FFF. relaxed_q15mulr_s may keep the wrapped 0x8000 (the spec allows either).
    private func q15MulRound(saturating: Bool) throws(CompileError) {
        try binary(.i16x8) { x, y in
            if m.architecture == .aarch64 { return call("llvm.aarch64.neon.sqrdmulh", [vector(.i16x8)], [x, y]) }
            let wrapped: LLVMValueRef
            if m.target.hasSSSE3 {
                wrapped = call("llvm.x86.ssse3.pmul.hr.sw.128", [], [x, y])
            } else {
                let wide = vector(ir.i32, 8)
                let product = LLVMBuildMul(b, LLVMBuildSExt(b, x, wide, ""), LLVMBuildSExt(b, y, wide, ""), "")!
                let rounded = LLVMBuildAShr(b, LLVMBuildAdd(b, product, constVector(Array(repeating: ir.c32(0x4000), count: 8)), ""),
                                            constVector(Array(repeating: ir.c32(15), count: 8)), "")!
                wrapped = LLVMBuildTrunc(b, rounded, vector(.i16x8), "")!
            }
            guard saturating else { return wrapped }
            let overflow = LLVMBuildICmp(b, LLVMIntEQ, wrapped, splatConstant(.i16x8, -32768), "")!
            return LLVMBuildXor(b, wrapped, LLVMBuildSExt(b, overflow, vector(.i16x8), ""), "")!
        }
    }

    /// x86's pshufb: lane i = 0 if s[i] has bit 7 set, else x[s[i] & 15]; lane by lane where the
    /// CPU has no SSSE3 (`--cpu x86-64`), with the same result.
    private func pshufb(_ x: LLVMValueRef, _ s: LLVMValueRef) -> LLVMValueRef {
        if m.target.hasSSSE3 { return call("llvm.x86.ssse3.pshuf.b.128", [], [x, s]) }
        var result = LLVMConstNull(vector(.i8x16))!
        for i in 0..<16 {
            let index = LLVMBuildExtractElement(b, s, ir.c32(i), "")!
            let lane = LLVMBuildExtractElement(b, x, LLVMBuildAnd(b, index, LLVMConstInt(ir.i8, 15, 0), ""), "")!
            let keep = LLVMBuildICmp(b, LLVMIntSGE, index, LLVMConstInt(ir.i8, 0, 0), "")!
            result = LLVMBuildInsertElement(b, result, LLVMBuildSelect(b, keep, lane, LLVMConstInt(ir.i8, 0, 0), ""), ir.c32(i), "")!
        }
        return result
    }

    /// Swizzle: lane i = x[s[i]], 0 where s[i] ≥ 16. relaxed_swizzle may instead give x[s[i] % 16]
    /// for an index below 128: on x86-64 that is pshufb as it is.
    private func swizzle(relaxed: Bool) throws(CompileError) {
        try binary(.i8x16) { x, s in
            switch m.architecture {
            case .x86_64:
                // pshufb zeroes a lane whose index has bit 7 set and uses the low 4 bits
                // otherwise: saturating + 0x70 keeps 0-15 below 0x80 and sends 16-255 above.
                if relaxed { return pshufb(x, s) }
                return pshufb(x, call("llvm.uadd.sat", [vector(.i8x16)], [s, splatConstant(.i8x16, 0x70)]))
            case .aarch64:
                // tbl gives 0 for an out-of-range index.
                return call("llvm.aarch64.neon.tbl1", [vector(.i8x16)], [x, s])
            }
        }
    }

    /// i32x4.dot_i16x8_s and the relaxed dot products: products of sign-extended lanes, summed
    /// in adjacent pairs (wrapping).
    private func dot(_ x: LLVMValueRef, _ y: LLVMValueRef, _ s: LaneShape) -> LLVMValueRef {
        // pmaddwd wraps its one overflow (-32768² · 2) as Wasm does.
        if m.architecture == .x86_64 && s == .i16x8 { return x86("sse2.pmadd.wd", [x, y]) }
        let product = LLVMBuildMul(b, widen(x, s, signed: true), widen(y, s, signed: true), "")!
        return pairwiseAdd(product, count: s.count)
    }

    /// The relaxed dot products' pairs: a (signed) · b, whose lanes with the top bit set the spec
    /// lets an engine read as signed or unsigned, the pair sums wrapping or saturating. aarch64:
    /// both signed, exact (smull + addp). x86-64: pmaddubsw (SSSE3) — b unsigned, a signed, pair
    /// sums saturated to i16 — or the same computed in vector IR where there is no SSSE3.
    private func relaxedDot(_ x: LLVMValueRef, _ y: LLVMValueRef) -> LLVMValueRef {
        guard m.architecture == .x86_64 else { return dot(x, y, .i8x16) }
        if m.target.hasSSSE3 { return call("llvm.x86.ssse3.pmadd.ub.sw.128", [], [y, x]) }
        let wide = vector(ir.i16, 16)
        let product = LLVMBuildMul(b, LLVMBuildSExt(b, x, wide, ""), LLVMBuildZExt(b, y, wide, ""), "")!
        let even = shuffle(product, LLVMGetPoison(wide), stride(from: 0, to: 16, by: 2).map { $0 })
        let odd = shuffle(product, LLVMGetPoison(wide), stride(from: 1, to: 16, by: 2).map { $0 })
        return call("llvm.sadd.sat", [vector(.i16x8)], [even, odd])
    }

    private func bitselect() throws(CompileError) {
        try ternary(.i64x2) { x, y, c in
            LLVMBuildOr(b, LLVMBuildAnd(b, x, c, ""), LLVMBuildAnd(b, y, LLVMBuildNot(b, c, ""), ""), "")!
        }
    }

    private func laneselect(_ s: LaneShape) throws(CompileError) {
        guard m.architecture == .x86_64 else { return try bitselect() }
        try ternary(s) { x, y, c in
            LLVMBuildSelect(b, LLVMBuildICmp(b, LLVMIntSLT, c, LLVMConstNull(vector(s)), ""), x, y, "")!
        }
    }

    private func fusedMultiplyAdd(_ s: LaneShape, negate: Bool) throws(CompileError) {
        try ternary(s) { x, y, z in
            let a = negate ? LLVMBuildFNeg(b, x, "")! : x
            switch m.architecture {
            case .aarch64: return call("llvm.fma", [vector(s)], [a, y, z])
            case .x86_64: return LLVMBuildFAdd(b, LLVMBuildFMul(b, a, y, ""), z, "")!
            }
        }
    }

    // MARK: instructions

    func v128Const(_ v: V128) {
        func word(_ at: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(v.bytes[at + $1]) << (8 * UInt64($1)) } }
        push(.v128, emitting ? constVector([ir.c64u(word(0)), ir.c64u(word(8))]) : nil)
    }

    func shuffle(_ mask: V128ShuffleMask) throws(CompileError) {
        guard mask.lanes.allSatisfy({ $0 < 32 }) else { throw error("invalid lane index") }
        try binary(.i8x16) { x, y in shuffle(x, y, mask.lanes.map(Int.init)) }
    }

    func simdLane(_ op: Instruction.SimdLane, _ lane: UInt8) throws(CompileError) {
        let (s, replace, signed): (LaneShape, Bool, Bool?)
        switch op {
        case .i8x16ExtractLaneS: (s, replace, signed) = (.i8x16, false, true)
        case .i8x16ExtractLaneU: (s, replace, signed) = (.i8x16, false, false)
        case .i8x16ReplaceLane: (s, replace, signed) = (.i8x16, true, nil)
        case .i16x8ExtractLaneS: (s, replace, signed) = (.i16x8, false, true)
        case .i16x8ExtractLaneU: (s, replace, signed) = (.i16x8, false, false)
        case .i16x8ReplaceLane: (s, replace, signed) = (.i16x8, true, nil)
        case .i32x4ExtractLane: (s, replace, signed) = (.i32x4, false, nil)
        case .i32x4ReplaceLane: (s, replace, signed) = (.i32x4, true, nil)
        case .i64x2ExtractLane: (s, replace, signed) = (.i64x2, false, nil)
        case .i64x2ReplaceLane: (s, replace, signed) = (.i64x2, true, nil)
        case .f32x4ExtractLane: (s, replace, signed) = (.f32x4, false, nil)
        case .f32x4ReplaceLane: (s, replace, signed) = (.f32x4, true, nil)
        case .f64x2ExtractLane: (s, replace, signed) = (.f64x2, false, nil)
        case .f64x2ReplaceLane: (s, replace, signed) = (.f64x2, true, nil)
        }
        guard Int(lane) < s.count else { throw error("invalid lane index") }
        if replace {
            let x = try pop(s.scalar)
            let a = try pop(.v128)
            guard emitting else { return push(.v128, nil) }
            var scalar = value(x)
            if s.bits < 32 { scalar = LLVMBuildTrunc(b, scalar, laneType(s), "")! }
            push(.v128, canonical(LLVMBuildInsertElement(b, lanes(value(a), s), scalar, ir.c32(Int(lane)), "")!))
        } else {
            let a = try pop(.v128)
            guard emitting else { return push(s.scalar, nil) }
            var x = LLVMBuildExtractElement(b, lanes(value(a), s), ir.c32(Int(lane)), "")!
            if let signed { x = signed ? LLVMBuildSExt(b, x, ir.i32, "")! : LLVMBuildZExt(b, x, ir.i32, "")! }
            push(s.scalar, x)
        }
    }

    func splat(_ s: LaneShape) throws(CompileError) {
        let x = try pop(s.scalar)
        guard emitting else { return push(.v128, nil) }
        var scalar = value(x)
        if s.bits < 32 { scalar = LLVMBuildTrunc(b, scalar, laneType(s), "")! }
        push(.v128, canonical(splat(scalar, laneType(s), s.count)))
    }

    func simd(_ op: Instruction.Simd) throws(CompileError) {
        switch op {
        case .i8x16Swizzle: try swizzle(relaxed: false)
        case .i8x16RelaxedSwizzle: try swizzle(relaxed: true)
        case .i8x16Splat: try splat(.i8x16)
        case .i16x8Splat: try splat(.i16x8)
        case .i32x4Splat: try splat(.i32x4)
        case .i64x2Splat: try splat(.i64x2)
        case .f32x4Splat: try splat(.f32x4)
        case .f64x2Splat: try splat(.f64x2)

        case .i8x16Eq: try intCompare(.i8x16, LLVMIntEQ)
        case .i8x16Ne: try intCompare(.i8x16, LLVMIntNE)
        case .i8x16LtS: try intCompare(.i8x16, LLVMIntSLT)
        case .i8x16LtU: try intCompare(.i8x16, LLVMIntULT)
        case .i8x16GtS: try intCompare(.i8x16, LLVMIntSGT)
        case .i8x16GtU: try intCompare(.i8x16, LLVMIntUGT)
        case .i8x16LeS: try intCompare(.i8x16, LLVMIntSLE)
        case .i8x16LeU: try intCompare(.i8x16, LLVMIntULE)
        case .i8x16GeS: try intCompare(.i8x16, LLVMIntSGE)
        case .i8x16GeU: try intCompare(.i8x16, LLVMIntUGE)
        case .i16x8Eq: try intCompare(.i16x8, LLVMIntEQ)
        case .i16x8Ne: try intCompare(.i16x8, LLVMIntNE)
        case .i16x8LtS: try intCompare(.i16x8, LLVMIntSLT)
        case .i16x8LtU: try intCompare(.i16x8, LLVMIntULT)
        case .i16x8GtS: try intCompare(.i16x8, LLVMIntSGT)
        case .i16x8GtU: try intCompare(.i16x8, LLVMIntUGT)
        case .i16x8LeS: try intCompare(.i16x8, LLVMIntSLE)
        case .i16x8LeU: try intCompare(.i16x8, LLVMIntULE)
        case .i16x8GeS: try intCompare(.i16x8, LLVMIntSGE)
        case .i16x8GeU: try intCompare(.i16x8, LLVMIntUGE)
        case .i32x4Eq: try intCompare(.i32x4, LLVMIntEQ)
        case .i32x4Ne: try intCompare(.i32x4, LLVMIntNE)
        case .i32x4LtS: try intCompare(.i32x4, LLVMIntSLT)
        case .i32x4LtU: try intCompare(.i32x4, LLVMIntULT)
        case .i32x4GtS: try intCompare(.i32x4, LLVMIntSGT)
        case .i32x4GtU: try intCompare(.i32x4, LLVMIntUGT)
        case .i32x4LeS: try intCompare(.i32x4, LLVMIntSLE)
        case .i32x4LeU: try intCompare(.i32x4, LLVMIntULE)
        case .i32x4GeS: try intCompare(.i32x4, LLVMIntSGE)
        case .i32x4GeU: try intCompare(.i32x4, LLVMIntUGE)
        case .i64x2Eq: try intCompare(.i64x2, LLVMIntEQ)
        case .i64x2Ne: try intCompare(.i64x2, LLVMIntNE)
        case .i64x2LtS: try intCompare(.i64x2, LLVMIntSLT)
        case .i64x2GtS: try intCompare(.i64x2, LLVMIntSGT)
        case .i64x2LeS: try intCompare(.i64x2, LLVMIntSLE)
        case .i64x2GeS: try intCompare(.i64x2, LLVMIntSGE)
        case .f32x4Eq: try floatCompare(.f32x4, LLVMRealOEQ)
        case .f32x4Ne: try floatCompare(.f32x4, LLVMRealUNE)
        case .f32x4Lt: try floatCompare(.f32x4, LLVMRealOLT)
        case .f32x4Gt: try floatCompare(.f32x4, LLVMRealOGT)
        case .f32x4Le: try floatCompare(.f32x4, LLVMRealOLE)
        case .f32x4Ge: try floatCompare(.f32x4, LLVMRealOGE)
        case .f64x2Eq: try floatCompare(.f64x2, LLVMRealOEQ)
        case .f64x2Ne: try floatCompare(.f64x2, LLVMRealUNE)
        case .f64x2Lt: try floatCompare(.f64x2, LLVMRealOLT)
        case .f64x2Gt: try floatCompare(.f64x2, LLVMRealOGT)
        case .f64x2Le: try floatCompare(.f64x2, LLVMRealOLE)
        case .f64x2Ge: try floatCompare(.f64x2, LLVMRealOGE)

        case .v128Not: try unary(.i64x2) { LLVMBuildNot(b, $0, "")! }
        case .v128And: try binary(.i64x2) { LLVMBuildAnd(b, $0, $1, "")! }
        case .v128Andnot: try binary(.i64x2) { LLVMBuildAnd(b, $0, LLVMBuildNot(b, $1, ""), "")! }
        case .v128Or: try binary(.i64x2) { LLVMBuildOr(b, $0, $1, "")! }
        case .v128Xor: try binary(.i64x2) { LLVMBuildXor(b, $0, $1, "")! }
        case .v128Bitselect: try bitselect()
        // x86-64: pblendvb/blendvps/blendvpd, choosing by the top bit of each byte (i16x8 too, a
        // result the spec allows for it), of each i32, of each i64; aarch64: bsl (bitselect).
        case .i8x16RelaxedLaneselect, .i16x8RelaxedLaneselect: try laneselect(.i8x16)
        case .i32x4RelaxedLaneselect: try laneselect(.i32x4)
        case .i64x2RelaxedLaneselect: try laneselect(.i64x2)
        case .v128AnyTrue:
            try test(.i64x2) { v in
                let whole = LLVMBuildBitCast(b, v, LLVMInt128TypeInContext(ir.context), "")!
                return LLVMBuildZExt(b, LLVMBuildICmp(b, LLVMIntNE, whole, LLVMConstNull(LLVMTypeOf(whole)), ""), ir.i32, "")!
            }
        case .i8x16AllTrue: try allTrue(.i8x16)
        case .i16x8AllTrue: try allTrue(.i16x8)
        case .i32x4AllTrue: try allTrue(.i32x4)
        case .i64x2AllTrue: try allTrue(.i64x2)
        case .i8x16Bitmask: try bitmask(.i8x16)
        case .i16x8Bitmask: try bitmask(.i16x8)
        case .i32x4Bitmask: try bitmask(.i32x4)
        case .i64x2Bitmask: try bitmask(.i64x2)

        case .i8x16Abs: try integerAbs(.i8x16)
        case .i16x8Abs: try integerAbs(.i16x8)
        case .i32x4Abs: try integerAbs(.i32x4)
        case .i64x2Abs: try integerAbs(.i64x2)
        case .i8x16Neg: try unary(.i8x16) { LLVMBuildNeg(b, $0, "")! }
        case .i16x8Neg: try unary(.i16x8) { LLVMBuildNeg(b, $0, "")! }
        case .i32x4Neg: try unary(.i32x4) { LLVMBuildNeg(b, $0, "")! }
        case .i64x2Neg: try unary(.i64x2) { LLVMBuildNeg(b, $0, "")! }
        case .i8x16Popcnt: try intrinsic1(.i8x16, "llvm.ctpop")

        case .i8x16NarrowI16X8S: try narrow(.i16x8, signed: true)
        case .i8x16NarrowI16X8U: try narrow(.i16x8, signed: false)
        case .i16x8NarrowI32X4S: try narrow(.i32x4, signed: true)
        case .i16x8NarrowI32X4U: try narrow(.i32x4, signed: false)

        case .i8x16Shl: try shift(.i8x16) { LLVMBuildShl($0, $1, $2, "")! }
        case .i8x16ShrS: try shift(.i8x16) { LLVMBuildAShr($0, $1, $2, "")! }
        case .i8x16ShrU: try shift(.i8x16) { LLVMBuildLShr($0, $1, $2, "")! }
        case .i16x8Shl: try shift(.i16x8) { LLVMBuildShl($0, $1, $2, "")! }
        case .i16x8ShrS: try shift(.i16x8) { LLVMBuildAShr($0, $1, $2, "")! }
        case .i16x8ShrU: try shift(.i16x8) { LLVMBuildLShr($0, $1, $2, "")! }
        case .i32x4Shl: try shift(.i32x4) { LLVMBuildShl($0, $1, $2, "")! }
        case .i32x4ShrS: try shift(.i32x4) { LLVMBuildAShr($0, $1, $2, "")! }
        case .i32x4ShrU: try shift(.i32x4) { LLVMBuildLShr($0, $1, $2, "")! }
        case .i64x2Shl: try shift(.i64x2) { LLVMBuildShl($0, $1, $2, "")! }
        case .i64x2ShrS: try shift(.i64x2) { LLVMBuildAShr($0, $1, $2, "")! }
        case .i64x2ShrU: try shift(.i64x2) { LLVMBuildLShr($0, $1, $2, "")! }

        case .i8x16Add: try binary(.i8x16) { LLVMBuildAdd(b, $0, $1, "")! }
        case .i16x8Add: try binary(.i16x8) { LLVMBuildAdd(b, $0, $1, "")! }
        case .i32x4Add: try binary(.i32x4) { LLVMBuildAdd(b, $0, $1, "")! }
        case .i64x2Add: try binary(.i64x2) { LLVMBuildAdd(b, $0, $1, "")! }
        case .i8x16Sub: try binary(.i8x16) { LLVMBuildSub(b, $0, $1, "")! }
        case .i16x8Sub: try binary(.i16x8) { LLVMBuildSub(b, $0, $1, "")! }
        case .i32x4Sub: try binary(.i32x4) { LLVMBuildSub(b, $0, $1, "")! }
        case .i64x2Sub: try binary(.i64x2) { LLVMBuildSub(b, $0, $1, "")! }
        case .i16x8Mul: try binary(.i16x8) { LLVMBuildMul(b, $0, $1, "")! }
        case .i32x4Mul: try binary(.i32x4) { LLVMBuildMul(b, $0, $1, "")! }
        case .i64x2Mul: try binary(.i64x2) { LLVMBuildMul(b, $0, $1, "")! }
        case .i8x16AddSatS: try intrinsic2(.i8x16, "llvm.sadd.sat")
        case .i8x16AddSatU: try intrinsic2(.i8x16, "llvm.uadd.sat")
        case .i8x16SubSatS: try intrinsic2(.i8x16, "llvm.ssub.sat")
        case .i8x16SubSatU: try intrinsic2(.i8x16, "llvm.usub.sat")
        case .i16x8AddSatS: try intrinsic2(.i16x8, "llvm.sadd.sat")
        case .i16x8AddSatU: try intrinsic2(.i16x8, "llvm.uadd.sat")
        case .i16x8SubSatS: try intrinsic2(.i16x8, "llvm.ssub.sat")
        case .i16x8SubSatU: try intrinsic2(.i16x8, "llvm.usub.sat")
        case .i8x16MinS: try intrinsic2(.i8x16, "llvm.smin")
        case .i8x16MinU: try intrinsic2(.i8x16, "llvm.umin")
        case .i8x16MaxS: try intrinsic2(.i8x16, "llvm.smax")
        case .i8x16MaxU: try intrinsic2(.i8x16, "llvm.umax")
        case .i16x8MinS: try intrinsic2(.i16x8, "llvm.smin")
        case .i16x8MinU: try intrinsic2(.i16x8, "llvm.umin")
        case .i16x8MaxS: try intrinsic2(.i16x8, "llvm.smax")
        case .i16x8MaxU: try intrinsic2(.i16x8, "llvm.umax")
        case .i32x4MinS: try intrinsic2(.i32x4, "llvm.smin")
        case .i32x4MinU: try intrinsic2(.i32x4, "llvm.umin")
        case .i32x4MaxS: try intrinsic2(.i32x4, "llvm.smax")
        case .i32x4MaxU: try intrinsic2(.i32x4, "llvm.umax")
        case .i8x16AvgrU: try averageRounded(.i8x16)
        case .i16x8AvgrU: try averageRounded(.i16x8)
        case .i16x8Q15MulrSatS: try q15MulRound(saturating: true)
        case .i16x8RelaxedQ15MulrS: try q15MulRound(saturating: false)
        case .i32x4DotI16X8S: try binary(.i16x8) { dot($0, $1, .i16x8) }

        case .i16x8ExtendLowI8X16S: try unary(.i8x16) { extend($0, .i8x16, high: false, signed: true) }
        case .i16x8ExtendHighI8X16S: try unary(.i8x16) { extend($0, .i8x16, high: true, signed: true) }
        case .i16x8ExtendLowI8X16U: try unary(.i8x16) { extend($0, .i8x16, high: false, signed: false) }
        case .i16x8ExtendHighI8X16U: try unary(.i8x16) { extend($0, .i8x16, high: true, signed: false) }
        case .i32x4ExtendLowI16X8S: try unary(.i16x8) { extend($0, .i16x8, high: false, signed: true) }
        case .i32x4ExtendHighI16X8S: try unary(.i16x8) { extend($0, .i16x8, high: true, signed: true) }
        case .i32x4ExtendLowI16X8U: try unary(.i16x8) { extend($0, .i16x8, high: false, signed: false) }
        case .i32x4ExtendHighI16X8U: try unary(.i16x8) { extend($0, .i16x8, high: true, signed: false) }
        case .i64x2ExtendLowI32X4S: try unary(.i32x4) { extend($0, .i32x4, high: false, signed: true) }
        case .i64x2ExtendHighI32X4S: try unary(.i32x4) { extend($0, .i32x4, high: true, signed: true) }
        case .i64x2ExtendLowI32X4U: try unary(.i32x4) { extend($0, .i32x4, high: false, signed: false) }
        case .i64x2ExtendHighI32X4U: try unary(.i32x4) { extend($0, .i32x4, high: true, signed: false) }
        case .i16x8ExtmulLowI8X16S: try extMul(.i8x16, high: false, signed: true)
        case .i16x8ExtmulHighI8X16S: try extMul(.i8x16, high: true, signed: true)
        case .i16x8ExtmulLowI8X16U: try extMul(.i8x16, high: false, signed: false)
        case .i16x8ExtmulHighI8X16U: try extMul(.i8x16, high: true, signed: false)
        case .i32x4ExtmulLowI16X8S: try extMul(.i16x8, high: false, signed: true)
        case .i32x4ExtmulHighI16X8S: try extMul(.i16x8, high: true, signed: true)
        case .i32x4ExtmulLowI16X8U: try extMul(.i16x8, high: false, signed: false)
        case .i32x4ExtmulHighI16X8U: try extMul(.i16x8, high: true, signed: false)
        case .i64x2ExtmulLowI32X4S: try extMul(.i32x4, high: false, signed: true)
        case .i64x2ExtmulHighI32X4S: try extMul(.i32x4, high: true, signed: true)
        case .i64x2ExtmulLowI32X4U: try extMul(.i32x4, high: false, signed: false)
        case .i64x2ExtmulHighI32X4U: try extMul(.i32x4, high: true, signed: false)
        case .i16x8ExtaddPairwiseI8X16S: try unary(.i8x16) { extaddPairwise($0, .i8x16, signed: true) }
        case .i16x8ExtaddPairwiseI8X16U: try unary(.i8x16) { extaddPairwise($0, .i8x16, signed: false) }
        case .i32x4ExtaddPairwiseI16X8S: try unary(.i16x8) { extaddPairwise($0, .i16x8, signed: true) }
        case .i32x4ExtaddPairwiseI16X8U: try unary(.i16x8) { extaddPairwise($0, .i16x8, signed: false) }

        case .f32x4Ceil: try intrinsic1(.f32x4, "llvm.ceil")
        case .f32x4Floor: try intrinsic1(.f32x4, "llvm.floor")
        case .f32x4Trunc: try intrinsic1(.f32x4, "llvm.trunc")
        case .f32x4Nearest: try intrinsic1(.f32x4, "llvm.roundeven")
        case .f64x2Ceil: try intrinsic1(.f64x2, "llvm.ceil")
        case .f64x2Floor: try intrinsic1(.f64x2, "llvm.floor")
        case .f64x2Trunc: try intrinsic1(.f64x2, "llvm.trunc")
        case .f64x2Nearest: try intrinsic1(.f64x2, "llvm.roundeven")
        case .f32x4Abs: try intrinsic1(.f32x4, "llvm.fabs")
        case .f64x2Abs: try intrinsic1(.f64x2, "llvm.fabs")
        case .f32x4Neg: try unary(.f32x4) { LLVMBuildFNeg(b, $0, "")! }
        case .f64x2Neg: try unary(.f64x2) { LLVMBuildFNeg(b, $0, "")! }
        case .f32x4Sqrt: try intrinsic1(.f32x4, "llvm.sqrt")
        case .f64x2Sqrt: try intrinsic1(.f64x2, "llvm.sqrt")
        case .f32x4Add: try binary(.f32x4) { LLVMBuildFAdd(b, $0, $1, "")! }
        case .f32x4Sub: try binary(.f32x4) { LLVMBuildFSub(b, $0, $1, "")! }
        case .f32x4Mul: try binary(.f32x4) { LLVMBuildFMul(b, $0, $1, "")! }
        case .f32x4Div: try binary(.f32x4) { LLVMBuildFDiv(b, $0, $1, "")! }
        case .f64x2Add: try binary(.f64x2) { LLVMBuildFAdd(b, $0, $1, "")! }
        case .f64x2Sub: try binary(.f64x2) { LLVMBuildFSub(b, $0, $1, "")! }
        case .f64x2Mul: try binary(.f64x2) { LLVMBuildFMul(b, $0, $1, "")! }
        case .f64x2Div: try binary(.f64x2) { LLVMBuildFDiv(b, $0, $1, "")! }
        case .f32x4Min: try minMax(.f32x4, "llvm.minimum")
        case .f32x4Max: try minMax(.f32x4, "llvm.maximum")
        case .f64x2Min: try minMax(.f64x2, "llvm.minimum")
        case .f64x2Max: try minMax(.f64x2, "llvm.maximum")
        case .f32x4RelaxedMin: try relaxedMinMax(.f32x4, max: false)
        case .f32x4RelaxedMax: try relaxedMinMax(.f32x4, max: true)
        case .f64x2RelaxedMin: try relaxedMinMax(.f64x2, max: false)
        case .f64x2RelaxedMax: try relaxedMinMax(.f64x2, max: true)
        // pmin: y < x ? y : x; pmax: x < y ? y : x (an operand, bit for bit).
        case .f32x4Pmin: try binary(.f32x4) { x, y in LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealOLT, y, x, ""), y, x, "")! }
        case .f32x4Pmax: try binary(.f32x4) { x, y in LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealOLT, x, y, ""), y, x, "")! }
        case .f64x2Pmin: try binary(.f64x2) { x, y in LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealOLT, y, x, ""), y, x, "")! }
        case .f64x2Pmax: try binary(.f64x2) { x, y in LLVMBuildSelect(b, LLVMBuildFCmp(b, LLVMRealOLT, x, y, ""), y, x, "")! }

        case .i32x4TruncSatF32X4S: try unary(.f32x4) { truncSat($0, .f32x4, signed: true) }
        case .i32x4TruncSatF32X4U, .i32x4RelaxedTruncF32X4U: try unary(.f32x4) { truncSat($0, .f32x4, signed: false) }
        case .i32x4TruncSatF64X2SZero: try unary(.f64x2) { truncSat($0, .f64x2, signed: true) }
        // x86-64: cvttps2dq/cvttpd2dq as they are (INT32_MIN for NaN and positive overflow, both
        // allowed); aarch64: fcvtzs, exact.
        case .i32x4RelaxedTruncF32X4S:
            try unary(.f32x4) { m.architecture == .x86_64 ? call("llvm.x86.sse2.cvttps2dq", [], [$0]) : truncSat($0, .f32x4, signed: true) }
        case .i32x4RelaxedTruncF64X2SZero:
            try unary(.f64x2) { m.architecture == .x86_64 ? call("llvm.x86.sse2.cvttpd2dq", [], [$0]) : truncSat($0, .f64x2, signed: true) }
        case .i32x4TruncSatF64X2UZero, .i32x4RelaxedTruncF64X2UZero: try unary(.f64x2) { truncSat($0, .f64x2, signed: false) }
        case .f32x4ConvertI32X4S: try unary(.i32x4) { LLVMBuildSIToFP(b, $0, vector(.f32x4), "")! }
        case .f32x4ConvertI32X4U: try unary(.i32x4) { LLVMBuildUIToFP(b, $0, vector(.f32x4), "")! }
        case .f64x2ConvertLowI32X4S: try unary(.i32x4) { LLVMBuildSIToFP(b, part($0, 0, 2), vector(.f64x2), "")! }
        case .f64x2ConvertLowI32X4U: try unary(.i32x4) { LLVMBuildUIToFP(b, part($0, 0, 2), vector(.f64x2), "")! }
        case .f32x4DemoteF64X2Zero:
            try unary(.f64x2) { shuffle(LLVMBuildFPTrunc(b, $0, vector(ir.f32, 2), "")!, LLVMConstNull(vector(ir.f32, 2)), [0, 1, 2, 3]) }
        case .f64x2PromoteLowF32X4: try unary(.f32x4) { LLVMBuildFPExt(b, part($0, 0, 2), vector(.f64x2), "")! }

        case .f32x4RelaxedMadd: try fusedMultiplyAdd(.f32x4, negate: false)
        case .f32x4RelaxedNmadd: try fusedMultiplyAdd(.f32x4, negate: true)
        case .f64x2RelaxedMadd: try fusedMultiplyAdd(.f64x2, negate: false)
        case .f64x2RelaxedNmadd: try fusedMultiplyAdd(.f64x2, negate: true)
        case .i16x8RelaxedDotI8X16I7X16S: try binary(.i8x16) { relaxedDot($0, $1) }
        case .i32x4RelaxedDotI8X16I7X16AddS:
            try ternary(.i8x16) { x, y, c in
                let quads = pairwiseAdd(widen(relaxedDot(x, y), .i16x8, signed: true), count: 8)
                return LLVMBuildAdd(b, quads, LLVMBuildBitCast(b, c, vector(.i32x4), ""), "")!
            }
        }
    }

    /// i32x4.trunc_sat_f32x4_s/u and trunc_sat_f64x2_s/u_zero: NaN → 0, out-of-range lanes
    /// saturate. aarch64's fcvtzs/fcvtzu do exactly that (what llvm.fpto*i.sat selects there); on
    /// x86-64 LLVM scalarizes the saturating conversions (a cvttss2si and two compares per
    /// lane), so there it is cvttps2dq/cvttpd2dq (SSE2: 0x80000000 for NaN and out-of-range
    /// lanes, the right answer for every negative overflow) with the other cases patched by compares.
    private func truncSat(_ x: LLVMValueRef, _ s: LaneShape, signed: Bool) -> LLVMValueRef {
        let i32x4 = vector(.i32x4)
        let lanes = s.count
        // f64x2 → u32: two scalar conversions are as short as the vector sequence.
        guard m.architecture == .x86_64, signed || lanes == 4 else {
            let r = call(signed ? "llvm.fptosi.sat" : "llvm.fptoui.sat", [vector(ir.i32, lanes), vector(s)], [x])
            return lanes == 4 ? r : shuffle(r, LLVMConstNull(vector(ir.i32, 2)), [0, 1, 2, 3])
        }
        let element = laneType(s)
        func real(_ v: Double) -> LLVMValueRef { constVector(Array(repeating: LLVMConstReal(element, v), count: lanes)) }
        func int(_ v: UInt32) -> LLVMValueRef { constVector(Array(repeating: LLVMConstInt(ir.i32, UInt64(v), 0), count: 4)) }
        func compare(_ p: LLVMRealPredicate, _ a: LLVMValueRef, _ c: Double) -> LLVMValueRef { LLVMBuildFCmp(b, p, a, real(c), "")! }
        /// A lane mask of the f64 lanes widened to the four i32 lanes (upper two: `upper`).
        func mask(_ m: LLVMValueRef, upper: Bool) -> LLVMValueRef {
            guard lanes == 2 else { return m }
            let fill = upper ? LLVMConstAllOnes(vector(ir.i1, 2))! : LLVMConstNull(vector(ir.i1, 2))!
            return shuffle(m, fill, [0, 1, 2, 3])
        }
        let convert = { (v: LLVMValueRef) -> LLVMValueRef in
            self.call(lanes == 4 ? "llvm.x86.sse2.cvttps2dq" : "llvm.x86.sse2.cvttpd2dq", [], [v])
        }
        if signed {
            let clean = LLVMBuildSelect(b, compare(LLVMRealORD, x, 0), x, real(0), "")!  // NaN → 0
            let r = convert(clean)
            return LLVMBuildSelect(b, mask(compare(LLVMRealOGE, clean, 2147483648.0), upper: false), int(0x7FFF_FFFF), r, "")!
        }
        let clean = LLVMBuildSelect(b, compare(LLVMRealOGT, x, 0), x, real(0), "")!  // NaN, negative → 0
        let low = convert(clean)  // right below 2^31
        let high = LLVMBuildAdd(b, convert(LLVMBuildFSub(b, clean, real(2147483648.0), "")), int(0x8000_0000), "")!
        let r = LLVMBuildSelect(b, mask(compare(LLVMRealOLT, clean, 2147483648.0), upper: true), low, high, "")!
        return LLVMBuildSelect(b, mask(compare(LLVMRealOGE, clean, 4294967296.0), upper: false), int(0xFFFF_FFFF), r, "")!
    }

    /// extadd_pairwise: adjacent lanes widened and summed. x86: a multiply-add by ones —
    /// pmaddubsw (SSSE3; u8 · s8, sums fit i16) for bytes, pmaddwd for i16 (unsigned: biased by
    /// 0x8000 per lane, corrected by 0x10000 per pair).
    private func extaddPairwise(_ v: LLVMValueRef, _ s: LaneShape, signed: Bool) -> LLVMValueRef {
        if m.architecture == .x86_64 {
            if s == .i8x16 && m.target.hasSSSE3 {
                let ones = splatConstant(.i8x16, 1)
                return signed ? x86("ssse3.pmadd.ub.sw.128", [ones, v]) : x86("ssse3.pmadd.ub.sw.128", [v, ones])
            }
            if s == .i16x8 {
                let ones = splatConstant(.i16x8, 1)
                if signed { return x86("sse2.pmadd.wd", [v, ones]) }
                let biased = LLVMBuildXor(b, v, splatConstant(.i16x8, -32768), "")!
                return LLVMBuildAdd(b, x86("sse2.pmadd.wd", [biased, ones]), splatConstant(.i32x4, 0x10000), "")!
            }
        }
        return pairwiseAdd(widen(v, s, signed: signed), count: s.count)
    }

    private func allTrue(_ s: LaneShape) throws(CompileError) {
        try test(s) { v in
            let nonzero = LLVMBuildICmp(b, LLVMIntNE, v, LLVMConstNull(vector(s)), "")!
            let bits = LLVMBuildBitCast(b, nonzero, LLVMIntTypeInContext(ir.context, UInt32(s.count)), "")!
            return LLVMBuildZExt(b, LLVMBuildICmp(b, LLVMIntEQ, bits, LLVMConstAllOnes(LLVMTypeOf(bits)), ""), ir.i32, "")!
        }
    }

    private func bitmask(_ s: LaneShape) throws(CompileError) {
        try test(s) { v in
            let negative = LLVMBuildICmp(b, LLVMIntSLT, v, LLVMConstNull(vector(s)), "")!
            let bits = LLVMBuildBitCast(b, negative, LLVMIntTypeInContext(ir.context, UInt32(s.count)), "")!
            return LLVMBuildZExt(b, bits, ir.i32, "")!
        }
    }

    private func integerAbs(_ s: LaneShape) throws(CompileError) {
        try unary(s) { call("llvm.abs", [vector(s)], [$0, LLVMConstInt(ir.i1, 0, 0)]) }
    }

    private func extMul(_ s: LaneShape, high: Bool, signed: Bool) throws(CompileError) {
        try binary(s) { x, y in
            LLVMBuildMul(b, extend(x, s, high: high, signed: signed), extend(y, s, high: high, signed: signed), "")!
        }
    }

    // MARK: memory

    /// The v128 load forms: the bytes they read, and the v128 built from the loaded value.
    func v128Load(_ op: Instruction.Load, _ memarg: MemArg) throws(CompileError) -> Bool {
        let (memType, bytes, build): (LLVMTypeRef, Int, (LLVMValueRef) -> LLVMValueRef)
        switch op {
        case .v128Load: (memType, bytes, build) = (v128, 16, { $0 })
        case .v128Load8X8S: (memType, bytes, build) = (vector(ir.i8, 8), 8, { LLVMBuildSExt(self.b, $0, self.vector(.i16x8), "")! })
        case .v128Load8X8U: (memType, bytes, build) = (vector(ir.i8, 8), 8, { LLVMBuildZExt(self.b, $0, self.vector(.i16x8), "")! })
        case .v128Load16X4S: (memType, bytes, build) = (vector(ir.i16, 4), 8, { LLVMBuildSExt(self.b, $0, self.vector(.i32x4), "")! })
        case .v128Load16X4U: (memType, bytes, build) = (vector(ir.i16, 4), 8, { LLVMBuildZExt(self.b, $0, self.vector(.i32x4), "")! })
        case .v128Load32X2S: (memType, bytes, build) = (vector(ir.i32, 2), 8, { LLVMBuildSExt(self.b, $0, self.vector(.i64x2), "")! })
        case .v128Load32X2U: (memType, bytes, build) = (vector(ir.i32, 2), 8, { LLVMBuildZExt(self.b, $0, self.vector(.i64x2), "")! })
        case .v128Load8Splat: (memType, bytes, build) = (ir.i8, 1, { self.splat($0, self.ir.i8, 16) })
        case .v128Load16Splat: (memType, bytes, build) = (ir.i16, 2, { self.splat($0, self.ir.i16, 8) })
        case .v128Load32Splat: (memType, bytes, build) = (ir.i32, 4, { self.splat($0, self.ir.i32, 4) })
        case .v128Load64Splat: (memType, bytes, build) = (ir.i64, 8, { self.splat($0, self.ir.i64, 2) })
        case .v128Load32Zero:
            (memType, bytes, build) = (ir.i32, 4, { LLVMBuildInsertElement(self.b, LLVMConstNull(self.vector(.i32x4)), $0, self.ir.c32(0), "")! })
        case .v128Load64Zero:
            (memType, bytes, build) = (ir.i64, 8, { LLVMBuildInsertElement(self.b, LLVMConstNull(self.v128), $0, self.ir.c32(0), "")! })
        default: return false
        }
        try checkAlignment(memarg, bytes: bytes)
        let addr = try pop(addressType(memarg.memory))
        guard emitting else { push(.v128, nil); return true }
        let loaded = ir.load(memType, address(addr, memarg, bytes: bytes), align: 1)
        LLVMSetVolatile(loaded, 1)
        push(.v128, canonical(build(loaded)))
        return true
    }

    func v128Store(_ memarg: MemArg) throws(CompileError) {
        try checkAlignment(memarg, bytes: 16)
        let v = try pop(.v128)
        let addr = try pop(addressType(memarg.memory))
        guard emitting else { return }
        LLVMSetVolatile(ir.store(value(v), address(addr, memarg, bytes: 16), align: 1), 1)
    }

    func simdMemLane(_ op: Instruction.SimdMemLane, _ memarg: MemArg, _ lane: UInt8) throws(CompileError) {
        try requireMemory(memarg.memory)
        let (s, store): (LaneShape, Bool)
        switch op {
        case .v128Load8Lane: (s, store) = (.i8x16, false)
        case .v128Load16Lane: (s, store) = (.i16x8, false)
        case .v128Load32Lane: (s, store) = (.i32x4, false)
        case .v128Load64Lane: (s, store) = (.i64x2, false)
        case .v128Store8Lane: (s, store) = (.i8x16, true)
        case .v128Store16Lane: (s, store) = (.i16x8, true)
        case .v128Store32Lane: (s, store) = (.i32x4, true)
        case .v128Store64Lane: (s, store) = (.i64x2, true)
        }
        try checkAlignment(memarg, bytes: s.bits / 8)
        guard Int(lane) < s.count else { throw error("invalid lane index") }
        let v = try pop(.v128)
        let addr = try pop(addressType(memarg.memory))
        if store {
            guard emitting else { return }
            let x = LLVMBuildExtractElement(b, lanes(value(v), s), ir.c32(Int(lane)), "")!
            LLVMSetVolatile(ir.store(x, address(addr, memarg, bytes: s.bits / 8), align: 1), 1)
        } else {
            guard emitting else { return push(.v128, nil) }
            let loaded = ir.load(laneType(s), address(addr, memarg, bytes: s.bits / 8), align: 1)
            LLVMSetVolatile(loaded, 1)
            push(.v128, canonical(LLVMBuildInsertElement(b, lanes(value(v), s), loaded, ir.c32(Int(lane)), "")!))
        }
    }
}
