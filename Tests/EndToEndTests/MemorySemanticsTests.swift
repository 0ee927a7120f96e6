import Foundation
import XCTest

/// Runs a WAST script through `wasmaot spec-test` (the embedding API, where the instance survives
/// a trap) at each of `levels`, requiring every command to pass. The scripts are the project's own
/// (below), written to a temp dir, not copies of the spec suite.
func runScript(_ text: String, named name: String, levels: ClosedRange<Int> = 0...3, minimumCommands: Int,
               arguments: [String] = [], in test: XCTestCase, file: StaticString = #filePath, line: UInt = #line) throws {
    let script = try test.makeTempDir("wast").appendingPathComponent(name)
    try text.write(to: script, atomically: true, encoding: .utf8)
    let wasmaot = try Paths.wasmaot()
    let commands = text.split(separator: "\n").filter { $0.hasPrefix("(assert_") || $0.hasPrefix("(module") || $0.hasPrefix("(register") || $0.hasPrefix("(invoke") }.count
    XCTAssertGreaterThanOrEqual(commands, minimumCommands, file: file, line: line)
    for level in levels {
        let r = try Proc.run(wasmaot, ["spec-test", "--verbose", "-O", "\(level)"] + arguments + [script.path], timeout: 300)
        let failures = r.stdoutText.split(separator: "\n").filter { !$0.hasPrefix("ok") && $0.contains("expected") }
        XCTAssertEqual(r.status, 0, "-O\(level):\n" + failures.joined(separator: "\n") + r.stderrText, file: file, line: line)
        // Every command counted: each module, registration and assertion, nothing skipped.
        XCTAssertTrue(r.stdoutText.contains("\(commands) passed, 0 failed"), "-O\(level): \(r.stdoutText.suffix(300))",
                      file: file, line: line)
    }
}

