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
        let out = c.rewrite(entrypoint: "/opt/app.wasm", artifact: "/cache/ab/exe", dirs: ["/etc", "/proc", "/work"])
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
        // process.cwd is /work: the top-level preopens, then the workdir as ".", and PWD.
        XCTAssertEqual(r.env.last, "WASMAOT_WASI=--dir /::/ --dir /etc::/etc --dir /proc::/proc --dir /work::/work --dir /work::. "
                                 + "--env PATH=/usr/bin:/bin --env 'A=b c' --env PWD=/work")
        XCTAssertEqual(Array(r.env.dropLast()), ["PATH=/usr/bin:/bin", "A=b c"])
        XCTAssertTrue(r.isRewritten)
        XCTAssertFalse(c.isRewritten)
        XCTAssertEqual(r.annotations, ["run.oci.handler": "wasm", ConfigRewrite.markerAnnotation: "/cache/ab/exe",
                                       ConfigRewrite.entrypointAnnotation: "/opt/app.wasm"])
        XCTAssertEqual(r.entrypoint, "/opt/app.wasm")
        XCTAssertNil(c.entrypoint)
        XCTAssertEqual(r.mounts.map(\.destination), ["/proc", "/opt/app.wasm"])
        XCTAssertEqual(r.mounts.map(\.bind), [false, true])
        XCTAssertEqual(try OCIConfig(bytes: Array(r.rewrite(entrypoint: "/opt/app.wasm", artifact: "/cache/cd/exe"))).annotations.count, 3,
                       "a second rewrite replaces the annotations")
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

    /// process.cwd "/" keeps the old WASMAOT_WASI byte for byte; any other workdir gets the
    /// top-level preopens, itself as "." last, and PWD (unless the container sets PWD).
    func testWasiConfigWithWorkdir() {
        let dirs = ["/bin", "/data", "/etc"]
        for root in ["/", "//", "/./", "/..", "/a/.."] {
            XCTAssertTrue(ConfigRewrite.cwdIsRoot(root), root)
            XCTAssertEqual(ConfigRewrite.wasiConfig(env: ["A=1"], cwd: root, dirs: dirs), "--dir /::/ --env A=1", root)
        }
        XCTAssertEqual(ConfigRewrite.wasiConfig(env: ["A=1"]), "--dir /::/ --env A=1")
        XCTAssertFalse(ConfigRewrite.cwdIsRoot("/data"))
        XCTAssertEqual(ConfigRewrite.wasiConfig(env: ["PATH=/bin", "WASMAOT_WASI=--dir /x"], cwd: "/data", dirs: dirs),
                       "--dir /::/ --dir /bin::/bin --dir /data::/data --dir /etc::/etc --dir /data::. --env PATH=/bin --env PWD=/data")
        XCTAssertEqual(ConfigRewrite.wasiConfig(env: ["PWD=/elsewhere"], cwd: "/data", dirs: []),
                       "--dir /::/ --dir /data::. --env PWD=/elsewhere", "the container's own PWD is kept")
        XCTAssertEqual(ConfigRewrite.wasiConfig(env: [], cwd: "/srv//app/./", dirs: ["/srv"]),
                       "--dir /::/ --dir /srv::/srv --dir /srv//app/./::. --env PWD=/srv/app", "HOST as given, PWD clean")
        XCTAssertEqual(ConfigRewrite.wasiConfig(env: [], cwd: "/we ird'd", dirs: ["/we ird'd"]),
                       "--dir /::/ --dir '/we ird'\\''d::/we ird'\\''d' --dir '/we ird'\\''d::.' --env 'PWD=/we ird'\\''d'")
        // The runtime splits HOST::GUEST at the first "::": such a workdir is preopened as the
        // runtime's own working directory (the same directory: runc chdir'ed there), such names left out.
        XCTAssertEqual(ConfigRewrite.wasiConfig(env: [], cwd: "/a::b", dirs: ["/a::b", "/c:", "/d"]),
                       "--dir /::/ --dir /d::/d --dir .::. --env PWD=/a::b")
        XCTAssertEqual(ConfigRewrite.wasiConfig(env: [], cwd: "rel/x", dirs: []), "--dir /::/ --dir .::. --env PWD=/rel/x")
    }

    func testStateBundle() {
        let state = #"{"ociVersion":"1.0.2","id":"c1","pid":42,"status":"running","bundle":"/run/containerd/io.containerd.runtime.v2.task/k8s.io/c1","rootfs":"/x/rootfs","created":"2024-01-01T00:00:00Z","annotations":{"a":"b"}}"#
        XCTAssertEqual(ConfigRewrite.stateBundle(state), "/run/containerd/io.containerd.runtime.v2.task/k8s.io/c1")
        XCTAssertNil(ConfigRewrite.stateBundle(#"{"id":"c1"}"#))
        XCTAssertNil(ConfigRewrite.stateBundle(#"{"bundle":7}"#))
        XCTAssertNil(ConfigRewrite.stateBundle("container does not exist"))
        XCTAssertNil(ConfigRewrite.stateBundle(""))
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

final class WorkdirTests: XCTestCase {
    let fm = FileManager.default

    func makeDir() throws -> String {
        let dir = fm.temporaryDirectory.appendingPathComponent("wasmaot-oci-workdir-\(UUID().uuidString.prefix(8))")
        try fm.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir.path
    }

    func file(_ path: String, _ text: String = "x") throws {
        try fm.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    /// Directories and symlinks to directories of the rootfs top level (resolved inside it, never
    /// on the host), the first component of each mount destination and of the workdir; sorted.
    func testTopLevelDirs() throws {
        let bundle = try makeDir(), root = bundle + "/rootfs"
        for d in ["etc", "data", "usr/lib", "we ird'd", "a::b", "c:", "sys"] {
            try fm.createDirectory(atPath: root + "/" + d, withIntermediateDirectories: true)
        }
        try file(root + "/app.wasm")
        try file(root + "/top.txt")
        try file(root + "/etc/hosts")
        let links = ["lib": "usr/lib", "lib64": "/usr/lib", "hosts": "etc/hosts", "dangling": "/nonexistent",
                     "hostdir": "/tmp", "escape": "../../../..", "loop": "/loop"]
        for (l, t) in links { try fm.createSymbolicLink(atPath: root + "/" + l, withDestinationPath: t) }
        try fm.createDirectory(atPath: bundle + "/relsrc", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: bundle + "/voldir", withIntermediateDirectories: true)
        try file(bundle + "/config.yaml")
        let config = try OCIConfig("""
            {"process":{"args":["/app.wasm"],"cwd":"/newdir/sub"},"root":{"path":"rootfs"},"mounts":[
             {"destination":"/proc","type":"proc","source":"proc"},
             {"destination":"/dev","type":"tmpfs","source":"tmpfs"},
             {"destination":"/dev/pts","type":"devpts","source":"devpts"},
             {"destination":"/data/x","type":"bind","source":"/nonexistent","options":["rbind"]},
             {"destination":"/config.yaml","type":"bind","source":"\(bundle)/config.yaml","options":["rbind","ro"]},
             {"destination":"/vol","type":"none","source":"\(bundle)/voldir","options":["bind"]},
             {"destination":"/relvol","type":"bind","source":"relsrc"},
             {"destination":"/missing","type":"bind","source":"/nonexistent"},
             {"destination":"run/secrets","type":"bind","source":"/nonexistent"},
             {"destination":"/../sys/fs/cgroup","type":"cgroup","source":"cgroup"},
             {"destination":"/","type":"bind","source":"/"},
             {"type":"tmpfs"}]}
            """)
        XCTAssertEqual(config.mounts.map(\.bind), [false, false, false, true, true, true, true, true, true, false, true, false])
        let dirs = ConfigRewrite.topLevelDirs(root: root, bundle: bundle, config: config, cwd: config.cwd)
        XCTAssertEqual(dirs, ["/data", "/dev", "/escape", "/etc", "/lib", "/lib64", "/newdir", "/proc", "/relvol", "/run",
                              "/sys", "/usr", "/vol", "/we ird'd"])
        // No rootfs (or no config): only what the config and the workdir say.
        XCTAssertEqual(ConfigRewrite.topLevelDirs(root: bundle + "/nonexistent", bundle: bundle, config: config, cwd: "/"),
                       ["/data", "/dev", "/proc", "/relvol", "/run", "/sys", "/vol"])
        XCTAssertEqual(ConfigRewrite.topLevelDirs(root: nil, bundle: nil, config: nil, cwd: "/x/../y/z"), ["/y"])
    }

    /// A rootfs with hundreds of top-level directories: at most WAO_MAX_TOPLEVEL_PREOPENS, the
    /// mounts and the workdir kept first, then rootfs names in order; long names capped by bytes.
    func testTopLevelDirsAreCapped() throws {
        let root = try makeDir()
        for i in 0..<200 { try fm.createDirectory(atPath: root + String(format: "/d%03d", i), withIntermediateDirectories: false) }
        let config = try OCIConfig(#"{"mounts":[{"destination":"/proc","type":"proc"},{"destination":"/zz/x","type":"tmpfs"}]}"#)
        let dirs = ConfigRewrite.topLevelDirs(root: root, bundle: nil, config: config, cwd: "/work")
        XCTAssertEqual(dirs.count, ConfigRewrite.maxTopLevelPreopens)
        XCTAssertEqual(dirs, ((0..<61).map { String(format: "/d%03d", $0) } + ["/proc", "/work", "/zz"]).sorted())
        let wasi = ConfigRewrite.wasiConfig(env: [], cwd: "/work", dirs: dirs)
        XCTAssertLessThan(wasi.utf8.count, 2048)

        let long = try makeDir()
        for i in 0..<40 { try fm.createDirectory(atPath: long + "/" + String(repeating: "n", count: 240) + String(format: "%03d", i),
                                                 withIntermediateDirectories: false) }
        let capped = ConfigRewrite.topLevelDirs(root: long, bundle: nil, config: nil, cwd: "/")
        XCTAssertEqual(capped.count, 16, "at most 4096 bytes of names (16 × 243)")
    }

    /// A bundle as `create` leaves it: rootfs with the module, config.json rewritten (cwd /data).
    func rewrittenBundle(cwd: String = "/data") throws -> (bundle: String, config: OCIConfig) {
        let bundle = try makeDir(), root = bundle + "/rootfs"
        try file(root + "/app.wasm", "\0asm")
        try file(root + "/bin/sh")
        try file(root + "/data/rel.txt")
        try fm.createDirectory(atPath: root + "/usr/bin", withIntermediateDirectories: true)
        try fm.createSymbolicLink(atPath: root + "/usr/bin/app", withDestinationPath: "../../app.wasm")
        let original = try OCIConfig("""
            {"ociVersion":"1.0.2","process":{"args":["/app.wasm"],"env":["PATH=/usr/bin:/bin","FOO=1"],"cwd":"\(cwd)"},
             "root":{"path":"rootfs"},"mounts":[{"destination":"/proc","type":"proc","source":"proc"}],
             "annotations":{"run.oci.handler":"wasm"}}
            """)
        let rewritten = original.rewrite(entrypoint: "/app.wasm", artifact: bundle + "/artifact")
        try file(bundle + "/artifact", "ELF")
        try rewritten.write(to: URL(fileURLWithPath: bundle + "/config.json"))
        return (bundle, try OCIConfig(bytes: Array(rewritten)))
    }

    func testExecWithProcessFileGetsTheContainersView() throws {
        let (bundle, config) = try rewrittenBundle()
        XCTAssertEqual(config.entrypoint, "/app.wasm")
        func process(_ args: [String], cwd: String = "/data") -> Data {
            let env = ["PATH=/usr/bin:/bin", "FOO=exec", "WASMAOT_WASI=--dir /stale"]
            return try! JSONSerialization.data(withJSONObject: ["terminal": false, "user": ["uid": 0, "gid": 0], "args": args,
                                                                "env": env, "cwd": cwd, "capabilities": ["bounding": ["CAP_KILL"]]],
                                               options: [.sortedKeys])
        }
        let argv = ["exec", "--process", "/tmp/p.json", "--detach", "ctr"]
        let dataView = "WASMAOT_WASI=--dir /::/ --dir /bin::/bin --dir /data::/data --dir /proc::/proc --dir /usr::/usr --dir /data::. "
                     + "--env PATH=/usr/bin:/bin --env FOO=exec --env PWD=/data"
        for args in [["/app.wasm", "probe"], ["app", "x"], ["/usr/bin/app"], ["../app.wasm"]] {
            let input = process(args)
            guard case .process(let out) = try ExecRewrite.prepare(argv, container: config, bundle: bundle, process: input) else {
                XCTFail("\(args): not rewritten"); continue
            }
            let doc = try JSONSerialization.jsonObject(with: out) as! NSDictionary
            XCTAssertEqual(doc["env"] as? [String], ["PATH=/usr/bin:/bin", "FOO=exec", dataView], "\(args)")
            let before = try JSONSerialization.jsonObject(with: input) as! NSDictionary
            for key in ["terminal", "user", "args", "cwd", "capabilities"] {
                XCTAssertEqual(doc[key] as? NSObject, before[key] as? NSObject, "\(key) unchanged")
            }
        }
        // In "/", the guest's view is the old one.
        guard case .process(let rooted) = try ExecRewrite.prepare(argv, container: config, bundle: bundle,
                                                                   process: process(["./app.wasm"], cwd: "/")) else {
            return XCTFail("not rewritten")
        }
        XCTAssertEqual((try JSONSerialization.jsonObject(with: rooted) as! NSDictionary)["env"] as? [String],
                       ["PATH=/usr/bin:/bin", "FOO=exec", "WASMAOT_WASI=--dir /::/ --env PATH=/usr/bin:/bin --env FOO=exec"])
        // Anything else passes through: another program, a name not on PATH, a broken file.
        for args in [["/bin/sh", "-c", "ls"], ["sh"], ["app.wasm"], ["/nonexistent"], []] {
            XCTAssertEqual(try ExecRewrite.prepare(argv, container: config, bundle: bundle, process: process(args)), .passThrough, "\(args)")
        }
        XCTAssertEqual(try ExecRewrite.prepare(argv, container: config, bundle: bundle, process: Data("{\"args\":".utf8)), .passThrough)
    }

    func testExecPositionalAddsWasmaotWasi() throws {
        let (bundle, config) = try rewrittenBundle()
        XCTAssertEqual(try ExecRewrite.prepare(["exec", "ctr", "/app.wasm", "x"], container: config, bundle: bundle),
                       .envArgument("WASMAOT_WASI=--dir /::/ --dir /bin::/bin --dir /data::/data --dir /proc::/proc --dir /usr::/usr "
                                    + "--dir /data::. --env PATH=/usr/bin:/bin --env FOO=1 --env PWD=/data"))
        XCTAssertEqual(try ExecRewrite.prepare(["exec", "-e", "X=1", "--cwd", "/", "-e", "FOO=2", "-t", "ctr", "app"],
                                               container: config, bundle: bundle),
                       .envArgument("WASMAOT_WASI=--dir /::/ --env PATH=/usr/bin:/bin --env FOO=1 --env X=1 --env FOO=2"))
        XCTAssertEqual(try ExecRewrite.prepare(["exec", "--env", "PATH=/nowhere", "ctr", "app"], container: config, bundle: bundle),
                       .passThrough, "the exec's PATH finds no app")
        XCTAssertEqual(try ExecRewrite.prepare(["exec", "ctr", "sh"], container: config, bundle: bundle), .passThrough)
        XCTAssertEqual(try ExecRewrite.prepare(["exec", "ctr"], container: config, bundle: bundle), .passThrough)
    }

    /// Containers the wrapper did not rewrite pass through; configs rewritten before the
    /// entrypoint annotation existed still name the entrypoint through their artifact mount.
    func testExecPassThroughAndOlderConfigs() throws {
        let (bundle, config) = try rewrittenBundle(cwd: "/")
        let native = try OCIConfig(#"{"process":{"args":["/app.wasm"],"cwd":"/"},"root":{"path":"rootfs"}}"#)
        XCTAssertEqual(try ExecRewrite.prepare(["exec", "ctr", "/app.wasm"], container: native, bundle: bundle), .passThrough)
        XCTAssertEqual(try ExecRewrite.prepare(["exec", "-p", "/p", "ctr"], container: native, bundle: bundle,
                                               process: Data(#"{"args":["/app.wasm"]}"#.utf8)), .passThrough)

        var doc = try JSONSerialization.jsonObject(with: config.serialized()) as! [String: Any]
        var annotations = doc["annotations"] as! [String: String]
        annotations[ConfigRewrite.entrypointAnnotation] = nil
        doc["annotations"] = annotations
        let older = try OCIConfig(bytes: Array(try JSONSerialization.data(withJSONObject: doc)))
        XCTAssertEqual(older.entrypoint, "/app.wasm")
        XCTAssertEqual(try ExecRewrite.prepare(["exec", "ctr", "/app.wasm"], container: older, bundle: bundle),
                       .envArgument("WASMAOT_WASI=--dir /::/ --env PATH=/usr/bin:/bin --env FOO=1"))
    }

    func testProcessParseAndRewrite() throws {
        let p = try OCIConfig(#"{"args":["/a.wasm","b"],"env":["A=1"],"cwd":"/w","terminal":true}"#, process: true)
        XCTAssertEqual(p.args, ["/a.wasm", "b"])
        XCTAssertEqual(p.env, ["A=1"])
        XCTAssertEqual(p.cwd, "/w")
        XCTAssertEqual(p.mounts.count, 0)
        let out = String(decoding: p.rewriteProcess(dirs: ["/w"]), as: UTF8.self)
        XCTAssertEqual(out, #"{"args":["/a.wasm","b"],"env":["A=1","WASMAOT_WASI=--dir /::/ --dir /w::/w --dir /w::. --env A=1 --env PWD=/w"],"cwd":"/w","terminal":true}"# + "\n")
        let bare = try OCIConfig(#"{"args":["x"]}"#, process: true)
        XCTAssertEqual(bare.cwd, "/")
        XCTAssertEqual(String(decoding: bare.rewriteProcess(), as: UTF8.self), #"{"args":["x"],"env":["WASMAOT_WASI=--dir /::/"]}"# + "\n")
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
