import Foundation
import XCTest

/// Helpers for the container-engine suites: processes, fixtures (Wasm modules, a static native
/// binary, images), and the wrapper set-up every engine shares.
struct ContainerTestError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

struct Outcome {
    var status: Int32
    var stdout: String
    var stderr: String
    var seconds: Double
    var summary: String { "status \(status) (\(String(format: "%.2f", seconds)) s)\n--- stdout ---\n\(stdout)\n--- stderr ---\n\(stderr)" }
}

enum Paths {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `.build/<config>/<name>` of this package, debug first.
    static func built(_ name: String) -> String? {
        for config in ["debug", "release"] {
            let p = packageRoot.appendingPathComponent(".build/\(config)/\(name)").path
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    static func which(_ name: String) -> String? {
        for dir in ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"] {
            let p = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    /// The engine binaries a suite needs, or an XCTSkip naming what is missing.
    static func require(_ names: [String]) throws -> [String: String] {
        var found: [String: String] = [:]
        var missing: [String] = []
        for n in names { if let p = which(n) { found[n] = p } else { missing.append(n) } }
        guard missing.isEmpty else {
            throw XCTSkip("container engine binaries missing: \(missing.joined(separator: ", ")) (apt-get install -y runc crun podman buildah containerd)")
        }
        return found
    }
}

/// Runs a command to completion with output in files; killed after `timeout` seconds.
///
/// posix_spawn + waitpid rather than Foundation's Process: Process learns of a child's exit when a
/// socket the child inherited reaches EOF, and `podman run -d` leaves conmon (double-forked, every
/// fd kept) holding that socket — Process then never sees podman exit. Files rather than pipes for
/// the same reason.
@discardableResult
func runCommand(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                scratch: URL, timeout: Double = 120) throws -> Outcome {
    let tag = UUID().uuidString.prefix(8)
    let out = scratch.appendingPathComponent(".out-\(tag)").path, err = scratch.appendingPathComponent(".err-\(tag)").path
    defer { unlink(out); unlink(err) }
    let start = Date()
    let pid = try spawn(executable, arguments, environment: environment, stdout: out, stderr: err)
    var status: Int32 = 0
    var killed = false
    while true {
        let r = waitpid(pid, &status, WNOHANG)
        if r == pid { break }
        if r < 0 && errno != EINTR { throw ContainerTestError("waitpid \(executable): errno \(errno)") }
        if !killed && Date().timeIntervalSince(start) > timeout { kill(pid, SIGKILL); killed = true }
        usleep(5_000)
    }
    let seconds = Date().timeIntervalSince(start)
    // WIFEXITED / WEXITSTATUS / WTERMSIG, spelled out (macros are not imported).
    let code: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    let o = String(decoding: FileManager.default.contents(atPath: out) ?? Data(), as: UTF8.self)
    var e = String(decoding: FileManager.default.contents(atPath: err) ?? Data(), as: UTF8.self)
    if killed { e += "\n[killed after \(timeout) s]" }
    return Outcome(status: code, stdout: o, stderr: e, seconds: seconds)
}

/// posix_spawn with stdin from /dev/null, stdout/stderr appended to files.
func spawn(_ executable: String, _ arguments: [String], environment: [String: String]?,
           stdout: String, stderr: String) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_APPEND, 0o644)
    posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_APPEND, 0o644)
    let env = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    let envp = env.map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, executable, &actions, nil, argv, envp)
    guard rc == 0 else { throw ContainerTestError("posix_spawn \(executable): error \(rc)") }
    return pid
}

/// A private temp directory; `cleanup` lazily unmounts anything left mounted beneath it
/// (container shm, rootfs) before deleting it, so a failed test never leaves mounts behind.
final class Scratch {
    let url: URL
    var path: String { url.path }

    init(_ prefix: String) throws {
        // Short paths: unix sockets (containerd) must fit in 108 bytes.
        var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else { throw ContainerTestError("mkdtemp failed") }
        url = URL(fileURLWithPath: String(cString: p))
    }

    func write(_ name: String, _ text: String, executable: Bool = false) throws -> String {
        let u = url.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: u.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: u, atomically: true, encoding: .utf8)
        if executable { chmod(u.path, 0o755) }
        return u.path
    }

    func dir(_ name: String) throws -> String {
        let u = url.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
        return u.path
    }

    func cleanup() {
        let mounts = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
        let points = mounts.split(separator: "\n").compactMap { line -> String? in
            let f = line.split(separator: " ")
            guard f.count > 4 else { return nil }
            let mp = String(f[4]).replacingOccurrences(of: "\\040", with: " ")
            return mp.hasPrefix(path + "/") ? mp : nil
        }
        for mp in points.sorted(by: { $0.count > $1.count }) {
            _ = try? runCommand("/bin/umount", ["-l", mp], scratch: URL(fileURLWithPath: "/tmp"), timeout: 10)
        }
        try? FileManager.default.removeItem(at: url)
    }
}

/// Test programs: Wasm modules (wat2wasm) and a static native binary (cc -static).
enum Fixtures {
    /// Prints "hello from wasm" and exits with status 3 (proc_exit).
    static let helloWat = """
    (module
      (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
      (memory (export "memory") 1)
      (data (i32.const 16) "hello from wasm\\n")
      (func (export "_start")
        (i32.store (i32.const 0) (i32.const 16))
        (i32.store (i32.const 4) (i32.const 16))
        (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
        (call $proc_exit (i32.const 3))))
    """
    static let helloOutput = "hello from wasm\n"