/// Exact memory semantics under optimization: every out-of-bounds access traps, and every effect
/// before the trap — in-bounds bytes of adjacent stores, a store a later overlapping store would
/// overwrite, stores and global updates of earlier loop iterations — stays; each case at -O0, -O1,
/// -O2 and -O3. (Executables, and so aarch64, are covered by
/// TrapTests.testDiscardedLoadsTrapAtEveryLevel, which the aarch64 suite re-runs under qemu.)
final class MemorySemanticsTests: XCTestCase {
    static let script = #"""
;; Every out-of-bounds access traps, and every effect before the trap stays.
(module
  (memory 1)
  (global $g (export "g") (mut i32) (i32.const 0))
  (func (export "ld8") (param $a i32) (result i32) (i32.load8_u (local.get $a)))
  (func (export "ld32") (param $a i32) (result i32) (i32.load (local.get $a)))
  ;; adjacent narrow stores, the second out of bounds: the first byte is written
  (func (export "adjacent") (param $a i32)
    (i32.store8 (local.get $a) (i32.const 0xAA))
    (i32.store8 offset=1 (local.get $a) (i32.const 0xBB)))
  (func (export "adjacent16") (param $a i32)
    (i32.store16 (local.get $a) (i32.const 0x1234))
    (i32.store16 offset=2 (local.get $a) (i32.const 0x5678)))
  (func (export "adjacent-const")
    (i32.store8 (i32.const 65534) (i32.const 0x11))
    (i32.store8 (i32.const 65535) (i32.const 0x22))
    (i32.store8 (i32.const 65536) (i32.const 0x33))
    (i32.store8 (i32.const 65537) (i32.const 0x44)))
  (func (export "overlap-const")
    (i32.store (i32.const 65528) (i32.const 0x55667788))
    (i64.store (i32.const 65530) (i64.const -1)))
  (func (export "overlap-const2")
    (i64.store (i32.const 65528) (i64.const 0x0102030405060708))
    (i64.store (i32.const 65532) (i64.const -1)))
  ;; an in-bounds store overwritten by an overlapping store that traps: the first stays
  (func (export "overlap") (param $a i32)
    (i32.store (local.get $a) (i32.const 0x11223344))
    (i64.store (local.get $a) (i64.const -1)))
  ;; a store, then a load that traps (value unused): the store stays
  (func (export "store-then-dead-load") (param $s i32) (param $a i32)
    (i32.store (local.get $s) (i32.const 7))
    (drop (i32.load (local.get $a))))
  (func (export "store-then-load") (param $s i32) (param $a i32) (result i32)
    (i32.store (local.get $s) (i32.const 8))
    (i32.load (local.get $a)))
  ;; a global set before the trapping load
  (func (export "global-then-load") (param $a i32) (result i32)
    (global.set $g (i32.const 5))
    (i32.add (i32.load (local.get $a)) (global.get $g)))
  (func (export "global-loop") (param $n i32) (param $a i32) (result i32) (local $i i32) (local $s i32)
    (loop $l
      (global.set $g (i32.add (global.get $g) (i32.const 1)))
      (local.set $s (i32.add (local.get $s) (i32.load (i32.add (local.get $a) (local.get $i)))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $s))
  ;; a loop whose stores run before a loop-invariant load that traps in the first iteration
  (func (export "loop-store-invariant-load") (param $p i32) (result i32) (local $i i32) (local $s i32)
    (loop $l
      (i32.store8 offset=200 (local.get $i) (i32.const 1))
      (local.set $s (i32.add (local.get $s) (i32.load (local.get $p))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 8))))
    (local.get $s))
  ;; byte loop: stores must not become one memset that faults as a whole
  (func (export "fill-loop") (param $a i32) (param $n i32) (local $i i32)
    (loop $l
      (i32.store8 (i32.add (local.get $a) (local.get $i)) (i32.const 0x5A))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n)))))
  (func (export "copy-loop") (param $d i32) (param $s i32) (param $n i32) (local $i i32)
    (loop $l
      (i32.store (i32.add (local.get $d) (local.get $i)) (i32.load (i32.add (local.get $s) (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n)))))
  ;; loads whose values are discarded still trap
  (func (export "dead-drop") (param $a i32) (drop (i32.load (local.get $a))))
  (func (export "dead-select") (param $a i32) (result i32)
    (select (i32.const 1) (i32.load (local.get $a)) (i32.const 1)))
  (func (export "dead-mul0") (param $a i32) (result i32) (i32.mul (i32.load (local.get $a)) (i32.const 0)))
  (func (export "dead-and0") (param $a i32) (result i64) (i64.and (i64.load (local.get $a)) (i64.const 0)))
  (func (export "dead-geu0") (param $a i32) (result i32) (i32.ge_u (i32.load16_u (local.get $a)) (i32.const 0)))
  (func (export "dead-local") (param $a i32) (result i32) (local $x i32)
    (local.set $x (i32.load (local.get $a)))
    (local.set $x (i32.const 3))
    (local.get $x))
  (func (export "dead-branch") (param $a i32) (param $c i32) (result i32) (local $x i32)
    (local.set $x (i32.load (local.get $a)))
    (if (result i32) (local.get $c) (then (local.get $x)) (else (i32.const 9))))
  (func (export "dead-br") (param $a i32) (result i32)
    (block $b (result i32) (i32.const 4) (i32.load (local.get $a)) (br $b (i32.const 5)) (drop) (drop)))
  (func (export "dead-return") (param $a i32) (result i32)
    (i32.load8_s (local.get $a)) (return (i32.const 6)))
  (func (export "dead-unreachable-after") (param $a i32) (param $c i32) (result i32)
    (if (local.get $c) (then (f64.load (local.get $a)) (return (i32.const 1))))
    (i32.const 2))
  (func (export "dead-f32") (param $a i32) (drop (f32.load (local.get $a))))
  (func (export "dead-i64-load32") (param $a i32) (drop (i64.load32_s offset=65535 (local.get $a))))
)
(assert_trap (invoke "adjacent" (i32.const 65535)) "out of bounds memory access")
(assert_return (invoke "ld8" (i32.const 65535)) (i32.const 0xAA))
(assert_trap (invoke "adjacent16" (i32.const 65533)) "out of bounds memory access")
(assert_return (invoke "ld8" (i32.const 65533)) (i32.const 0x34))
(assert_return (invoke "ld8" (i32.const 65534)) (i32.const 0x12))
(assert_return (invoke "ld8" (i32.const 65535)) (i32.const 0xAA))
(assert_trap (invoke "adjacent-const") "out of bounds memory access")
(assert_return (invoke "ld8" (i32.const 65534)) (i32.const 0x11))
(assert_return (invoke "ld8" (i32.const 65535)) (i32.const 0x22))
(assert_trap (invoke "overlap-const") "out of bounds memory access")
(assert_return (invoke "ld32" (i32.const 65528)) (i32.const 0x55667788))
(assert_trap (invoke "overlap-const2") "out of bounds memory access")
(assert_return (invoke "ld32" (i32.const 65528)) (i32.const 0x05060708))
(assert_return (invoke "ld32" (i32.const 65532)) (i32.const 0x01020304))
(assert_trap (invoke "overlap" (i32.const 65532)) "out of bounds memory access")
(assert_return (invoke "ld32" (i32.const 65532)) (i32.const 0x11223344))
(assert_trap (invoke "store-then-dead-load" (i32.const 100) (i32.const 65536)) "out of bounds memory access")
(assert_return (invoke "ld32" (i32.const 100)) (i32.const 7))
(assert_trap (invoke "store-then-load" (i32.const 104) (i32.const -4)) "out of bounds memory access")
(assert_return (invoke "ld32" (i32.const 104)) (i32.const 8))
(assert_trap (invoke "global-then-load" (i32.const 65534)) "out of bounds memory access")
(assert_return (get "g") (i32.const 5))
(assert_trap (invoke "ld32" (i32.const 65536)) "out of bounds memory access")
(assert_return (invoke "global-then-load" (i32.const 0)) (i32.const 5))
(assert_trap (invoke "global-loop" (i32.const 16) (i32.const 65528)) "out of bounds memory access")
(assert_return (get "g") (i32.const 8))
(assert_trap (invoke "loop-store-invariant-load" (i32.const 65536)) "out of bounds memory access")
(assert_return (invoke "ld8" (i32.const 200)) (i32.const 1))
(assert_return (invoke "ld8" (i32.const 201)) (i32.const 0))
(assert_trap (invoke "fill-loop" (i32.const 65500) (i32.const 100)) "out of bounds memory access")
(assert_return (invoke "ld8" (i32.const 65500)) (i32.const 0x5A))
(assert_return (invoke "ld8" (i32.const 65535)) (i32.const 0x5A))
(assert_return (invoke "ld8" (i32.const 65499)) (i32.const 0))
(assert_trap (invoke "copy-loop" (i32.const 65000) (i32.const 65400) (i32.const 400)) "out of bounds memory access")
(assert_return (invoke "ld32" (i32.const 65000)) (i32.const 0))
(assert_return (invoke "ld32" (i32.const 65100)) (i32.const 0x5A5A5A5A))
(assert_return (invoke "ld32" (i32.const 65132)) (i32.const 0x5A5A5A5A))
(assert_return (invoke "ld32" (i32.const 65136)) (i32.const 0))
(assert_trap (invoke "dead-drop" (i32.const 65536)) "out of bounds memory access")
(assert_trap (invoke "dead-select" (i32.const 65536)) "out of bounds memory access")
(assert_trap (invoke "dead-mul0" (i32.const 65533)) "out of bounds memory access")
(assert_trap (invoke "dead-and0" (i32.const 65529)) "out of bounds memory access")
(assert_trap (invoke "dead-geu0" (i32.const 65535)) "out of bounds memory access")
(assert_trap (invoke "dead-local" (i32.const -1)) "out of bounds memory access")
(assert_trap (invoke "dead-branch" (i32.const 65536) (i32.const 0)) "out of bounds memory access")
(assert_trap (invoke "dead-br" (i32.const 65536)) "out of bounds memory access")
(assert_trap (invoke "dead-return" (i32.const 65536)) "out of bounds memory access")
(assert_trap (invoke "dead-unreachable-after" (i32.const 65536) (i32.const 1)) "out of bounds memory access")
(assert_return (invoke "dead-unreachable-after" (i32.const 65536) (i32.const 0)) (i32.const 2))
(assert_trap (invoke "dead-f32" (i32.const 65536)) "out of bounds memory access")
(assert_trap (invoke "dead-i64-load32" (i32.const 1)) "out of bounds memory access")
(assert_return (invoke "dead-local" (i32.const 0)) (i32.const 3))
(assert_return (invoke "dead-br" (i32.const 0)) (i32.const 5))
"""#

    func testEffectsBeforeATrapStayAtEveryLevel() throws {
        try runScript(Self.script, named: "memory-semantics.wast", minimumCommands: 54, in: self)
    }

    /// The same rules for v128 accesses: a 16-byte store across the end writes none of its bytes,
    /// lane stores and narrower stores before it stay, adjacent v128 stores are not merged, dead
    /// v128 loads trap, a vector loop keeps the iterations before the trapping one.
    static let simdScript = #"""
