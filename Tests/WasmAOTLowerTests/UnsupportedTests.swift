import WAT
import WasmAOTCore
import WasmAOTLower
import WasmParser
import XCTest

/// Modules of proposals wasmaot does not compile yet are refused with `unsupported: <proposal>`
/// and the place — whether the decoder, validation or lowering is what stops them — and a
/// malformed module is still called malformed.
final class UnsupportedTests: XCTestCase {
    /// Decoding + lowering; the error they stop with.
    private func refusal(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) throws -> CompileError {
        do {
            _ = try Lowering.lower(try WasmModule.decode(bytes: bytes))
        } catch {
            return error
        }
        XCTFail("module was accepted", file: file, line: line)
        throw XCTSkip("accepted")
    }

    private func refusal(_ wat: String, file: StaticString = #filePath, line: UInt = #line) throws -> CompileError {
        try refusal(try wat2wasm(wat, features: .all, options: EncodeOptions(nameSection: true)), file: file, line: line)
    }

    func testEveryProposalIsNamed() throws {
        let cases: [(wat: String, proposal: String)] = [
            // decoder: GC types, shared limits
            ("(module (type $s (struct (field i32))) (func (export \"f\")))", "GC"),
            ("(module (rec (type (func)) (type (func))))", "GC"),
            ("(module (memory 1 1 shared))", "threads (shared memory and atomics)"),
            // lowering: instructions
            ("(module (func (export \"f\") (result i32) (i31.get_s (ref.i31 (i32.const 1)))))", "GC"),
            ("(module (memory 1) (func (export \"f\") (result i32) (i32.atomic.load (i32.const 0))))", "threads (shared memory and atomics)"),
        ]
        for c in cases {
            let error = try refusal(c.wat)
            XCTAssertTrue(error.reason.hasPrefix("unsupported: \(c.proposal) ("), "\(c.wat)\n→ \(error.description)")
        }
    }

    /// SIMD (issue 31) was refused like the others until it was implemented: v128 values in every
    /// place a value can be, and the vector instructions, now compile.
    func testSIMDIsNotRefused() throws {
        let modules = [
            "(module (func (export \"f\") (param v128)))",
            "(module (global v128 (v128.const i64x2 0 0)))",
            "(module (global (export \"g\") (mut v128) (v128.const i64x2 0 0)))",
            "(module (func (export \"f\") (local v128)))",
            "(module (func (export \"f\") (result i32) (drop (v128.const i32x4 1 2 3 4)) (i32.const 0)))",
            "(module (func (export \"f\") (result i32) (block (result v128) (v128.const i64x2 0 0)) (drop) (i32.const 0)))",
            "(module (memory 1) (func (export \"f\") (param i32) (result v128) (v128.load offset=16 (local.get 0))))",
            "(module (func (export \"f\") (param v128 v128) (result v128) (i8x16.swizzle (local.get 0) (local.get 1))))",
            "(module (func (export \"f\") (param v128 v128 v128) (result v128) (f32x4.relaxed_madd (local.get 0) (local.get 1) (local.get 2))))",
        ]
        for wat in modules {
            XCTAssertNoThrow(try Lowering.lower(try WasmModule.decode(bytes: try wat2wasm(wat, features: .all))), wat)
        }
    }

    func testTheRefusalSaysWhere() throws {
        let error = try refusal("""
            (module (memory 1)
              (func $ok (result i32) (i32.const 1))
              (func $atomic (result i32) (i32.atomic.load (i32.const 0))))
            """)
        XCTAssertEqual(error.function, 1)
        XCTAssertEqual(error.functionName, "atomic")
        XCTAssertNotNil(error.offset)
        XCTAssertEqual(error.reason, "unsupported: threads (shared memory and atomics) (i32AtomicLoad)")
        XCTAssertTrue(error.description.hasPrefix("function 1 atomic at offset 0x"), error.description)

        // A body the decoder cannot read without GC: named, and located at that function.
        let gc = try refusal("(module (func $a) (func $b (result i32) (i31.get_s (ref.i31 (i32.const 1)))))")
        XCTAssertEqual(gc.function, 1)
        XCTAssertTrue(gc.reason.hasPrefix("unsupported: GC ("), gc.reason)

        // Module level: the offset of the type section.
        let types = try refusal("(module (type $s (struct (field i32))))")
        XCTAssertNil(types.function)
        XCTAssertNotNil(types.offset)
    }

