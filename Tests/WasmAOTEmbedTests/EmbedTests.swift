import WAT
import WasmAOTEmbed
import XCTest

/// The embedding API: compile to a shared object, instantiate with host imports, call exports
/// with typed values through libffi, survive traps.
final class EmbedTests: XCTestCase {
    private func module(_ engine: Engine, _ wat: String) throws -> Module {
        try engine.compile(try wat2wasm(wat))
    }

    func testTypedCallsTrapsAndRecovery() throws {
        let engine = try Engine()
        var seen: [Value] = []
        let log = try engine.hostFunction(type: "e:") { args in seen += args; return [] }
        let m = try module(engine, """
            (module
              (import "host" "log" (func $log (param externref)))
              (memory (export "mem") 1)
              (func (export "mix") (param i32 i64 f32 f64 externref) (result f64)
                (call $log (local.get 4))
                (f64.add (f64.add (f64.convert_i32_s (local.get 0)) (f64.convert_i64_s (local.get 1)))
                         (f64.add (f64.promote_f32 (local.get 2)) (local.get 3))))
              (func (export "pair") (param i32) (result i32 i64 f32)
                (local.get 0) (i64.extend_i32_u (local.get 0)) (f32.const 1.5))
              (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
              (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
              (func $r (export "recurse") (param i32) (result i32) (i32.add (call $r (local.get 0)) (i32.const 1))))
            """)
        let instance = try engine.instantiate(m) { module, name in module == "host" && name == "log" ? log : nil }

        let r = try instance.invoke("mix", [.i32(UInt32(bitPattern: -3)), .i64(10), .f32(Float(0.5).bitPattern),
                                            .f64(Double(100.25).bitPattern), .externref(0x1234)])
        XCTAssertEqual(r, [.f64(Double(107.75).bitPattern)])
        XCTAssertEqual(seen, [.externref(0x1234)])
        XCTAssertEqual(try instance.invoke("pair", [.i32(7)]), [.i32(7), .i64(7), .f32(Float(1.5).bitPattern)])

        XCTAssertThrowsError(try instance.invoke("div", [.i32(1), .i32(0)])) { error in
            XCTAssertEqual((error as? Trap)?.description, "integer divide by zero")
        }
        XCTAssertEqual(try instance.invoke("div", [.i32(84), .i32(2)]), [.i32(42)])
        XCTAssertThrowsError(try instance.invoke("load", [.i32(65535)])) { error in
            XCTAssertEqual((error as? Trap)?.description, "out of bounds memory access")
        }
        XCTAssertThrowsError(try instance.invoke("recurse", [.i32(0)])) { error in
            XCTAssertEqual((error as? Trap)?.description, "call stack exhausted")
        }
        XCTAssertEqual(try instance.invoke("load", [.i32(0)]), [.i32(0)])
    }

    func testInstancesShareExportsAcrossModules() throws {
        let engine = try Engine()
        let provider = try engine.instantiate(try module(engine, """
            (module
              (memory (export "mem") 1 4)
              (table (export "tab") 2 funcref)
              (global (export "g") (mut i32) (i32.const 5))
              (func $seven (result i32) (i32.const 7))
              (elem (i32.const 1) $seven)
              (func (export "peek") (result i32) (i32.load (i32.const 16))))
            """)) { _, _ in nil }
        let consumer = try engine.instantiate(try module(engine, """
            (module
              (import "p" "mem" (memory 1))
              (import "p" "tab" (table 2 funcref))
              (import "p" "g" (global $g (mut i32)))
              (func (export "run") (result i32)
                (i32.store (i32.const 16) (i32.const 99))
                (global.set $g (i32.add (global.get $g) (i32.const 1)))
                (call_indirect (result i32) (i32.const 1))))
            """)) { module, name in module == "p" ? provider.export(name) : nil }
        XCTAssertEqual(try consumer.invoke("run", []), [.i32(7)])
        XCTAssertEqual(try provider.invoke("peek", []), [.i32(99)])
        XCTAssertEqual(provider.global("g"), .i32(6))
        XCTAssertThrowsError(try engine.instantiate(try module(engine, "(module (import \"p\" \"mem\" (memory 1 2)))")) { _, name in provider.export(name) })
    }

    func testImportNamesKeepNULBytes() throws {
        let engine = try Engine()
        let provider = try engine.instantiate(try module(engine, """
            (module
              (func (export "g") (result i32) (i32.const 1))
              (func (export "g\\00x") (result i32) (i32.const 2)))
            """)) { _, _ in nil }
        var asked: [String] = []
        let consumer = try engine.instantiate(try module(engine, """
            (module
              (import "p\\00q" "g\\00x" (func $f (result i32)))
              (func (export "run") (result i32) (call $f)))
            """)) { module, name in
            asked.append(module + "|" + name)
            return module == "p\u{0}q" ? provider.export(name) : nil
        }
        XCTAssertEqual(asked, ["p\u{0}q|g\u{0}x"])
        XCTAssertEqual(try consumer.invoke("run", []), [.i32(2)])

        // Not a host function either: the runtime's own table is keyed by C strings.
        let nearlyWASI = try module(engine, """
            (module (import "wasi_snapshot_preview1" "proc_exit\\00x" (func (param i32))))
            """)
        XCTAssertThrowsError(try engine.instantiate(nearlyWASI) { _, _ in nil }) { error in
            XCTAssertTrue("\(error)".contains("unknown import wasi_snapshot_preview1.proc_exit"), "\(error)")
        }
    }

    func testStartFunctionTrapFailsInstantiation() throws {
        let engine = try Engine()
        let m = try module(engine, "(module (func $s (unreachable)) (start $s))")
        XCTAssertThrowsError(try engine.instantiate(m) { _, _ in nil }) { error in
            XCTAssertEqual((error as? Trap)?.description, "unreachable")
        }
    }
}
