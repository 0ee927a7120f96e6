import Foundation
import XCTest

/// podman (+ conmon) and buildah, rootful, with every bit of state in one temp dir: private
/// storage (--root/--runroot, vfs), libpod tmpdir, file events. Images are built once per suite.
final class PodmanTests: XCTestCase {
    /// Shared by the suite: storage, images and the wrapper set-up. Built on first use; the class
    /// tearDown removes containers, pods and images and deletes the directory.
    final class Env {
        let scratch: Scratch
        let podman: String, buildah: String, runc: String
        let wrapper: WrapperSetup
        let storage: [String]
        let engineEnv: [String: String]

        init() throws {
            let bins = try Paths.require(["podman", "buildah", "conmon", "runc"])
            guard geteuid() == 0 else { throw XCTSkip("the podman suite runs rootful podman; run as root") }
            podman = bins["podman"]!; buildah = bins["buildah"]!; runc = bins["runc"]!
            scratch = try Scratch("wasmaot-podman")
            do {
                wrapper = try WrapperSetup(scratch: scratch, delegate: runc)
                storage = ["--root", try scratch.dir("storage"), "--runroot", try scratch.dir("runroot"),
                           "--storage-driver", "vfs"]
                // No registry look-ups, no host containers.conf surprises.
                let registries = try scratch.write("registries.conf", "unqualified-search-registries = []\n")
                // default_ulimits: the hard limits podman asks for by default (from its own rlimits) are
                // above what runc may set here ("error setting rlimit type 7: operation not
                // permitted"), and a pod's infra container takes no --ulimit flags.
                let conf = try scratch.write("containers.conf", """
                    [containers]
                    default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
                    [engine]
                    events_logger = "file"
                    cgroup_manager = "cgroupfs"

                    """)
                var env = ProcessInfo.processInfo.environment
                env["CONTAINERS_REGISTRIES_CONF"] = registries
                env["CONTAINERS_CONF"] = conf
                engineEnv = env
            } catch { scratch.cleanup(); throw error }
        }

        /// `podman <global flags> args…` with the given runtime (default: the wrapper).
        func podman(_ args: [String], runtime: String? = nil, runtimeFlags: [String] = [], timeout: Double = 120) throws -> Outcome {
            let global = storage + ["--tmpdir", try scratch.dir("libpod-tmp"), "--cgroup-manager", "cgroupfs",
                                    "--events-backend", "file", "--runtime", runtime ?? wrapper.runtime]
                + runtimeFlags.flatMap { ["--runtime-flag", $0] }
            return try runCommand(podman, global + args, environment: engineEnv, scratch: scratch.url, timeout: timeout)
        }

        /// The `podman run` flags that work on this machine (runc cannot raise rlimits above the
        /// host's hard limits here; no CNI/netavark networking).
        static let runFlags = ["--network", "none", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]

        /// Builds `localhost/wasmaot-test/<name>` FROM scratch with `files` (context name → image
        /// path) and CMD `cmd`, with an optional image annotation. Cached per name.
        private var built: Set<String> = []
        func image(_ name: String, files: [(String, String)], cmd: [String], annotation: String? = nil) throws -> String {
            let ref = "localhost/wasmaot-test/\(name):latest"
            if built.contains(name) { return ref }
            let ctx = try scratch.dir("ctx-\(name)")
            var lines = ["FROM scratch"]
            for (src, dst) in files {
                let base = URL(fileURLWithPath: src).lastPathComponent
                try? FileManager.default.removeItem(atPath: ctx + "/" + base)
                try FileManager.default.copyItem(atPath: src, toPath: ctx + "/" + base)
                lines.append("COPY \(base) \(dst)")
            }
            let cmdJSON = "[" + cmd.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
            lines.append("CMD \(cmdJSON)")
            let file = try scratch.write("ctx-\(name)/Containerfile", lines.joined(separator: "\n") + "\n")
            var args = storage + ["build", "--layers=false", "-f", file, "-t", ref]
            if let annotation { args += ["--annotation", annotation] }
            let r = try runCommand(buildah, args + [ctx], environment: engineEnv, scratch: scratch.url)
            guard r.status == 0 else { throw ContainerTestError("buildah build \(name): \(r.summary)") }
            built.insert(name)
            return ref
        }

