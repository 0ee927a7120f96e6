import Foundation
import WAT
import XCTest

/// Files that are not (usable) core modules, given to every command that reads a module: one
/// line naming the problem in words, exit status 1, and nothing written — no output file, no
/// cache directory, no `--for-image` directory.
final class BadInputTests: XCTestCase {
    struct Case {
        var name: String
        var path: URL
        var words: [String]
    }

    /// One file per kind of bad input, with the words its error must contain.
    func cases(in dir: URL) throws -> [Case] {
        var out: [Case] = []
        func add(_ name: String, _ bytes: [UInt8], _ words: [String]) throws {
            out.append(Case(name: name, path: try write(bytes, to: dir, as: name), words: words))
        }
        try add("notes.txt", Array("hello world, not a module\n".utf8), ["not a WebAssembly module", "it is text", "hello world"])
        try add("empty.wasm", [], ["empty file"])
        try add("module.wat", Array("(module (func))\n".utf8), ["WebAssembly text (.wat)", "wat2wasm"])
        try add("tool.wasm", Array(try Data(contentsOf: URL(fileURLWithPath: "/bin/true"))), ["not a WebAssembly module", "ELF"])
        try add("data.gz", [0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 3], ["gzip"])
        try add("component.wasm", [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00], ["component", "not supported yet", "wasm32-wasip1"])
        try add("future.wasm", [0x00, 0x61, 0x73, 0x6d, 0x02, 0x00, 0x00, 0x00], ["binary version 2", "version 1"])
        try add("short.wasm", [0x00, 0x61, 0x73], ["truncated"])
        let hello = try wat2wasm(CLITests.hello)
        try add("cut.wasm", Array(hello.prefix(hello.count - 5)), ["truncated", "section", "file ends"])
        // A real component, when wasm-tools (the fuzzing venv's) is here to make one.
        let tools = Paths.packageRoot.appendingPathComponent(".build/fuzz-venv/bin/wasm-tools").path
        if FileManager.default.isExecutableFile(atPath: tools) {
            let core = try write(try wat2wasm("(module (func (export \"f\")))"), to: dir, as: "core.wasm")
            let made = dir.appendingPathComponent("made-component.wasm")
            let r = try Proc.run(tools, ["component", "new", core.path, "-o", made.path])
            if r.status == 0 { out.append(Case(name: "made-component.wasm", path: made, words: ["component", "not supported yet"])) }
        }
        let directory = dir.appendingPathComponent("adir.wasm")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        out.append(Case(name: "adir.wasm", path: directory, words: ["is a directory"]))
        out.append(Case(name: "missing.wasm", path: dir.appendingPathComponent("missing.wasm"), words: ["No such file or directory"]))
        if geteuid() != 0 {
            let locked = try write(hello, to: dir, as: "locked.wasm")
            chmod(locked.path, 0)
            out.append(Case(name: "locked.wasm", path: locked, words: ["Permission denied"]))
        }
        return out
    }

    func assertOneLineError(_ r: ProcessResult, _ c: Case, _ command: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(r.status, 1, "\(command) \(c.name): \(r.summary)", file: file, line: line)
        let lines = r.stderrText.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, "\(command) \(c.name): one line expected:\n\(r.stderrText)", file: file, line: line)
        XCTAssertTrue(r.stderrText.hasPrefix("error: \(c.path.path): "), "\(command) \(c.name): \(r.stderrText)", file: file, line: line)
        for w in c.words {
            XCTAssertTrue(r.stderrText.contains(w), "\(command) \(c.name): '\(w)' missing in: \(r.stderrText)", file: file, line: line)
        }
        XCTAssertFalse(r.stderrText.contains("["), "\(command) \(c.name): byte arrays in: \(r.stderrText)", file: file, line: line)
    }

    func testEveryCommandNamesTheProblemAndWritesNothing() throws {
        let dir = try makeTempDir("badinput")
        let wasmaot = try Paths.wasmaot()
        let out = dir.appendingPathComponent("out"), cache = dir.appendingPathComponent("cache")
        for c in try cases(in: dir) {
            let before = Set(try FileManager.default.contentsOfDirectory(atPath: dir.path))
            let runs: [(String, [String])] = [
                ("compile", ["compile", c.path.path, "-o", out.path]),
                ("compile --for-image", ["compile", c.path.path, "--for-image"]),
                ("run", ["run", "--cache-dir", cache.path, c.path.path]),
                ("cache artifact", ["cache", "artifact", "--cache-dir", cache.path, c.path.path]),
                ("image build", ["image", "build", c.path.path, "-o", out.path]),
            ]
            for (command, args) in runs {
                assertOneLineError(try Proc.run(wasmaot, args), c, command)
                XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: dir.path)), before,
                               "\(command) \(c.name) left something behind")
            }
        }
    }

    /// spec-test reads scripts: a missing one is a failure with the system's reason.
    func testSpecTestMissingScript() throws {
        let dir = try makeTempDir("badinput")
        let r = try Proc.run(try Paths.wasmaot(), ["spec-test", dir.appendingPathComponent("absent.wast").path])
        XCTAssertNotEqual(r.status, 0, r.summary)
        XCTAssertTrue((r.stdoutText + r.stderrText).contains("No such file or directory"), r.summary)
    }
}
