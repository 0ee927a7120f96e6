import WAT
import WasmAOTCodegen
import WasmAOTCore
import WasmAOTLower
import XCTest

/// Validation (fused with lowering) and the IR patterns that carry Wasm semantics LLVM does not
/// give for free. Runtime behaviour of the same patterns is checked end to end in TrapTests.
final class LowerTests: XCTestCase {
    private func ir(_ wat: String, opt: OptLevel = .o0) throws -> String {
        let module = try WasmModule.decode(bytes: try wat2wasm(wat))
        let lowered = try Lowering.lower(module)
        let target = try TargetSpec(architecture: .x86_64, cpu: .baseline)
        return String(decoding: try Codegen.emit(lowered.module, target: target, opt: opt, kind: .llvmIR), as: UTF8.self)
    }

    private func lowerError(_ wat: String) throws -> CompileError {
        let module = try WasmModule.decode(bytes: try wat2wasm(wat))
        do {
            _ = try Lowering.lower(module)
        } catch {
            return error
        }
        XCTFail("body was accepted")
        throw XCTSkip("accepted")
    }

    func testTypeErrorsNameFunctionAndOffset() throws {
        let bytes = try wat2wasm("""
            (module
              (func) (func) (func)
              (func $bad (result i32) (i64.const 1)))
            """, options: EncodeOptions(nameSection: true))
        var error = CompileError("accepted")
        XCTAssertThrowsError(try Lowering.lower(try WasmModule.decode(bytes: bytes))) { error = $0 as! CompileError }
        XCTAssertEqual(error.function, 3)
        XCTAssertEqual(error.functionName, "bad")
        XCTAssertNotNil(error.offset)
        XCTAssertTrue(error.reason.hasPrefix("type mismatch"), error.reason)
        XCTAssertTrue(error.description.hasPrefix("function 3 bad at offset 0x"), error.description)
    }

    func testValidationRules() throws {
        XCTAssertTrue(try lowerError("(module (func (br 1)))").reason.hasPrefix("unknown label"))
        XCTAssertTrue(try lowerError("(module (global i32 (i32.const 0)) (func (global.set 0 (i32.const 1))))").reason == "global is immutable")
        XCTAssertTrue(try lowerError("(module (func (i32.load (i32.const 0)) (drop)))").reason.hasPrefix("unknown memory"))
        XCTAssertTrue(try lowerError("(module (memory 1) (func (i32.load align=8 (i32.const 0)) (drop)))").reason == "alignment must not be larger than natural")
        XCTAssertTrue(try lowerError("(module (func (result i32) (i32.const 1) (i32.const 2)))").reason.hasPrefix("type mismatch"))
        XCTAssertTrue(try lowerError("(module (func (param i32) (result i32) (if (result i32) (local.get 0) (then (i32.const 1)))))").reason.hasPrefix("type mismatch"))
        XCTAssertTrue(try lowerError("(module (func (select (ref.null func) (ref.null func) (i32.const 1)) (drop)))").reason.hasPrefix("type mismatch"))
        XCTAssertTrue(try lowerError("(module (func $f) (func (ref.func $f) (drop)))").reason == "undeclared function reference")
    }

    func testUnreachableCodeIsValidatedButNotEmitted() throws {
        // After `unreachable` the stack is polymorphic: this body is valid.
        let text = try ir("""
            (module (func (export "f") (result i32)
              (unreachable) (i32.add) (drop) (block (result i64) (br 0 (i64.const 1))) (drop) (i32.const 0)))
            """)
        XCTAssertTrue(text.contains("call void @wasmaot_trap(i32 0)"), text)
        XCTAssertFalse(text.contains("add i32"), text)
        XCTAssertTrue(try lowerError("(module (func (unreachable) (i64.const 0) (i32.add) (drop)))").reason.hasPrefix("type mismatch"))
    }