(module
  (memory 1)
  (global $g (export "g") (mut v128) (v128.const i64x2 0 0))
  (func (export "ld8") (param $a i32) (result i32) (i32.load8_u (local.get $a)))
  (func (export "ld64") (param $a i32) (result i64) (i64.load (local.get $a)))
  (func (export "ldv") (param $a i32) (result v128) (v128.load (local.get $a)))
  (func (export "stv") (param $a i32) (param $v v128) (v128.store (local.get $a) (local.get $v)))
  ;; an in-bounds store, then an overlapping v128 store across the end: the first stays whole
  (func (export "overlap") (param $a i32)
    (i64.store (local.get $a) (i64.const 0x1122334455667788))
    (v128.store (local.get $a) (v128.const i64x2 -1 -1)))
  ;; adjacent v128 stores, the second out of bounds: the first is written
  (func (export "adjacent") (param $a i32)
    (v128.store (local.get $a) (v128.const i8x16 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16))
    (v128.store offset=16 (local.get $a) (v128.const i8x16 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1)))
  ;; lane stores before a lane store out of bounds
  (func (export "lanes") (param $a i32) (param $v v128)
    (v128.store8_lane 0 (local.get $a) (local.get $v))
    (v128.store16_lane offset=1 1 (local.get $a) (local.get $v))
    (v128.store64_lane offset=3 1 (local.get $a) (local.get $v)))
  ;; a global set before a trapping v128 load
  (func (export "global-then-load") (param $a i32) (result v128)
    (global.set $g (v128.const i32x4 5 6 7 8))
    (i32x4.add (v128.load (local.get $a)) (global.get $g)))
  ;; a loop of v128 stores: the iterations before the out-of-bounds one are written
  (func (export "fill") (param $a i32) (param $n i32) (local $i i32)
    (loop $l
      (v128.store (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 4))) (i8x16.splat (i32.const 0x5A)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n)))))
  ;; a loop adding lanes, whose loads are discarded by a select never taking them
  (func (export "select-loop") (param $a i32) (param $n i32) (param $c i32) (result v128) (local $i i32) (local $s v128)
    (loop $l
      (local.set $s (i32x4.add (local.get $s)
        (select (v128.load (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 4)))) (v128.const i32x4 1 1 1 1)
                (local.get $c))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $s))
  (func (export "dead-drop") (param $a i32) (drop (v128.load (local.get $a))))
  (func (export "dead-and0") (param $a i32) (result v128) (v128.and (v128.load (local.get $a)) (v128.const i64x2 0 0)))
  (func (export "dead-splat") (param $a i32) (result i32) (i32.const 1) (drop (v128.load32_splat (local.get $a))))
  (func (export "dead-lane") (param $a i32) (result v128)
    (v128.load8_lane 0 (local.get $a) (v128.const i64x2 0 0)) (drop) (v128.const i64x2 7 7))
)
(assert_trap (invoke "overlap" (i32.const 65528)) "out of bounds memory access")
(assert_return (invoke "ld64" (i32.const 65528)) (i64.const 0x1122334455667788))
(assert_trap (invoke "stv" (i32.const 65521) (v128.const i64x2 -1 -1)) "out of bounds memory access")
(assert_return (invoke "ld64" (i32.const 65520)) (i64.const 0))
(assert_return (invoke "ld64" (i32.const 65528)) (i64.const 0x1122334455667788))
(assert_trap (invoke "adjacent" (i32.const 65512)) "out of bounds memory access")
(assert_return (invoke "ldv" (i32.const 65512)) (v128.const i8x16 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16))
(assert_return (invoke "ld64" (i32.const 65528)) (i64.const 0x1122334455667788))
(assert_trap (invoke "lanes" (i32.const 65530) (v128.const i8x16 0xA0 0xA1 0xA2 0xA3 0xA4 0xA5 0xA6 0xA7 0xA8 0xA9 0xAA 0xAB 0xAC 0xAD 0xAE 0xAF)) "out of bounds memory access")
(assert_return (invoke "ld8" (i32.const 65530)) (i32.const 0xA0))
(assert_return (invoke "ld8" (i32.const 65531)) (i32.const 0xA2))
(assert_return (invoke "ld8" (i32.const 65532)) (i32.const 0xA3))
(assert_return (invoke "ld8" (i32.const 65533)) (i32.const 0x33))
(assert_trap (invoke "global-then-load" (i32.const 65530)) "out of bounds memory access")
(assert_return (get "g") (v128.const i32x4 5 6 7 8))
(assert_return (invoke "global-then-load" (i32.const 0)) (v128.const i32x4 5 6 7 8))
(assert_trap (invoke "fill" (i32.const 65000) (i32.const 100)) "out of bounds memory access")
(assert_return (invoke "ld8" (i32.const 65000)) (i32.const 0x5A))
(assert_return (invoke "ld8" (i32.const 65527)) (i32.const 0x5A))
(assert_return (invoke "ld8" (i32.const 65528)) (i32.const 0x88))
(assert_return (invoke "ld8" (i32.const 65535)) (i32.const 0x11))
(assert_trap (invoke "select-loop" (i32.const 64512) (i32.const 1024) (i32.const 0)) "out of bounds memory access")
(assert_return (invoke "select-loop" (i32.const 0) (i32.const 4) (i32.const 0)) (v128.const i32x4 4 4 4 4))
(assert_trap (invoke "dead-drop" (i32.const 65521)) "out of bounds memory access")
(assert_trap (invoke "dead-and0" (i32.const 65536)) "out of bounds memory access")
(assert_trap (invoke "dead-splat" (i32.const 65533)) "out of bounds memory access")
(assert_trap (invoke "dead-lane" (i32.const 65536)) "out of bounds memory access")
(assert_return (invoke "dead-splat" (i32.const 0)) (i32.const 1))
(assert_return (invoke "dead-lane" (i32.const 0)) (v128.const i64x2 7 7))
"""#

    /// At -O0..-O3 and the baseline tier, for this machine's CPU (AVX-512 here: masked loads and
    /// stores are there for the taking) and for the portable baseline `wasmaot compile` uses.
    func testV128EffectsBeforeATrapStayAtEveryLevel() throws {
        try runScript(Self.simdScript, named: "memory-semantics-simd.wast", minimumCommands: 30, in: self)
        try runScript(Self.simdScript, named: "memory-semantics-simd-baseline.wast", levels: 1...1, minimumCommands: 30,
                      arguments: ["--tier", "baseline"], in: self)
        try runScript(Self.simdScript, named: "memory-semantics-simd-v2.wast", levels: 2...2, minimumCommands: 30,
                      arguments: ["--cpu", "baseline"], in: self)
    }
}

/// `call_indirect` matches types exactly (interned type identities), never by a hash: callees of
/// the same module, of another module through an imported table, an imported function and a host
/// function (spectest.print_i32), each with the right and a wrong type.
final class CallIndirectTests: XCTestCase {
    static let script = #"""
