import Foundation
import XCTest

/// The fuzzing tool's CI smoke (Tests/Fuzz/fuzz.py smoke, fixed seeds): 200 `wasm-tools smith`
/// modules run under wasmtime and under wasmaot at -O0 and -O2 with identical results, traps,
/// globals and memory, 400 more with exception handling (those wasmtime-py can run) and 200 with
/// SIMD; 20,000 mutated modules (half the corpus with SIMD) through decode, validation, lowering and code
/// generation with an error for each refusal and no crash or hang. README "Fuzzing" says how to
/// run a long campaign.
final class FuzzSmokeTests: XCTestCase {
    func testSmokeCampaignFindsNothing() throws {
        guard let python = Paths.which("python3") else { throw XCTSkip("python3 not found (apt-get install python3 python3-venv)") }
        let script = Paths.packageRoot.appendingPathComponent("Tests/Fuzz/fuzz.py").path
        let r = try Proc.run(python, [script, "smoke", "--wasmaot", try Paths.wasmaot()], timeout: 900)
        print(r.stdoutText.split(separator: "\n").filter { $0.hasPrefix("fuzz ") }.joined(separator: "\n"))
        XCTAssertEqual(r.status, 0, String(r.stdoutText.suffix(3000)) + String(r.stderrText.suffix(2000)))
        XCTAssertTrue(r.stdoutText.contains("fuzz diff seeds 1000000:1000200: modules checked per level: O0 200, O2 200; 0 mismatches"), r.stdoutText)
        // Exception handling: only the modules wasmtime-py can run (no exnref in exported types).
        XCTAssertTrue(r.stdoutText.range(of: #"fuzz diff seeds 2000000:2000400 with exceptions: modules checked per level: O0 [1-9][0-9]*, O2 [1-9][0-9]*; 0 mismatches"#, options: .regularExpression) != nil, r.stdoutText)
        // SIMD: exports with v128 in their type are not called (wasmtime-py cannot pass v128).
        XCTAssertTrue(r.stdoutText.contains("fuzz diff seeds 3000000:3000200 with SIMD: modules checked per level: O0 200, O2 200; 0 mismatches"), r.stdoutText)
        XCTAssertTrue(r.stdoutText.contains("fuzz malformed: 20000 inputs, 0 crashes, 0 hangs"), r.stdoutText)
    }
}
