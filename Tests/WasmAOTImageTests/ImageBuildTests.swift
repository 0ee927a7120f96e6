import Foundation
import XCTest

/// `wasmaot image build` as a user runs it: the image layout it writes (read back with tar and a
/// JSON parser, and with skopeo when installed), reproducibility, the two-architecture index with
/// prebuilt artifacts, and bad input. podman/containerd loading these images: ContainerTests.
final class ImageBuildTests: XCTestCase {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("wasmaot-image-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(at: dir)
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func wasmaot() throws -> String {
        for config in ["debug", "release"] {
            let p = packageRoot.appendingPathComponent(".build/\(config)/wasmaot").path
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        throw XCTSkip("wasmaot is not built (swift build)")
    }

    static func which(_ name: String) -> String? {
        ["/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin"].map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    @discardableResult
    func run(_ exe: String, _ args: [String], cwd: URL? = nil, env: [String: String] = [:]) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        if let cwd { p.currentDirectoryURL = cwd }
        p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
        let out = dir.appendingPathComponent(".out-\(UUID().uuidString)"), err = dir.appendingPathComponent(".err-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: out); try? FileManager.default.removeItem(at: err) }
        p.standardOutput = try FileHandle(forWritingTo: out)
        p.standardError = try FileHandle(forWritingTo: err)
        p.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        try p.run()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: String(decoding: try Data(contentsOf: out), as: UTF8.self),
                      stderr: String(decoding: try Data(contentsOf: err), as: UTF8.self))
    }

    func build(_ args: [String], cwd: URL? = nil, env: [String: String] = [:]) throws -> Result {
        let r = try run(try Self.wasmaot(), ["image", "build"] + args, cwd: cwd, env: env)
        XCTAssertEqual(r.status, 0, "wasmaot image build \(args): \(r.stderr)")
        return r
    }

    /// A WASI command that prints its arguments (wat2wasm), or a minimal module without it.
    func module(named name: String = "app.wasm") throws -> URL {
        let url = dir.appendingPathComponent(name)
        guard let wat2wasm = Self.which("wat2wasm") else {
            try Data([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]).write(to: url)
            return url
        }
        let wat = dir.appendingPathComponent("\(name).wat")
        try """
        (module
          (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 1)
          (data (i32.const 16) "hello from an image\\n")
          (func (export "_start")
            (i32.store (i32.const 0) (i32.const 16))
            (i32.store (i32.const 4) (i32.const 20))
            (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
        """.write(to: wat, atomically: true, encoding: .utf8)
        let r = try run(wat2wasm, [wat.path, "-o", url.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        return url
    }

    // MARK: reading a layout back

    struct Layout {
        let root: URL
        func json(_ relative: String) throws -> [String: Any] {
            let data = try Data(contentsOf: root.appendingPathComponent(relative))
            return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        }
        func blob(_ digest: String) throws -> [String: Any] {
            try json("blobs/sha256/" + digest.dropFirst("sha256:".count))
        }
        func blobPath(_ digest: String) -> String { root.appendingPathComponent("blobs/sha256/" + digest.dropFirst(7)).path }
        /// index.json's single entry.
        func top() throws -> [String: Any] {
            let index = try json("index.json")
            let manifests = try XCTUnwrap(index["manifests"] as? [[String: Any]])
            XCTAssertEqual(manifests.count, 1)
            return manifests[0]
        }
    }

    func extract(_ archive: URL) throws -> Layout {
        let out = dir.appendingPathComponent("x-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let r = try run("/bin/tar", ["-xf", archive.path, "-C", out.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        return Layout(root: out)
    }

    /// `tar -tzvf` of a layer: "mode owner size date time name" per entry.
    func listing(_ layerPath: String) throws -> [String] {
        let r = try run("/bin/tar", ["--numeric-owner", "--utc", "-tzvf", layerPath])
        XCTAssertEqual(r.status, 0, r.stderr)
        return r.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
    }

    static var hostOCIArch: String {
        #if arch(x86_64)
        "amd64"
        #else
        "arm64"
        #endif
    }

    // MARK: tests

    func testArchiveLayoutConfigAndReproducibility() throws {
        let wasm = try module()
        let a = dir.appendingPathComponent("a.tar")
        let r = try build([wasm.path, "-o", a.path, "--tag", "localhost/demo:1.0", "--variant", "compat-smart", "--env", "MODE=prod",
                           "--workdir", "/data", "--label", "team=x", "--arg=--port", "--", "8080"])
        XCTAssertTrue(r.stdout.contains("localhost/demo:1.0"), r.stdout)
        // The same module from another directory and name: byte-identical archive.
        let other = dir.appendingPathComponent("sub")
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: wasm, to: other.appendingPathComponent("renamed.wasm"))
        _ = try build(["renamed.wasm", "-o", "../b.tar", "--tag", "localhost/demo:1.0", "--variant", "compat-smart", "--env", "MODE=prod",
                       "--workdir", "/data", "--label", "team=x", "--arg=--port", "--", "8080"], cwd: other)
        XCTAssertEqual(try Data(contentsOf: a), try Data(contentsOf: dir.appendingPathComponent("b.tar")), "two builds differ")

        let layout = try extract(a)
        XCTAssertEqual(try layout.json("oci-layout")["imageLayoutVersion"] as? String, "1.0.0")
        let top = try layout.top()
        XCTAssertEqual(top["mediaType"] as? String, "application/vnd.oci.image.manifest.v1+json")
        XCTAssertEqual((top["annotations"] as? [String: String])?["org.opencontainers.image.ref.name"], "localhost/demo:1.0")
        XCTAssertEqual(top["platform"] as? [String: String], ["os": "linux", "architecture": Self.hostOCIArch])
        let manifest = try layout.blob(try XCTUnwrap(top["digest"] as? String))
        XCTAssertEqual(manifest["annotations"] as? [String: String], ["module.wasm.image/variant": "compat-smart"])
        let configDigest = try XCTUnwrap((manifest["config"] as? [String: Any])?["digest"] as? String)
        let config = try layout.blob(configDigest)
        XCTAssertEqual(config["os"] as? String, "linux")
        XCTAssertEqual(config["architecture"] as? String, Self.hostOCIArch)
        XCTAssertEqual(config["created"] as? String, "1970-01-01T00:00:00Z")
        let runConfig = try XCTUnwrap(config["config"] as? [String: Any])
        XCTAssertEqual(runConfig["Entrypoint"] as? [String], ["/app.wasm"])
        XCTAssertEqual(runConfig["Cmd"] as? [String], ["--port", "8080"])
        XCTAssertEqual(runConfig["Env"] as? [String], ["MODE=prod"])
        XCTAssertEqual(runConfig["WorkingDir"] as? String, "/data")
        XCTAssertEqual(runConfig["Labels"] as? [String: String], ["module.wasm.image/variant": "compat-smart", "team": "x"])
        // One layer: the module, root-owned, epoch time, mode 0755; its diff ID is the tar's digest.
        let layers = try XCTUnwrap(manifest["layers"] as? [[String: Any]])
        XCTAssertEqual(layers.count, 1)
        XCTAssertEqual(layers[0]["mediaType"] as? String, "application/vnd.oci.image.layer.v1.tar+gzip")
        let layerPath = layout.blobPath(try XCTUnwrap(layers[0]["digest"] as? String))
        XCTAssertEqual(try listing(layerPath), ["-rwxr-xr-x 0/0 \(try Data(contentsOf: wasm).count) 1970-01-01 00:00 app.wasm"])
        let gunzip = try run("/bin/sh", ["-c", "gzip -dc '\(layerPath)' | sha256sum"])
        let diffIDs = (config["rootfs"] as? [String: Any])?["diff_ids"] as? [String]
        XCTAssertEqual(diffIDs, ["sha256:" + gunzip.stdout.prefix(64)])
        XCTAssertEqual(Array(try Data(contentsOf: URL(fileURLWithPath: layerPath)).prefix(2)), [0x1f, 0x8b], "gzip")

        // SOURCE_DATE_EPOCH moves every time stamp, and so the digest.
        let c = dir.appendingPathComponent("c.tar")
        _ = try build([wasm.path, "-o", c.path, "--tag", "localhost/demo:1.0"], env: ["SOURCE_DATE_EPOCH": "86400"])
        let later = try extract(c)
        let laterConfig = try later.blob(try XCTUnwrap((try later.blob(try XCTUnwrap(try later.top()["digest"] as? String))["config"]
            as? [String: Any])?["digest"] as? String))
        XCTAssertEqual(laterConfig["created"] as? String, "1970-01-02T00:00:00Z")
    }

    func testAddedFilesAndWasiPlatformLayoutDirectory() throws {
        let wasm = try module()
        let data = dir.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try "x".write(to: data.appendingPathComponent("sub/a.txt"), atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: data.appendingPathComponent("link").path, withDestinationPath: "sub/a.txt")
        let out = dir.appendingPathComponent("layout")
        _ = try build([wasm.path, "-o", out.path, "--format", "oci-dir", "--platform", "wasi", "--add", "\(data.path):/srv/data"])
        let layout = Layout(root: out)
        let top = try layout.top()
        XCTAssertEqual(top["platform"] as? [String: String], ["os": "wasi", "architecture": "wasm"])
        let manifest = try layout.blob(try XCTUnwrap(top["digest"] as? String))
        let layer = try XCTUnwrap((manifest["layers"] as? [[String: Any]])?.first?["digest"] as? String)
        let names = try listing(layout.blobPath(layer)).map { line -> String in
            let entry = line.components(separatedBy: " -> ")[0]
            return entry.split(separator: " ").last.map(String.init) ?? ""
        }
        XCTAssertEqual(names, ["app.wasm", "srv/", "srv/data/", "srv/data/link", "srv/data/sub/", "srv/data/sub/a.txt"])
        XCTAssertTrue(try listing(layout.blobPath(layer)).contains { $0.hasPrefix("lrwxrwxrwx 0/0") && $0.hasSuffix("srv/data/link -> sub/a.txt") })
        // A second build replaces the layout; something that is not a layout is never replaced.
        _ = try build([wasm.path, "-o", out.path, "--format", "oci-dir", "--platform", "wasi"])
        XCTAssertNotEqual(try layout.top()["digest"] as? String, top["digest"] as? String)
        let precious = dir.appendingPathComponent("precious")
        try FileManager.default.createDirectory(at: precious, withIntermediateDirectories: true)
        try "keep".write(to: precious.appendingPathComponent("f"), atomically: true, encoding: .utf8)
        let refused = try run(try Self.wasmaot(), ["image", "build", wasm.path, "-o", precious.path, "--format", "oci-dir"])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("is not an OCI image layout"), refused.stderr)
        XCTAssertEqual(try String(contentsOf: precious.appendingPathComponent("f"), encoding: .utf8), "keep")
    }

    /// `--prebuilt x86_64,aarch64`: an index of linux/amd64 and linux/arm64; each image has the
    /// shared module layer and its own architecture's artifact + a manifest naming only it.
    func testTwoArchitectureIndexWithPrebuiltArtifacts() throws {
        guard Self.which("aarch64-linux-gnu-gcc") != nil else { throw XCTSkip("aarch64 cross gcc missing (.ci/setup installs it)") }
        guard Self.which("wat2wasm") != nil else { throw XCTSkip("wat2wasm missing") }
        let wasm = try module()
        let a = dir.appendingPathComponent("multi.tar"), b = dir.appendingPathComponent("multi2.tar")
        let r = try build([wasm.path, "-o", a.path, "--prebuilt", "x86_64,aarch64", "-O1"])
        XCTAssertTrue(r.stdout.contains("linux/amd64") && r.stdout.contains("linux/arm64"), r.stdout)
        _ = try build([wasm.path, "-o", b.path, "--prebuilt", "x86_64,aarch64", "-O1"])
        XCTAssertEqual(try Data(contentsOf: a), try Data(contentsOf: b), "prebuilt images differ between two builds")
        let layout = try extract(a)
        let top = try layout.top()
        XCTAssertEqual(top["mediaType"] as? String, "application/vnd.oci.image.index.v1+json")
        let index = try layout.blob(try XCTUnwrap(top["digest"] as? String))
        let entries = try XCTUnwrap(index["manifests"] as? [[String: Any]])
        XCTAssertEqual(entries.map { $0["platform"] as? [String: String] }, [["os": "linux", "architecture": "amd64"],
                                                                            ["os": "linux", "architecture": "arm64"]])
        var moduleLayers = Set<String>()
        for (entry, arch) in zip(entries, ["x86_64", "aarch64"]) {
            let manifest = try layout.blob(try XCTUnwrap(entry["digest"] as? String))
            let layers = try XCTUnwrap(manifest["layers"] as? [[String: Any]]).compactMap { $0["digest"] as? String }
            XCTAssertEqual(layers.count, 2)
            moduleLayers.insert(layers[0])
            let names = try listing(layout.blobPath(layers[1])).compactMap { $0.split(separator: " ").last.map(String.init) }
            XCTAssertEqual(names, ["app.wasm.wasmaot/", "app.wasm.wasmaot/\(arch)", "app.wasm.wasmaot/manifest.json"].sorted())
            let x = dir.appendingPathComponent("art-\(arch)")
            try FileManager.default.createDirectory(at: x, withIntermediateDirectories: true)
            XCTAssertEqual(try run("/bin/tar", ["-xzf", layout.blobPath(layers[1]), "-C", x.path]).status, 0)
            let m = try JSONSerialization.jsonObject(with: Data(contentsOf: x.appendingPathComponent("app.wasm.wasmaot/manifest.json")))
            XCTAssertEqual(((m as? [String: Any])?["artifacts"] as? [String: Any]).map { Array($0.keys) }, [arch])
            let file = try run("/usr/bin/file", [x.appendingPathComponent("app.wasm.wasmaot/\(arch)").path]).stdout
            XCTAssertTrue(file.contains(arch == "x86_64" ? "x86-64" : "aarch64"), file)
        }
        XCTAssertEqual(moduleLayers.count, 1, "the module layer is shared by both images")
        // The host's artifact runs.
        let x = dir.appendingPathComponent("art-\(ImageBuildTests.hostOCIArch == "amd64" ? "x86_64" : "aarch64")")
        let ran = try run(x.appendingPathComponent("app.wasm.wasmaot/\(ImageBuildTests.hostOCIArch == "amd64" ? "x86_64" : "aarch64")").path, [])
        XCTAssertEqual(ran.stdout, "hello from an image\n")
    }

    func testSkopeoReadsIt() throws {
        guard let skopeo = Self.which("skopeo") else { throw XCTSkip("skopeo missing (.ci/setup installs it)") }
        let wasm = try module()
        let a = dir.appendingPathComponent("s.tar")
        _ = try build([wasm.path, "-o", a.path, "--tag", "localhost/skopeo-check:2"])
        let r = try run(skopeo, ["inspect", "oci-archive:\(a.path)"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let info = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(info["Architecture"] as? String, Self.hostOCIArch)
        XCTAssertEqual(info["Os"] as? String, "linux")
        XCTAssertEqual((info["Labels"] as? [String: String])?["module.wasm.image/variant"], "compat")
        let raw = try run(skopeo, ["inspect", "--raw", "oci-archive:\(a.path)"])
        let manifest = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(raw.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(manifest["annotations"] as? [String: String], ["module.wasm.image/variant": "compat"])
    }

    /// Bad input: exit 1, a message naming the problem, and nothing written or left behind.
    func testBadInputWritesNothing() throws {
        let text = dir.appendingPathComponent("notwasm.txt")
        try "hello world\n".write(to: text, atomically: true, encoding: .utf8)
        let wasm = try module()
        let cases: [([String], String)] = [
            ([text.path, "-o", dir.appendingPathComponent("o1.tar").path], "notwasm.txt"),
            ([dir.appendingPathComponent("missing.wasm").path, "-o", dir.appendingPathComponent("o2.tar").path], "missing.wasm"),
            ([wasm.path, "-o", dir.appendingPathComponent("nodir/o3.tar").path], "nodir"),
            ([wasm.path, "-o", dir.appendingPathComponent("o4.tar").path, "--add", "\(dir.path)/absent:/x"], "absent"),
            ([wasm.path, "-o", dir.appendingPathComponent("o5.tar").path, "--prebuilt", "sparc"], "sparc"),
        ]
        let before = Set(try FileManager.default.contentsOfDirectory(atPath: dir.path))
        for (args, needle) in cases {
            let r = try run(try Self.wasmaot(), ["image", "build"] + args)
            XCTAssertNotEqual(r.status, 0, "\(args)")
            XCTAssertTrue(r.stderr.contains(needle), "\(args): \(r.stderr)")
            XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: dir.path)), before, "\(args) left files behind")
        }
    }
}