;; call_indirect matches types exactly: by the module's own type string when the callee is of the
;; same module, by text when it is another module's function or a host function.
(module $A
  (type $t (func (param i32) (result i32)))
  (func $f (export "f") (type $t) (i32.add (local.get 0) (i32.const 1)))
  (func $g (export "g") (param i64) (result i32) (i32.wrap_i64 (local.get 0)))
  (func $h (export "h") (param i32) (result i64) (i64.extend_i32_u (local.get 0)))
  (table $tab (export "tab") 4 funcref)
  (elem (i32.const 0) $f $g $h)
  (func (export "local") (param $i i32) (param $x i32) (result i32)
    (call_indirect (type $t) (local.get $x) (local.get $i))))
(register "A" $A)
(module $B
  (import "spectest" "print_i32" (func $print (param i32)))
  (import "A" "tab" (table $tab 4 funcref))
  (import "A" "f" (func $af (param i32) (result i32)))
  (type $t (func (param i32) (result i32)))
  (type $u (func (param i64) (result i32)))
  (type $p (func (param i32)))
  (table $own 3 funcref)
  (elem (table $own) (i32.const 0) func $print $af $mine)
  (func $mine (param i32) (result i32) (i32.mul (local.get 0) (i32.const 3)))
  (func (export "call-t") (param $i i32) (param $x i32) (result i32)
    (call_indirect $tab (type $t) (local.get $x) (local.get $i)))
  (func (export "call-u") (param $i i32) (param $x i64) (result i32)
    (call_indirect $tab (type $u) (local.get $x) (local.get $i)))
  (func (export "own-t") (param $i i32) (param $x i32) (result i32)
    (call_indirect $own (type $t) (local.get $x) (local.get $i)))
  (func (export "own-p") (param $i i32) (param $x i32)
    (call_indirect $own (type $p) (local.get $x) (local.get $i))))
