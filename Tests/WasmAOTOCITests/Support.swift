import Foundation
import XCTest

/// Helpers for the bundle tests: processes, binaries, OCI bundles built with `runc spec`.
struct OCITestError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

struct Outcome {
    var status: Int32
    var stdout: Data
    var stderr: Data
    var text: String { String(decoding: stdout, as: UTF8.self) }
    var errText: String { String(decoding: stderr, as: UTF8.self) }
    var summary: String { "status \(status)\n--- stdout ---\n\(text)\n--- stderr ---\n\(errText)" }
}

enum OCIPaths {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func built(_ name: String) throws -> String {
        // The products of the build these tests come from first (`--scratch-path` puts them beside
        // the test bundle), then the default build directory.
        if let me = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            let p = URL(fileURLWithPath: me).deletingLastPathComponent().appendingPathComponent(name).path
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        for config in ["debug", "release"] {
            let p = packageRoot.appendingPathComponent(".build/\(config)/\(name)").path
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        throw OCITestError("\(name) is not built; run `swift build`")
    }

    static func which(_ name: String) -> String? {
        for dir in ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"] {
            let p = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }
}

/// A child process; output goes to files (a container may keep inherited stdio open after
/// `create` returns, so pipes would never reach EOF). posix_spawn + waitpid rather than Foundation's
/// Process: Process learns of the exit through a socket the child inherits, and crun's waiting
/// container init (from `crun create`) keeps that socket open, so Process never sees `create` end.
final class Child {
    let pid: pid_t
    let out: URL, err: URL
    private var status: Int32?

    init(_ executable: String, _ arguments: [String], environment: [String: String], scratch: URL) throws {
        let tag = UUID().uuidString.prefix(8)
        out = scratch.appendingPathComponent("out-\(tag)")
        err = scratch.appendingPathComponent("err-\(tag)")
        var fa = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fa)
        defer { posix_spawn_file_actions_destroy(&fa) }
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&fa, 1, out.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&fa, 2, err.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var p: pid_t = 0
        let rc = posix_spawn(&p, executable, &fa, nil, argv, envp)
        guard rc == 0 else { throw OCITestError("cannot run \(executable): \(String(cString: strerror(rc)))") }
        pid = p
    }

    /// Nil if still running at the deadline.
    func wait(timeout: TimeInterval) -> Outcome? {
        let deadline = Date().addingTimeInterval(timeout)
        while status == nil {
            var st: Int32 = 0
            let r = waitpid(pid, &st, WNOHANG)
            if r == pid {
                status = (st & 0x7f) == 0 ? (st >> 8) & 0xff : 128 + (st & 0x7f)
            } else if Date() > deadline {
                return nil
            } else {
                usleep(5_000)
            }
        }
        return Outcome(status: status!, stdout: (try? Data(contentsOf: out)) ?? Data(), stderr: (try? Data(contentsOf: err)) ?? Data())
    }

    func run(timeout: TimeInterval) -> Outcome {
        if let o = wait(timeout: timeout) { return o }
        kill(pid, SIGKILL)
        var o = wait(timeout: 5) ?? Outcome(status: -1, stdout: Data(), stderr: Data())
        o.status = -1
        return o
    }
}

extension XCTestCase {
    func tempDir() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("wasmaot-oci-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    func wat2wasm(_ text: String, in dir: URL) throws -> Data {
        guard let tool = OCIPaths.which("wat2wasm") else { throw XCTSkip("wat2wasm not installed (apt-get install wabt)") }
        let src = dir.appendingPathComponent("m-\(UUID().uuidString.prefix(8)).wat")
        let bin = src.deletingPathExtension().appendingPathExtension("wasm")
        try text.write(to: src, atomically: true, encoding: .utf8)
        let r = try Child(tool, [src.path, "-o", bin.path], environment: [:], scratch: dir).run(timeout: 60)
        guard r.status == 0 else { throw OCITestError("wat2wasm failed: \(r.summary)") }
        return try Data(contentsOf: bin)
    }
}
