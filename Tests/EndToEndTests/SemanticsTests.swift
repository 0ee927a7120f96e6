import Foundation
import XCTest

/// Positive semantics: WAT modules print results through fd_write (one value per line) or report
/// through proc_exit; every module runs at -O0 (no folding), -O2 (everything constant-folded) and the baseline tier.
final class SemanticsTests: XCTestCase {
    /// Imports + memory + printing helpers: $i32/$i64 print signed decimal, $f32/$f64 print the
    /// bit pattern as 0x + 8/16 hex digits, $nan prints 1 if an f64 is a NaN. Scratch: bytes 0..64.
    static let prelude = #"""
        (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
        (func $emit (param $ptr i32) (param $len i32)
          (i32.store (i32.const 0) (local.get $ptr))
          (i32.store (i32.const 4) (local.get $len))
          (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
        (func $i64 (param $v i64) (local $p i32) (local $neg i32) (local $u i64)
          (i32.store8 (i32.const 63) (i32.const 10))
          (local.set $p (i32.const 63))
          (local.set $neg (i64.lt_s (local.get $v) (i64.const 0)))
          (local.set $u (if (result i64) (local.get $neg)
            (then (i64.sub (i64.const 0) (local.get $v))) (else (local.get $v))))
          (loop $l
            (local.set $p (i32.sub (local.get $p) (i32.const 1)))
            (i32.store8 (local.get $p) (i32.add (i32.const 48) (i32.wrap_i64 (i64.rem_u (local.get $u) (i64.const 10)))))
            (local.set $u (i64.div_u (local.get $u) (i64.const 10)))
            (br_if $l (i64.ne (local.get $u) (i64.const 0))))
          (if (local.get $neg) (then
            (local.set $p (i32.sub (local.get $p) (i32.const 1)))
            (i32.store8 (local.get $p) (i32.const 45))))
          (call $emit (local.get $p) (i32.sub (i32.const 64) (local.get $p))))
        (func $hex (param $v i64) (param $n i32) (local $p i32) (local $d i32)
          (i32.store8 (i32.const 63) (i32.const 10))
          (local.set $p (i32.const 63))
          (loop $l
            (local.set $p (i32.sub (local.get $p) (i32.const 1)))
            (local.set $d (i32.wrap_i64 (i64.and (local.get $v) (i64.const 15))))
            (i32.store8 (local.get $p) (i32.add (local.get $d)
              (select (i32.const 48) (i32.const 87) (i32.lt_u (local.get $d) (i32.const 10)))))
            (local.set $v (i64.shr_u (local.get $v) (i64.const 4)))
            (local.set $n (i32.sub (local.get $n) (i32.const 1)))
            (br_if $l (local.get $n)))
          (local.set $p (i32.sub (local.get $p) (i32.const 2)))
          (i32.store16 (local.get $p) (i32.const 0x7830))
          (call $emit (local.get $p) (i32.sub (i32.const 64) (local.get $p))))
        (func $i32 (param i32) (call $i64 (i64.extend_i32_s (local.get 0))))
        (func $f32 (param f32) (call $hex (i64.extend_i32_u (i32.reinterpret_f32 (local.get 0))) (i32.const 8)))
        (func $f64 (param f64) (call $hex (i64.reinterpret_f64 (local.get 0)) (i32.const 16)))
        (func $nan (param f64) (call $i32 (f64.ne (local.get 0) (local.get 0))))
        """#

    /// Runs `(module prelude extra (func _start body))` at -O0, -O2 and the baseline tier and checks stdout
    /// against `expected` (one line each) and the exit status.
    private func check(_ body: String, extra: String = "(memory 1)", locals: String = "", expected: [String], status: Int32 = 0,
                       stderr: String? = nil, legacyText: Bool = false, file: StaticString = #filePath, line: UInt = #line) throws {
        let source = "(module \(Self.prelude)\n\(extra)\n(func (export \"_start\") \(locals)\n\(body)))"
        for opt in ["-O0", "-O2", "--tier=baseline"] {
            let r = try runWAT(source, opt: opt, legacyText: legacyText)
            XCTAssertEqual(r.status, status, "\(opt): \(r.summary)", file: file, line: line)
            if let stderr { XCTAssertEqual(r.stderrText, stderr, opt, file: file, line: line) }
            let got = r.stdoutText.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
            XCTAssertEqual(got.count, expected.count, "\(opt): line count; stdout:\n\(r.stdoutText)", file: file, line: line)
            for (i, (g, e)) in zip(got, expected).enumerated() where g != e {
                XCTFail("\(opt): value #\(i + 1): got \(g), expected \(e)", file: file, line: line)
            }
        }
    }

    func testIntegerOperations() throws {
        let cases: [(String, String)] = [
            ("(call $i32 (i32.clz (i32.const 0x00F00000)))", "8"),
            ("(call $i32 (i32.ctz (i32.const 0x00F00000)))", "20"),
            ("(call $i32 (i32.popcnt (i32.const 0xF0F0F0F0)))", "16"),
            ("(call $i32 (i32.clz (i32.const 0)))", "32"),
            ("(call $i32 (i32.ctz (i32.const 0)))", "32"),
            ("(call $i32 (i32.rotl (i32.const 0x80000001) (i32.const 1)))", "3"),
            ("(call $i32 (i32.rotr (i32.const 1) (i32.const 1)))", "-2147483648"),
            ("(call $i32 (i32.rotl (i32.const 0x12345678) (i32.const 36)))", "591751041"),
            ("(call $i32 (i32.rem_s (i32.const 0x80000000) (i32.const -1)))", "0"),
            ("(call $i32 (i32.div_s (i32.const -7) (i32.const 2)))", "-3"),
            ("(call $i32 (i32.rem_s (i32.const -7) (i32.const 2)))", "-1"),
            ("(call $i32 (i32.div_u (i32.const -7) (i32.const 2)))", "2147483644"),
            ("(call $i32 (i32.rem_u (i32.const -7) (i32.const 2)))", "1"),
            ("(call $i32 (i32.shr_s (i32.const -8) (i32.const 33)))", "-4"),
            ("(call $i32 (i32.shl (i32.const 1) (i32.const 35)))", "8"),
            ("(call $i32 (i32.shr_u (i32.const -1) (i32.const 31)))", "1"),
            ("(call $i32 (i32.extend8_s (i32.const 0x80)))", "-128"),
            ("(call $i32 (i32.extend16_s (i32.const 0x8000)))", "-32768"),
            ("(call $i32 (i32.wrap_i64 (i64.const 0x100000005)))", "5"),
            ("(call $i32 (i32.mul (i32.const 0x10000) (i32.const 0x10000)))", "0"),
            ("(call $i32 (i32.lt_u (i32.const -1) (i32.const 1)))", "0"),
            ("(call $i32 (i32.lt_s (i32.const -1) (i32.const 1)))", "1"),
            ("(call $i32 (i32.eqz (i32.const 0)))", "1"),
            ("(call $i64 (i64.clz (i64.const 1)))", "63"),
            ("(call $i64 (i64.ctz (i64.const 0)))", "64"),
            ("(call $i64 (i64.popcnt (i64.const -1)))", "64"),
            ("(call $i64 (i64.rotl (i64.const 0x8000000000000001) (i64.const 4)))", "24"),
            ("(call $i64 (i64.rotr (i64.const 1) (i64.const 65)))", "-9223372036854775808"),
            ("(call $i64 (i64.rem_s (i64.const 0x8000000000000000) (i64.const -1)))", "0"),
            ("(call $i64 (i64.div_s (i64.const 0x8000000000000000) (i64.const 2)))", "-4611686018427387904"),
            ("(call $i64 (i64.div_u (i64.const -1) (i64.const 3)))", "6148914691236517205"),
            ("(call $i64 (i64.extend_i32_u (i32.const -1)))", "4294967295"),
            ("(call $i64 (i64.extend_i32_s (i32.const -1)))", "-1"),
            ("(call $i64 (i64.extend32_s (i64.const 0x80000000)))", "-2147483648"),
            ("(call $i64 (i64.shr_s (i64.const 0x8000000000000000) (i64.const 65)))", "-4611686018427387904"),
            ("(call $i64 (i64.mul (i64.const 0x100000001) (i64.const 0x100000001)))", "8589934593"),
            ("(call $i64 (i64.const -9223372036854775808))", "-9223372036854775808"),
        ]
        try check(cases.map(\.0).joined(separator: "\n"), expected: cases.map(\.1))
    }

    func testFloatOperations() throws {
        let cases: [(String, String)] = [
            ("(call $f64 (f64.min (f64.const 0) (f64.const -0)))", "0x8000000000000000"),
            ("(call $f64 (f64.max (f64.const -0) (f64.const 0)))", "0x0000000000000000"),
            ("(call $f32 (f32.min (f32.const -0) (f32.const 0)))", "0x80000000"),
            ("(call $f32 (f32.max (f32.const 0) (f32.const -0)))", "0x00000000"),
            ("(call $nan (f64.min (f64.const 1) (f64.const nan)))", "1"),
            ("(call $nan (f64.max (f64.const nan) (f64.const 1)))", "1"),
            ("(call $nan (f64.promote_f32 (f32.min (f32.const -inf) (f32.const nan))))", "1"),
            ("(call $f64 (f64.min (f64.const -1) (f64.const 2)))", "0xbff0000000000000"),
            ("(call $f64 (f64.nearest (f64.const 2.5)))", "0x4000000000000000"),
            ("(call $f64 (f64.nearest (f64.const -0.5)))", "0x8000000000000000"),
            ("(call $f64 (f64.nearest (f64.const 3.5)))", "0x4010000000000000"),
            ("(call $f32 (f32.nearest (f32.const -1.5)))", "0xc0000000"),
            ("(call $f32 (f32.nearest (f32.const 0.5)))", "0x00000000"),
            ("(call $f64 (f64.ceil (f64.const -0.5)))", "0x8000000000000000"),
            ("(call $f64 (f64.floor (f64.const -0.5)))", "0xbff0000000000000"),
            ("(call $f64 (f64.trunc (f64.const -0.7)))", "0x8000000000000000"),
            ("(call $f64 (f64.copysign (f64.const 1) (f64.const -0)))", "0xbff0000000000000"),
            ("(call $f32 (f32.abs (f32.const -0)))", "0x00000000"),
            ("(call $f64 (f64.neg (f64.const 0)))", "0x8000000000000000"),
            ("(call $nan (f64.sqrt (f64.const -1)))", "1"),
            ("(call $f32 (f32.demote_f64 (f64.const 1e300)))", "0x7f800000"),
            ("(call $f64 (f64.convert_i64_u (i64.const -1)))", "0x43f0000000000000"),
            ("(call $f32 (f32.convert_i32_u (i32.const -1)))", "0x4f800000"),
            ("(call $f64 (f64.convert_i32_s (i32.const 0x80000000)))", "0xc1e0000000000000"),
            ("(call $f32 (f32.convert_i64_s (i64.const 0x7FFFFFFFFFFFFFFF)))", "0x5f000000"),
            ("(call $f64 (f64.div (f64.const 1) (f64.const 0)))", "0x7ff0000000000000"),
            ("(call $f64 (f64.div (f64.const -1) (f64.const 0)))", "0xfff0000000000000"),
            ("(call $f32 (f32.mul (f32.const 1e38) (f32.const 10)))", "0x7f800000"),
            ("(call $f64 (f64.promote_f32 (f32.const 0.1)))", "0x3fb99999a0000000"),
            // Bitwise operations keep NaN payloads exactly.
            ("(call $f32 (f32.reinterpret_i32 (i32.const 0x7fa00000)))", "0x7fa00000"),
            ("(call $f64 (f64.abs (f64.reinterpret_i64 (i64.const 0xfff0000000000001))))", "0x7ff0000000000001"),
            ("(call $f64 (f64.neg (f64.reinterpret_i64 (i64.const 0x7ff8000000000000))))", "0xfff8000000000000"),
            ("(call $f32 (f32.copysign (f32.reinterpret_i32 (i32.const 0x7fc00001)) (f32.const -1)))", "0xffc00001"),
            // Saturating and trapping truncations at their edges.
            ("(call $i32 (i32.trunc_sat_f32_s (f32.const nan)))", "0"),
            ("(call $i32 (i32.trunc_sat_f32_s (f32.const 3e9)))", "2147483647"),
            ("(call $i32 (i32.trunc_sat_f32_s (f32.const -3e9)))", "-2147483648"),
            ("(call $i32 (i32.trunc_sat_f64_u (f64.const -1.5)))", "0"),
            ("(call $i32 (i32.trunc_sat_f64_u (f64.const 5e9)))", "-1"),
            ("(call $i64 (i64.trunc_sat_f64_s (f64.const 1e30)))", "9223372036854775807"),
            ("(call $i64 (i64.trunc_sat_f64_s (f64.const -inf)))", "-9223372036854775808"),
            ("(call $i64 (i64.trunc_sat_f64_u (f64.const 1e30)))", "-1"),
            ("(call $i32 (i32.trunc_f64_s (f64.const -2.9)))", "-2"),
            ("(call $i32 (i32.trunc_f32_u (f32.const 4e9)))", "-294967296"),
            ("(call $i32 (i32.trunc_f64_u (f64.const -0.9)))", "0"),
            ("(call $i64 (i64.trunc_f64_s (f64.const -9223372036854775808)))", "-9223372036854775808"),
            ("(call $i32 (i32.trunc_f64_s (f64.const 2147483647.9)))", "2147483647"),
            ("(call $i32 (i32.trunc_f64_s (f64.const -2147483648.9)))", "-2147483648"),
        ]
        try check(cases.map(\.0).joined(separator: "\n"), expected: cases.map(\.1))
    }

    func testMemoryGrowAndBulkMemory() throws {
        let extra = #"(memory 1 3) (data $d "hello world")"#
        let body = """
            (call $i32 (memory.size))
            (call $i32 (memory.grow (i32.const 1)))
            (call $i32 (memory.grow (i32.const 1)))
            (call $i32 (memory.grow (i32.const 1)))
            (call $i32 (memory.size))
            (call $i32 (memory.grow (i32.const 0)))
            (i32.store (i32.const 196604) (i32.const 0xdeadbeef))
            (call $i32 (i32.load (i32.const 196604)))
            (call $i32 (i32.load offset=65536 (i32.const 131068)))
            (memory.init $d (i32.const 300) (i32.const 6) (i32.const 5))
            (call $i32 (i32.load (i32.const 300)))
            (call $i32 (i32.load8_u (i32.const 304)))
            (data.drop $d)
            (memory.init $d (i32.const 0) (i32.const 0) (i32.const 0))
            (memory.fill (i32.const 400) (i32.const 0x41) (i32.const 8))
            (call $i64 (i64.load (i32.const 400)))
            (call $i32 (i32.load8_u (i32.const 408)))
            (i64.store (i32.const 500) (i64.const 0x0807060504030201))
            (memory.copy (i32.const 502) (i32.const 500) (i32.const 6))
            (call $i64 (i64.load (i32.const 500)))
            (memory.copy (i32.const 500) (i32.const 502) (i32.const 6))
            (call $i64 (i64.load (i32.const 500)))
            (memory.fill (i32.const 196608) (i32.const 0) (i32.const 0))
            (memory.copy (i32.const 196608) (i32.const 0) (i32.const 0))
            (call $i32 (i32.const 1))
            """
        try check(body, extra: extra, expected: ["1", "1", "2", "-1", "3", "3", "-559038737", "-559038737",
                                                  "1819438967", "100", "4702111234474983745", "0",
                                                  "433757350076154369", "433759557723030017", "1"])
    }

    func testControlFlowAndMultiValue() throws {
        let extra = """
            (memory 1)
            (global $g (mut i64) (i64.const 5))
            (func $sel (param i32) (result i32)
              (block $d (block $b2 (block $b1 (block $b0
                (br_table $b0 $b1 $b2 $d (local.get 0)))
                (return (i32.const 10)))
                (return (i32.const 11)))
                (return (i32.const 12)))
              (i32.const 99))
            (func $swap (param i32 i32) (result i32 i32) (local.get 1) (local.get 0))
            (func $divmod (param i32 i32) (result i32 i32)
              (i32.div_u (local.get 0) (local.get 1)) (i32.rem_u (local.get 0) (local.get 1)))
            (func $sum (param $n i32) (result i32) (local $acc i32)
              (loop $l
                (local.set $acc (i32.add (local.get $acc) (local.get $n)))
                (local.set $n (i32.sub (local.get $n) (i32.const 1)))
                (br_if $l (local.get $n)))
              (local.get $acc))
            (func $early (param i32) (result i32)
              (block $out (result i32)
                (br_if $out (i32.const 1) (i32.eqz (local.get 0)))
                (drop)
                (i32.const 2)))
            """
        let body = """
            (call $i32 (call $sel (i32.const 0)))
            (call $i32 (call $sel (i32.const 1)))
            (call $i32 (call $sel (i32.const 2)))
            (call $i32 (call $sel (i32.const 3)))
            (call $i32 (call $sel (i32.const 100)))
            (call $i32 (call $sel (i32.const -1)))
            (call $i32 (i32.sub (call $swap (i32.const 3) (i32.const 10))))
            ;; [9 2] then 100: swap(2, 100) = [100 2], mul: [9 200], add: 209
            (call $divmod (i32.const 47) (i32.const 5))
            (call $i32 (i32.add (i32.mul (i32.const 100) (call $swap))))
            (i32.const 20) (i32.const 6) (block (param i32 i32) (result i32) (i32.sub)) (call $i32)
            (call $i64 (i64.add (block (result i64 i64) (i64.const 1) (i64.const 2))))
            (call $i32 (i32.mul (if (result i32 i32) (i32.const 1) (then (i32.const 5) (i32.const 6)) (else (i32.const 7) (i32.const 8)))))
            (call $i32 (call $sum (i32.const 100)))
            (call $i32 (call $early (i32.const 0)))
            (call $i32 (call $early (i32.const 7)))
            (global.set $g (i64.mul (global.get $g) (i64.const 0x100000000)))
            (call $i64 (global.get $g))
            (call $i32 (select (i32.const 1) (i32.const 2) (i32.const 0)))
            (call $f64 (select (f64.const 1) (f64.const 2) (i32.const 7)))
            """
        try check(body, extra: extra, expected: ["10", "11", "12", "99", "99", "99", "7", "209", "14", "3",
                                                       "30", "5050", "1", "2", "21474836480", "2",
                                                       "0x3ff0000000000000"])
    }

    func testTablesAndReferences() throws {
        let extra = """
            (memory 1)
            (type $ri (func (result i32)))
            (table $t 2 10 funcref)
            (func $seven (result i32) (i32.const 7))
            (func $eight (result i32) (i32.const 8))
            (elem declare func $seven $eight)
            (elem $pe funcref (ref.func $eight) (ref.func $seven))
            """
        let body = """
            (call $i32 (table.size $t))
            (call $i32 (table.grow $t (ref.null func) (i32.const 3)))
            (call $i32 (table.size $t))
            (call $i32 (ref.is_null (table.get $t (i32.const 4))))
            (table.set $t (i32.const 4) (ref.func $seven))
            (call $i32 (call_indirect $t (type $ri) (i32.const 4)))
            (call $i32 (ref.is_null (table.get $t (i32.const 4))))
            (table.fill $t (i32.const 0) (ref.func $eight) (i32.const 2))
            (call $i32 (call_indirect $t (type $ri) (i32.const 1)))
            (call $i32 (table.grow $t (ref.null func) (i32.const 6)))
            (call $i32 (table.grow $t (ref.func $seven) (i32.const 5)))
            (call $i32 (table.size $t))
            (call $i32 (call_indirect $t (type $ri) (i32.const 9)))
            (call $i32 (ref.is_null (ref.null func)))
            (call $i32 (ref.is_null (ref.func $seven)))
            (table.init $t $pe (i32.const 0) (i32.const 1) (i32.const 1))
            (call $i32 (call_indirect $t (type $ri) (i32.const 0)))
            (table.copy $t $t (i32.const 2) (i32.const 0) (i32.const 2))
            (call $i32 (i32.add (i32.mul (call_indirect $t (type $ri) (i32.const 2)) (i32.const 10))
                                (call_indirect $t (type $ri) (i32.const 3))))
            (elem.drop $pe)
            (table.init $t $pe (i32.const 0) (i32.const 0) (i32.const 0))
            (call $i32 (table.grow $t (ref.null func) (i32.const 0)))
            """
        try check(body, extra: extra, expected: ["2", "2", "5", "1", "7", "0", "8", "-1", "5", "10", "7", "1", "0",
                                                  "7", "78", "10"])
    }

    func testExtendedConstantExpressions() throws {
        // Wasm 3.0 constant expressions: i32/i64 add/sub/mul (wrapping) and global.get of earlier
        // defined immutable globals, in global initializers and data/element segment offsets.
        let extra = """
            (memory 1)
            (global $a i32 (i32.const 7))
            (global $b i32 (i32.mul (global.get $a) (i32.const 6)))
            (global $c i64 (i64.sub (i64.const 0) (i64.const 5)))
            (global $d i64 (i64.add (global.get $c) (i64.mul (i64.const 3) (i64.const 4))))
            (global $w i32 (i32.mul (i32.const 0x10000) (i32.const 0x10001)))
            (global $x i64 (i64.mul (i64.const 0x7fffffffffffffff) (i64.const 2)))
            (data (i32.add (global.get $b) (i32.const 58)) "hi")
            (table 2 funcref)
            (elem (i32.sub (global.get $a) (i32.const 6)) $k)
            (func $k (result i32) (i32.const 99))
            """
        try check("""
            (call $i32 (global.get $b)) (call $i64 (global.get $c)) (call $i64 (global.get $d))
            (call $i32 (global.get $w)) (call $i64 (global.get $x))
            (call $i32 (i32.load8_u (i32.const 100))) (call $i32 (i32.load8_u (i32.const 101)))
            (call $i32 (call_indirect (result i32) (i32.const 1)))
            """, extra: extra, expected: ["42", "-5", "7", "65536", "-2", "104", "105", "99"])
    }

    func testTypedFunctionReferences() throws {
        // call_ref through typed locals, globals and a table of (ref $t) with an initializer;
        // br_on_null / br_on_non_null; a non-nullable local set before use.
        let extra = """
            (memory 1)
            (type $t (func (param i32) (result i32)))
            (func $inc (type $t) (i32.add (local.get 0) (i32.const 1)))
            (func $dbl (type $t) (i32.mul (local.get 0) (i32.const 2)))
            (elem declare func $inc $dbl)
            (global $g (ref $t) (ref.func $dbl))
            (global $n (mut (ref null $t)) (ref.null $t))
            (table $tab 3 (ref $t) (ref.func $inc))
            (func $apply (param $f (ref null $t)) (param $x i32) (result i32)
              (block $null (result i32)
                (return (call_ref $t (local.get $x) (br_on_null $null (local.get $f)))))
              (drop) (i32.const -1))
            (func $pick (param $f (ref null $t)) (result i32)
              (block $some (result (ref $t))
                (br_on_non_null $some (local.get $f))
                (return (i32.const 0)))
              (drop) (i32.const 1))
            """
        try check("""
            (call $i32 (call_ref $t (i32.const 20) (global.get $g)))
            (call $i32 (call $apply (ref.func $inc) (i32.const 41)))
            (call $i32 (call $apply (global.get $n) (i32.const 41)))
            (call $i32 (call_ref $t (i32.const 5) (table.get $tab (i32.const 2))))
            (table.set $tab (i32.const 1) (ref.func $dbl))
            (call $i32 (call_indirect $tab (type $t) (i32.const 5) (i32.const 1)))
            (call $i32 (call $pick (global.get $n))) (call $i32 (call $pick (global.get $g)))
            (call $i32 (ref.is_null (global.get $n)))
            (local.set $l (global.get $g)) (call $i32 (call_ref $t (i32.const 1) (local.get $l)))
            """, extra: extra, locals: "(local $l (ref $t))", expected: ["40", "42", "-1", "6", "10", "0", "1", "1", "2"])
    }

    func testGuaranteedTailCalls() throws {
        // 3 * 10^6 calls around a cycle of return_call, return_call_indirect and return_call_ref
        // between functions of three different signatures (the stack would need ~100 MB of
        // frames otherwise), a multi-value tail call, and a tail call to an imported host function.
        let extra = """
            (memory 1)
            (type $a (func (param i64 i32) (result i64)))
            (type $b (func (param i32 i64 f64 i32) (result i64)))
            (type $c (func (param i64) (result i64)))
            (table 1 funcref) (elem (i32.const 0) $fb)
            (elem declare func $fc)
            (func $fa (type $a) (if (result i64) (i64.eqz (local.get 0)) (then (i64.extend_i32_u (local.get 1)))
              (else (return_call_indirect (type $b) (i32.add (local.get 1) (i32.const 1)) (local.get 0) (f64.const 1.5)
                                                    (i32.const 7) (i32.const 0)))))
            (func $fb (type $b) (return_call_ref $c (i64.sub (local.get 1) (i64.const 1))
              (if (result (ref $c)) (i32.eq (local.get 3) (i32.const 7)) (then (ref.func $fc)) (else (unreachable)))))
            (func $fc (type $c) (if (result i64) (i64.eqz (local.get 0)) (then (i64.const -1))
              (else (return_call $fa (i64.sub (local.get 0) (i64.const 1)) (i32.const 2)))))
            (func $pair (param i32) (result i32 i64)
              (if (result i32 i64) (i32.eqz (local.get 0)) (then (i32.const 5) (i64.const 6))
                (else (return_call $pair (i32.sub (local.get 0) (i32.const 1))))))
            (func $exit_via_tail (param i32) (return_call $proc_exit (local.get 0)))
            """
        try check("""
            (call $i64 (call $fa (i64.const 3000000) (i32.const 0)))
            (call $i64 (call $fc (i64.const 3000000)))
            (call $pair (i32.const 1000000)) (call $i64) (call $i32)
            (call $exit_via_tail (i32.const 3))
            """, extra: extra, expected: ["2", "-1", "6", "5"], status: 3)
    }

    /// Exceptions in executables: try_table with every clause kind, payloads of each value type
    /// carried across frames, rethrow through catch_ref/throw_ref, nested handlers and a handler
    /// in a loop, then an uncaught exception, which ends the program as wasmtime's does (status 1,
    /// "thrown Wasm exception"). A trap inside a handler's body is not caught (next test).
    static let exceptionModule = """
        (memory 1)
        (tag $e (param i32))
        (tag $pair (param i64 f64))
        (tag $none)
        (func $throw_if (param i32) (if (local.get 0) (then (throw $e (local.get 0)))))
        (func $deep (param i32) (if (i32.eqz (local.get 0)) (then (throw $pair (i64.const -5) (f64.const 2.5))))
          (call $deep (i32.sub (local.get 0) (i32.const 1))))
        (func $catch_e (param i32) (result i32)
          (block $h (result i32)
            (try_table (catch $e $h) (call $throw_if (local.get 0)))
            (i32.const -1)))
        (func $catch_pair (result i64)
          (block $h (result i64 f64)
            (try_table (catch $pair $h) (call $deep (i32.const 1000)))
            (unreachable))
          (i64.trunc_f64_s) (i64.add))
        (func $rethrow (result i32)
          (block $outer (result i32)
            (try_table (catch $e $outer)
              (block $h (result i32 exnref)
                (try_table (catch_ref $e $h) (call $throw_if (i32.const 7)))
                (unreachable))
              (throw_ref) (drop))
            (unreachable))
          (i32.const 100) (i32.add))
        (func $kinds (param i32) (result i32)
          (block $ref (result exnref)
            (block $none_h
              (try_table (catch $none $none_h) (catch_all_ref $ref)
                (if (i32.eqz (local.get 0)) (then (throw $none)))
                (call $throw_if (local.get 0)))
              (return (i32.const 0)))
            (return (i32.const 1)))
          (drop) (i32.const 2))
        (func $loop (result i32) (local $i i32) (local $sum i32)
          (loop $l
            (block $h (result i32)
              (try_table (catch $e $h) (call $throw_if (local.get $i)) (br $h (i32.const 1000)))
              (unreachable))
            (local.set $sum (i32.add (local.get $sum)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $l (i32.lt_u (local.get $i) (i32.const 100000))))
          (local.get $sum))
        """

    func testExceptionHandling() throws {
        try check("""
            (call $i32 (call $catch_e (i32.const 0)))
            (call $i32 (call $catch_e (i32.const 42)))
            (call $i64 (call $catch_pair))
            (call $i32 (call $rethrow))
            (call $i32 (call $kinds (i32.const 0)))
            (call $i32 (call $kinds (i32.const 3)))
            (call $i32 (call $loop))
            (call $throw_if (i32.const 9))
            (call $i32 (i32.const 99))
            """, extra: Self.exceptionModule, expected: ["-1", "42", "-3", "107", "1", "2", "704983704"], status: 1,
            stderr: "wasm exception: thrown Wasm exception, not caught\n")
    }

    /// Traps are not exceptions: `catch_all` does not see a trap in its body.
    func testTrapsAreNotCaught() throws {
        try check("""
            (block $h (try_table (catch_all $h) (call $i32 (i32.div_u (i32.const 1) (i32.const 0)))))
            (call $i32 (i32.const 5))
            """, expected: [], status: 134, stderr: "wasm trap: integer divide by zero\n")
    }

    /// The legacy encoding (try/catch/catch_all/delegate/rethrow), encoded by wabt's wat2wasm.
    func testLegacyExceptionHandling() throws {
        let extra = """
            (memory 1)
            (tag $e (param i32))
            (tag $f)
            (func $throw_if (param i32) (if (local.get 0) (then (throw $e (local.get 0)))))
            (func $catch (param i32) (result i32)
              (try (result i32) (do (call $throw_if (local.get 0)) (i32.const -1))
                (catch $f (i32.const -2))
                (catch $e (i32.add (i32.const 1000)))))
            (func $rethrow (result i32)
              (try (result i32)
                (do (try (do (call $throw_if (i32.const 5))) (catch_all (rethrow 0))) (i32.const 0))
                (catch $e)))
            (func $delegate (result i32)
              (try (result i32)
                (do (try (do (throw $f)) (delegate 0)) (i32.const 0))
                (catch $f (i32.const 77))))
            """
        try check("""
            (call $i32 (call $catch (i32.const 0)))
            (call $i32 (call $catch (i32.const 3)))
            (call $i32 (call $rethrow))
            (call $i32 (call $delegate))
            (try (do (throw $f)) (catch_all (call $i32 (i32.const 8))))
            (throw $f)
            """, extra: extra, expected: ["-1", "1003", "5", "77", "8"], status: 1, legacyText: true)
    }

    func testMultiMemory() throws {
        // Memory 0 is WASI's (the prelude prints through it); memory 1 has its own data, size and
        // growth, and memory.copy moves bytes between the two.
        let extra = """
            (memory 1)
            (memory $m1 1 3)
            (data (memory $m1) (i32.const 65000) "\\2a\\2b")
            """
        try check("""
            (call $i32 (i32.load8_u $m1 (i32.const 65001)))
            (call $i32 (i32.load8_u (i32.const 65001)))
            (call $i32 (memory.grow $m1 (i32.const 2)))
            (call $i32 (memory.size $m1)) (call $i32 (memory.size))
            (i32.store $m1 (i32.const 196000) (i32.const 77))
            (memory.copy 0 $m1 (i32.const 100) (i32.const 196000) (i32.const 4))
            (call $i32 (i32.load (i32.const 100)))
            (call $i32 (i32.load $m1 (i32.const 196608)))
            """, extra: extra, expected: ["43", "0", "1", "3", "1", "77"], status: 134)
    }

    func testMemory64() throws {
        // A 64-bit memory beside WASI's 32-bit memory 0: i64 addresses, growth, a bulk copy into
        // memory 0, and an access one byte past the end that traps.
        let extra = """
            (memory 1)
            (memory $w i64 1 2)
            (data (memory $w) (i64.const 65534) "\\07\\09")
            """
        try check("""
            (call $i32 (i32.load8_u $w (i64.const 65535)))
            (call $i64 (memory.grow $w (i64.const 1)))
            (call $i64 (memory.size $w))
            (i64.store $w (i64.const 131064) (i64.const -3))
            (memory.copy 0 $w (i32.const 200) (i64.const 131064) (i32.const 8))
            (call $i64 (i64.load (i32.const 200)))
            (call $i32 (i32.load8_u $w (i64.const 131072)))
            """, extra: extra, expected: ["9", "1", "2", "-3"], status: 134)
    }

    func testProcExitStatus() throws {
        // proc_exit from deep inside a call chain ends the process with that status at once.
        let extra = """
            (memory 1)
            (func $down (param i32)
              (if (i32.eqz (local.get 0)) (then (call $proc_exit (i32.const 42))))
              (call $down (i32.sub (local.get 0) (i32.const 1)))
              (call $i32 (i32.const 666)))
            """
        try check("(call $i32 (i32.const 1)) (call $down (i32.const 1000)) (call $i32 (i32.const 2))",
                  extra: extra, expected: ["1"], status: 42)
        try check("(call $proc_exit (i32.const 0)) (unreachable)", expected: [], status: 0)
        try check("(call $proc_exit (i32.const 255))", expected: [], status: 255)
    }

    func testCallIndirectMatchesStructurallyEqualTypes() throws {
        // Two distinct but identical type definitions: the signature check is structural.
        let extra = """
            (memory 1)
            (type $a (func (param i32) (result i32)))
            (type $b (func (param i32) (result i32)))
            (table 1 funcref) (elem (i32.const 0) $f)
            (func $f (type $a) (i32.add (local.get 0) (i32.const 1)))
            """
        try check("(call $proc_exit (call_indirect (type $b) (i32.const 41) (i32.const 0)))", extra: extra,
                  expected: [], status: 42)
    }

    func testStartFunctionRunsBeforeStart() throws {
        let extra = """
            (memory 1)
            (global $g (mut i32) (i32.const 1))
            (func $init (global.set $g (i32.mul (global.get $g) (i32.const 7))) (call $i32 (i32.const 100)))
            (start $init)
            """
        try check("(call $i32 (global.get $g))", extra: extra, expected: ["100", "7"])
    }
}