(assert_return (invoke $A "local" (i32.const 0) (i32.const 41)) (i32.const 42))
(assert_trap (invoke $A "local" (i32.const 1) (i32.const 41)) "indirect call type mismatch")
(assert_trap (invoke $A "local" (i32.const 2) (i32.const 41)) "indirect call type mismatch")
(assert_trap (invoke $A "local" (i32.const 3) (i32.const 41)) "uninitialized element")
(assert_return (invoke $B "call-t" (i32.const 0) (i32.const 1)) (i32.const 2))
(assert_return (invoke $B "call-u" (i32.const 1) (i64.const 7)) (i32.const 7))
(assert_trap (invoke $B "call-t" (i32.const 1) (i32.const 1)) "indirect call type mismatch")
(assert_trap (invoke $B "call-u" (i32.const 0) (i64.const 1)) "indirect call type mismatch")
(assert_trap (invoke $B "call-t" (i32.const 2) (i32.const 1)) "indirect call type mismatch")
(assert_return (invoke $B "own-p" (i32.const 0) (i32.const 5)))
(assert_trap (invoke $B "own-t" (i32.const 0) (i32.const 5)) "indirect call type mismatch")
(assert_return (invoke $B "own-t" (i32.const 1) (i32.const 5)) (i32.const 6))
(assert_trap (invoke $B "own-p" (i32.const 1) (i32.const 5)) "indirect call type mismatch")
(assert_return (invoke $B "own-t" (i32.const 2) (i32.const 5)) (i32.const 15))
(assert_trap (invoke $B "own-p" (i32.const 2) (i32.const 5)) "indirect call type mismatch")
"""#

    func testTypesMatchExactlyAcrossModulesAndHostFunctions() throws {
        try runScript(Self.script, named: "call-indirect-identity.wast", levels: 0...2, minimumCommands: 18, in: self)
    }
}

/// `wasmaot spec-test` reads named inline parameters with a type use, `(func (type $t) (param $x
/// i32) …)` — valid WAT that WasmKit 0.4.2's parser rejects: folded and flat bodies, named locals
/// after them, a block label named like a parameter, an import, the text inside comments and
/// strings left alone, and a mismatch still refused.
final class TypeUseParamsTests: XCTestCase {
    static let script = #"""
