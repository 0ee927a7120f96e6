import Foundation
import XCTest
@testable import WasmAOTOCI

final class RewriteTests: XCTestCase {
    let sample = """
        {"ociVersion":"1.0.2","process":{"terminal":false,"user":{"uid":0,"gid":0},
         "args":["app.wasm","--flag","it's"],"env":["PATH=/usr/bin:/bin","A=b c","WASMAOT_WASI=--inherit-env"],"cwd":"/work"},
         "root":{"path":"rootfs","readonly":true},
         "mounts":[{"destination":"/proc","type":"proc","source":"proc"}],
         "annotations":{"run.oci.handler":"wasm"},
         "linux":{"seccomp":{"syscalls":[{"names":["x"],"args":[{"index":0,"value":18446744073709551615,"op":"SCMP_CMP_MASKED_EQ"}]}]},
                  "resources":{"memory":{"limit":1.5}}}}
        """

    func testRoundTripKeepsUnknownFields() throws {
        let c = try OCIConfig(bytes: Array(sample.utf8))
        let again = try OCIConfig(bytes: try c.json.serialized())
        XCTAssertEqual(c, again)
        let text = String(decoding: try c.json.serialized(), as: UTF8.self)
        XCTAssertTrue(text.contains("18446744073709551615"), text)
        XCTAssertTrue(text.contains("\"readonly\":true"), text)
        XCTAssertEqual(c.args, ["app.wasm", "--flag", "it's"])
        XCTAssertEqual(c.cwd, "/work")
        XCTAssertEqual(c.rootPath, "rootfs")
    }

    func testRewriteKeepsArgsAndAddsMountAndEnv() throws {
        let c = try OCIConfig(bytes: Array(sample.utf8))
        let r = ConfigRewrite.rewrite(c, entrypoint: "/opt/app.wasm", artifact: "/cache/ab/exe")
        XCTAssertEqual(r.args, c.args, "the guest's argv must be unchanged")
        XCTAssertEqual(r.cwd, "/work")
        XCTAssertEqual(r.mounts.count, 2)
        XCTAssertEqual(r.mounts.last, .object([
            "destination": .string("/opt/app.wasm"), "type": .string("bind"), "source": .string("/cache/ab/exe"),
            "options": .array([.string("bind"), .string("ro"), .string("nosuid"), .string("nodev")]),
        ]))
        XCTAssertEqual(r.env.filter { $0.hasPrefix("WASMAOT_WASI=") }.count, 1)
        XCTAssertEqual(r.env.last, "WASMAOT_WASI=--dir /::/ --env 'PATH=/usr/bin:/bin' --env 'A=b c'")
        XCTAssertEqual(Array(r.env.dropLast()), ["PATH=/usr/bin:/bin", "A=b c"])
        XCTAssertTrue(ConfigRewrite.isRewritten(r))
        XCTAssertFalse(ConfigRewrite.isRewritten(c))
        XCTAssertEqual(r.json["linux"], c.json["linux"])
    }

    func testQuoting() {
        XCTAssertEqual(ConfigRewrite.shellQuote("a'b"), "'a'\\''b'")
        XCTAssertEqual(ConfigRewrite.shellQuote(""), "''")
        XCTAssertEqual(ConfigRewrite.wasiConfig(env: ["X=$y \"z\"\\"]), "--dir /::/ --env 'X=$y \"z\"\\'")
    }

