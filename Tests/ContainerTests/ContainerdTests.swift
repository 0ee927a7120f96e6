import Foundation
import XCTest

/// containerd + the runc v2 shim + ctr, with a private daemon: root, state, gRPC and ttrpc sockets
/// and runc's state (`--runc-root`) all in a temp dir, CRI disabled. The wrapper is the shim's
/// `--runc-binary`, configured through the daemon's environment (the shim and the runtime inherit
/// it — unlike under podman/conmon).
final class ContainerdTests: XCTestCase {
    var scratch: Scratch!
    var daemon: pid_t?
    var ctr = "", socket = "", runcRoot = ""
    let namespace = "wasmaot-test"
    var env: [String: String] = [:]
    var containers: [String] = []

    override func setUpWithError() throws {
        let bins = try Paths.require(["containerd", "containerd-shim-runc-v2", "ctr", "runc", "buildah"])
        guard geteuid() == 0 else { throw XCTSkip("the containerd suite runs a rootful containerd; run as root") }
        ctr = bins["ctr"]!
        scratch = try Scratch("wasmaot-ctrd")
        let wrapper = try WrapperSetup(scratch: scratch, delegate: bins["runc"]!)
        socket = scratch.path + "/containerd.sock"
        runcRoot = try scratch.dir("runc")
        let config = try scratch.write("containerd.toml", """
            version = 2
            root = "\(try scratch.dir("root"))"
            state = "\(try scratch.dir("state"))"
            disabled_plugins = ["io.containerd.grpc.v1.cri"]
            [grpc]
              address = "\(socket)"
            [ttrpc]
              address = "\(scratch.path)/containerd-ttrpc.sock"

            """)
        env = ProcessInfo.processInfo.environment
        env["WASMAOT_OCI_CONFIG"] = wrapper.config
        let log = scratch.url.appendingPathComponent("containerd.log")
        let pid = try spawn(bins["containerd"]!, ["--config", config], environment: env, stdout: log.path, stderr: log.path)
        daemon = pid
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if !Self.alive(pid) { break }
            if let v = try? ctrCall(["version"], timeout: 5), v.status == 0 { return }
            usleep(100_000)
        }
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        throw ContainerTestError("containerd did not come up on \(socket):\n\(text.suffix(3000))")
    }

    override func tearDown() {
        for c in containers {
            _ = try? ctrCall(["tasks", "kill", "--signal", "SIGKILL", c], timeout: 10)
            _ = try? ctrCall(["tasks", "delete", "--force", c], timeout: 10)
            _ = try? ctrCall(["containers", "delete", c], timeout: 10)
        }
        if let pid = daemon {
            kill(pid, SIGTERM)
            let deadline = Date().addingTimeInterval(10)
            while Self.alive(pid) && Date() < deadline { usleep(50_000) }
            if Self.alive(pid) { kill(pid, SIGKILL); var st: Int32 = 0; waitpid(pid, &st, 0) }
        }
        daemon = nil
        scratch?.cleanup()
        super.tearDown()
    }

    /// Reaps the daemon when it has exited; true while it runs.
    static func alive(_ pid: pid_t) -> Bool {
        var st: Int32 = 0
        return waitpid(pid, &st, WNOHANG) == 0
    }

    @discardableResult
    func ctrCall(_ args: [String], timeout: Double = 120) throws -> Outcome {
        try runCommand(ctr, ["--address", socket, "--namespace", namespace] + args, environment: env,
                scratch: scratch.url, timeout: timeout)
    }

    /// Builds an image with buildah (private vfs storage), exports it as an OCI archive and imports
    /// it into containerd's native snapshotter.
    func importImage(_ name: String, file: String, at dst: String, annotation: String?) throws -> String {
        let buildah = Paths.which("buildah")!
        let storage = ["--root", try scratch.dir("buildah-root"), "--runroot", try scratch.dir("buildah-runroot"), "--storage-driver", "vfs"]
        let ctx = try scratch.dir("ctx-\(name)")
        let base = URL(fileURLWithPath: file).lastPathComponent
        try FileManager.default.copyItem(atPath: file, toPath: ctx + "/" + base)
        let cf = try scratch.write("ctx-\(name)/Containerfile", "FROM scratch\nCOPY \(base) \(dst)\nCMD [\"\(dst)\"]\n")
        let ref = "localhost/wasmaot-test/\(name):latest"
        var args = storage + ["build", "--layers=false", "-f", cf, "-t", ref]
        if let annotation { args += ["--annotation", annotation] }
        var r = try runCommand(buildah, args + [ctx], scratch: scratch.url)
        guard r.status == 0 else { throw ContainerTestError("buildah build: \(r.summary)") }
        let archive = scratch.path + "/\(name).tar"
        r = try runCommand(buildah, storage + ["push", ref, "oci-archive:\(archive):\(ref)"], scratch: scratch.url)
        guard r.status == 0 else { throw ContainerTestError("buildah push: \(r.summary)") }
        r = try ctrCall(["images", "import", "--snapshotter", "native", archive])
        guard r.status == 0 else { throw ContainerTestError("ctr images import: \(r.summary)") }
        return ref
    }

    func ctrRun(_ image: String, annotation: String?) throws -> Outcome {
        let id = "wasmaot-\(UUID().uuidString.prefix(6).lowercased())"
        containers.append(id)
        var args = ["run", "--rm", "--runc-binary", Paths.built("wasmaot-oci")!, "--runc-root", runcRoot,
                    "--fifo-dir", try scratch.dir("fifo"),
                    "--snapshotter", "native"]
        if let annotation { args += ["--annotation", annotation] }
        return try ctrCall(args + [image, id])
    }

    /// Same module, same result as under podman: output and proc_exit status 3. ctr does not copy
    /// image annotations into the OCI config, so the annotation is given on the command line (CRI
    /// would copy it from the pod via `pod_annotations`).
    func testCompatImageRunsAsWasm() throws {
        let wasm = try Fixtures.wasm(Fixtures.helloWat, name: "hello", in: scratch)
        let image = try importImage("compat", file: wasm, at: "/app.wasm", annotation: "module.wasm.image/variant=compat")
        let first = try ctrRun(image, annotation: "module.wasm.image/variant=compat")
        XCTAssertEqual(first.status, 3, first.summary)
        XCTAssertEqual(first.stdout, Fixtures.helloOutput, first.summary)
        let second = try ctrRun(image, annotation: "module.wasm.image/variant=compat")
        XCTAssertEqual(second.status, 3, second.summary)
        XCTAssertEqual(second.stdout, Fixtures.helloOutput, second.summary)
        print("ctr run compat: first \(String(format: "%.2f", first.seconds)) s (compile), second \(String(format: "%.2f", second.seconds)) s (cached)")
    }

    /// An image from `wasmaot image build`: imported by `ctr images import` as it is (with
    /// prebuilt artifacts for both architectures when the cross toolchain is here: an index of
    /// linux/amd64 and linux/arm64) and run as Wasm.
    func testImageFromWasmaotImageBuild() throws {
        let wasm = try Fixtures.wasm(Fixtures.helloWat, name: "hello", in: scratch)
        let ref = "localhost/wasmaot-test/image-build:1.0"
        let twoArch = Paths.which("aarch64-linux-gnu-gcc") != nil
        let archive = try Fixtures.wasmaotImage(wasm, name: "image-build", ref: ref,
                                                extra: twoArch ? ["--prebuilt", "x86_64,aarch64"] : [], in: scratch)
        let imported = try ctrCall(["images", "import", "--snapshotter", "native", "--all-platforms", archive])
        XCTAssertEqual(imported.status, 0, imported.summary)
        let list = try ctrCall(["images", "ls"])
        let line = list.stdout.split(separator: "\n").first { $0.hasPrefix(ref) }.map(String.init) ?? ""
        XCTAssertTrue(line.contains(twoArch ? "linux/amd64,linux/arm64" : "linux/"), list.summary)
        let r = try ctrRun(ref, annotation: "module.wasm.image/variant=compat")
        XCTAssertEqual(r.status, 3, r.summary)
        XCTAssertEqual(r.stdout, Fixtures.helloOutput, r.summary)
    }

    /// A native image through the same runc binary: unchanged.
    func testNativeImagePassesThrough() throws {
        let native = try Fixtures.native(in: scratch)
        let image = try importImage("native", file: native, at: "/native", annotation: nil)
        let r = try ctrRun(image, annotation: "module.wasm.image/variant=compat-smart")
        XCTAssertEqual(r.status, 4, r.summary)
        XCTAssertEqual(r.stdout, Fixtures.nativeOutput, r.summary)
    }
}
