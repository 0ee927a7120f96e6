import Foundation
import XCTest

/// Runs a script of Fixtures/wast through `wasmaot spec-test` (the embedding API, where the
/// instance survives a trap) at each of `levels`, requiring every command to pass.
func runFixtureScript(_ name: String, levels: ClosedRange<Int> = 0...3, minimumCommands: Int,
                      file: StaticString = #filePath, line: UInt = #line) throws {
    let script = Paths.packageRoot.appendingPathComponent("Tests/EndToEndTests/Fixtures/wast/\(name)")
    let wasmaot = try Paths.wasmaot()
    let commands = try String(contentsOf: script, encoding: .utf8)
        .split(separator: "\n").filter { $0.hasPrefix("(assert_") || $0.hasPrefix("(module") || $0.hasPrefix("(register") }.count
    XCTAssertGreaterThanOrEqual(commands, minimumCommands, file: file, line: line)
    for level in levels {
        let r = try Proc.run(wasmaot, ["spec-test", "--verbose", "-O", "\(level)", script.path], timeout: 300)
        let failures = r.stdoutText.split(separator: "\n").filter { !$0.hasPrefix("ok") && $0.contains("expected") }
        XCTAssertEqual(r.status, 0, "-O\(level):\n" + failures.joined(separator: "\n") + r.stderrText, file: file, line: line)
        // Every command counted: each module, registration and assertion, nothing skipped.
        XCTAssertTrue(r.stdoutText.contains("\(commands) passed, 0 failed"), "-O\(level): \(r.stdoutText.suffix(300))",
                      file: file, line: line)
    }
}

/// Exact memory semantics under optimization: every out-of-bounds access traps, and every effect
/// before the trap — in-bounds bytes of adjacent stores, a store a later overlapping store would
/// overwrite, stores and global updates of earlier loop iterations — stays.
/// Fixtures/wast/memory-semantics.wast holds the cases; each runs at -O0, -O1, -O2 and -O3.
/// (Executables, and so aarch64, are covered by TrapTests.testDiscardedLoadsTrapAtEveryLevel,
/// which the aarch64 suite re-runs under qemu.)
final class MemorySemanticsTests: XCTestCase {
    func testEffectsBeforeATrapStayAtEveryLevel() throws {
        try runFixtureScript("memory-semantics.wast", minimumCommands: 54)
    }
}

/// `call_indirect` matches types exactly (the module's own type string by pointer, anything else
/// by text), never by a hash: callees of the same module, of another module through an imported
/// table, an imported function and a host function (spectest.print_i32), each with the right and
/// a wrong type (Fixtures/wast/call-indirect-identity.wast).
final class CallIndirectTests: XCTestCase {
    func testTypesMatchExactlyAcrossModulesAndHostFunctions() throws {
        try runFixtureScript("call-indirect-identity.wast", levels: 0...2, minimumCommands: 18)
    }
}

/// `wasmaot spec-test` reads named inline parameters with a type use, `(func (type $t) (param $x
/// i32) …)` — valid WAT that WasmKit 0.4.2's parser rejects (Fixtures/wast/type-use-params.wast:
/// folded and flat bodies, named locals after them, a block label named like a parameter, an
/// import, the text inside comments and strings left alone, and a mismatch still refused).
final class TypeUseParamsTests: XCTestCase {
    func testNamedParamsWithATypeUse() throws {
        try runFixtureScript("type-use-params.wast", levels: 1...1, minimumCommands: 7)
    }
}
