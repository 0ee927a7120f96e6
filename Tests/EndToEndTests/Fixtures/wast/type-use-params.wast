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