    func testSemanticsLLVMDoesNotGiveForFree() throws {
        let text = try ir("""
            (module (memory 1)
              (func (export "shl") (param i32 i32) (result i32) (i32.shl (local.get 0) (local.get 1)))
              (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
              (func (export "min") (param f64 f64) (result f64) (f64.min (local.get 0) (local.get 1)))
              (func (export "near") (param f32) (result f32) (f32.nearest (local.get 0)))
              (func (export "rot") (param i64 i64) (result i64) (i64.rotl (local.get 0) (local.get 1)))
              (func (export "trunc") (param f32) (result i32) (i32.trunc_f32_s (local.get 0)))
              (func (export "sat") (param f64) (result i64) (i64.trunc_sat_f64_u (local.get 0)))
              (func (export "dropload") (param i32) (drop (i32.load (local.get 0)))))
            """)
        XCTAssertTrue(text.contains("and i32 %"), "shift amount must be masked")
        XCTAssertTrue(text.contains("@wasmaot_trap(i32 2)"), "divide by zero trap")
        XCTAssertTrue(text.contains("@wasmaot_trap(i32 3)"), "INT_MIN / -1 overflow trap")
        XCTAssertTrue(text.contains("@llvm.minimum.f64"))
        XCTAssertTrue(text.contains("@llvm.roundeven.f32"))
        XCTAssertTrue(text.contains("@llvm.fshl.i64"))
        XCTAssertTrue(text.contains("@wasmaot_trap(i32 4)"), "NaN → invalid conversion")
        XCTAssertTrue(text.contains("@llvm.fptoui.sat.i64.f64"))
        XCTAssertTrue(text.contains("load volatile i32"), "a dropped load must survive optimization")
    }

    func testOptimizedCodeKeepsTrappingLoadsAndHasNoBoundsChecks() throws {
        let text = try ir("""
            (module (memory 1)
              (func (export "sum") (param i32 i32) (result i32) (local i32)
                (block (loop
                  (br_if 1 (i32.eqz (local.get 1)))
                  (local.set 2 (i32.add (local.get 2) (i32.load (local.get 0))))
                  (local.set 0 (i32.add (local.get 0) (i32.const 4)))
                  (local.set 1 (i32.sub (local.get 1) (i32.const 1)))
                  (br 0)))
                (local.get 2))
              (func (export "dropload") (param i32) (drop (i32.load offset=16 (local.get 0)))))
            """, opt: .o2)
        XCTAssertTrue(text.contains("load volatile i32"), text)
        // Guard pages replace bounds checks: no trap call for memory accesses.
        XCTAssertFalse(text.contains("@wasmaot_trap(i32 1)"), text)
    }

    func testObjectEmissionProducesRelocatableELF() throws {
        let module = try WasmModule.decode(bytes: try wat2wasm("(module (func (export \"_start\")))"))
        let lowered = try Lowering.lower(module)
        let object = try Codegen.emit(lowered.module, target: try TargetSpec(architecture: .x86_64, cpu: .baseline), opt: .o2, kind: .object)
        XCTAssertEqual(Array(object.prefix(4)), [0x7f, 0x45, 0x4c, 0x46])
        XCTAssertEqual(object[16], 1, "ET_REL")
        XCTAssertEqual(object[18], 0x3e, "EM_X86_64")
    }

    func testMultiValueAndReferenceTypesLower() throws {
        let text = try ir("""
            (module
              (table $t 2 funcref)
              (type $pair (func (result i32 i64)))
              (func $p (type $pair) (i32.const 1) (i64.const 2))
              (elem declare func $p)
              (func (export "f") (result i32 i64)
                (call $p))
              (func (export "g") (param i32) (result i32)
                (table.set $t (i32.const 0) (ref.func $p))
                (drop (table.grow $t (ref.null func) (i32.const 3)))
                (call_indirect $t (type $pair) (local.get 0)) (drop)))
            """)
        XCTAssertTrue(text.contains("{ i32, i64 }"), text)
        // Exact type identity: the record's interned type against the vmctx's for the type index
        // (the descriptor lists the canonical texts) — no 64-bit hash, no call.
        XCTAssertTrue(text.contains("@wasmaot_trap(i32 7)"), "signature mismatch check")
        XCTAssertTrue(text.contains("@\"wasmaot_type.:iI\""), text)
        XCTAssertTrue(text.contains("@wasmaot_table_grow"), text)
    }
}