        func helloWasm() throws -> String { try Fixtures.wasm(Fixtures.helloWat, name: "hello", in: scratch) }
        func loopWasm() throws -> String { try Fixtures.wasm(Fixtures.loopWat, name: "loop", in: scratch) }
        func native() throws -> String {
            let p = scratch.url.appendingPathComponent("src/native").path
            return FileManager.default.isExecutableFile(atPath: p) ? p : try Fixtures.native(in: scratch)
        }

        func teardown() {
            _ = try? podman(["rm", "--all", "--force", "--time", "0"], timeout: 60)
            _ = try? podman(["pod", "rm", "--all", "--force", "--time", "0"], timeout: 60)
            _ = try? podman(["rmi", "--all", "--force"], timeout: 60)
            scratch.cleanup()
        }
    }

    nonisolated(unsafe) static var shared: Result<Env, Error>?

    static func env() throws -> Env {
        if shared == nil { shared = Result { try Env() } }
        return try shared!.get()
    }

    override class func tearDown() {
        if case .success(let e)? = shared { e.teardown() }
        shared = nil
        super.tearDown()
    }

    private func name(_ s: String) -> String { "wasmaot-\(s)-\(UUID().uuidString.prefix(6).lowercased())" }

    // MARK: - Tests

    /// The headline: a compat-annotated image (annotation set by buildah on the image, copied into
    /// config.json by podman 4.3) runs as Wasm: the guest's output and proc_exit status.
    func testCompatImageRunsAsWasm() throws {
        let e = try Self.env()
        let image = try e.image("compat", files: [(try e.helloWasm(), "/app.wasm")], cmd: ["/app.wasm"],
                                annotation: "module.wasm.image/variant=compat")
        let first = try e.podman(["run", "--rm"] + Env.runFlags + [image])
        XCTAssertEqual(first.status, 3, first.summary)
        XCTAssertEqual(first.stdout, Fixtures.helloOutput, first.summary)
        // The first start compiled the baseline tier; the optimized one is built in the background
        // (tiering = "auto"), and the next start uses it: report both timings.
        let wasmaot = try XCTUnwrap(Paths.built("wasmaot"))
        let wait = try runCommand(wasmaot, ["cache", "wait", "--timeout", "300", "--cache-dir", e.wrapper.cacheDir], scratch: e.scratch.url)
        XCTAssertEqual(wait.status, 0, wait.summary)
        let second = try e.podman(["run", "--rm"] + Env.runFlags + [image])
        XCTAssertEqual(second.status, 3, second.summary)
        XCTAssertEqual(second.stdout, Fixtures.helloOutput, second.summary)
        print("podman run compat: first \(String(format: "%.2f", first.seconds)) s (baseline compile), second \(String(format: "%.2f", second.seconds)) s (optimized, cached)")
        let list = try runCommand(wasmaot, ["cache", "list", "--cache-dir", e.wrapper.cacheDir], scratch: e.scratch.url)
        // One line per entry; the tier column ("baseline" also starts the options column).
        let lines = list.stdout.split(separator: "\n")
        XCTAssertEqual(lines.filter { $0.contains("  baseline ") }.count, 1, list.summary)
        XCTAssertEqual(lines.filter { $0.contains("  optimized (O2) ") }.count, 1, list.summary)
        XCTAssertTrue(list.stdout.contains("2 entries"), list.summary)
    }

    /// A native static binary image goes through the same runtime untouched.
    func testNativeStaticImagePassesThrough() throws {
        let e = try Self.env()
        let image = try e.image("native", files: [(try e.native(), "/native")], cmd: ["/native"])
        let r = try e.podman(["run", "--rm"] + Env.runFlags + [image])
        XCTAssertEqual(r.status, 4, r.summary)
        XCTAssertEqual(r.stdout, Fixtures.nativeOutput, r.summary)
    }