;; Named inline parameters with a type use (valid WAT that WasmKit 0.4.2 rejects; the spec runner
;; rewrites it, see Sources/WasmAOTSpec/TypeUseParams.swift).
(module
  (type $t (func (param i32) (result i32)))
  (type $u (func (param i32 i64 i32) (result i64)))
  (func (export "f") (type $t) (param $x i32) (result i32) (i32.add (local.get $x) (i32.const 1)))
  (func $g (export "g") (type $u) (param $a i32) (param i64) (param $c i32) (result i64) (local $l i64)
    (local.set $l (i64.extend_i32_u (local.get $c)))
    local.get 1
    local.get $l
    i64.add
    (local.tee $l)
    (i64.extend_i32_u (local.get $a))
    i64.sub)
  ;; "(func (type $t) (param $x i32))" in a comment and a string stays as it is
  (func (export "h (func (type $t) (param $x i32))") (type $t) (param $x i32) (result i32)
    (block $x (result i32) (local.get $x))))
(assert_return (invoke "f" (i32.const 1)) (i32.const 2))
(assert_return (invoke "g" (i32.const 3) (i64.const 10) (i32.const 5)) (i64.const 12))
(assert_return (invoke "h (func (type $t) (param $x i32))" (i32.const 7)) (i32.const 7))
(module
  (import "spectest" "print_i32" (func $p (type 0) (param $v i32)))
  (type (func (param i32)))
  (func (export "p") (type 0) (param $y i32) (call $p (local.get $y))))
