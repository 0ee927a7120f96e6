import Foundation
import XCTest

/// Real containers: wasmaot-oci in front of runc and (if installed) crun, on bundles made by
/// `runc spec`. Needs root, runc, wat2wasm and the built `wasmaot` + `wasmaot-oci`.
final class BundleTests: XCTestCase {
    static let wasi = "wasi_snapshot_preview1"
    static let exit42 = """
        (module (import "\(wasi)" "proc_exit" (func $exit (param i32))) (memory (export "memory") 1)
          (func (export "_start") (call $exit (i32.const 42))))
        """
    static let trap = #"(module (memory (export "memory") 1) (func (export "_start") unreachable))"#
    static let spin = #"(module (memory (export "memory") 1) (func (export "_start") (loop (br 0))))"#
    /// Writes its argv and then its environ buffers (NUL-separated) to stdout.
    static let echo = """
        (module
          (import "\(wasi)" "args_sizes_get" (func $asg (param i32 i32) (result i32)))
          (import "\(wasi)" "args_get" (func $ag (param i32 i32) (result i32)))
          (import "\(wasi)" "environ_sizes_get" (func $esg (param i32 i32) (result i32)))
          (import "\(wasi)" "environ_get" (func $eg (param i32 i32) (result i32)))
          (import "\(wasi)" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 1)
          (func $out (param $p i32) (param $n i32)
            (i32.store (i32.const 0) (local.get $p)) (i32.store (i32.const 4) (local.get $n))
            (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
          (func (export "_start")
            (drop (call $asg (i32.const 16) (i32.const 20)))
            (drop (call $ag (i32.const 1024) (i32.const 8192)))
            (call $out (i32.const 8192) (i32.load (i32.const 20)))
            (drop (call $esg (i32.const 16) (i32.const 20)))
            (drop (call $eg (i32.const 1024) (i32.const 16384)))
            (call $out (i32.const 16384) (i32.load (i32.const 20)))))
        """
    /// Prints /etc/greeting.txt through the preopened container root (fd 3); exit 100+errno on failure.
    static let cat = """
        (module
          (import "\(wasi)" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
          (import "\(wasi)" "fd_read" (func $r (param i32 i32 i32 i32) (result i32)))
          (import "\(wasi)" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
          (import "\(wasi)" "proc_exit" (func $exit (param i32)))
          (memory (export "memory") 1)
          (data (i32.const 200) "etc/greeting.txt")
          (func (export "_start") (local $e i32)
            (local.set $e (call $open (i32.const 3) (i32.const 0) (i32.const 200) (i32.const 16) (i32.const 0)
                                      (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 100)))
            (if (local.get $e) (then (call $exit (i32.add (i32.const 100) (local.get $e)))))
            (i32.store (i32.const 0) (i32.const 4096)) (i32.store (i32.const 4) (i32.const 1024))
            (drop (call $r (i32.load (i32.const 100)) (i32.const 0) (i32.const 1) (i32.const 8)))
            (i32.store (i32.const 4) (i32.load (i32.const 8)))
            (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
        """

    /// Without arguments it sleeps forever (a container to exec into); with any, it prints the name
    /// of each preopen (a line each), its environ (NUL-separated), then rel.txt read through the
    /// LAST preopen — where wasi-libc resolves relative paths.
    static let probe = """
        (module
          (import "\(wasi)" "args_sizes_get" (func $asg (param i32 i32) (result i32)))
          (import "\(wasi)" "environ_sizes_get" (func $esg (param i32 i32) (result i32)))
          (import "\(wasi)" "environ_get" (func $eg (param i32 i32) (result i32)))
          (import "\(wasi)" "fd_prestat_get" (func $pg (param i32 i32) (result i32)))
          (import "\(wasi)" "fd_prestat_dir_name" (func $pn (param i32 i32 i32) (result i32)))
          (import "\(wasi)" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
          (import "\(wasi)" "fd_read" (func $r (param i32 i32 i32 i32) (result i32)))
          (import "\(wasi)" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
          (import "\(wasi)" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 1)
          (data (i32.const 200) "rel.txt")
          (data (i32.const 210) "\\n")
          (func $out (param $p i32) (param $n i32)
            (i32.store (i32.const 0) (local.get $p)) (i32.store (i32.const 4) (local.get $n))
            (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
          (func (export "_start") (local $fd i32) (local $last i32) (local $n i32)
            (drop (call $asg (i32.const 16) (i32.const 20)))
            (if (i32.le_u (i32.load (i32.const 16)) (i32.const 1))
              (then
                (i32.store8 (i32.const 1032) (i32.const 0))
                (i32.store (i32.const 1040) (i32.const 1))
                (i64.store (i32.const 1048) (i64.const 1000000000))
                (loop $sleep
                  (drop (call $poll (i32.const 1024) (i32.const 1100) (i32.const 1) (i32.const 1200)))
                  (br $sleep))))
            (local.set $fd (i32.const 3))
            (block $done (loop $each
              (br_if $done (call $pg (local.get $fd) (i32.const 24)))
              (local.set $n (i32.load (i32.const 28)))
              (drop (call $pn (local.get $fd) (i32.const 4096) (local.get $n)))
              (call $out (i32.const 4096) (local.get $n))
              (call $out (i32.const 210) (i32.const 1))
              (local.set $last (local.get $fd))
              (local.set $fd (i32.add (local.get $fd) (i32.const 1)))
              (br $each)))
            (drop (call $esg (i32.const 16) (i32.const 20)))
            (drop (call $eg (i32.const 8192) (i32.const 16384)))
            (call $out (i32.const 16384) (i32.load (i32.const 20)))
            (if (i32.eqz (call $open (local.get $last) (i32.const 0) (i32.const 200) (i32.const 7) (i32.const 0)
                                     (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 100)))
              (then
                (i32.store (i32.const 0) (i32.const 32768)) (i32.store (i32.const 4) (i32.const 1024))
                (drop (call $r (i32.load (i32.const 100)) (i32.const 0) (i32.const 1) (i32.const 8)))
                (call $out (i32.const 32768) (i32.load (i32.const 8)))))))
        """

