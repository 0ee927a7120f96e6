import WAT
import WasmAOTCore
import WasmTypes
import XCTest

final class DecodeTests: XCTestCase {
    private func decode(_ wat: String) throws -> WasmModule {
        try WasmModule.decode(bytes: try wat2wasm(wat))
    }

    private func decodeError(_ wat: String, file: StaticString = #filePath, line: UInt = #line) throws -> CompileError {
        do {
            _ = try WasmModule.decode(bytes: try wat2wasm(wat))
        } catch let error as CompileError {
            return error
        }
        XCTFail("module was accepted", file: file, line: line)
        throw XCTSkip("accepted")
    }

    func testIndexSpacesPutImportsFirst() throws {
        let module = try decode("""
            (module
              (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
              (import "env" "g" (global i32))
              (global (mut i64) (i64.const 7))
              (memory 2 10)
              (table 3 funcref)
              (func $f (result i32) (i32.const 1))
              (func $g (export "g") (param i32 i32) (result i32) (local.get 0))
              (export "f" (func $f)))
            """)
        XCTAssertEqual(module.importedFunctionCount, 1)
        XCTAssertEqual(module.functionTypeIndices.count, 3)
        XCTAssertEqual(module.definedFunctionCount, 2)
        XCTAssertEqual(module.functionType(ofFunction: 2).parameters, [.i32, .i32])
        XCTAssertEqual(module.importedGlobalCount, 1)
        XCTAssertEqual(module.globals.count, 2)
        XCTAssertEqual(module.memories.first?.min, 2)
        XCTAssertEqual(module.memories.first?.max, 10)
        XCTAssertEqual(module.tables.first?.limits.min, 3)
        XCTAssertEqual(module.exports.map(\.name), ["g", "f"])
        // Exported functions may be named by ref.func in bodies.
        XCTAssertEqual(module.declaredFunctionReferences, [1, 2])
    }

    func testFunctionNamesComeFromTheNameSection() throws {
        let module = try WasmModule.decode(bytes: try wat2wasm("(module (func $compute) (func $other))", options: EncodeOptions(nameSection: true)))
        XCTAssertEqual(module.functionNames[0], "compute")
    }

    func testModuleLevelRulesAreEnforced() throws {
        XCTAssertEqual(try decodeError("(module (func (export \"a\")) (func (export \"a\")))").reason, "duplicate export name")
        XCTAssertEqual(try decodeError("(module (func $s (param i32)) (start $s))").reason, "start function")
        XCTAssertEqual(try decodeError("(module (memory 65537))").reason, "memory size must be at most 65536 pages (4GiB)")
        XCTAssertEqual(try decodeError("(module (memory 2 1))").reason, "size minimum must not be greater than maximum")
        XCTAssertEqual(try decodeError("(module (global i32 (i64.const 0)))").reason, "type mismatch")
        XCTAssertEqual(try decodeError("""
            (module (global $g (mut i32) (i32.const 0)) (global i32 (global.get $g)))
            """).reason, "constant expression required")
        // Extended constants are Wasm 3.0; division is not among them.
        XCTAssertNoThrow(try WasmModule.decode(bytes: try wat2wasm("(module (global i32 (i32.add (i32.const 1) (i32.const 2))))")))
        XCTAssertEqual(try decodeError("(module (global i32 (i32.div_u (i32.const 1) (i32.const 2))))").reason, "constant expression required")
        XCTAssertThrowsError(try WasmModule.decode(bytes: try wat2wasm("(module (global i32 (i32.add (i32.const 1) (i32.const 2))))"), standard: .wasm2))
        XCTAssertEqual(try decodeError("(module (table 1 funcref) (elem (i64.const 0) func))").reason, "type mismatch")
    }

    func testTruncatedModuleReportsAnOffset() throws {
        let bytes = try wat2wasm("(module (func (export \"f\") (result i32) (i32.const 42)))")
        XCTAssertThrowsError(try WasmModule.decode(bytes: Array(bytes.prefix(bytes.count - 3)))) { error in
            let located = error as! CompileError
            XCTAssertNotNil(located.offset, "\(located)")
            XCTAssertTrue(located.description.contains("at offset 0x"), located.description)
        }
    }

    func testGarbageIsRejected() throws {
        XCTAssertThrowsError(try WasmModule.decode(bytes: Array("not a wasm module at all".utf8))) { error in
            XCTAssertTrue("\(error)".contains("not a WebAssembly module: it is text"), "\(error)")
        }
    }

    func testSignatureTextIsStructural() {
        let a = FunctionTypeText.make([.i32, .i64], [.f32])
        XCTAssertEqual(Signature.text(a, texts: []), "iI:f")
        XCTAssertNotEqual(Signature.text(a, texts: []), Signature.text(FunctionTypeText.make([.i64, .i32], [.f32]), texts: []))
        XCTAssertEqual(Signature.text(FunctionTypeText.make([], []), texts: []), ":")
    }