    /// compat-smart: Wasm exactly when the entrypoint starts with "\0asm" — the file name is
    /// irrelevant (no .wasm suffix here), and a native entrypoint stays native.
    func testCompatSmartDecidesByEntrypointMagic() throws {
        let e = try Self.env()
        let wasm = try e.image("smart-wasm", files: [(try e.helloWasm(), "/bin/app")], cmd: ["/bin/app"],
                               annotation: "module.wasm.image/variant=compat-smart")
        let native = try e.image("smart-native", files: [(try e.native(), "/bin/app")], cmd: ["/bin/app"],
                                 annotation: "module.wasm.image/variant=compat-smart")
        let w = try e.podman(["run", "--rm"] + Env.runFlags + [wasm])
        XCTAssertEqual(w.status, 3, w.summary)
        XCTAssertEqual(w.stdout, Fixtures.helloOutput, w.summary)
        let n = try e.podman(["run", "--rm"] + Env.runFlags + [native])
        XCTAssertEqual(n.status, 4, n.summary)
        XCTAssertEqual(n.stdout, Fixtures.nativeOutput, n.summary)
    }

    /// A pod (infra container + native sidecar + Wasm container), every container annotated
    /// compat-smart as Kubernetes would copy a pod annotation: the infra (pause) container and the
    /// sidecar stay native, the Wasm one runs as Wasm, all through the wrapper.
    func testPodWithNativeSidecarAndWasmContainer() throws {
        let e = try Self.env()
        let wasm = try e.image("plain-wasm", files: [(try e.helloWasm(), "/app.wasm")], cmd: ["/app.wasm"])
        let native = try e.image("native", files: [(try e.native(), "/native")], cmd: ["/native"])
        let pod = name("pod")
        let smart = ["--annotation", "module.wasm.image/variant=compat-smart"]
        var created = try e.podman(["pod", "create", "--name", pod, "--network", "none"])
        var infra = true
        if created.status != 0 {
            // No pause image / catatonit available: a pod without an infra container is still a pod.
            print("podman pod create with infra failed (\(created.stderr.trimmingCharacters(in: .whitespacesAndNewlines))); retrying --infra=false")
            created = try e.podman(["pod", "create", "--name", pod, "--infra=false"])
            infra = false
        }
        XCTAssertEqual(created.status, 0, created.summary)
        defer { _ = try? e.podman(["pod", "rm", "--force", "--time", "0", pod]) }

        let sidecar = name("sidecar")
        let s = try e.podman(["run", "-d", "--name", sidecar, "--pod", pod] + smart + Env.runFlags + [native, "/native", "wait"])
        XCTAssertEqual(s.status, 0, s.summary)
        let w = try e.podman(["run", "--rm", "--pod", pod] + smart + Env.runFlags + [wasm])
        XCTAssertEqual(w.status, 3, w.summary)
        XCTAssertEqual(w.stdout, Fixtures.helloOutput, w.summary)

        let state = try e.podman(["inspect", "--format", "{{.State.Running}}", sidecar])
        XCTAssertEqual(state.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "true", "sidecar still running: \(state.summary)")
        let logs = try e.podman(["logs", sidecar])
        XCTAssertEqual(logs.stdout, "waiting\n", logs.summary)
        if infra {
            let ps = try e.podman(["pod", "inspect", "--format", "{{.State}}", pod])
            XCTAssertEqual(ps.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "Running", ps.summary)
        }
        let stop = try e.podman(["pod", "stop", "--time", "10", pod])
        XCTAssertEqual(stop.status, 0, stop.summary)
        XCTAssertLessThan(stop.seconds, 5, "native sidecar handles SIGTERM: \(stop.summary)")
    }

    /// An image from `wasmaot image build` (no buildah): `podman load` names it from the archive
    /// and runs it as Wasm through the manifest annotation; `podman run oci-archive:` too.
    func testImageFromWasmaotImageBuild() throws {
        let e = try Self.env()
        let ref = "localhost/wasmaot-test/image-build:1.0"
        let archive = try Fixtures.wasmaotImage(try e.helloWasm(), name: "image-build", ref: ref, in: e.scratch)
        let load = try e.podman(["load", "-i", archive])
        XCTAssertEqual(load.status, 0, load.summary)
        XCTAssertTrue(load.stdout.contains(ref), load.summary)
        let r = try e.podman(["run", "--rm"] + Env.runFlags + [ref])
        XCTAssertEqual(r.status, 3, r.summary)
        XCTAssertEqual(r.stdout, Fixtures.helloOutput, r.summary)
        let direct = try e.podman(["run", "--rm"] + Env.runFlags + ["oci-archive:\(archive)"])
        XCTAssertEqual(direct.status, 3, direct.summary)
        XCTAssertEqual(direct.stdout, Fixtures.helloOutput, direct.summary)
    }

