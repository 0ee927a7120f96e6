import Foundation
import XCTest

/// Exact memory semantics under optimization, through the embedding API (`wasmaot spec-test`, where
/// the instance survives a trap): every out-of-bounds access traps, and every effect before the
/// trap — in-bounds bytes of adjacent stores, a store a later overlapping store would overwrite,
/// stores and global updates of earlier loop iterations — stays. Fixtures/wast/memory-semantics.wast
/// holds the cases; each runs at -O0, -O1, -O2 and -O3. (Executables, and so aarch64, are covered
/// by TrapTests.testDiscardedLoadsTrapAtEveryLevel, which the aarch64 suite re-runs under qemu.)
final class MemorySemanticsTests: XCTestCase {
    static let script = Paths.packageRoot.appendingPathComponent("Tests/EndToEndTests/Fixtures/wast/memory-semantics.wast")

    func testEffectsBeforeATrapStayAtEveryLevel() throws {
        let wasmaot = try Paths.wasmaot()
        let commands = try String(contentsOf: Self.script, encoding: .utf8)
            .split(separator: "\n").filter { $0.hasPrefix("(assert_") || $0.hasPrefix("(module") }.count
        XCTAssertGreaterThan(commands, 50)
        for level in 0...3 {
            let r = try Proc.run(wasmaot, ["spec-test", "--verbose", "-O", "\(level)", Self.script.path], timeout: 300)
            let failures = r.stdoutText.split(separator: "\n").filter { !$0.hasPrefix("ok") && $0.contains("expected") }
            XCTAssertEqual(r.status, 0, "-O\(level):\n" + failures.joined(separator: "\n") + r.stderrText)
            // Every command counted: the module plus each assertion, nothing skipped.
            XCTAssertTrue(r.stdoutText.contains("\(commands) passed, 0 failed"), "-O\(level): \(r.stdoutText.suffix(300))")
        }
    }
}