(assert_return (invoke "p" (i32.const 4)))
(assert_invalid
  (module (type $t (func (param i32))) (func (type $t) (param $x i64)))
  "type mismatch")
"""#

    func testNamedParamsWithATypeUse() throws {
        try runScript(Self.script, named: "type-use-params.wast", levels: 1...1, minimumCommands: 7, in: self)
    }
}

/// A Wasm load happens whether or not its value is used. AVX-512 can fold a load into a *masked*
/// move or operation (`vmovsd (mem), %xmm0 {%k1}`), which suppresses the fault when the mask bit
/// is clear: `select` (or an `if` that uses a loaded value on one arm only) must still trap on an
/// out-of-bounds load. The lowering freezes every loaded value, so no load can be folded into
/// anything masked or gathered. Checked through the embedding API, which compiles for this host
/// (AVX-512 on some CI machines, not on others), and in the assembly for AVX-512 CPUs whatever the
/// host is.
final class MaskedAccessTests: XCTestCase {
    static let module = #"""
(module
  (memory 1)
  (func (export "sel-f64") (param $c i32) (param $a i32) (result f64)
    (select (f64.const 1.5) (f64.load (local.get $a)) (local.get $c)))
  (func (export "sel-f32") (param $c i32) (param $a i32) (param $x f32) (result f32)
    (select (local.get $x) (f32.load offset=8 (local.get $a)) (local.get $c)))
  (func (export "sel-i64") (param $c i32) (param $a i32) (result i64)
    (select (i64.const 7) (i64.load (local.get $a)) (local.get $c)))
  (func (export "sel-i32") (param $c i32) (param $a i32) (result i32)
    (select (i32.load16_u (local.get $a)) (i32.const 9) (local.get $c)))
  (func (export "arm-f64") (param $c i32) (param $a i32) (param $x f64) (result f64) (local $v f64)
    (local.set $v (f64.load (local.get $a)))
    (if (result f64) (local.get $c) (then (local.get $x)) (else (f64.add (local.get $x) (local.get $v)))))
  (func (export "arm-f32-mul") (param $c i32) (param $a i32) (param $x f32) (result f32) (local $v f32)
    (local.set $v (f32.load (local.get $a)))
    (if (result f32) (local.get $c) (then (f32.mul (local.get $x) (local.get $v))) (else (local.get $x)))))