    struct Delegate { var name: String; var path: String }

    var dir: URL!
    var delegates: [Delegate] = []
    var wrapper = ""
    var created: [(Delegate, String)] = []

    override func setUpWithError() throws {
        guard let runc = OCIPaths.which("runc") else {
            throw XCTSkip("runc is not installed: `apt-get install runc` (and crun) to run the OCI bundle tests")
        }
        guard getuid() == 0 else { throw XCTSkip("the OCI bundle tests need root (runc without rootless setup)") }
        wrapper = try OCIPaths.built("wasmaot-oci")
        _ = try OCIPaths.built("wasmaot")   // found by wasmaot-oci next to itself
        dir = try tempDir()
        delegates = [Delegate(name: "runc", path: runc)]
        if let crun = OCIPaths.which("crun") {
            // crun fails here with "cgroups in hybrid mode not supported" unless the cgroup2
            // `unified` mount is hidden in a private mount namespace (DESIGN.md §6).
            let script = dir.appendingPathComponent("crun-delegate")
            try """
                #!/bin/sh
                exec unshare -m --propagation private sh -c 'umount /sys/fs/cgroup/unified 2>/dev/null; exec \(crun) "$@"' crun "$@"
                """.write(to: script, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
            delegates.append(Delegate(name: "crun", path: script.path))
        }
    }

    override func tearDown() {
        for (d, id) in created { _ = try? oci(d, ["delete", "--force", id]) }
        created = []
    }

    // MARK: helpers

    func oci(_ d: Delegate, _ args: [String], argv0: String? = nil, config: URL? = nil, timeout: TimeInterval = 120) throws -> Outcome {
        var e = env(d)
        if let config { e["WASMAOT_OCI_CONFIG"] = config.path }
        return try Child(argv0 ?? wrapper, ["--root", dir.appendingPathComponent("state-\(d.name)").path] + args,
                         environment: e, scratch: dir).run(timeout: timeout)
    }

    func env(_ d: Delegate) -> [String: String] {
        ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "WASMAOT_OCI_DELEGATE": d.path,
         "WASMAOT_OCI_CACHE_DIR": dir.appendingPathComponent("cache").path,
         "WASMAOT_OCI_CONFIG": dir.appendingPathComponent("no-such-oci.toml").path]
    }

    func newID(_ d: Delegate) -> String {
        let id = "wasmaot-oci-test-\(UUID().uuidString.prefix(8).lowercased())"
        created.append((d, id))
        return id
    }

