import Foundation
import XCTest

/// Wasm 3.0 features through the embedding API (`wasmaot spec-test`), where instances link to each
/// other and to the spectest module; executables (both tiers, and aarch64 under qemu) are covered
/// by SemanticsTests.
final class ExtendedConstTests: XCTestCase {
    static let script = #"""
(module
  (global (import "spectest" "global_i32") i32)
  (global $a i32 (i32.add (global.get 0) (i32.const 1)))
  (global $b (export "b") i32 (i32.sub (global.get $a) (i32.mul (i32.const 2) (i32.const 3))))
  (global $c (export "c") i64 (i64.mul (i64.const -1) (i64.add (i64.const 40) (i64.const 2))))
  (memory 1)
  (data (i32.sub (global.get $b) (i32.const 600)) "\2a")
  (func (export "byte") (param i32) (result i32) (i32.load8_u (local.get 0))))
(assert_return (get "b") (i32.const 661))
(assert_return (get "c") (i64.const -42))
(assert_return (invoke "byte" (i32.const 61)) (i32.const 42))
(assert_invalid (module (global i32 (global.get 1)) (global i32 (i32.const 0))) "unknown global")
(assert_invalid (module (global $m (mut i32) (i32.const 0)) (global i32 (global.get $m))) "constant expression required")
(assert_invalid (module (global i32 (i32.add (i32.const 1) (i64.const 2)))) "type mismatch")
(assert_invalid (module (global i32 (i32.div_s (i32.const 1) (i32.const 2)))) "constant expression required")
(assert_invalid (module (global i64 (i64.add (i64.const 1)))) "type mismatch")
(assert_invalid (module (memory 1) (data (i64.add (i64.const 0) (i64.const 0)) "")) "type mismatch")
"""#

    func testExtendedConstantExpressions() throws {
        try runScript(Self.script, named: "extended-const.wast", levels: 0...2, minimumCommands: 10, in: self)
    }

    /// Under Wasm 2.0 rules (`--standard 2.0`, for the 2.0 suite) the same module is refused.
    func testWasm20RulesRefuseThem() throws {
        let dir = try makeTempDir("wast")
        let script = dir.appendingPathComponent("extended-const.wast")
        try Self.script.write(to: script, atomically: true, encoding: .utf8)
        let r = try Proc.run(try Paths.wasmaot(), ["spec-test", "--standard", "2.0", "--verbose", script.path], timeout: 120)
        XCTAssertEqual(r.status, 1, r.summary)
        XCTAssertTrue(r.stdoutText.contains("extended-const.wast:1: module: module failed to compile: constant expression required"), r.stdoutText)
    }
}

/// Typed function references: `call_ref`, `ref.as_non_null`, typed tables with initializers,
/// exact identity of signatures holding `(ref $t)` across modules, import subtyping of immutable
/// globals, invariant table types, validation of non-nullable locals and reference subtyping.
final class TypedFunctionReferencesTests: XCTestCase {
    static let script = #"""
;; Typed function references across modules: exact identity of (ref $t) signatures, tables of
;; typed references with initializers, call_ref, validation of non-nullable locals and subtyping.
(module $A
  (type $t (func (param i32) (result i32)))
  (type $u (func (param (ref $t)) (result i32)))
  (func $sq (export "sq") (type $t) (i32.mul (local.get 0) (local.get 0)))
  (func (export "apply5") (type $u) (call_ref $t (i32.const 5) (local.get 0)))
  (table (export "tab") 2 (ref null $t))
  (global (export "g") (ref $t) (ref.func $sq))
  (elem (table 0) (i32.const 0) (ref $t) (ref.func $sq)))
(register "A" $A)
(assert_return (invoke "sq" (i32.const 7)) (i32.const 49))
(assert_return (get "g") (ref.func))
(module $B
  (type $t (func (param i32) (result i32)))
  (type $u (func (param (ref $t)) (result i32)))
  (import "A" "apply5" (func $apply5 (type $u)))
  (import "A" "tab" (table $tab 2 (ref null $t)))
  (import "A" "g" (global $g (ref $t)))
  (func $neg (type $t) (i32.sub (i32.const 0) (local.get 0)))
  (elem declare func $neg)
  (func (export "via-import") (result i32) (call $apply5 (ref.func $neg)))
  (func (export "via-global") (result i32) (call $apply5 (global.get $g)))
  (func (export "via-table") (param i32) (result i32)
    (call_ref $t (i32.const 3) (ref.as_non_null (table.get $tab (local.get 0)))))
  (func (export "indirect") (param i32) (result i32)
    (call_indirect $tab (type $t) (i32.const 4) (local.get 0)))
  (func (export "null-call") (result i32) (call_ref $t (i32.const 1) (ref.null $t))))
(assert_return (invoke "via-import") (i32.const -5))
(assert_return (invoke "via-global") (i32.const 25))
(assert_return (invoke "via-table" (i32.const 0)) (i32.const 9))
(assert_trap (invoke "via-table" (i32.const 1)) "null reference")
(assert_return (invoke "indirect" (i32.const 0)) (i32.const 16))
(assert_trap (invoke "indirect" (i32.const 1)) "uninitialized element")
(assert_trap (invoke "null-call") "null function reference")
;; a different signature does not link
(assert_unlinkable
  (module
    (type $v (func (param i64) (result i32)))
    (type $u (func (param (ref $v)) (result i32)))
    (import "A" "apply5" (func (type $u))))
  "incompatible import type")
(module (type $t (func (param i32) (result i32))) (import "A" "g" (global (ref null $t))) (import "A" "g" (global funcref)))
(assert_unlinkable
  (module (type $t (func (param i64) (result i32))) (import "A" "g" (global (ref null $t))))
  "incompatible import type")
(assert_unlinkable
  (module (type $t (func (param i32) (result i32))) (import "A" "tab" (table 2 funcref)))
  "incompatible import type")
(module (type $t (func (param i32) (result i32))) (import "A" "tab" (table 2 (ref null $t))))
;; validation
(assert_invalid (module (type $t (func)) (func (local (ref $t)) (drop (local.get 0)))) "uninitialized local")
(assert_invalid
  (module (type $t (func)) (func $f (local $l (ref $t))
    (block (local.set $l (ref.func $f))) (drop (local.get $l))) (elem declare func $f))
  "uninitialized local")
(assert_invalid (module (type $t (func)) (func (param (ref null $t)) (result (ref $t)) (local.get 0))) "type mismatch")
(assert_invalid (module (type $t (func)) (type $s (func (param i32))) (func (param (ref $s)) (result (ref $t)) (local.get 0))) "type mismatch")
(assert_invalid (module (type $t (func)) (table 1 (ref $t))) "type mismatch")

(module
  (type $t (func (result i32)))
  (type $t2 (func (result i32)))
  (func $f (type $t) (i32.const 11))
  (elem declare func $f)
  ;; equivalent types are interchangeable; (ref $t) is a funcref
  (func (export "equiv") (result i32) (call_ref $t2 (ref.func $f)))
  (func (export "up") (result funcref) (ref.func $f))
  (func (export "init") (result i32) (local $l (ref $t))
    (local.set $l (ref.func $f)) (call_ref $t (local.get $l))))
(assert_return (invoke "equiv") (i32.const 11))
(assert_return (invoke "up") (ref.func))
(assert_return (invoke "init") (i32.const 11))
"""#

    func testTypedFunctionReferences() throws {
        try runScript(Self.script, named: "function-references.wast", levels: 0...2, minimumCommands: 24, in: self)
    }
}

/// Tail calls across modules: a module without return_call* keeps the C convention, a module with
/// them uses tailcc; calls and tail calls through imports and shared tables work in every
/// direction, and a million tail calls through a table run in constant stack (the spec runner's
/// thread has 8 MiB). Executables: SemanticsTests.testGuaranteedTailCalls, CProgramTests.
final class TailCallTests: XCTestCase {
    static let script = #"""
;; Tail calls across modules: a module without return_call* keeps the C convention, one with
;; them uses tailcc; records carry both entries, so calls and tail calls work in every direction.
(module $N
  (type $t (func (param i64) (result i64)))
  (func $dec (export "dec") (type $t) (i64.sub (local.get 0) (i64.const 1)))
  (table (export "tab") 4 funcref)
  (elem (i32.const 0) $dec)
  (func (export "call-tab") (param i32 i64) (result i64) (call_indirect (type $t) (local.get 1) (local.get 0))))
(register "N" $N)
(module $T
  (type $t (func (param i64) (result i64)))
  (import "N" "dec" (func $dec (type $t)))
  (import "N" "tab" (table $tab 4 funcref))
  (elem (table $tab) (i32.const 1) func $count $tail-dec)
  (func $count (export "count") (type $t)
    (if (result i64) (i64.eqz (local.get 0)) (then (i64.const 42))
      (else (return_call_indirect $tab (type $t) (call $dec (local.get 0)) (i32.const 1)))))
  (func $tail-dec (export "tail-dec") (type $t) (return_call $dec (local.get 0)))
  (func (export "tail-tab0") (param i64) (result i64) (return_call_indirect $tab (type $t) (local.get 0) (i32.const 0))))
(register "T" $T)
(assert_return (invoke "count" (i64.const 1000000)) (i64.const 42))
(assert_return (invoke "tail-dec" (i64.const 10)) (i64.const 9))
(assert_return (invoke "tail-tab0" (i64.const 10)) (i64.const 9))
(assert_return (invoke $N "call-tab" (i32.const 1) (i64.const 5)) (i64.const 42))
(assert_return (invoke $N "call-tab" (i32.const 2) (i64.const 5)) (i64.const 4))
(module
  (type $t (func (param i64) (result i64)))
  (import "T" "count" (func $count (type $t)))
  (import "T" "tail-dec" (func $td (type $t)))
  (func (export "via-import") (result i64) (i64.add (call $count (i64.const 100)) (call $td (i64.const 1)))))
(assert_return (invoke "via-import") (i64.const 42))
;; Three i64 results come back through memory: such a return call is a plain call (README).
(module
  (func $three (param i32) (result i64 i64 i64)
    (if (result i64 i64 i64) (i32.eqz (local.get 0)) (then (i64.const 1) (i64.const 2) (i64.const 3))
      (else (return_call $three (i32.sub (local.get 0) (i32.const 1))))))
  (func (export "three") (result i64 i64 i64) (return_call $three (i32.const 1000))))
(assert_return (invoke "three") (i64.const 1) (i64.const 2) (i64.const 3))
;; A function referenced only by a table initializer of a module with tail calls still has a C
;; entry, which a module without tail calls calls through.
(module $TT
  (type $t (func (result i32)))
  (func $only-in-table (type $t) (i32.const 77))
  (table (export "tab") 1 (ref $t) (ref.func $only-in-table))
  (func $loop (param i32) (result i32) (return_call $loop2 (local.get 0)))
  (func $loop2 (param i32) (result i32) (local.get 0)))
(register "TT" $TT)
(module
  (type $t (func (result i32)))
  (import "TT" "tab" (table 1 (ref $t)))
  (func (export "via-table") (result i32) (call_indirect (type $t) (i32.const 0))))
(assert_return (invoke "via-table") (i32.const 77))
"""#

    func testTailCallsAcrossModules() throws {
        try runScript(Self.script, named: "tail-calls.wast", levels: 0...2, minimumCommands: 17, in: self)
    }
}

/// Multi-memory: separate reservations, bases, sizes and growth; memory indices on loads, stores,
/// size, grow, copy (between memories), fill, init and data segments; imported and exported
/// memories at any index; a trap in one memory keeps the stores already made to another.
final class MultiMemoryTests: XCTestCase {
    static let script = #"""
;; Multi-memory: each memory its own reservation, base, size and growth; every memory
;; instruction with its memory index; data segments per memory; copy between memories;
;; imports and exports of any memory index.
(module $M
  (memory $a (export "a") 1 2)
  (memory $b (export "b") 2 4)
  (data (memory $b) (i32.const 70000) "bee")
  (data $pa "xyz")
  (func (export "load-a") (param i32) (result i32) (i32.load8_u $a (local.get 0)))
  (func (export "load-b") (param i32) (result i32) (i32.load8_u $b (local.get 0)))
  (func (export "store-b") (param i32 i32) (i32.store $b (local.get 0) (local.get 1)))
  (func (export "store-a") (param i32 i32) (i32.store16 $a offset=2 (local.get 0) (local.get 1)))
  (func (export "sizes") (result i32 i32) (memory.size $a) (memory.size $b))
  (func (export "grow-b") (param i32) (result i32) (memory.grow $b (local.get 0)))
  (func (export "copy-b-to-a") (param i32 i32 i32) (memory.copy $a $b (local.get 0) (local.get 1) (local.get 2)))
  (func (export "fill-b") (param i32 i32 i32) (memory.fill $b (local.get 0) (local.get 1) (local.get 2)))
  (func (export "init-b") (param i32) (memory.init $b $pa (local.get 0) (i32.const 0) (i32.const 3))))
(register "M" $M)
(assert_return (invoke "load-b" (i32.const 70001)) (i32.const 0x65))
(assert_return (invoke "load-a" (i32.const 1)) (i32.const 0))
(assert_trap (invoke "load-a" (i32.const 65536)) "out of bounds memory access")
(assert_return (invoke "sizes") (i32.const 1) (i32.const 2))
(assert_return (invoke "grow-b" (i32.const 2)) (i32.const 2))
(assert_return (invoke "grow-b" (i32.const 1)) (i32.const -1))
(assert_return (invoke "sizes") (i32.const 1) (i32.const 4))
(invoke "store-b" (i32.const 200000) (i32.const 0x04030201))
(assert_return (invoke "load-b" (i32.const 200003)) (i32.const 4))
(invoke "copy-b-to-a" (i32.const 10) (i32.const 70000) (i32.const 3))
(assert_return (invoke "load-a" (i32.const 12)) (i32.const 0x65))
(assert_trap (invoke "copy-b-to-a" (i32.const 65535) (i32.const 0) (i32.const 2)) "out of bounds memory access")
(assert_trap (invoke "copy-b-to-a" (i32.const 0) (i32.const 262143) (i32.const 2)) "out of bounds memory access")
(invoke "fill-b" (i32.const 5) (i32.const 0x77) (i32.const 2))
(assert_return (invoke "load-b" (i32.const 6)) (i32.const 0x77))
(assert_return (invoke "load-a" (i32.const 6)) (i32.const 0))
(invoke "init-b" (i32.const 100))
(assert_return (invoke "load-b" (i32.const 102)) (i32.const 0x7a))
;; a trapping store in memory 1 leaves memory 0's earlier store
(module
  (import "M" "b" (memory $ib 4))
  (import "M" "a" (memory $ia 1 2))
  (memory $own 1)
  (func (export "mixed") (param i32) (result i32)
    (i32.store8 $own (i32.const 1) (i32.const 9))
    (i32.store8 $ia (i32.const 0) (i32.load8_u $ib (i32.const 70002)))
    (i32.store8 $ib (local.get 0) (i32.const 1))
    (i32.load8_u $own (i32.const 1)))
  (func (export "own") (result i32) (i32.load8_u $own (i32.const 1)))
  (func (export "sizes") (result i32 i32 i32) (memory.size 0) (memory.size 1) (memory.size 2)))
(assert_return (invoke "mixed" (i32.const 0)) (i32.const 9))
(assert_return (invoke $M "load-a" (i32.const 0)) (i32.const 0x65))
(assert_trap (invoke "mixed" (i32.const 262144)) "out of bounds memory access")
(assert_return (invoke "own") (i32.const 9))
(assert_return (invoke "sizes") (i32.const 4) (i32.const 1) (i32.const 1))
(assert_unlinkable (module (import "M" "a" (memory 2))) "incompatible import type")
"""#

    func testMultiMemory() throws {
        try runScript(Self.script, named: "multi-memory.wast", levels: 0...2, minimumCommands: 27, in: self)
    }
}

/// memory64: i64 addresses with explicit bounds checks (including addresses and offsets past
/// 4 GiB and wrap-around), i64 page counts and growth, bulk operations with i64 operands and
/// between a 64-bit and a 32-bit memory, 64-bit data offsets, linking by address type, and
/// 64-bit tables (call_indirect, table.size/grow with i64).
final class Memory64Tests: XCTestCase {
    static let script = #"""
;; memory64: i64 addresses, offsets past 4 GiB, page counts as i64, explicit bounds checks
;; (no guard region can cover 64-bit addresses), bulk operations with i64 operands, 64-bit data
;; segment offsets, imports/exports by address type, 64-bit tables.
(module $M
  (memory $m (export "mem") i64 1 4)
  (memory $n i32 1)
  (data (i64.const 65530) "abcdef")
  (func (export "ld") (param i64) (result i32) (i32.load8_u (local.get 0)))
  (func (export "ld32") (param i64) (result i32) (i32.load (local.get 0)))
  (func (export "ld-off") (param i64) (result i64) (i64.load offset=0xffffffff (local.get 0)))
  (func (export "st") (param i64 i32) (i32.store16 (local.get 0) (local.get 1)))
  (func (export "size") (result i64) (memory.size))
  (func (export "grow") (param i64) (result i64) (memory.grow (local.get 0)))
  (func (export "fill") (param i64 i32 i64) (memory.fill (local.get 0) (local.get 1) (local.get 2)))
  (func (export "copy64") (param i64 i64 i64) (memory.copy (local.get 0) (local.get 1) (local.get 2)))
  (func (export "copy-to32") (param i32 i64 i32) (memory.copy $n $m (local.get 0) (local.get 1) (local.get 2)))
  (func (export "ld-n") (param i32) (result i32) (i32.load8_u $n (local.get 0))))
(register "M" $M)
(assert_return (invoke "ld" (i64.const 65535)) (i32.const 0x66))
(assert_trap (invoke "ld" (i64.const 65536)) "out of bounds memory access")
(assert_trap (invoke "ld32" (i64.const 65533)) "out of bounds memory access")
(assert_trap (invoke "ld" (i64.const 0x1_0000_0000)) "out of bounds memory access")
(assert_trap (invoke "ld" (i64.const -1)) "out of bounds memory access")
(assert_trap (invoke "ld-off" (i64.const -1)) "out of bounds memory access")
(assert_trap (invoke "ld-off" (i64.const 0)) "out of bounds memory access")
(assert_return (invoke "size") (i64.const 1))
(assert_return (invoke "grow" (i64.const 2)) (i64.const 1))
(assert_return (invoke "grow" (i64.const 2)) (i64.const -1))
(assert_return (invoke "grow" (i64.const 0x1_0000_0001)) (i64.const -1))
(assert_return (invoke "size") (i64.const 3))
(invoke "st" (i64.const 196606) (i32.const 0x4241))
(assert_return (invoke "ld" (i64.const 196607)) (i32.const 0x42))
(assert_trap (invoke "st" (i64.const 196607) (i32.const 1)) "out of bounds memory access")
(assert_return (invoke "ld" (i64.const 196606)) (i32.const 0x41))
(invoke "fill" (i64.const 100) (i32.const 7) (i64.const 3))
(assert_return (invoke "ld" (i64.const 102)) (i32.const 7))
(assert_trap (invoke "fill" (i64.const 1) (i32.const 7) (i64.const -1)) "out of bounds memory access")
(invoke "copy64" (i64.const 0) (i64.const 65530) (i64.const 6))
(assert_return (invoke "ld" (i64.const 5)) (i32.const 0x66))
(invoke "copy-to32" (i32.const 10) (i64.const 65531) (i32.const 2))
(assert_return (invoke "ld-n" (i32.const 11)) (i32.const 0x63))
(assert_unlinkable (module (import "M" "mem" (memory 1))) "incompatible import type")
(module (import "M" "mem" (memory i64 1)) (func (export "first") (result i32) (i32.load8_u (i64.const 0))))
(assert_return (invoke "first") (i32.const 0x61))
(assert_invalid (module (memory i64 1) (func (drop (i32.load (i32.const 0))))) "type mismatch")
(assert_invalid (module (memory 1) (func (drop (i32.load offset=0x1_0000_0000 (i32.const 0))))) "offset out of range")
(assert_invalid (module (memory i64 1) (data (i32.const 0) "")) "type mismatch")
(module
  (table $t i64 3 funcref)
  (elem (table $t) (i64.const 1) func $f)
  (func $f (result i32) (i32.const 5))
  (func (export "call") (param i64) (result i32) (call_indirect $t (result i32) (local.get 0)))
  (func (export "tsize") (result i64) (table.size $t))
  (func (export "tgrow") (param i64) (result i64) (table.grow $t (ref.null func) (local.get 0))))
(assert_return (invoke "call" (i64.const 1)) (i32.const 5))
(assert_trap (invoke "call" (i64.const 0x1_0000_0001)) "undefined element")
(assert_trap (invoke "call" (i64.const 0)) "uninitialized element")
(assert_return (invoke "tgrow" (i64.const 0x1_0000_0000)) (i64.const -1))
(assert_return (invoke "tgrow" (i64.const 2)) (i64.const 3))
(assert_return (invoke "tsize") (i64.const 5))
"""#

    func testMemory64() throws {
        try runScript(Self.script, named: "memory64.wast", levels: 0...2, minimumCommands: 38, in: self)
    }
}

/// Exception handling across instances: exported and imported tags, tags being per instance (two
/// instances of one module throw different exceptions), an exception unwinding through the frames
/// of a module that has no exception handling at all, exnrefs handed to the embedder and back,
/// and uncaught exceptions reported as such (`assert_exception`), never as traps.
final class ExceptionHandlingTests: XCTestCase {
    static let script = #"""
(module $A
  (tag $e (export "e") (param i32))
  (func (export "throw") (param i32) (throw $e (local.get 0)))
  (func (export "catch") (param funcref) (result i32)
    (block $h (result i32)
      (try_table (catch $e $h) (call_indirect (param i32) (i32.const 5) (i32.const 0) (local.get 0) (table.set $t) (i32.const 0)))
      (i32.const -1)))
  (table $t 1 funcref))
(register "A" $A)
(module $Plain
  (import "A" "throw" (func $throw (param i32)))
  (func (export "through") (param i32) (call $throw (i32.add (local.get 0) (i32.const 1)))))
(register "Plain" $Plain)
(module $B
  (import "A" "e" (tag $e (param i32)))
  (import "Plain" "through" (func $through (param i32)))
  (tag $mine (param i32))
  (func (export "via-plain") (result i32)
    (block $h (result i32)
      (try_table (catch $e $h) (call $through (i32.const 41)))
      (i32.const -1)))
  (func (export "own-tag-not-caught-by-A") (result i32)
    (block $h (result i32)
      (try_table (catch $e $h) (throw $mine (i32.const 3)))
      (i32.const -1)))
  (func $keep (result exnref) (local exnref)
    (block $h (result i32 exnref)
      (try_table (catch_ref $e $h) (call $through (i32.const 9)))
      (unreachable))
    (local.set 0) (drop) (local.get 0))
  (global $kept (mut exnref) (ref.null exn))
  (func (export "kept-payload") (result i32)
    (global.set $kept (call $keep))
    (drop (call $payload (global.get $kept)))
    (call $payload (global.get $kept)))
  (func (export "rethrow") (param exnref) (throw_ref (local.get 0)))
  (func $payload (export "payload") (param exnref) (result i32)
    (block $h (result i32)
      (try_table (catch $e $h) (throw_ref (local.get 0)))
      (i32.const -1)))
  (func (export "trap-in-try") (result i32)
    (block $h (try_table (catch_all $h) (unreachable)))
    (i32.const 0)))
(assert_return (invoke "via-plain") (i32.const 42))
(assert_return (invoke "kept-payload") (i32.const 10))
(assert_exception (invoke "own-tag-not-caught-by-A"))
(assert_trap (invoke "trap-in-try") "unreachable")
(assert_trap (invoke "rethrow" (ref.null exn)) "null reference")
(module $A2
  (tag $e (export "e") (param i32))
  (func (export "throw") (param i32) (throw $e (local.get 0))))
(register "A2" $A2)
(module $C
  (import "A" "e" (tag $a (param i32)))
  (import "A2" "throw" (func $throw2 (param i32)))
  (func (export "other-instance") (result i32)
    (block $h (result i32)
      (try_table (catch $a $h) (call $throw2 (i32.const 1)))
      (i32.const -1))))
(assert_exception (invoke "other-instance"))
(assert_unlinkable
  (module (import "A" "e" (tag (param i64))))
  "incompatible import type")
(assert_unlinkable
  (module (import "A" "throw" (tag (param i32))))
  "incompatible import type")
"""#

    func testExceptionsAcrossInstances() throws {
        try runScript(Self.script, named: "exceptions.wast", levels: 0...2, minimumCommands: 16, in: self)
    }
}
