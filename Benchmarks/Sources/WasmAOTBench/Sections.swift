import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension Harness {
    var programsDir: String { config.packageRoot + "/Benchmarks/programs" }

    func aotEnv(cache: String? = nil) -> [String: String] {
        var e = baseEnv
        e["WASMAOT_CACHE_DIR"] = cache ?? aotCache
        return e
    }

    /// The optimized-tier artifact `wasmaot run` execs for this module once tiered up (compiles it
    /// on a miss).
    func cachedArtifact(_ wasm: String, cache: String? = nil) throws -> String {
        guard let aot = tools.wasmaot else { throw SpawnError(tools.why("wasmaot")) }
        let r = try spawner.run([aot, "cache", "artifact", "--tier", "optimized", wasm], environment: aotEnv(cache: cache), timeout: 3600)
        guard r.ok else { throw SpawnError("wasmaot cache artifact: \(r.failureSummary)") }
        let path = r.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").last.map(String.init) ?? ""
        guard FileManager.default.isExecutableFile(atPath: path) else { throw SpawnError("wasmaot cache artifact printed '\(path)', not an executable") }
        return path
    }

    func wasmtimeRun(_ module: String, dir: Bool, preload: String, args: [String] = []) -> [String] {
        [tools.wasmtime!, "run", "-C", "cache-config=\(wasmtimeCacheConfig)"] + (dir ? ["--dir", "."] : [])
            + ["--preload", "bench=\(preload)", module] + args
    }

    // MARK: - 2. start-up

    func startupSection() throws -> Section {
        var section = Section(id: "startup", title: "Start-up", notes: [
            "Whole process, spawn → exit (posix_spawn + wait4, stdout/stderr to files opened before the clock starts).",
            "Each row: \(config.startupWarmup) warm-up runs, then \(config.startupRuns) timed runs, interleaved across the rows of a program (round r runs every row once), so load from elsewhere hits all rows alike. Cold rows: \(config.coldRuns) runs on their own, each with a new empty cache directory.",
            "wasmtime-min runs a `.cwasm` made by `wasmtime compile -C collector=drc -W threads=n`. For sightglass noop (imports bench.start/end) both wasmtime rows use `-W unknown-imports-default=y` (wasmtime-min has no --preload); wasmaot's bench functions are built in.",
        ])
        let hello = programsDir + "/startup/hello.c"
        let noopNative = programsDir + "/startup/noop.c"
        let noop = sightglassModules().first { $0.name == "noop" }

        struct Program { var name: String; var wasm: String; var native: String?; var nativeError: String?; var stdout: String; var dir: Bool; var cwd: String }
        var programs: [Program] = []
        do {
            let b = try buildC(hello, name: "hello")
            programs.append(Program(name: "hello (C, WASI)", wasm: b.wasm, native: b.native, stdout: "hello, world\n", dir: false, cwd: scratch))
        } catch {
            section.cases.append(BenchCase(name: "hello (C, WASI)", measurements: [BenchRow(engine: Engine.native, unavailable: "\(error)")]))
        }
        if let noop {
            let cwd = try privateCopy(noop)
            var p = Program(name: "sightglass noop", wasm: cwd + "/benchmark.wasm", stdout: noop.expectedStdout ?? "", dir: true, cwd: cwd)
            do { p.native = try buildC(noopNative, name: "noop").native } catch { p.nativeError = "\(error)" }
            programs.append(p)
        } else {
            section.notes.append("sightglass noop not found under \(config.corpus): that program is skipped.")
        }

        for p in programs {
            log.say("start-up: \(p.name)")
            var c = BenchCase(name: p.name, detail: p.dir ? "run with its directory preopened (--dir .)" : nil)
            let check: (ProcessResult) -> String? = { [self] r in compareOutput(r, stdout: p.stdout, stderr: nil) }
            let warm = config.startupWarmup, runs = config.startupRuns
            var slots: [Slot] = []
            // native
            if let native = p.native {
                slots.append(.spec(RowSpec(Engine.native, [native], env: baseEnv, cwd: p.cwd, expect: check)))
            } else {
                slots.append(.done(BenchRow(engine: Engine.native, unavailable: p.nativeError ?? "not built")))
            }
            // wasmaot
            var runHitNote: String?
            if let aot = tools.wasmaot {
                let dirArgs = p.dir ? ["--dir", "."] : []
                do {
                    let artifact = try cachedArtifact(p.wasm)
                    var e = baseEnv
                    e["WASMAOT_WASI"] = p.dir ? "--dir ." : ""
                    slots.append(.spec(RowSpec(Engine.artifact, [artifact], env: e, cwd: p.cwd, expect: check)))
                } catch {
                    slots.append(.done(BenchRow(engine: Engine.artifact, unavailable: "\(error)")))
                }
                // Confirm that `wasmaot run` really hits the cache (optimized tier) before timing it.
                let probe = try spawner.run([aot, "run", "-v"] + dirArgs + [p.wasm], environment: aotEnv(), cwd: p.cwd, timeout: 3600)
                if !probe.stderrText.contains("cache hit") || !probe.stderrText.contains("optimized tier") {
                    runHitNote = "`wasmaot run -v` did not report a cache hit: \(probe.stderrText.prefix(200))"
                }
                slots.append(.spec(RowSpec(Engine.runHit, [aot, "run"] + dirArgs + [p.wasm], env: aotEnv(), cwd: p.cwd, expect: check)))
                // Cold: on its own (each run compiles), not interleaved with the millisecond rows.
                let coldRoot = scratch + "/cold-cache"
                var coldSpec = RowSpec(Engine.runCold, [aot, "run"] + dirArgs + [p.wasm], env: aotEnv(), cwd: p.cwd, expect: check)
                coldSpec.prepare = { [self] i in
                    let d = "\(coldRoot)/\(i)"
                    try? FileManager.default.removeItem(atPath: d)
                    try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
                    return aotEnv(cache: d)
                }
                coldSpec.after = { [self] i in waitAndRemove(cache: "\(coldRoot)/\(i)") }
                var cold = measure(coldSpec, warmup: 0, runs: config.coldRuns)
                cold.note = "each run with a new, empty WASMAOT_CACHE_DIR: baseline tier compile + link + run (the optimized tier's background build is waited for after each run, untimed)"
                slots.append(.done(cold))
            } else {
                for e in [Engine.artifact, Engine.runHit, Engine.runCold] { slots.append(.done(BenchRow(engine: e, unavailable: tools.why("wasmaot")))) }
            }
            // wasmtime: sightglass noop imports bench.start/end, which wasmtime-min cannot take
            // from a --preload (compiled out), so both wasmtime rows stub unknown imports instead.
            let stub = p.dir ? ["-W", "unknown-imports-default=y"] : []
            if let wt = tools.wasmtime {
                let argv = [wt, "run", "-C", "cache-config=\(wasmtimeCacheConfig)"] + stub + (p.dir ? ["--dir", "."] : []) + [p.wasm]
                slots.append(.spec(RowSpec(Engine.wasmtime, argv, env: baseEnv, cwd: p.cwd, expect: check)))
            } else {
                slots.append(.done(BenchRow(engine: Engine.wasmtime, unavailable: tools.why("wasmtime"))))
            }
            if let min = tools.wasmtimeMin, let wt = tools.wasmtime {
                let cwasm = "\(scratch)/startup-\(section.cases.count).cwasm"
                let r = try spawner.run([wt, "compile", "-C", "collector=drc", "-W", "threads=n", p.wasm, "-o", cwasm], environment: baseEnv, timeout: 600)
                if r.ok {
                    let argv = [min, "run", "--allow-precompiled"] + stub + (p.dir ? ["--dir", "."] : []) + [cwasm]
                    slots.append(.spec(RowSpec(Engine.wasmtimeMin, argv, env: baseEnv, cwd: p.cwd, expect: check)))
                } else {
                    slots.append(.done(BenchRow(engine: Engine.wasmtimeMin, unavailable: "wasmtime compile -C collector=drc -W threads=n: \(r.failureSummary)")))
                }
            } else {
                slots.append(.done(BenchRow(engine: Engine.wasmtimeMin, unavailable: tools.missing["wasmtime-min"] ?? tools.why("wasmtime"))))
            }
            c.measurements = measureSlots(slots, warmup: warm, runs: runs)
            for i in c.measurements.indices {
                switch c.measurements[i].engine {
                case Engine.artifact where c.measurements[i].wall != nil:
                    c.measurements[i].note = "the executable `wasmaot cache artifact` returns, started directly with WASMAOT_WASI set as `wasmaot run` sets it"
                case Engine.runHit: c.measurements[i].note = runHitNote
                default: break
                }
            }
            section.cases.append(c)
        }
        return section
    }

    // MARK: - 3. container start

    func containerSection() throws -> Section {
        var section = Section(id: "container", title: "Container start", notes: [
            "One container per run, created, started and removed by `… run` (not detached), whole command timed: hello world printed by the container's process.",
            "The native bundle's entrypoint is the static C hello; the Wasm bundle's is hello.wasm with annotation module.wasm.image/variant=compat, which wasmaot-oci replaces by the cached artifact (the optimized tier compiled into the wrapper's cache before the first run, shared by all Wasm rows).",
            "runc rows: \(config.containerWarmup) warm-up + \(config.containerRuns) runs; podman and ctr rows: 1 warm-up + \(config.podmanRuns) runs (podman: storage vfs in a private directory, --network none; ctr: a private containerd, CRI off, native snapshotter, images exported from podman); runs interleaved across the rows of a case.",
            "wasmaot-oci gets its settings (delegate runc, a private cache) from a file named by its own global flag `--wasmaot-config` (podman: `--runtime-flag wasmaot-config=FILE`), or by the environment (runc rows; containerd: the daemon's environment, which shims and runtimes inherit).",
        ])
        guard getuid() == 0 else {
            section.notes.append("Not run: the container section needs root (runc without a rootless set-up).")
            section.cases.append(BenchCase(name: "runc level", measurements: [BenchRow(engine: Engine.runcNative, unavailable: "needs root")]))
            return section
        }
        guard let runc = tools.runc else {
            section.cases.append(BenchCase(name: "runc level", measurements: [BenchRow(engine: Engine.runcNative, unavailable: tools.why("runc"))]))
            return section
        }
        let built: (wasm: String, native: String)
        do { built = try buildC(programsDir + "/startup/hello.c", name: "hello") } catch {
            section.cases.append(BenchCase(name: "runc level", measurements: [BenchRow(engine: Engine.runcNative, unavailable: "\(error)")]))
            return section
        }
        let root = scratch + "/containers"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let native = try makeBundle(root + "/bundle-native", files: ["hello": built.native], args: ["/hello"], annotations: [:], runc: runc)
        let wasm = try makeBundle(root + "/bundle-wasm", files: ["hello.wasm": built.wasm], args: ["/hello.wasm"],
                                  annotations: ["module.wasm.image/variant": "compat"], runc: runc)
        let expectHello: (ProcessResult) -> String? = { [self] r in compareOutput(r, stdout: "hello, world\n", stderr: nil) }
        let state = root + "/state"
        let ociCache = root + "/oci-cache"   // shared by the runc, podman and ctr rows
        // The optimized tier compiled up front: no background tier-up build competing with the
        // timed runs for the 2 cores, and every Wasm row starts the same -O2 artifact.
        if let aot = tools.wasmaot {
            let r = try spawner.run([aot, "cache", "artifact", built.wasm, "--cache-dir", ociCache, "--tier", "optimized"],
                                    environment: baseEnv, timeout: 1800)
            if !r.ok { log.say("  warming the wasmaot-oci cache failed: \(r.failureSummary)") }
        }
        var counter = 0
        func newID() -> String { counter += 1; return "wasmaot-bench-\(getpid())-\(counter)" }

        var runcCase = BenchCase(name: "runc level", detail: "runc \(runc)")
        /// Restores config.json (wasmaot-oci rewrites it on every Wasm run) and picks a fresh id.
        func runcRow(_ engine: String, exe: String, bundle: (path: String, config: Data), env: [String: String]) -> Slot {
            var id = ""
            let argv = [exe, "--root", state, "run", "--bundle", bundle.path]
            var spec = RowSpec(engine, argv + ["<fresh id>"], env: env, timeout: 120, warmupTimeout: 1800, expect: expectHello)
            spec.prepare = { _ in
                try bundle.config.write(to: URL(fileURLWithPath: bundle.path + "/config.json"))
                id = newID()
                return nil
            }
            spec.argvFor = { _ in argv + [id] }
            spec.after = { [self] _ in _ = try? spawner.run([runc, "--root", state, "delete", "--force", id], environment: baseEnv, timeout: 60) }
            return .spec(spec)
        }
        var slots = [runcRow(Engine.runcNative, exe: runc, bundle: native, env: baseEnv)]
        if let oci = tools.wasmaotOCI {
            var e = baseEnv
            e["WASMAOT_OCI_DELEGATE"] = runc
            e["WASMAOT_OCI_CACHE_DIR"] = ociCache
            e["WASMAOT_OCI_CONFIG"] = root + "/no-such-oci.toml"
            if let aot = tools.wasmaot { e["WASMAOT_OCI_COMPILER"] = aot }
            slots.append(runcRow(Engine.ociNative, exe: oci, bundle: native, env: e))
            slots.append(runcRow(Engine.ociWasm, exe: oci, bundle: wasm, env: e))
        } else {
            slots.append(.done(BenchRow(engine: Engine.ociNative, unavailable: tools.why("wasmaot-oci"))))
            slots.append(.done(BenchRow(engine: Engine.ociWasm, unavailable: tools.why("wasmaot-oci"))))
        }
        runcCase.measurements = measureSlots(slots, warmup: config.containerWarmup, runs: config.containerRuns)
        section.cases.append(runcCase)
        var archives: [String: String] = [:]
        section.cases.append(try podmanCase(root: root, built: built, runc: runc, expect: expectHello, archives: &archives))
        section.cases.append(try ctrCase(root: root, archives: archives, runc: runc, expect: expectHello))
        section.cases.append(criCase())
        return section
    }

    /// Pod start as the kubelet sees it: Tests/ContainerTests/cri/cri_test.py's bench mode drives a
    /// private containerd 1.6 with its CRI plugin over CRI v1 (RunPodSandbox → CreateContainer →
    /// StartContainer → the program's line in the CRI log), Wasm and native pods interleaved, both
    /// under the `wasmaot` runtime handler of deploy/containerd/config.toml.
    func criCase() -> BenchCase {
        var c = BenchCase(name: "containerd CRI (pod start)", detail: "RunPodSandbox until the first log line; cri_test.py bench")
        let rows = [Engine.criNative, Engine.criWasm]
        let python = config.packageRoot + "/.build/cri-venv/bin/python", script = config.packageRoot + "/Tests/ContainerTests/cri/cri_test.py"
        guard FileManager.default.isExecutableFile(atPath: python) else {
            c.measurements = rows.map { BenchRow(engine: $0, unavailable: "no .build/cri-venv (run .ci/setup)") }
            return c
        }
        guard let oci = tools.wasmaotOCI, let aot = tools.wasmaot else {
            c.measurements = rows.map { BenchRow(engine: $0, unavailable: tools.why("wasmaot-oci")) }
            return c
        }
        let json = scratch + "/cri-bench.json"
        let argv = [python, script, "bench", "--runs", "\(config.podmanRuns)", "--wrapper", oci, "--wasmaot", aot, "--json", json]
        let r: ProcessResult
        do { r = try spawner.run(argv, environment: baseEnv, timeout: 1800) } catch {
            c.measurements = rows.map { BenchRow(engine: $0, unavailable: "\(error)") }
            return c
        }
        guard r.ok, let data = FileManager.default.contents(atPath: json),
              let doc = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let bench = doc["bench"] as? [String: Any],
              let samples = bench["samples"] as? [String: [[String: Double]]] else {
            c.measurements = rows.map { BenchRow(engine: $0, unavailable: "cri_test.py bench failed: \(r.failureSummary)") }
            return c
        }
        c.measurements = [("native", Engine.criNative), ("wasm", Engine.criWasm)].map { kind, engine in
            var row = BenchRow(engine: engine, command: argv)
            row.wallSamples = (samples[kind] ?? []).compactMap { $0["total"] }
            row.wall = Summary(row.wallSamples)
            row.output = row.wallSamples.isEmpty ? "no samples" : "ok"
            return row
        }
        return c
    }

    /// A bundle made by `runc spec`: rootfs with `files` (name in / → host path), process args,
    /// annotations. Returns its path and the pristine config.json.
    func makeBundle(_ path: String, files: [String: String], args: [String], annotations: [String: String], runc: String) throws -> (path: String, config: Data) {
        let rootfs = path + "/rootfs"
        try FileManager.default.createDirectory(atPath: rootfs, withIntermediateDirectories: true)
        for (name, src) in files {
            try FileManager.default.copyItem(atPath: src, toPath: rootfs + "/" + name)
            chmod(rootfs + "/" + name, 0o755)
        }
        let r = try spawner.run([runc, "spec", "--bundle", path], environment: baseEnv, timeout: 30)
        guard r.ok else { throw SpawnError("runc spec: \(r.failureSummary)") }
        let url = URL(fileURLWithPath: path + "/config.json")
        guard var config = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any],
              var process = config["process"] as? [String: Any] else { throw SpawnError("runc spec wrote an unexpected config.json") }
        process["terminal"] = false
        process["args"] = args
        process["env"] = ["PATH=/"]
        config["process"] = process
        config["annotations"] = annotations
        let data = try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted])
        try data.write(to: url)
        return (path, data)
    }

    /// `archives`: the two images as OCI archives under `root` (kind → path), for the ctr rows.
    func podmanCase(root: String, built: (wasm: String, native: String), runc: String, expect: @escaping (ProcessResult) -> String?,
                    archives: inout [String: String]) throws -> BenchCase {
        var c = BenchCase(name: "podman", detail: nil)
        let rows = [Engine.podmanNative, Engine.podmanOCINative, Engine.podmanOCIWasm]
        guard let podman = tools.podman else {
            c.measurements = rows.map { BenchRow(engine: $0, unavailable: tools.why("podman")) }
            return c
        }
        guard let oci = tools.wasmaotOCI else {
            c.measurements = [BenchRow(engine: Engine.podmanNative, unavailable: "skipped with the wasmaot-oci rows")]
                + rows.dropFirst().map { BenchRow(engine: $0, unavailable: tools.why("wasmaot-oci")) }
            return c
        }
        // A short private directory: podman refuses a runroot longer than 50 characters.
        var template = Array("/tmp/wbp-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw SpawnError("mkdtemp failed") }
        let p = String(cString: made)
        defer {
            cleanupMounts(under: p)
            try? FileManager.default.removeItem(atPath: p)
        }
        for d in ["storage", "runroot", "tmp", "ctx-native", "ctx-wasm", "bin"] {
            try FileManager.default.createDirectory(atPath: "\(p)/\(d)", withIntermediateDirectories: true)
        }
        let confPath = p + "/containers.conf", registries = p + "/registries.conf"
        try """
            [containers]
            default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
            [engine]
            events_logger = "file"
            cgroup_manager = "cgroupfs"

            """.write(toFile: confPath, atomically: true, encoding: .utf8)
        try "unqualified-search-registries = []\n".write(toFile: registries, atomically: true, encoding: .utf8)
        // conmon gives the runtime a scrubbed environment, so wasmaot-oci's settings come from a
        // file named by its own global flag, passed by podman to every runtime call (the host's
        // /etc/wasmaot/oci.toml is left alone).
        let ociToml = p + "/oci.toml"
        try """
            delegate = "\(runc)"
            cache_dir = "\(root)/oci-cache"
            \(tools.wasmaot.map { "wasmaot = \"\($0)\"" } ?? "")

            """.write(toFile: ociToml, atomically: true, encoding: .utf8)
        let ociFlag = ["--runtime-flag", "wasmaot-config=\(ociToml)"]
        var env = baseEnv
        env["CONTAINERS_CONF"] = confPath
        env["CONTAINERS_REGISTRIES_CONF"] = registries
        let global = ["--root", p + "/storage", "--runroot", p + "/runroot", "--storage-driver", "vfs", "--tmpdir", p + "/tmp",
                      "--cgroup-manager", "cgroupfs", "--events-backend", "file"]
        // Images FROM scratch.
        var images: [String: String] = [:]
        for (kind, src, name) in [("native", built.native, "hello"), ("wasm", built.wasm, "hello.wasm")] {
            try? FileManager.default.removeItem(atPath: "\(p)/ctx-\(kind)/\(name)")
            try FileManager.default.copyItem(atPath: src, toPath: "\(p)/ctx-\(kind)/\(name)")
            chmod("\(p)/ctx-\(kind)/\(name)", 0o755)
            try "FROM scratch\nCOPY \(name) /\(name)\nCMD [\"/\(name)\"]\n".write(toFile: "\(p)/ctx-\(kind)/Containerfile", atomically: true, encoding: .utf8)
            let ref = "localhost/wasmaot-bench/\(kind):latest"
            let r = try spawner.run([podman] + global + ["build", "--layers=false", "-f", "\(p)/ctx-\(kind)/Containerfile", "-t", ref, "\(p)/ctx-\(kind)"],
                                    environment: env, timeout: 600)
            guard r.ok else {
                log.say("  podman build failed: \(r.failureSummary)")
                c.measurements = rows.map { BenchRow(engine: $0, unavailable: "podman build: \(r.failureSummary)") }
                return c
            }
            images[kind] = ref
            let archive = "\(root)/image-\(kind).tar"
            try? FileManager.default.removeItem(atPath: archive)
            let saved = try spawner.run([podman] + global + ["save", "--format", "oci-archive", "-o", archive, ref], environment: env, timeout: 600)
            if saved.ok { archives[kind] = archive } else { log.say("  podman save failed (no ctr rows): \(saved.failureSummary)") }
        }
        defer {
            _ = try? spawner.run([podman] + global + ["rm", "--all", "--force", "--time", "0"], environment: env, timeout: 120)
            _ = try? spawner.run([podman] + global + ["rmi", "--all", "--force"], environment: env, timeout: 120)
            cleanupMounts(under: p)
        }
        let runFlags = ["run", "--rm", "--network", "none", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]
        let plan: [(String, [String], [String], String)] = [
            (Engine.podmanNative, ["--runtime", runc], [], images["native"]!),
            (Engine.podmanOCINative, ["--runtime", oci] + ociFlag, [], images["native"]!),
            (Engine.podmanOCIWasm, ["--runtime", oci] + ociFlag, ["--annotation", "module.wasm.image/variant=compat"], images["wasm"]!),
        ]
        c.measurements = measureRows(plan.map { engine, runtime, extra, image in
            RowSpec(engine, [podman] + global + runtime + runFlags + extra + [image], env: env, timeout: 120, warmupTimeout: 1800, expect: expect)
        }, warmup: 1, runs: config.podmanRuns)
        c.detail = "podman \(podman), --storage-driver vfs, --cgroup-manager cgroupfs, --network none"
        return c
    }

    /// `ctr run --rm` through a private containerd (CRI off, native snapshotter) with the runc v2
    /// shim; the runtime binary per row via `--runc-binary`. ctr does not copy image annotations
    /// into the OCI config, so the Wasm row passes the annotation on the command line.
    func ctrCase(root: String, archives: [String: String], runc: String, expect: @escaping (ProcessResult) -> String?) throws -> BenchCase {
        var c = BenchCase(name: "containerd (ctr run)", detail: nil)
        let rows = [Engine.ctrNative, Engine.ctrOCINative, Engine.ctrOCIWasm]
        guard let containerd = tools.containerd, let ctr = tools.ctr else {
            c.measurements = rows.map { BenchRow(engine: $0, unavailable: tools.why("containerd")) }
            return c
        }
        guard let oci = tools.wasmaotOCI else {
            c.measurements = rows.map { BenchRow(engine: $0, unavailable: tools.why("wasmaot-oci")) }
            return c
        }
        guard let nativeImage = archives["native"], let wasmImage = archives["wasm"] else {
            c.measurements = rows.map { BenchRow(engine: $0, unavailable: "no images (built by the podman rows)") }
            return c
        }
        // Short paths: the daemon's unix sockets must fit in sun_path.
        var template = Array("/tmp/wbc-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw SpawnError("mkdtemp failed") }
        let p = String(cString: made)
        for d in ["root", "state", "runc", "fifo"] { try FileManager.default.createDirectory(atPath: "\(p)/\(d)", withIntermediateDirectories: true) }
        let socket = p + "/containerd.sock"
        try """
            version = 2
            root = "\(p)/root"
            state = "\(p)/state"
            disabled_plugins = ["io.containerd.grpc.v1.cri"]
            [grpc]
              address = "\(socket)"
            [ttrpc]
              address = "\(p)/containerd-ttrpc.sock"

            """.write(toFile: p + "/containerd.toml", atomically: true, encoding: .utf8)
        let ociToml = p + "/oci.toml"
        try """
            delegate = "\(runc)"
            cache_dir = "\(root)/oci-cache"
            \(tools.wasmaot.map { "wasmaot = \"\($0)\"" } ?? "")

            """.write(toFile: ociToml, atomically: true, encoding: .utf8)
        var env = baseEnv
        env["WASMAOT_OCI_CONFIG"] = ociToml   // the daemon's environment reaches shims and runtimes
        let daemon = try startDaemon([containerd, "--config", p + "/containerd.toml"], environment: env, log: p + "/containerd.log")
        defer {
            kill(daemon, SIGTERM)
            var st: Int32 = 0
            for _ in 0..<200 where waitpid(daemon, &st, WNOHANG) == 0 { usleep(50_000) }
            if waitpid(daemon, &st, WNOHANG) == 0 { kill(daemon, SIGKILL); waitpid(daemon, &st, 0) }
            cleanupMounts(under: p)
            try? FileManager.default.removeItem(atPath: p)
        }
        let base = [ctr, "--address", socket, "--namespace", "wasmaot-bench"]
        var up = false
        for _ in 0..<200 {
            if (try? spawner.run(base + ["version"], environment: env, timeout: 5))?.ok == true { up = true; break }
            usleep(100_000)
        }
        guard up else {
            let text = (try? String(contentsOfFile: p + "/containerd.log", encoding: .utf8)) ?? ""
            c.measurements = rows.map { BenchRow(engine: $0, unavailable: "containerd did not start: \(text.suffix(300))") }
            return c
        }
        var refs: [String: String] = [:]
        for (kind, archive) in [("native", nativeImage), ("wasm", wasmImage)] {
            let r = try spawner.run(base + ["images", "import", "--snapshotter", "native", archive], environment: env, timeout: 600)
            guard r.ok else {
                c.measurements = rows.map { BenchRow(engine: $0, unavailable: "ctr images import: \(r.failureSummary)") }
                return c
            }
            refs[kind] = "localhost/wasmaot-bench/\(kind):latest"
        }
        var counter = 0
        func row(_ engine: String, runtime: String, extra: [String], image: String) -> RowSpec {
            let argv = base + ["run", "--rm", "--runc-binary", runtime, "--runc-root", p + "/runc", "--fifo-dir", p + "/fifo",
                               "--snapshotter", "native"] + extra + [image]
            var id = ""
            var spec = RowSpec(engine, argv + ["<fresh id>"], env: env, timeout: 120, warmupTimeout: 1800, expect: expect)
            spec.prepare = { _ in counter += 1; id = "wasmaot-bench-\(getpid())-\(counter)"; return nil }
            spec.argvFor = { _ in argv + [id] }
            return spec
        }
        c.measurements = measureRows([
            row(Engine.ctrNative, runtime: runc, extra: [], image: refs["native"]!),
            row(Engine.ctrOCINative, runtime: oci, extra: [], image: refs["native"]!),
            row(Engine.ctrOCIWasm, runtime: oci, extra: ["--annotation", "module.wasm.image/variant=compat"], image: refs["wasm"]!),
        ], warmup: 1, runs: config.podmanRuns)
        c.detail = "containerd \(containerd) (private daemon, CRI off), ctr run --rm --snapshotter native, runc v2 shim"
        return c
    }

    /// A long-running process (a daemon) with stdio to `log`; the caller stops and reaps it.
    func startDaemon(_ argv: [String], environment: [String: String], log: String) throws -> pid_t {
        var fa = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fa)
        defer { posix_spawn_file_actions_destroy(&fa) }
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&fa, 1, 2)
        let args = argv.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (args + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, argv[0], &fa, nil, args, envp)
        guard rc == 0 else { throw SpawnError("cannot start \(argv[0]): \(String(cString: strerror(rc)))") }
        return pid
    }

    /// Lazily unmounts anything podman left mounted below `dir` (vfs layers, shm).
    func cleanupMounts(under dir: String) {
        let mounts = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
        let points = mounts.split(separator: "\n").compactMap { line -> String? in
            let f = line.split(separator: " ")
            guard f.count > 4 else { return nil }
            let mp = String(f[4]).replacingOccurrences(of: "\\040", with: " ")
            return mp.hasPrefix(dir + "/") ? mp : nil
        }
        for mp in points.sorted(by: { $0.count > $1.count }) { umount2(mp, Int32(MNT_DETACH)) }
    }

    // MARK: - 4. throughput

    func throughputSection() throws -> Section {
        var section = Section(id: "throughput", title: "Throughput", notes: [
            "Metric per case: bench.start → bench.end when every engine in the row reports it (wasmaot `run --bench-timing`; wasmtime with a preloaded `bench` module timing through WASI clock_time_get; native C via the same region in bench.h), else the whole process.",
            "Each engine: \(config.throughputWarmup) warm-up run(s) (wasmaot and wasmtime compile into their caches there), then \(config.throughputRuns) timed runs interleaved across the engines of a case; wasmaot through `wasmaot run` (cache hit, host CPU) with the tier pinned: `--tier optimized` (-O2, row “wasmaot”) and `--tier baseline` (row “wasmaot baseline tier”); wasmtime through `wasmtime run` (cache warm, default settings).",
            "Outputs are compared: sightglass against *.stdout.expected / *.stderr.expected (timing lines removed, trailing whitespace at the end ignored), or wasmaot against wasmtime where there is no expected output; C programs against the native build’s output.",
            "C programs: clang-14 -O2 → wasm32-wasi, and clang-14 -O2 -static natively, from Benchmarks/programs/*.c\(config.quick ? " (quick mode: smaller problem sizes)" : "").",
        ])
        // C programs
        for (name, quickSize) in BenchConfig.programs where config.selected("\(name).c") {
            log.say("throughput: \(name).c")
            var c = BenchCase(name: "\(name).c")
            let args = config.quick ? [quickSize] : []
            c.detail = args.isEmpty ? "full size" : "size \(quickSize)"
            let built: (wasm: String, native: String)
            do { built = try buildC("\(programsDir)/\(name).c", name: name) } catch {
                c.measurements = [BenchRow(engine: Engine.nativeT, unavailable: "\(error)")]
                section.cases.append(c)
                continue
            }
            // The native output is the reference for the Wasm engines.
            let reference = try spawner.run([built.native] + args, environment: baseEnv, cwd: scratch, timeout: 600)
            guard reference.ok else {
                c.measurements = [BenchRow(engine: Engine.nativeT, unavailable: "native run failed: \(reference.failureSummary)")]
                section.cases.append(c)
                continue
            }
            let expect: (ProcessResult) -> String? = { [self] r in compareOutput(r, stdout: reference.stdoutText, stderr: nil) }
            let nativeSpec = RowSpec(Engine.nativeT, [built.native] + args, env: baseEnv, cwd: scratch, timeout: 900, expect: expect)
            c.measurements = wasmRows(wasm: built.wasm, args: args, dir: false, cwd: scratch, expect: expect, native: nativeSpec)
            section.cases.append(c)
        }
        // sightglass
        let all = sightglassModules()
        if all.isEmpty { section.notes.append("sightglass corpus not found at \(config.corpus): only the C programs ran.") }
        let modules = all.filter { m in
            config.quick && config.only.isEmpty ? BenchConfig.quickSightglass.contains(m.name) && !config.exclude.contains(where: { m.name.contains($0) })
                : config.selected(m.name)
        }.filter { $0.name != "noop" }
        if config.quick { section.notes.append("Quick mode: sightglass subset \(modules.map(\.name).joined(separator: ", ")); the full mode runs all \(all.count - 1) modules (noop is in the start-up section).") }
        for m in modules {
            log.say("throughput: sightglass \(m.name)")
            var c = BenchCase(name: m.name, detail: "sightglass \(URL(fileURLWithPath: m.directory).lastPathComponent)/\(m.stem).wasm")
            let cwd: String
            do { cwd = try privateCopy(m) } catch {
                c.measurements = [BenchRow(engine: Engine.wasmaot, unavailable: "\(error)")]
                section.cases.append(c)
                continue
            }
            let expect: (ProcessResult) -> String? = { [self] r in compareOutput(r, stdout: m.expectedStdout, stderr: m.expectedStderr) }
            c.measurements = wasmRows(wasm: "\(cwd)/\(m.stem).wasm", args: [], dir: true, cwd: cwd, expect: m.expectedStdout == nil && m.expectedStderr == nil ? nil : expect)
            // Without expected files, at least the two engines must agree.
            if m.expectedStdout == nil, c.row(Engine.wasmaot)?.wall != nil, c.row(Engine.wasmtimeT)?.wall != nil,
               let aot = try? spawner.run([tools.wasmaot!, "run", "--dir", ".", "\(cwd)/\(m.stem).wasm"], environment: aotEnv(), cwd: cwd, timeout: 600),
               let wt = try? spawner.run(wasmtimeRun("\(cwd)/\(m.stem).wasm", dir: true, preload: benchTiming), environment: baseEnv, cwd: cwd, timeout: 600) {
                // Such programs may print their own timings (hashset: "That took 0.0296 seconds."),
                // so a second comparison masks digits and says so.
                func masked(_ d: Data) -> String { String(String(decoding: d, as: UTF8.self).map { $0.isNumber ? "#" : $0 }) }
                let verdict: String
                if aot.status != wt.status { verdict = "engines disagree: exit \(aot.status) vs \(wt.status) (no expected output)" }
                else if aot.stdout == wt.stdout { verdict = "ok (engines agree; no expected output)" }
                else if masked(aot.stdout) == masked(wt.stdout) { verdict = "ok (engines agree apart from numbers, e.g. printed timings; no expected output)" }
                else { verdict = "engines disagree (no expected output): " + Fmt.firstDifference(aot.stdoutText, wt.stdoutText) }
                for i in c.measurements.indices { c.measurements[i].output = verdict }
            }
            section.cases.append(c)
        }
        return section
    }

    /// [native,] wasmaot and wasmtime rows for one module, timed runs interleaved.
    func wasmRows(wasm: String, args: [String], dir: Bool, cwd: String, expect: ((ProcessResult) -> String?)?, native: RowSpec? = nil) -> [BenchRow] {
        var slots: [Slot] = native.map { [.spec($0)] } ?? []
        let dirArgs = dir ? ["--dir", "."] : []
        if let aot = tools.wasmaot {
            // Both tiers, each pinned (with --tier auto the warm-up would start the baseline tier).
            slots.append(.spec(RowSpec(Engine.wasmaot, [aot, "run", "--tier", "optimized", "--bench-timing"] + dirArgs + [wasm] + args,
                                       env: aotEnv(), cwd: cwd, timeout: 900, warmupTimeout: 3600, expect: expect)))
            slots.append(.spec(RowSpec(Engine.wasmaotBaseline, [aot, "run", "--tier", "baseline", "--bench-timing"] + dirArgs + [wasm] + args,
                                       env: aotEnv(), cwd: cwd, timeout: 900, warmupTimeout: 3600, expect: expect)))
        } else {
            slots.append(.done(BenchRow(engine: Engine.wasmaot, unavailable: tools.why("wasmaot"))))
            slots.append(.done(BenchRow(engine: Engine.wasmaotBaseline, unavailable: tools.why("wasmaot"))))
        }
        if tools.wasmtime != nil {
            var spec = RowSpec(Engine.wasmtimeT, wasmtimeRun(wasm, dir: dir, preload: benchTiming, args: args), env: baseEnv, cwd: cwd,
                               timeout: 900, warmupTimeout: 3600, expect: expect)
            // Nothing to compare with when wasmaot cannot run the module (e.g. GC): one run, for the record.
            spec.runsWhenAlone = 1
            slots.append(.spec(spec))
        } else {
            slots.append(.done(BenchRow(engine: Engine.wasmtimeT, unavailable: tools.why("wasmtime"))))
        }
        return measureSlots(slots, warmup: config.throughputWarmup, runs: config.throughputRuns)
    }

    // MARK: - 5. compile

    func compileSection() throws -> Section {
        var section = Section(id: "compile", title: "Compile time and artifact size", notes: [
            "`wasmaot compile X.wasm -o X --cpu native` with `--tier baseline` and with -O2 (the optimized tier; each a linked static executable) vs `wasmtime compile X.wasm -o X.cwasm` (defaults: host CPU, parallel compilation); wall time and user+sys CPU time, \(config.compileRuns) run(s) each.",
            "Artifact sizes: wasmaot's is a whole static executable (runtime and libc included); wasmtime's .cwasm needs the wasmtime runtime to run.",
        ])
        var inputs: [(name: String, wasm: String, detail: String)] = []
        for (name, _) in BenchConfig.programs where config.selected("\(name).c") {
            if let b = try? buildC("\(programsDir)/\(name).c", name: name) { inputs.append(("\(name).c", b.wasm, "C program")) }
        }
        for m in sightglassModules() {
            let pick: Bool
            if !config.only.isEmpty { pick = config.selected(m.name) }
            else if config.quick { pick = BenchConfig.quickCompile.contains(m.name) && config.selected(m.name) }
            else { pick = config.selected(m.name) && (!m.name.hasPrefix("libsodium-") || BenchConfig.libsodiumCompile.contains(m.name)) }
            if pick && m.name != "noop" { inputs.append((m.name, m.wasmPath, "sightglass")) }
        }
        for extra in config.extraModules {
            inputs.append((URL(fileURLWithPath: extra).lastPathComponent, extra, "--module \(extra)"))
        }
        if config.quick { section.notes.append("Quick mode: the C programs and \(BenchConfig.quickCompile.joined(separator: ", ")); the full mode compiles every sightglass module (of the libsodium-* tests, which share one library, \(BenchConfig.libsodiumCompile.count) representatives).") }
        else if config.only.isEmpty { section.notes.append("Of the libsodium-* tests (one library linked into many small programs) only \(BenchConfig.libsodiumCompile.joined(separator: ", ")) are compiled here; `--only libsodium` compiles all.") }
        let out = scratch + "/compile"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        for (name, wasm, detail) in inputs {
            log.say("compile: \(name)")
            var c = BenchCase(name: name, detail: "\(detail), \(Fmt.bytes(fileSize(wasm))) of Wasm")
            for (engine, flag) in [(Engine.aotBaseline, "--tier=baseline"), (Engine.aotO2, "-O2")] {
                guard let aot = tools.wasmaot else { c.measurements.append(BenchRow(engine: engine, unavailable: tools.why("wasmaot"))); continue }
                let exe = "\(out)/\(name)\(flag)"
                var m = measure(RowSpec(engine, [aot, "compile", wasm, "-o", exe, flag, "--cpu", "native"], env: baseEnv, timeout: 7200), warmup: 0, runs: config.compileRuns)
                m.bytes = fileSize(exe)
                try? FileManager.default.removeItem(atPath: exe)
                c.measurements.append(m)
            }
            if let wt = tools.wasmtime {
                let cwasm = "\(out)/\(name).cwasm"
                var m = measure(RowSpec(Engine.wtCompile, [wt, "compile", wasm, "-o", cwasm], env: baseEnv, timeout: 7200), warmup: 0, runs: config.compileRuns)
                m.bytes = fileSize(cwasm)
                try? FileManager.default.removeItem(atPath: cwasm)
                c.measurements.append(m)
            } else {
                c.measurements.append(BenchRow(engine: Engine.wtCompile, unavailable: tools.why("wasmtime")))
            }
            section.cases.append(c)
        }
        return section
    }
}