    /// Prints "looping" and spins forever: stopped only by a signal.
    static let loopWat = """
    (module
      (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1)
      (data (i32.const 16) "looping\\n")
      (func (export "_start")
        (i32.store (i32.const 0) (i32.const 16))
        (i32.store (i32.const 4) (i32.const 8))
        (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
        (loop (br 0))))
    """

    /// Native: prints "hello from native" and exits 4; with argument "wait", prints "waiting" and
    /// sleeps until SIGTERM (handled, so it also stops as PID 1) and then exits 0.
    static let nativeC = """
    #include <signal.h>
    #include <stdio.h>
    #include <string.h>
    #include <unistd.h>
    static void on_term(int s) { (void)s; _exit(0); }
    int main(int argc, char **argv) {
        if (argc > 1 && strcmp(argv[1], "wait") == 0) {
            signal(SIGTERM, on_term);
            puts("waiting"); fflush(stdout);
            for (;;) pause();
        }
        puts("hello from native");
        return 4;
    }
    """
    static let nativeOutput = "hello from native\n"

    static func wasm(_ wat: String, name: String, in scratch: Scratch) throws -> String {
        guard let wat2wasm = Paths.which("wat2wasm") else { throw XCTSkip("wat2wasm (wabt) is not installed") }
        let src = try scratch.write("src/\(name).wat", wat)
        let out = scratch.url.appendingPathComponent("src/\(name).wasm").path
        let r = try runCommand(wat2wasm, [src, "-o", out], scratch: scratch.url)
        guard r.status == 0 else { throw ContainerTestError("wat2wasm \(name): \(r.summary)") }
        return out
    }

    /// `wasmaot image build MODULE -o SCRATCH/NAME.tar --tag REF extra…` (the built wasmaot).
    static func wasmaotImage(_ module: String, name: String, ref: String, extra: [String] = [], in scratch: Scratch) throws -> String {
        guard let wasmaot = Paths.built("wasmaot") else { throw XCTSkip("wasmaot is not built (swift build --product wasmaot)") }
        let out = scratch.url.appendingPathComponent("\(name).tar").path
        let r = try runCommand(wasmaot, ["image", "build", module, "-o", out, "--tag", ref] + extra, scratch: scratch.url)
        guard r.status == 0 else { throw ContainerTestError("wasmaot image build: \(r.summary)") }
        return out
    }

    static func native(in scratch: Scratch) throws -> String {
        guard let cc = Paths.which("cc") else { throw XCTSkip("cc is not installed") }
        let src = try scratch.write("src/native.c", nativeC)
        let out = scratch.url.appendingPathComponent("src/native").path
        let r = try runCommand(cc, ["-static", "-O2", src, "-o", out], scratch: scratch.url)
        guard r.status == 0 else { throw ContainerTestError("cc -static: \(r.summary)") }
        return out
    }
}

/// The wrapper under test plus its settings for one suite: an oci.toml (delegate runc, cache in the
/// scratch dir) and shim scripts that export WASMAOT_OCI_CONFIG before exec'ing the wrapper.
///
/// Why shims and not the environment: podman runs the runtime through conmon with a scrubbed
/// environment (HOME, PATH, _OCI_* only) and calls `delete`/`kill` itself with nothing but
/// XDG_RUNTIME_DIR, so no variable set on podman reaches every runtime call. The shim is a
/// test-only stand-in for /etc/wasmaot/oci.toml, which the tests must not touch.
struct WrapperSetup {
    let binary: String
    let config: String
    let cacheDir: String
    /// `wasmaot-oci` behind the shim (annotation-driven).
    let runtime: String
    /// The `wasmaot-oci-wasm` symlink behind a shim (handler mode: Wasm by entrypoint magic).
    let wasmRuntime: String
    /// Every runtime call, one line each (`argv…`), appended by the shims.
    let callLog: String

    init(scratch: Scratch, delegate: String) throws {
        guard let bin = Paths.built("wasmaot-oci") else {
            throw XCTSkip("wasmaot-oci is not built (swift build --product wasmaot-oci)")
        }
        guard Paths.built("wasmaot") != nil else { throw XCTSkip("wasmaot is not built (swift build --product wasmaot)") }
        binary = bin
        cacheDir = try scratch.dir("wasmaot-cache")
        callLog = scratch.url.appendingPathComponent("runtime-calls.log").path
        let config = try scratch.write("oci.toml", """
            delegate = "\(delegate)"
            cache_dir = "\(cacheDir)"
            trust_image_artifacts = false

            """)
        self.config = config
        let callLog = self.callLog
        let binDir = try scratch.dir("bin")
        // The symlink that selects handler mode by its name (the compiler is found next to the
        // symlink's target via /proc/self/exe, so it stays the freshly built one).
        let link = binDir + "/wasmaot-oci-wasm"
        try? FileManager.default.removeItem(atPath: link)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: bin)
        func shim(_ name: String, _ target: String) throws -> String {
            try scratch.write("bin/\(name)", """
                #!/bin/sh
                export WASMAOT_OCI_CONFIG='\(config)'
                echo "$0 $*" >> '\(callLog)'
                exec '\(target)' "$@"

                """, executable: true)
        }
        runtime = try shim("wasmaot-oci-shim", bin)
        wasmRuntime = try shim("wasmaot-oci-wasm-shim", link)
    }

    var calls: String { (try? String(contentsOfFile: callLog, encoding: .utf8)) ?? "" }
}