    /// Typed references keep one letter per value (what C calls need) and add an exact token per
    /// reference: nullability and the referenced type's own text, so structurally equal types
    /// have equal texts and different ones differ.
    func testSignatureTextOfTypedReferences() {
        let t0 = FunctionTypeText.make([.i32], [.i32])
        let refT0 = ValueType.ref(ReferenceType(isNullable: false, heapType: .concrete(typeIndex: 0)))
        let nullT0 = ValueType.ref(ReferenceType(isNullable: true, heapType: .concrete(typeIndex: 0)))
        let texts = WasmModule.canonicalTexts([t0, FunctionTypeText.make([refT0], [.i32]), FunctionTypeText.make([nullT0], [.i32]),
                                               FunctionTypeText.make([.ref(.funcRef)], [.i32]), FunctionTypeText.make([.i32], [.i32]),
                                               FunctionTypeText.make([.ref(ReferenceType(isNullable: false, heapType: .concrete(typeIndex: 5)))], [])])
        XCTAssertEqual(texts[0], "i:i")
        XCTAssertEqual(texts[1], "r:i;{i:i}")
        XCTAssertEqual(texts[2], "r:i;?{i:i}")
        XCTAssertEqual(texts[3], "r:i")
        XCTAssertEqual(texts[4], texts[0])
        XCTAssertEqual(texts[5], "r:;~")
        var module = WasmModule()
        module.types = [t0, t0]
        module.typeTexts = texts
        let refT1 = ValueType.ref(ReferenceType(isNullable: false, heapType: .concrete(typeIndex: 4)))
        XCTAssertTrue(module.isSubtype(refT0, of: nullT0))
        XCTAssertFalse(module.isSubtype(nullT0, of: refT0))
        XCTAssertTrue(module.isSubtype(refT0, of: .ref(.funcRef)))
        XCTAssertTrue(module.isSubtype(refT1, of: refT0), "equivalent types")
        XCTAssertFalse(module.isSubtype(.ref(.funcRef), of: nullT0))
        XCTAssertFalse(module.isSubtype(.ref(.externRef), of: .ref(.funcRef)))
        XCTAssertTrue(module.isSubtype(.ref(ReferenceType(isNullable: true, heapType: .abstract(.noFunc))), of: nullT0))
    }

    /// Element segment flags are 0-7 (WasmKit reads 0x41 as if it were 1): refused with the spec
    /// decoder's words and the flags' offset; every valid kind still decodes.
    func testElementSegmentFlagsAreChecked() throws {
        // (table 2 funcref) (func $f) (elem (i32.const 0) func $f) (elem func $f) (elem declare func $f)
        // with explicit-table, expression and declarative kinds too: flags 0, 1, 2, 3, 4, 5, 6, 7.
        let header: [UInt8] = [0, 0x61, 0x73, 0x6D, 1, 0, 0, 0,
                               0x01, 0x04, 0x01, 0x60, 0x00, 0x00,   // type () -> ()
                               0x03, 0x02, 0x01, 0x00,               // one function
                               0x04, 0x04, 0x01, 0x70, 0x00, 0x02]   // table 2 funcref
        let code: [UInt8] = [0x0A, 0x04, 0x01, 0x02, 0x00, 0x0B]
        let segments: [[UInt8]] = [
            [0x00, 0x41, 0x00, 0x0B, 0x01, 0x00],
            [0x01, 0x00, 0x01, 0x00],
            [0x02, 0x00, 0x41, 0x01, 0x0B, 0x00, 0x01, 0x00],
            [0x03, 0x00, 0x01, 0x00],
            [0x04, 0x41, 0x00, 0x0B, 0x01, 0xD2, 0x00, 0x0B],
            [0x05, 0x70, 0x01, 0xD0, 0x70, 0x0B],
            [0x06, 0x00, 0x41, 0x01, 0x0B, 0x70, 0x01, 0xD2, 0x00, 0x0B],
            [0x07, 0x70, 0x01, 0xD2, 0x00, 0x0B],
        ]
        func module(_ segs: [[UInt8]]) -> [UInt8] {
            let payload = [UInt8(segs.count)] + segs.flatMap { $0 }
            return header + [0x09, UInt8(payload.count)] + payload + code
        }
        let valid = try WasmModule.decode(bytes: module(segments))
        XCTAssertEqual(valid.elements.count, 8)
        for bad: UInt8 in [0x08, 0x41, 0x7F] {
            var segs = segments
            segs[1][0] = bad   // a passive segment: WasmKit reads 0x41 as passive and accepts it
            let bytes = module(segs)
            XCTAssertThrowsError(try WasmModule.decode(bytes: bytes), "flags \(bad)") { error in
                // 0x08 and 0x7F already derail WasmKit's reading of the segment; 0x41 does not.
                guard bad == 0x41 else { return XCTAssertTrue(error is CompileError, "\(error)") }
                let e = error as? CompileError
                XCTAssertTrue(e?.reason.contains("malformed elements segment kind (flags 65") ?? false, "\(error)")
                XCTAssertEqual(e?.offset, header.count + 2 + 1 + segments[0].count, "the flags' offset")
            }
        }
    }
}