    /// A bundle from `runc spec` with `files` (rootfs path → bytes; executable) and the given
    /// process args/env and annotations.
    func bundle(_ files: [String: Data], args: [String], env: [String] = ["PATH=/bin"],
                annotations: [String: String] = [:], symlinks: [String: String] = [:], cwd: String = "/") throws -> URL {
        let b = dir.appendingPathComponent("bundle-\(UUID().uuidString.prefix(8))")
        let rootfs = b.appendingPathComponent("rootfs")
        try FileManager.default.createDirectory(at: rootfs, withIntermediateDirectories: true)
        for (path, bytes) in files {
            let url = rootfs.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try bytes.write(to: url)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
        }
        for (link, target) in symlinks {
            let url = rootfs.appendingPathComponent(link)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: url.path, withDestinationPath: target)
        }
        let spec = try Child(OCIPaths.which("runc")!, ["spec", "--bundle", b.path], environment: [:], scratch: dir).run(timeout: 30)
        guard spec.status == 0 else { throw OCITestError("runc spec: \(spec.summary)") }
        let configURL = b.appendingPathComponent("config.json")
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as! [String: Any]
        var process = config["process"] as! [String: Any]
        process["terminal"] = false
        process["args"] = args
        process["env"] = env
        process["cwd"] = cwd
        config["process"] = process
        config["annotations"] = annotations
        try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted]).write(to: configURL)
        return b
    }

    func wasm(_ wat: String) throws -> Data { try wat2wasm(wat, in: dir) }

    /// A native static executable: what `wasmaot compile` makes (the same kind of file the wrapper
    /// runs for Wasm containers, here used as an ordinary ELF entrypoint).
    func nativeExit42() throws -> Data {
        let w = dir.appendingPathComponent("native.wasm"), exe = dir.appendingPathComponent("native-exit42")
        try wasm(Self.exit42).write(to: w)
        let r = try Child(try OCIPaths.built("wasmaot"), ["compile", w.path, "-o", exe.path],
                          environment: ["PATH": "/usr/local/bin:/usr/bin:/bin"], scratch: dir).run(timeout: 300)
        guard r.status == 0 else { throw OCITestError("wasmaot compile: \(r.summary)") }
        return try Data(contentsOf: exe)
    }

    func state(_ d: Delegate, _ id: String) throws -> String? {
        let r = try oci(d, ["state", id])
        guard r.status == 0, let obj = try? JSONSerialization.jsonObject(with: r.stdout) as? [String: Any] else { return nil }
        return obj["status"] as? String
    }

    func waitForState(_ d: Delegate, _ id: String, _ want: String, timeout: TimeInterval) throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try state(d, id) == want { return true }
            usleep(50_000)
        }
        return false
    }

    // MARK: tests

    func testArgvEnvAndPathLookup() throws {
        let b = try bundle(["opt/hello.wasm": try wasm(Self.echo)], args: ["hello", "a b", "it's"],
                           env: ["PATH=/usr/bin", "GREETING=hi 'there'"], annotations: ["run.oci.handler": "wasm"],
                           symlinks: ["usr/bin/hello": "../../opt/hello.wasm"])
        for d in delegates {
            let before = try Data(contentsOf: b.appendingPathComponent("config.json"))
            let r = try oci(d, ["run", "--bundle", b.path, newID(d)])
            XCTAssertEqual(r.status, 0, "\(d.name): \(r.summary)")
            XCTAssertEqual(r.text, "hello\0a b\0it's\0PATH=/usr/bin\0GREETING=hi 'there'\0", d.name)
            if d.name == delegates[0].name {
                let config = try JSONSerialization.jsonObject(with: Data(contentsOf: b.appendingPathComponent("config.json"))) as! [String: Any]
                let mounts = config["mounts"] as! [[String: Any]]
                XCTAssertEqual(mounts.last?["destination"] as? String, "/opt/hello.wasm")
                XCTAssertNotEqual(before, try Data(contentsOf: b.appendingPathComponent("config.json")))
            }
        }
    }

    func testGuestSeesContainerRootfs() throws {
        let b = try bundle(["app.wasm": try wasm(Self.cat), "etc/greeting.txt": Data("from the image\n".utf8)],
                           args: ["/app.wasm"], annotations: ["module.wasm.image/variant": "compat"])
        for d in delegates {
            let r = try oci(d, ["run", "-b", b.path, newID(d)])
            XCTAssertEqual(r.status, 0, "\(d.name): \(r.summary)")
            XCTAssertEqual(r.text, "from the image\n", d.name)
        }
    }

    /// `features` (OCI runtime spec): the delegate's document unchanged plus wasmaot's entries in
    /// `annotations`; valid JSON with those entries when the delegate is too old to have it.
    func testFeaturesAddsWasmaotEntries() throws {
        let d = delegates[0]
        func object(_ data: Data) throws -> [String: Any] {
            try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any], String(decoding: data, as: UTF8.self))
        }
        let theirs = try Child(d.path, ["features"], environment: env(d), scratch: dir).run(timeout: 30)
        let ours = try oci(d, ["features"])
        XCTAssertEqual(ours.status, 0, ours.summary)
        let mine = try object(ours.stdout)
        let annotations = try XCTUnwrap(mine["annotations"] as? [String: String])
        let version = try Child(try OCIPaths.built("wasmaot"), ["--version"], environment: [:], scratch: dir).run(timeout: 30)
        XCTAssertEqual(annotations["org.wasmaot.oci.version"].map { "wasmaot \($0) " }, version.text.split(separator: "(").first.map(String.init))
        XCTAssertEqual(annotations["org.wasmaot.oci.wasm"], "true")
        XCTAssertTrue(annotations["org.wasmaot.oci.wasm.annotations"]?.contains("module.wasm.image/variant=compat") ?? false)
        XCTAssertEqual(annotations["org.wasmaot.oci.delegate"], d.path)
        if theirs.status == 0 {
            let original = try object(theirs.stdout)
            for (key, value) in original where key != "annotations" {
                XCTAssertEqual(try JSONSerialization.data(withJSONObject: [value], options: [.sortedKeys]),
                               try JSONSerialization.data(withJSONObject: [try XCTUnwrap(mine[key])], options: [.sortedKeys]), key)
            }
            XCTAssertEqual(Set(mine.keys), Set(original.keys).union(["annotations"]))
            for (key, value) in original["annotations"] as? [String: String] ?? [:] { XCTAssertEqual(annotations[key], value, key) }
            XCTAssertEqual(annotations["org.wasmaot.oci.delegate.features"], "true")
        }
        // A delegate without the command (runc before 1.1): still a valid document.
        let old = dir.appendingPathComponent("old-runtime")
        try "#!/bin/sh\necho 'No help topic for features' >&2\nexit 1\n".write(to: old, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: old.path)
        let r = try oci(Delegate(name: "old", path: old.path), ["features"])
        XCTAssertEqual(r.status, 0, r.summary)
        let minimal = try object(r.stdout)
        XCTAssertNotNil(minimal["ociVersionMin"] as? String)
        XCTAssertNotNil(minimal["ociVersionMax"] as? String)
        XCTAssertEqual((minimal["annotations"] as? [String: String])?["org.wasmaot.oci.delegate.features"], "false")
    }

    /// A Wasm container whose entrypoint is not a usable module: `create` fails with one log line in
    /// runc's JSON format that says what the file is, and nothing reaches the node cache.
    func testBadEntrypointIsNamedInTheLog() throws {
        let d = delegates[0]
        let files: [(String, Data, String)] = [
            ("text", Data("hello world\n".utf8), "not a WebAssembly module: it is text"),
            ("component", Data([0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00]), "component"),
            ("truncated", Data([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x0a, 0x40]), "truncated"),
        ]
        for (name, bytes, words) in files {
            let b = try bundle(["app.wasm": bytes], args: ["/app.wasm"], annotations: ["module.wasm.image/variant": "compat"])
            let log = dir.appendingPathComponent("log-\(name).json")
            let r = try oci(d, ["--log", log.path, "--log-format", "json", "create", "--bundle", b.path, newID(d)])
            XCTAssertEqual(r.status, 1, "\(name): \(r.summary)")
            let lines = (try? String(contentsOf: log, encoding: .utf8))?.split(separator: "\n") ?? []
            XCTAssertEqual(lines.count, 1, "\(name): \(lines)")
            let entry = lines.first.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            XCTAssertEqual(entry?["level"] as? String, "error", "\(name): \(lines)")
            XCTAssertTrue((entry?["msg"] as? String)?.contains(words) ?? false, "\(name): \(lines)")
            let entries = dir.appendingPathComponent("cache/entries").path
            XCTAssertEqual((try? FileManager.default.contentsOfDirectory(atPath: entries))?.count ?? 0, 0, "\(name): cache entry written")
        }
    }

    func testExitStatusAndTrap() throws {
        let exit = try bundle(["app.wasm": try wasm(Self.exit42)], args: ["/app.wasm"],
                              annotations: ["module.wasm.image/variant": "compat-smart"])
        let trap = try bundle(["app.wasm": try wasm(Self.trap)], args: ["/app.wasm"], annotations: ["run.oci.handler": "wasm-smart"])
        for d in delegates {
            let r = try oci(d, ["run", "--bundle", exit.path, newID(d)])
            XCTAssertEqual(r.status, 42, "\(d.name): \(r.summary)")
            let t = try oci(d, ["run", "--bundle", trap.path, newID(d)])
            XCTAssertEqual(t.status, 134, "\(d.name): \(t.summary)")
            XCTAssertTrue(t.errText.contains("wasm trap"), "\(d.name): \(t.summary)")
        }
    }

    func testLifecycle() throws {
        let b = try bundle(["app.wasm": try wasm(Self.spin)], args: ["/app.wasm"], annotations: ["run.oci.handler": "wasm"])
        for d in delegates {
            let id = newID(d)
            let c = try oci(d, ["create", "--bundle", b.path, "--pid-file", dir.appendingPathComponent("\(d.name).pid").path, id])
            XCTAssertEqual(c.status, 0, "\(d.name): \(c.summary)")
            XCTAssertEqual(try state(d, id), "created", d.name)
            XCTAssertEqual(try oci(d, ["start", id]).status, 0, d.name)
            XCTAssertEqual(try state(d, id), "running", d.name)
            XCTAssertEqual(try oci(d, ["kill", id, "KILL"]).status, 0, d.name)
            XCTAssertTrue(try waitForState(d, id, "stopped", timeout: 10), d.name)
            XCTAssertEqual(try oci(d, ["delete", id]).status, 0, d.name)
            XCTAssertNil(try state(d, id), d.name)
        }
    }

    /// `podman stop` sends SIGTERM; the artifact is PID 1, where signals without a handler are
    /// ignored — the runtime installs handlers as PID 1 and ends with 128+signal.
    func testSigtermEndsPid1() throws {
        let b = try bundle(["app.wasm": try wasm(Self.spin)], args: ["/app.wasm"], annotations: ["run.oci.handler": "wasm"])
        for d in delegates {
            let id = newID(d)
            let run = try Child(wrapper, ["--root", dir.appendingPathComponent("state-\(d.name)").path, "run", "-b", b.path, id],
                                environment: env(d), scratch: dir)
            XCTAssertTrue(try waitForState(d, id, "running", timeout: 60), d.name)
            XCTAssertEqual(try oci(d, ["kill", id, "TERM"]).status, 0, d.name)
            if let r = run.wait(timeout: 5) {
                XCTAssertEqual(r.status, 143, "\(d.name): \(r.summary)")
            } else {
                XCTFail("\(d.name): the Wasm container (PID 1) ignored SIGTERM")
                _ = try oci(d, ["kill", id, "KILL"])
                _ = run.run(timeout: 10)
            }
        }
    }

    /// process.cwd (a pod's workingDir): relative paths resolve there, absolute ones under "/";
    /// `exec` of the module in the running container (runc exec --process, as containerd's shim
    /// and conmon call it, and the CLI form) sees the same preopens, its own env and PWD.
    func testWorkdirAndExec() throws {
        let files = ["app.wasm": try wasm(Self.probe), "data/rel.txt": Data("in-data\n".utf8), "etc/rel.txt": Data("in-etc\n".utf8),
                     "rel.txt": Data("in-root\n".utf8)]
        let preopens = "/\n/data\n/dev\n/etc\n/proc\n/sys\n.\n"
        for d in delegates {
            let once = try bundle(files, args: ["/app.wasm", "probe"], env: ["PATH=/bin", "A=1"],
                                  annotations: ["run.oci.handler": "wasm"], cwd: "/data")
            let r = try oci(d, ["run", "-b", once.path, newID(d)])
            XCTAssertEqual(r.status, 0, "\(d.name): \(r.summary)")
            XCTAssertEqual(r.text, preopens + "PATH=/bin\0A=1\0PWD=/data\0in-data\n", d.name)

            let b = try bundle(files, args: ["/app.wasm"], env: ["PATH=/bin", "A=1"], annotations: ["run.oci.handler": "wasm"], cwd: "/data")
            let id = newID(d)
            let started = try oci(d, ["run", "-d", "-b", b.path, id])
            XCTAssertEqual(started.status, 0, "\(d.name): \(started.summary)")
            XCTAssertTrue(try waitForState(d, id, "running", timeout: 60), d.name)

            let processFile = dir.appendingPathComponent("process-\(d.name).json")
            try JSONSerialization.data(withJSONObject: ["terminal": false, "user": ["uid": 0, "gid": 0], "args": ["/app.wasm", "x"],
                                                        "env": ["PATH=/bin", "B=exec"], "cwd": "/data"]).write(to: processFile)
            let viaFile = try oci(d, ["exec", "--process", processFile.path, id])
            XCTAssertEqual(viaFile.status, 0, "\(d.name): \(viaFile.summary)")
            XCTAssertEqual(viaFile.text, preopens + "PATH=/bin\0B=exec\0PWD=/data\0in-data\n", d.name)
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains("process-\(d.name)") },
                           ["process-\(d.name).json"], "the rewrite replaced the engine's file: nothing left behind")

            let cli = try oci(d, ["exec", "--cwd", "/etc", "-e", "C=cli", id, "/app.wasm", "x"])
            XCTAssertEqual(cli.status, 0, "\(d.name): \(cli.summary)")
            XCTAssertEqual(cli.text, preopens + "PATH=/bin\0A=1\0C=cli\0PWD=/etc\0in-etc\n", d.name)
            let inRoot = try oci(d, ["exec", "--cwd", "/", id, "/app.wasm", "x"])
            XCTAssertEqual(inRoot.text, "/\nPATH=/bin\0A=1\0in-root\n", "\(d.name): \(inRoot.summary)")
            XCTAssertEqual(try oci(d, ["kill", id, "KILL"]).status, 0, d.name)
        }
    }

    func testNativeBundlesPassThroughUntouched() throws {
        let elf = try nativeExit42()
        let plain = try bundle(["bin/app": elf], args: ["app"])
        let smart = try bundle(["bin/app": elf], args: ["/bin/app"], annotations: ["module.wasm.image/variant": "compat-smart"])
        let sandbox = try bundle(["bin/app": elf], args: ["/bin/app"],
                                 annotations: ["run.oci.handler": "wasm", "io.kubernetes.cri.container-type": "sandbox"])
        let handlerName = dir.appendingPathComponent("wasmaot-oci-wasm")
        try FileManager.default.createSymbolicLink(atPath: handlerName.path, withDestinationPath: wrapper)
        for d in delegates {
            for (b, argv0) in [(plain, wrapper), (smart, wrapper), (sandbox, wrapper), (plain, handlerName.path)] {
                let before = try Data(contentsOf: b.appendingPathComponent("config.json"))
                let r = try oci(d, ["run", "--bundle", b.path, newID(d)], argv0: argv0)
                XCTAssertEqual(r.status, 42, "\(d.name) \(b.lastPathComponent) via \(argv0): \(r.summary)")
                XCTAssertEqual(try Data(contentsOf: b.appendingPathComponent("config.json")), before, "config.json must stay untouched")
            }
        }
    }

    func testHandlerModeRunsUnannotatedWasm() throws {
        let handlerName = dir.appendingPathComponent("wasmaot-oci-wasm")
        try FileManager.default.createSymbolicLink(atPath: handlerName.path, withDestinationPath: wrapper)
        for d in delegates {
            let b1 = try bundle(["app.wasm": try wasm(Self.exit42)], args: ["/app.wasm"])
            XCTAssertEqual(try oci(d, ["run", "-b", b1.path, newID(d)], argv0: handlerName.path).status, 42, d.name)
            let b2 = try bundle(["app.wasm": try wasm(Self.exit42)], args: ["/app.wasm"])
            XCTAssertEqual(try oci(d, ["--handler", "wasm", "run", "-b", b2.path, newID(d)]).status, 42, d.name)
        }
    }

    func testCompileErrorFailsCreate() throws {
        var broken = Data([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0])
        broken.append(contentsOf: [0x01, 0x05, 0xff, 0xff, 0xff])   // truncated, bogus type section
        let b = try bundle(["app.wasm": broken], args: ["/app.wasm"], annotations: ["module.wasm.image/variant": "compat"])
        let log = dir.appendingPathComponent("log.json")
        for d in delegates {
            let before = try Data(contentsOf: b.appendingPathComponent("config.json"))
            let id = newID(d)
            let r = try oci(d, ["--log", log.path, "--log-format", "json", "create", "--bundle", b.path, id])
            XCTAssertEqual(r.status, 1, "\(d.name): \(r.summary)")
            XCTAssertTrue(r.errText.contains("cannot compile Wasm entrypoint"), r.summary)
            XCTAssertEqual(try Data(contentsOf: b.appendingPathComponent("config.json")), before)
            XCTAssertNil(try state(d, id), "no container may have been created")
            let lines = try String(contentsOf: log, encoding: .utf8).split(separator: "\n")
            let entry = try JSONSerialization.jsonObject(with: Data(lines.last!.utf8)) as? [String: String]
            XCTAssertEqual(entry?["level"], "error")
            XCTAssertTrue(entry?["msg"]?.contains("cannot compile Wasm entrypoint") ?? false, "\(lines)")
            XCTAssertNotNil(entry?["time"])
        }
    }

    /// trust_image_artifacts: a prebuilt MODULE.wasmaot/<arch> in the image is mounted as is — but
    /// not when the image's symlinks would make the compiler read it from the host.
    func testTrustedImageArtifacts() throws {
        let d = delegates[0]
        let toml = dir.appendingPathComponent("oci.toml")
        try "trust_image_artifacts = true\n".write(to: toml, atomically: true, encoding: .utf8)
        let module = try wasm(Self.exit42)
        let prebuilt = dir.appendingPathComponent("prebuilt")
        try FileManager.default.createDirectory(at: prebuilt, withIntermediateDirectories: true)
        try module.write(to: prebuilt.appendingPathComponent("app.wasm"))
        let r = try Child(try OCIPaths.built("wasmaot"), ["compile", prebuilt.appendingPathComponent("app.wasm").path, "--for-image"],
                          environment: ["PATH": "/usr/local/bin:/usr/bin:/bin"], scratch: dir).run(timeout: 300)
        guard r.status == 0 else { throw OCITestError("compile --for-image: \(r.summary)") }
        let shipped = prebuilt.appendingPathComponent("app.wasm.wasmaot")

        func mountSource(_ b: URL) throws -> String? {
            let config = try JSONSerialization.jsonObject(with: Data(contentsOf: b.appendingPathComponent("config.json"))) as! [String: Any]
            return (config["mounts"] as! [[String: Any]]).last?["source"] as? String
        }
        // Shipped inside the image: used from the rootfs.
        let inImage = try bundle(["app.wasm": module], args: ["/app.wasm"], annotations: ["run.oci.handler": "wasm"])
        try FileManager.default.copyItem(at: shipped, to: inImage.appendingPathComponent("rootfs/app.wasm.wasmaot"))
        XCTAssertEqual(try oci(d, ["run", "-b", inImage.path, newID(d)], config: toml).status, 42)
        XCTAssertEqual(try mountSource(inImage), inImage.path + "/rootfs/app.wasm.wasmaot/" + (try XCTUnwrap(
            FileManager.default.contentsOfDirectory(atPath: shipped.path).first { $0 != "manifest.json" })))
        // An absolute symlink means a host path to the compiler: compiled into the cache instead.
        let viaLink = try bundle(["app.wasm": module], args: ["/app.wasm"], annotations: ["run.oci.handler": "wasm"],
                                 symlinks: ["app.wasm.wasmaot": shipped.path])
        XCTAssertEqual(try oci(d, ["run", "-b", viaLink.path, newID(d)], config: toml).status, 42)
        let source = try XCTUnwrap(try mountSource(viaLink))
        XCTAssertTrue(source.hasPrefix(dir.appendingPathComponent("cache").path), source)
    }

    /// A warm create finds the artifact in-process: the only programs started are the delegate
    /// (and its own re-exec), never the wasmaot launcher or compiler.
    func testWarmCreateStartsNoCompiler() throws {
        guard let strace = OCIPaths.which("strace") else { throw XCTSkip("strace is not installed") }
        let d = delegates[0]
        let toml = dir.appendingPathComponent("oci.toml")
        try "tiering = \"optimized-only\"\n".write(to: toml, atomically: true, encoding: .utf8)
        let module = try wasm(Self.exit42)
        let first = try bundle(["app.wasm": module], args: ["/app.wasm"], annotations: ["run.oci.handler": "wasm"])
        XCTAssertEqual(try oci(d, ["run", "-b", first.path, newID(d)], config: toml).status, 42)
        let second = try bundle(["app.wasm": module], args: ["/app.wasm"], annotations: ["run.oci.handler": "wasm"])
        var e = env(d)
        e["WASMAOT_OCI_CONFIG"] = toml.path
        let traced = try Child(strace, ["-f", "-qq", "-e", "trace=execve", "-e", "signal=none", wrapper,
                                        "--root", dir.appendingPathComponent("state-\(d.name)").path, "run", "-b", second.path, newID(d)],
                               environment: e, scratch: dir).run(timeout: 120)
        XCTAssertEqual(traced.status, 42, traced.summary)
        let execs = traced.errText.split(separator: "\n").filter { $0.contains("execve(") && $0.contains("= 0") }
        XCTAssertFalse(execs.isEmpty, traced.summary)
        XCTAssertFalse(execs.contains { $0.contains("/wasmaot\"") || $0.contains("wasmaot-compiler") }, "\(execs)")
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: second.appendingPathComponent("config.json"))) as! [String: Any]
        XCTAssertEqual((config["mounts"] as! [[String: Any]]).last?["destination"] as? String, "/app.wasm")
    }

    /// Settings and delegate problems fail every command, in runc's log format.
    func testSettingsAndDelegateErrors() throws {
        let d = delegates[0]
        let log = dir.appendingPathComponent("log.json")
        let broken = dir.appendingPathComponent("broken.toml")
        try "delegate = \"/usr/sbin/runc\"\ntiering = [\n".write(to: broken, atomically: true, encoding: .utf8)
        let r = try oci(d, ["--log", log.path, "--log-format", "json", "state", "x"], config: broken)
        XCTAssertEqual(r.status, 1, r.summary)
        XCTAssertTrue(r.errText.hasPrefix("wasmaot-oci: invalid settings file"), r.summary)
        XCTAssertTrue(r.errText.contains(broken.path), r.summary)
        let line = try XCTUnwrap(try String(contentsOf: log, encoding: .utf8).split(separator: "\n").last)
        let entry = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String]
        XCTAssertEqual(entry?["level"], "error")
        XCTAssertTrue(entry?["msg"]?.contains(broken.path) ?? false, String(line))

        var e = env(d)
        e["WASMAOT_OCI_DELEGATE"] = dir.appendingPathComponent("no-such-runc").path
        let missing = try Child(wrapper, ["--log", log.path, "delete", "x"], environment: e, scratch: dir).run(timeout: 60)
        XCTAssertEqual(missing.status, 1, missing.summary)
        XCTAssertTrue(missing.errText.contains("delegate runtime \(e["WASMAOT_OCI_DELEGATE"]!) is not executable"), missing.summary)
        let text = try XCTUnwrap(try String(contentsOf: log, encoding: .utf8).split(separator: "\n").last)
        XCTAssertTrue(text.hasPrefix("time=\"") && text.contains("level=error msg=\"wasmaot-oci: delegate runtime"), String(text))
    }

    // MARK: image content is hostile (issue 13 item 5)

    /// The entrypoint is opened inside the rootfs only and must be a small-enough regular file: a
    /// FIFO (which would block a reader), a device, a symlink to a host file, an oversized module
    /// all fail `create` at once with the reason in runc's log format, and nothing is created.
    func testHostileEntrypointsFailCreate() throws {
        let d = delegates[0]
        let log = dir.appendingPathComponent("hostile.log")
        // A valid module on the host, which an image symlink tries to reach.
        let hostModule = dir.appendingPathComponent("host-only.wasm")
        try wasm(Self.exit42).write(to: hostModule)
        let small = dir.appendingPathComponent("small.toml")
        try "max_module_mb = 1\n".write(to: small, atomically: true, encoding: .utf8)
        var big = try wasm(Self.exit42)
        big.append(contentsOf: [0x00, 0x85, 0x80, 0x80, 0x01, 0x01, 0x78] + [UInt8](repeating: 0x41, count: (2 << 20) + 5 - 2))
        let fifoBundle = try bundle([:], args: ["/app.wasm"], annotations: ["module.wasm.image/variant": "compat"])
        XCTAssertEqual(mkfifo(fifoBundle.appendingPathComponent("rootfs/app.wasm").path, 0o644), 0)
        let cases: [(String, URL, URL?, String)] = [
            ("FIFO", fifoBundle, nil, "is a FIFO, not a regular file"),
            ("device", try bundle([:], args: ["/app.wasm"], annotations: ["module.wasm.image/variant": "compat"],
                                  symlinks: ["app.wasm": "/dev/zero"]), nil, "app.wasm"),
            ("symlink to a host file", try bundle([:], args: ["/app.wasm"], annotations: ["module.wasm.image/variant": "compat"],
                                                 symlinks: ["app.wasm": hostModule.path]), nil, "app.wasm"),
            ("oversized", try bundle(["app.wasm": big], args: ["/app.wasm"], annotations: ["module.wasm.image/variant": "compat"]),
             small, "more than max_module_mb = 1"),
        ]
        for (what, b, config, reason) in cases {
            let before = try Data(contentsOf: b.appendingPathComponent("config.json"))
            let id = newID(d)
            let started = Date()
            let r = try oci(d, ["--log", log.path, "--log-format", "json", "create", "--bundle", b.path, id], config: config, timeout: 60)
            XCTAssertEqual(r.status, 1, "\(what): \(r.summary)")
            XCTAssertLessThan(Date().timeIntervalSince(started), 30, "\(what): must fail at once, not hang")
            XCTAssertEqual(try Data(contentsOf: b.appendingPathComponent("config.json")), before, what)
            XCTAssertNil(try state(d, id), "\(what): no container may have been created")
            let line = try XCTUnwrap(try String(contentsOf: log, encoding: .utf8).split(separator: "\n").last)
            let entry = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String]
            XCTAssertEqual(entry?["level"], "error", what)
            XCTAssertTrue(entry?["msg"]?.contains(reason) ?? false, "\(what): \(line)")
        }
    }

    /// A compile that does not finish within compile_timeout is killed (with anything it started)
    /// and `create` fails saying so; the compiler runs niced and with an address-space limit.
    func testCompileIsBounded() throws {
        let d = delegates[0]
        let slow = dir.appendingPathComponent("slow-wasmaot")
        let marker = dir.appendingPathComponent("limits.txt")
        try """
            #!/bin/sh
            { nice; ulimit -v; } > \(marker.path)
            sleep 30
            """.write(to: slow, atomically: true, encoding: .utf8)
        chmod(slow.path, 0o755)
        let config = dir.appendingPathComponent("bounded.toml")
        try "wasmaot = \"\(slow.path)\"\ncompile_timeout = 2\ncompile_nice = 7\ncompile_memory_mb = 3000\n"
            .write(to: config, atomically: true, encoding: .utf8)
        let b = try bundle(["app.wasm": try wasm(Self.exit42)], args: ["/app.wasm"], annotations: ["module.wasm.image/variant": "compat"])
        let started = Date()
        let r = try oci(d, ["create", "--bundle", b.path, newID(d)], config: config, timeout: 60)
        XCTAssertEqual(r.status, 1, r.summary)
        XCTAssertTrue(r.errText.contains("took longer than compile_timeout = 2 s"), r.summary)
        XCTAssertLessThan(Date().timeIntervalSince(started), 20, "killed at the timeout, not after the sleep")
        let limits = try String(contentsOf: marker, encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertEqual(limits, ["7", "\(3000 * 1024)"], "nice and ulimit -v (KiB) the compiler ran with")
    }

}