    func testSettingsToml() {
        var s = Settings()
        s.apply(toml: """
            # wasmaot OCI settings
            delegate = "/usr/bin/runc"   # trailing comment
            cache_dir = '/srv/cache'
            trust_image_artifacts = true
            unknown = 3
            [section]
            """)
        XCTAssertEqual(s.delegate, "/usr/bin/runc")
        XCTAssertEqual(s.cacheDir, "/srv/cache")
        XCTAssertTrue(s.trustImageArtifacts)
        XCTAssertEqual(s.tiering, .auto)
        XCTAssertNil(s.backgroundBuilds)
        s.apply(toml: """
            tiering = "optimized-only"
            background_builds = 2
            """)
        XCTAssertEqual(s.tiering, .optimizedOnly)
        XCTAssertEqual(s.tiering.tierFlag, "optimized")
        XCTAssertEqual(s.backgroundBuilds, 2)
        s.apply(toml: "tiering = \"baseline-only\"\nbackground_builds = 0")
        XCTAssertEqual(s.tiering.tierFlag, "baseline")
        XCTAssertEqual(s.backgroundBuilds, 2, "0 builds is not a setting: kept")
        XCTAssertEqual(Settings.load(environment: ["WASMAOT_OCI_CONFIG": "/nonexistent", "WASMAOT_OCI_DELEGATE": "/x"]).delegate, "/x")
        XCTAssertEqual(Settings.load(environment: ["WASMAOT_OCI_CONFIG": "/nonexistent"]).cacheDir, "/var/lib/wasmaot/cache")
    }

    func testLogLines() throws {
        let json = ErrorLog.line("bad \"x\"\n", format: "json", time: "2024-01-02T03:04:05Z")
        XCTAssertEqual(json, "{\"level\":\"error\",\"msg\":\"bad \\\"x\\\"\\n\",\"time\":\"2024-01-02T03:04:05Z\"}\n")
        let obj = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: String]
        XCTAssertEqual(obj?["msg"], "bad \"x\"\n")
        XCTAssertEqual(ErrorLog.line("m", format: nil, time: "T"), "time=\"T\" level=error msg=\"m\"\n")
    }
}

final class RootfsPathTests: XCTestCase {
    func testResolutionStaysInsideRoot() throws {
        let root = try makeDir()
        let fm = FileManager.default
        try fm.createDirectory(atPath: root + "/opt/app", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: root + "/usr/bin", withIntermediateDirectories: true)
        try Data([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]).write(to: URL(fileURLWithPath: root + "/opt/app/main.wasm"))
        try fm.createSymbolicLink(atPath: root + "/usr/bin/app", withDestinationPath: "../../opt/app/main.wasm")
        try fm.createSymbolicLink(atPath: root + "/abs", withDestinationPath: "/opt/app")
        try fm.createSymbolicLink(atPath: root + "/escape", withDestinationPath: "../../../../../etc/passwd")
        try fm.createSymbolicLink(atPath: root + "/loop", withDestinationPath: "/loop")

        XCTAssertEqual(RootfsPath.resolve("/usr/bin/app", in: root), "/opt/app/main.wasm")
        XCTAssertEqual(RootfsPath.resolve("/abs/main.wasm", in: root), "/opt/app/main.wasm")
        XCTAssertEqual(RootfsPath.resolve("/escape", in: root), "/etc/passwd", "must not leave the rootfs")
        XCTAssertEqual(RootfsPath.resolve("/../../opt/./app", in: root), "/opt/app")
        XCTAssertNil(RootfsPath.resolve("/loop", in: root))

        XCTAssertEqual(RootfsPath.entrypoint("app", cwd: "/", env: ["PATH=/bin:/usr/bin"], root: root), "/opt/app/main.wasm")
        XCTAssertEqual(RootfsPath.entrypoint("main.wasm", cwd: "/", env: ["PATH=/bin"], root: root), nil)
        XCTAssertEqual(RootfsPath.entrypoint("./main.wasm", cwd: "/abs", env: [], root: root), "/opt/app/main.wasm")
        XCTAssertNil(RootfsPath.entrypoint("/escape", cwd: "/", env: [], root: root), "host /etc/passwd must not be found")
        XCTAssertTrue(RootfsPath.hasWasmMagic(root + "/opt/app/main.wasm"))
        XCTAssertFalse(RootfsPath.hasWasmMagic(root + "/usr/bin/app"), "unresolved symlinks are not followed")
    }

    private func makeDir() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("wasmaot-oci-unit-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir.path
    }
}