    func testMalformedModulesStayMalformed() throws {
        let header: [UInt8] = [0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00]
        // A section id no proposal defines.
        let badSection = try refusal(header + [0x63, 0x00])
        XCTAssertFalse(badSection.reason.hasPrefix("unsupported"), badSection.reason)
        // A value type byte no proposal defines (0x40 in a param list).
        let badType = try refusal(header + [0x01, 0x05, 0x01, 0x60, 0x01, 0x40, 0x00])
        XCTAssertFalse(badType.reason.hasPrefix("unsupported"), badType.reason)
        // An opcode no proposal defines (0xFF) in a body.
        let badOpcode = try refusal(header + [0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00,
                                              0x0A, 0x05, 0x01, 0x03, 0x00, 0xFF, 0x0B])
        XCTAssertFalse(badOpcode.reason.hasPrefix("unsupported"), badOpcode.reason)
        XCTAssertEqual(badOpcode.function, 0)
    }
    /// Mutated modules (fixed seed: the same inputs every run) through decoding — including the
    /// re-decoding with each proposal on — and lowering: an error or a module, never a crash.
    func testMutatedModulesGiveErrorsNotCrashes() throws {
        let seeds = try [
            "(module (tag $e) (func (export \"f\") (throw $e)))",
            "(module (type $s (struct (field i32))) (func (export \"f\") (result i32) (i31.get_s (ref.i31 (i32.const 1)))))",
            "(module (memory 1 1 shared) (func (export \"f\") (result i32) (i32.atomic.rmw.add (i32.const 0) (i32.const 1))))",
            "(module (func $g (result i32) (i32.const 1)) (func (export \"f\") (result i32) (return_call $g)))",
            """
            (module (memory 1) (global (mut v128) (v128.const i32x4 1 2 3 4))
              (func (export "f") (param i32) (result i32)
                (v128.store offset=16 (local.get 0) (i8x16.shuffle 0 17 2 19 4 21 6 23 8 25 10 27 12 29 14 31
                  (v128.load (local.get 0)) (f32x4.min (global.get 0) (v128.load32_splat (local.get 0)))))
                (i32x4.extract_lane 2 (i16x8.narrow_i32x4_s (v128.load8_lane 3 (local.get 0) (global.get 0)) (global.get 0)))))
            """,
            """
            (module (memory 1) (table 2 funcref) (global (mut i32) (i32.const 0))
              (func $a (param i32) (result i32) (i32.load offset=4 (local.get 0)))
              (func (export "f") (result i32) (call_indirect (param i32) (result i32) (i32.const 0) (i32.const 1)))
              (elem (i32.const 0) $a) (data (i32.const 0) "abc"))
            """,
        ].map { try wat2wasm($0, features: .all) }
        var state: UInt64 = 0x5EED
        func next() -> UInt64 {  // SplitMix64
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        var refused = 0, accepted = 0
        for round in 0..<4000 {
            var bytes = seeds[round % seeds.count]
            for _ in 0..<(1 + Int(next() % 3)) {
                let at = 8 + Int(next() % UInt64(bytes.count - 8))
                switch next() % 3 {
                case 0: bytes[at] = UInt8(truncatingIfNeeded: next())
                case 1: bytes.insert(UInt8(truncatingIfNeeded: next()), at: at)
                default: bytes.remove(at: at)
                }
            }
            do {
                _ = try Lowering.lower(try WasmModule.decode(bytes: bytes))
                accepted += 1
            } catch {
                refused += 1
                XCTAssertFalse(error.reason.isEmpty)
            }
        }
        XCTAssertEqual(refused + accepted, 4000)
        XCTAssertGreaterThan(refused, 2500, "mutations should mostly break the modules")
    }
}