"""#

    static let script = module + "\n" + #"""
(assert_return (invoke "sel-f64" (i32.const 1) (i32.const 0)) (f64.const 1.5))
(assert_return (invoke "sel-f64" (i32.const 0) (i32.const 0)) (f64.const 0))
(assert_trap (invoke "sel-f64" (i32.const 1) (i32.const 65536)) "out of bounds memory access")
(assert_trap (invoke "sel-f64" (i32.const 1) (i32.const 65529)) "out of bounds memory access")
(assert_trap (invoke "sel-f32" (i32.const 1) (i32.const 65528) (f32.const 2)) "out of bounds memory access")
(assert_trap (invoke "sel-i64" (i32.const 1) (i32.const -8)) "out of bounds memory access")
(assert_trap (invoke "sel-i32" (i32.const 0) (i32.const 65535)) "out of bounds memory access")
(assert_return (invoke "arm-f64" (i32.const 1) (i32.const 8) (f64.const 2)) (f64.const 2))
(assert_trap (invoke "arm-f64" (i32.const 1) (i32.const 65536) (f64.const 2)) "out of bounds memory access")
(assert_trap (invoke "arm-f32-mul" (i32.const 0) (i32.const 65536) (f32.const 2)) "out of bounds memory access")
"""#

    func testUnusedOutOfBoundsLoadsTrapOnThisHost() throws {
        try runScript(Self.script, named: "masked-access.wast", minimumCommands: 11, in: self)
    }

    /// No instruction that can suppress a fault touches linear memory: masked (`{%kN}`) with a
    /// memory operand other than the constant pool, gathers, AVX masked moves.
    func testNoFaultSuppressingAccessInTheAssembly() throws {
        let dir = try makeTempDir("masked")
        let wasm = try watFile(Self.module, in: dir)
        for cpu in ["skylake-avx512", "znver4", "sapphirerapids", "x86-64-v4"] {
            for level in ["-O1", "-O2", "-O3"] {
                let asm = dir.appendingPathComponent("m-\(cpu)\(level).s")
                let r = try Proc.run(try Paths.wasmaot(), ["compile", wasm.path, "-o", asm.path, "--emit", "asm", "--cpu", cpu, level])
                XCTAssertEqual(r.status, 0, r.summary)
                let text = try String(contentsOf: asm, encoding: .utf8)
                for line in text.split(separator: "\n") {
                    let code = line.split(separator: "#", maxSplits: 1).first.map(String.init) ?? ""
                    let masked = code.contains("{%k") && code.contains("(") && !code.contains("(%rip)")
                    let suppressing = code.contains("gather") || code.contains("maskmov")
                    XCTAssertFalse(masked || suppressing, "\(cpu) \(level): a fault-suppressing access: \(line)")
                }
                XCTAssertTrue(text.contains("{%k"), "\(cpu) \(level): the module's selects no longer use AVX-512 masks at all; the test checks nothing")
            }
        }
    }
}
