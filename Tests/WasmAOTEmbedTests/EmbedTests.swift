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

    /// v128 values cross the C boundary as two 64-bit halves (bytes 0-7 first): parameters,
    /// results mixed with scalars, exported globals, a trap from a v128 access, exceptions
    /// carrying a v128 inside the module, and a v128 function re-exported by another instance
    /// (called through its defining instance's entry). Host functions with v128 are refused.
    func testV128ValuesAndFunctions() throws {
        let engine = try Engine()
        let provider = try engine.instantiate(try module(engine, """
            (module
              (memory (export "mem") 1)
              (global (export "gv") (mut v128) (v128.const i32x4 1 2 3 4))
              (tag $t (param i32 v128))
              (func $thrower (param v128) (throw $t (i32.const 7) (local.get 0)))
              (func (export "add") (param v128 v128) (result v128) (i32x4.add (local.get 0) (local.get 1)))
              (func (export "mix") (param i32 v128 f64) (result v128 i32 f64)
                (i32x4.replace_lane 3 (local.get 1) (local.get 0)) (i8x16.bitmask (local.get 1)) (local.get 2))
              (func (export "load") (param i32) (result v128) (v128.load (local.get 0)))
              (func (export "catch") (param v128) (result i32 v128)
                (block $h (result i32 v128)
                  (try_table (catch $t $h) (call $thrower (local.get 0)))
                  (unreachable)))
              (func (export "setg") (param v128) (global.set 0 (local.get 0))))
            """)) { _, _ in nil }
        let a = Value.v128(lo: 0x0000_0002_0000_0001, hi: 0x0000_0004_0000_0003)
        XCTAssertEqual(try provider.invoke("add", [a, a]), [.v128(lo: 0x0000_0004_0000_0002, hi: 0x0000_0008_0000_0006)])
        XCTAssertEqual(try provider.invoke("mix", [.i32(99), .v128(lo: 0x80, hi: 0x8000_0000_0000_0000), .f64(Double(2.5).bitPattern)]),
                       [.v128(lo: 0x80, hi: 0x0000_0063_0000_0000), .i32(0x8001), .f64(Double(2.5).bitPattern)])
        XCTAssertEqual(provider.global("gv"), a)
        _ = try provider.invoke("setg", [.v128(lo: 1, hi: UInt64.max)])
        XCTAssertEqual(provider.global("gv"), .v128(lo: 1, hi: UInt64.max))
        XCTAssertThrowsError(try provider.invoke("load", [.i32(65521)])) { error in
            XCTAssertEqual((error as? Trap)?.description, "out of bounds memory access")
        }
        XCTAssertEqual(try provider.invoke("load", [.i32(65520)]), [.v128(lo: 0, hi: 0)])
        XCTAssertEqual(try provider.invoke("catch", [a]), [.i32(7), a])

        let user = try engine.instantiate(try module(engine, """
            (module
              (import "p" "add" (func $add (param v128 v128) (result v128)))
              (import "p" "mix" (func $mix (param i32 v128 f64) (result v128 i32 f64)))
              (export "add" (func $add))
              (export "mix" (func $mix))
              (func (export "twice") (param v128) (result v128) (call $add (local.get 0) (local.get 0))))
            """)) { module, name in module == "p" ? provider.export(name) : nil }
        XCTAssertEqual(try user.invoke("twice", [a]), [.v128(lo: 0x0000_0004_0000_0002, hi: 0x0000_0008_0000_0006)])
        XCTAssertEqual(try user.invoke("add", [a, a]), [.v128(lo: 0x0000_0004_0000_0002, hi: 0x0000_0008_0000_0006)])
        XCTAssertEqual(try user.invoke("mix", [.i32(1), a, .f64(0)]).first, .v128(lo: 0x0000_0002_0000_0001, hi: 0x0000_0001_0000_0003))
        XCTAssertThrowsError(try engine.hostFunction(type: "v:v") { $0 })
    }
}
