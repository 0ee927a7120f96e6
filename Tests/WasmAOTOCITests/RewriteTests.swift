import Foundation
import XCTest
import CWasmAOTOCI

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

    func json(_ d: Data) throws -> NSDictionary { try JSONSerialization.jsonObject(with: d) as! NSDictionary }

    func testRoundTripKeepsUnknownFields() throws {
        let c = try OCIConfig(bytes: Array(sample.utf8))
        let out = c.serialized()
        XCTAssertEqual(try json(out), try json(Data(sample.utf8)))
        XCTAssertEqual(try OCIConfig(bytes: Array(out)).serialized(), out, "a second round trip is the identity")
        let text = String(decoding: out, as: UTF8.self)
        XCTAssertTrue(text.contains("18446744073709551615"), text)
        XCTAssertTrue(text.contains("\"limit\":1.5"), "numbers keep their text: \(text)")
        XCTAssertTrue(text.contains("\"readonly\":true"), text)
        XCTAssertTrue(text.hasPrefix("{\"ociVersion\""), "key order kept: \(text)")
        XCTAssertEqual(c.args, ["app.wasm", "--flag", "it's"])
        XCTAssertEqual(c.cwd, "/work")
        XCTAssertEqual(c.rootPath, "rootfs")
        XCTAssertThrowsError(try OCIConfig(bytes: Array("{\"process\": ".utf8)))
        XCTAssertThrowsError(try OCIConfig(bytes: Array("[1]".utf8)))
    }

    func testRewriteKeepsArgsAndAddsMountAndEnv() throws {
        let c = try OCIConfig(bytes: Array(sample.utf8))
        let out = c.rewrite(entrypoint: "/opt/app.wasm", artifact: "/cache/ab/exe")
        let r = try OCIConfig(bytes: Array(out))
        XCTAssertEqual(r.args, c.args, "the guest's argv must be unchanged")
        XCTAssertEqual(r.cwd, "/work")
        let doc = try json(out), before = try json(Data(sample.utf8))
        let mounts = doc["mounts"] as! [NSDictionary]
        XCTAssertEqual(mounts.count, 2)
        XCTAssertEqual(mounts.last, [
            "destination": "/opt/app.wasm", "type": "bind", "source": "/cache/ab/exe",
            "options": ["bind", "ro", "nosuid", "nodev"],
        ] as NSDictionary)
        XCTAssertEqual(r.env.filter { $0.hasPrefix("WASMAOT_WASI=") }.count, 1)
        XCTAssertEqual(r.env.last, "WASMAOT_WASI=--dir /::/ --env PATH=/usr/bin:/bin --env 'A=b c'")
        XCTAssertEqual(Array(r.env.dropLast()), ["PATH=/usr/bin:/bin", "A=b c"])
        XCTAssertTrue(r.isRewritten)
        XCTAssertFalse(c.isRewritten)
        XCTAssertEqual(r.annotations, ["run.oci.handler": "wasm", ConfigRewrite.markerAnnotation: "/cache/ab/exe"])
        XCTAssertEqual(doc["linux"] as? NSDictionary, before["linux"] as? NSDictionary)
        XCTAssertEqual(doc["root"] as? NSDictionary, before["root"] as? NSDictionary)
        XCTAssertTrue(String(decoding: out, as: UTF8.self).contains("18446744073709551615"))

        // A config without mounts, annotations or process.env gets them.
        let bare = try OCIConfig(bytes: Array(#"{"ociVersion":"1.0.2","process":{"args":["/a.wasm"]}}"#.utf8))
        let b = try json(bare.rewrite(entrypoint: "/a.wasm", artifact: "/c/exe"))
        XCTAssertEqual((b["mounts"] as! [NSDictionary]).count, 1)
        XCTAssertEqual((b["process"] as! NSDictionary)["env"] as? [String], ["WASMAOT_WASI=--dir /::/"])
        XCTAssertEqual((b["annotations"] as! NSDictionary)[ConfigRewrite.markerAnnotation] as? String, "/c/exe")
        XCTAssertEqual((b["process"] as! NSDictionary)["args"] as? [String], ["/a.wasm"])
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
        XCTAssertNil(s.error)
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
        XCTAssertTrue(s.error?.contains("background_builds") ?? false, "and reported: \(s.error ?? "nil")")
        XCTAssertEqual(Settings.load(environment: ["WASMAOT_OCI_CONFIG": "/nonexistent", "WASMAOT_OCI_DELEGATE": "/x"]).delegate, "/x")
        XCTAssertEqual(Settings.load(environment: ["WASMAOT_OCI_CONFIG": "/nonexistent"]).cacheDir, "/var/lib/wasmaot/cache")
    }

    /// TOML as TOML says: keys inside a table are that table's, strings have escapes, a broken
    /// file or a wrong type is an error that names the key or the line.
    func testSettingsAreRealToml() throws {
        var s = Settings()
        s.apply(toml: """
            delegate = "/usr/bin/r\\u0075nc"
            [other]
            cache_dir = "/not/ours"
            [extra."x"]
            tiering = "bogus"
            """)
        XCTAssertNil(s.error)
        XCTAssertEqual(s.delegate, "/usr/bin/r\\u0075nc".replacingOccurrences(of: "\\u0075", with: "u"))
        XCTAssertEqual(s.cacheDir, "/var/lib/wasmaot/cache", "a key inside [other] is not the top-level cache_dir")
        s.apply(toml: "delegate = \"/a\"\ndelegate = \"/b\"\n")
        XCTAssertNotNil(s.error, "duplicate keys are invalid TOML")
        s.apply(toml: "tiering = 3\n")
        XCTAssertTrue(s.error?.contains("tiering") ?? false, s.error ?? "nil")
        s.apply(toml: "trust_image_artifacts = \"yes\"\n")
        XCTAssertTrue(s.error?.contains("trust_image_artifacts") ?? false, s.error ?? "nil")
        s.apply(toml: "delegate = \"/x\n")
        XCTAssertTrue(s.error?.contains("oci.toml") ?? false, "syntax errors name the file: \(s.error ?? "nil")")
        XCTAssertFalse(s.error?.contains("\n") ?? true, "one line, for runc's log format")

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("wasmaot-oci-toml-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("oci.toml")
        try "cache_dir = \"/from/file\"\ndelegate = \"/file/runc\"\n".write(to: file, atomically: true, encoding: .utf8)
        let loaded = Settings.load(environment: ["WASMAOT_OCI_CONFIG": file.path, "WASMAOT_OCI_DELEGATE": "/env/runc"])
        XCTAssertNil(loaded.error)
        XCTAssertEqual(loaded.cacheDir, "/from/file")
        XCTAssertEqual(loaded.delegate, "/env/runc", "the environment wins over the file")
        XCTAssertEqual(Settings.load(environment: ["WASMAOT_OCI_CONFIG": "/nonexistent"], file: file.path).cacheDir, "/from/file",
                       "--wasmaot-config names the file")
        XCTAssertNotNil(Settings.load(environment: ["WASMAOT_OCI_CONFIG": dir.path]).error, "a directory is not a settings file")
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
