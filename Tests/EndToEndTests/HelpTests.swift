import Foundation
import XCTest

/// Help as a newcomer reads it: every visible command (found by walking SUBCOMMANDS from the top,
/// so a new one is covered without touching this test; hidden ones are not listed), on an
/// 80-column terminal and piped: no line over 80 columns, and nothing before USAGE (overview,
/// prose, examples) wrapped — it reads the same as on a 1000-column terminal. Completion scripts.
final class HelpTests: XCTestCase {
    func help(_ path: [String], columns: String?, style: Int) throws -> String {
        var env = ProcessInfo.processInfo.environment
        env["COLUMNS"] = columns
        let args = style == 0 ? ["help"] + path : path + ["--help"]
        let r = try Proc.run(try Paths.wasmaot(), args, environment: env)
        XCTAssertEqual(r.status, 0, "\(args): \(r.summary)")
        return r.stdoutText
    }

    /// Subcommand names listed under SUBCOMMANDS: (two-space indent; descriptions go deeper).
    func subcommands(_ text: String) -> [String] {
        guard let start = text.range(of: "SUBCOMMANDS:\n") else { return [] }
        var out: [String] = []
        for line in text[start.upperBound...].split(separator: "\n", omittingEmptySubsequences: false) {
            if line.isEmpty { break }
            guard line.hasPrefix("  "), !line.hasPrefix("   ") else { continue }
            out.append(String(line.dropFirst(2).prefix { $0 != " " }))
        }
        return out
    }

    func testEveryHelpFitsEightyColumnsWithoutBrokenExamples() throws {
        var queue: [[String]] = [[]], seen: [[String]] = []
        while let path = queue.popLast() {
            seen.append(path)
            let wide = try help(path, columns: "1000", style: 0)
            for sub in subcommands(wide) where sub != "help" { queue.append(path + [sub]) }
            let head = { (text: String) in text.components(separatedBy: "\nUSAGE:")[0] }
            for style in [0, 1] {
                for columns in ["80", nil] {
                    let text = try help(path, columns: columns, style: style)
                    for line in text.split(separator: "\n", omittingEmptySubsequences: false) where line.count > 80 {
                        XCTFail("wasmaot \(path.joined(separator: " ")) help (COLUMNS=\(columns ?? "unset")): \(line.count) columns: \(line)")
                    }
                    XCTAssertEqual(head(text), head(wide),
                                   "wasmaot \(path.joined(separator: " ")): overview/discussion wrapped at COLUMNS=\(columns ?? "unset")")
                }
            }
        }
        let names = seen.map { $0.joined(separator: " ") }
        for expected in ["compile", "run", "cache", "cache artifact", "image", "image build", "spec-test"] {
            XCTAssertTrue(names.contains(expected), "\(expected) not reached: \(names)")
        }
        XCTAssertFalse(names.contains("cache tier-up"), "hidden commands are not listed")
    }

    func testCompletionScripts() throws {
        for shell in ["bash", "zsh", "fish"] {
            let r = try Proc.run(try Paths.wasmaot(), ["--generate-completion-script", shell])
            XCTAssertEqual(r.status, 0, "\(shell): \(r.summary)")
            for word in ["compile", "image", "spec-test", "tier"] {
                XCTAssertTrue(r.stdoutText.contains(word), "\(shell) completion lacks \(word)")
            }
        }
    }
}