extension Harness {
    /// Waits for background builds in `cache` (untimed), then removes it.
    func waitAndRemove(cache: String) {
        if let aot = tools.wasmaot {
            _ = try? spawner.run([aot, "cache", "wait", "--timeout", "3600", "--cache-dir", cache], environment: baseEnv, timeout: 3700)
        }
        try? FileManager.default.removeItem(atPath: cache)
    }

    // MARK: - cold start

    /// What a node pays for a module it has never compiled: `wasmaot run` with an empty cache (the
    /// baseline tier compiled and started, the optimized tier scheduled in the background) against
    /// `wasmtime run -C cache=n` (Cranelift compile + run), whole process. Then the same module
    /// warm: `wasmaot run` after the background build against the -O2 artifact alone.
    func coldStartSection() throws -> Section {
        var section = Section(id: "coldstart", title: "Cold start", notes: [
            "Whole process, spawn → exit. Cold rows: \(config.coldStartRuns) timed runs each, interleaved across the two engines: `wasmaot run` with a new, empty WASMAOT_CACHE_DIR (compile the baseline tier + link + run; its background build of the optimized tier is waited for after the run, untimed, and the cache removed) and `wasmtime run -C cache=n` (compile with Cranelift on all cores + run; `bench` imports from a preloaded no-op module, as wasmaot's are no-ops without --bench-timing).",
            "Warm rows: a cache primed by one cold `wasmaot run` and `wasmaot cache wait`; then `wasmaot run` (the launcher starts the optimized tier) and the -O2 artifact it starts, run directly with WASMAOT_WASI set as `wasmaot run` sets it; \(config.coldStartRuns) timed runs each, interleaved.",
            "Outputs are checked like the throughput section's (sightglass expected files, C programs against native).",
        ])
        guard let aot = tools.wasmaot else {
            section.notes.append("wasmaot unavailable: \(tools.why("wasmaot"))")
            return section
        }
        struct Input { var name: String; var wasm: String; var cwd: String; var dir: Bool; var detail: String; var expect: ((ProcessResult) -> String?)? }
        var inputs: [Input] = []
        for (name, _) in BenchConfig.programs where config.selected("\(name).c") && (!config.quick || config.only.contains(where: { name.contains($0) })) {
            guard let built = try? buildC("\(programsDir)/\(name).c", name: name) else { continue }
            let reference = try spawner.run([built.native], environment: baseEnv, cwd: scratch, timeout: 600)
            guard reference.ok else { continue }
            inputs.append(Input(name: "\(name).c", wasm: built.wasm, cwd: scratch, dir: false, detail: "C program, full size",
                                expect: { [self] r in compareOutput(r, stdout: reference.stdoutText, stderr: nil) }))
        }
        let modules = sightglassModules().filter { m in
            guard m.name != "noop" else { return false }
            if config.quick && config.only.isEmpty { return BenchConfig.quickColdStart.contains(m.name) }
            // libsodium-*: one library in ~80 tests; the compile section's five.
            if m.name.hasPrefix("libsodium-") && config.only.isEmpty { return BenchConfig.libsodiumCompile.contains(m.name) }
            return config.selected(m.name)
        }
        for m in modules {
            let cwd = try privateCopy(m)
            inputs.append(Input(name: m.name, wasm: "\(cwd)/\(m.stem).wasm", cwd: cwd, dir: true,
                                detail: "sightglass, \(Fmt.bytes(fileSize(m.wasmPath))) of Wasm",
                                expect: m.expectedStdout == nil && m.expectedStderr == nil ? nil
                                    : { [self] r in compareOutput(r, stdout: m.expectedStdout, stderr: m.expectedStderr) }))
        }
        for extra in config.extraModules {
            inputs.append(Input(name: URL(fileURLWithPath: extra).lastPathComponent, wasm: extra, cwd: scratch, dir: false,
                                detail: "--module, \(Fmt.bytes(fileSize(extra))) of Wasm (no arguments)", expect: nil))
        }
        if config.quick && config.only.isEmpty {
            section.notes.append("Quick mode: \(BenchConfig.quickColdStart.joined(separator: ", ")); the full mode runs the C programs and every sightglass module.")
        }
        let coldRoot = scratch + "/coldstart"
        for input in inputs {
            log.say("cold start: \(input.name)")
            var c = BenchCase(name: input.name, detail: input.detail)
            let dirArgs = input.dir ? ["--dir", "."] : []
            var cold = RowSpec(Engine.coldAOT, [aot, "run"] + dirArgs + [input.wasm], env: aotEnv(), cwd: input.cwd, timeout: 3600, expect: input.expect)
            cold.prepare = { [self] i in
                let d = "\(coldRoot)/\(input.name)-\(i)"
                try? FileManager.default.removeItem(atPath: d)
                try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
                return aotEnv(cache: d)
            }
            cold.after = { [self] i in waitAndRemove(cache: "\(coldRoot)/\(input.name)-\(i)") }
            var slots: [Slot] = [.spec(cold)]
            if let wt = tools.wasmtime {
                let argv = [wt, "run", "-C", "cache=n"] + dirArgs + ["--preload", "bench=\(benchNoop)", input.wasm]
                slots.append(.spec(RowSpec(Engine.coldWT, argv, env: baseEnv, cwd: input.cwd, timeout: 3600, expect: input.expect)))
            } else {
                slots.append(.done(BenchRow(engine: Engine.coldWT, unavailable: tools.why("wasmtime"))))
            }
            c.measurements = measureSlots(slots, warmup: 0, runs: config.coldStartRuns)

            // Warm: after tier-up.
            let warmCache = "\(coldRoot)/\(input.name)-warm"
            try? FileManager.default.removeItem(atPath: warmCache)
            let primed = try spawner.run([aot, "run"] + dirArgs + [input.wasm], environment: aotEnv(cache: warmCache), cwd: input.cwd, timeout: 3600)
            _ = try? spawner.run([aot, "cache", "wait", "--timeout", "3600", "--cache-dir", warmCache], environment: baseEnv, timeout: 3700)
            if primed.ok, let artifact = try? cachedArtifact(input.wasm, cache: warmCache) {
                var artifactEnv = baseEnv
                artifactEnv["WASMAOT_WASI"] = input.dir ? "--dir ." : ""
                let warm = measureRows([
                    RowSpec(Engine.warmAOT, [aot, "run"] + dirArgs + [input.wasm], env: aotEnv(cache: warmCache), cwd: input.cwd, timeout: 3600, expect: input.expect),
                    RowSpec(Engine.o2Artifact, [artifact], env: artifactEnv, cwd: input.cwd, timeout: 3600, expect: input.expect),
                ], warmup: 1, runs: config.coldStartRuns)
                c.measurements += warm
            } else {
                let why = primed.ok ? "no optimized artifact after the background build" : "wasmaot run failed: \(primed.failureSummary)"
                c.measurements += [BenchRow(engine: Engine.warmAOT, unavailable: why), BenchRow(engine: Engine.o2Artifact, unavailable: why)]
            }
            try? FileManager.default.removeItem(atPath: warmCache)
            section.cases.append(c)
        }
        return section
    }
}