    /// Handler mode by name: with podman's runtime being the `wasmaot-oci-wasm` symlink, an image
    /// with no annotation at all runs as Wasm, and a native image still runs natively. The same
    /// unannotated Wasm image through plain `wasmaot-oci` is not treated as Wasm (runc cannot exec
    /// a .wasm file), which shows the name is what made the difference.
    func testWasmSymlinkRunsUnannotatedWasm() throws {
        let e = try Self.env()
        let wasm = try e.image("plain-wasm", files: [(try e.helloWasm(), "/app.wasm")], cmd: ["/app.wasm"])
        let native = try e.image("native", files: [(try e.native(), "/native")], cmd: ["/native"])
        let w = try e.podman(["run", "--rm"] + Env.runFlags + [wasm], runtime: e.wrapper.wasmRuntime)
        XCTAssertEqual(w.status, 3, w.summary)
        XCTAssertEqual(w.stdout, Fixtures.helloOutput, w.summary)
        XCTAssertTrue(e.wrapper.calls.contains("wasmaot-oci-wasm-shim create"), e.wrapper.calls)
        let n = try e.podman(["run", "--rm"] + Env.runFlags + [native], runtime: e.wrapper.wasmRuntime)
        XCTAssertEqual(n.status, 4, n.summary)
        XCTAssertEqual(n.stdout, Fixtures.nativeOutput, n.summary)
        let plain = try e.podman(["run", "--rm"] + Env.runFlags + [wasm])
        XCTAssertNotEqual(plain.status, 3, "no annotation, no handler mode: must not run as Wasm\n\(plain.summary)")
        XCTAssertFalse(plain.stdout.contains("hello from wasm"), plain.summary)
        // The same handler mode per run: podman passes `--runtime-flag handler=wasm` as a global
        // `--handler=wasm` to every runtime call, and the wrapper strips it before runc sees it.
        let flag = try e.podman(["run", "--rm"] + Env.runFlags + [wasm], runtimeFlags: ["handler=wasm"])
        XCTAssertEqual(flag.status, 3, flag.summary)
        XCTAssertEqual(flag.stdout, Fixtures.helloOutput, flag.summary)
    }

    /// `podman stop` sends SIGTERM; the compiled module, PID 1 in its container, exits on it
    /// (128+15) instead of ignoring it until the SIGKILL after the timeout.
    func testStopLoopingWasmContainer() throws {
        let e = try Self.env()
        let image = try e.image("loop", files: [(try e.loopWasm(), "/loop.wasm")], cmd: ["/loop.wasm"],
                                annotation: "module.wasm.image/variant=compat")
        let c = name("loop")
        let started = try e.podman(["run", "-d", "--name", c] + Env.runFlags + [image])
        XCTAssertEqual(started.status, 0, started.summary)
        defer { _ = try? e.podman(["rm", "--force", "--time", "0", c]) }
        // Wait until the guest is actually looping (it prints first).
        let deadline = Date().addingTimeInterval(30)
        var logs = ""
        while Date() < deadline {
            logs = (try? e.podman(["logs", c]).stdout) ?? ""
            if logs.contains("looping") { break }
            usleep(100_000)
        }
        XCTAssertEqual(logs, "looping\n")
        let stop = try e.podman(["stop", "--time", "10", c], timeout: 30)
        print("podman stop -t 10 of a looping Wasm container: \(String(format: "%.2f", stop.seconds)) s")
        XCTAssertEqual(stop.status, 0, stop.summary)
        XCTAssertLessThan(stop.seconds, 5, "SIGTERM must stop the module, not the 10 s SIGKILL fallback: \(stop.summary)")
        let code = try e.podman(["inspect", "--format", "{{.State.ExitCode}}", c])
        XCTAssertEqual(code.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "143", code.summary)
    }
}
