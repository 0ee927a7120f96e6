import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Run counts and the case selection of one mode.
public struct BenchConfig: Sendable {
    public var quick: Bool
    public var out: String
    public var packageRoot: String
    public var corpus: String
    public var sections: [String] = BenchConfig.allSections
    /// Substrings: only cases whose name contains one of them (throughput, compile).
    public var only: [String] = []
    public var exclude: [String] = []
    public var startupWarmup = 10, startupRuns = 200, coldRuns = 10
    /// Cold-start section: compile + run with empty caches, per module and engine.
    public var coldStartRuns = 3
    /// Extra modules (e.g. Benchmarks/fetch-large-modules.sh) for the compile and cold-start sections.
    public var extraModules: [String] = []
    // Container rows are cheap (40-200 ms) but noisy (runc run: 20-55 ms on the 2-core VM): many runs,
    // so that medians resolve the wrapper's ~1 ms.
    public var containerWarmup = 3, containerRuns = 300, podmanRuns = 150
    public var throughputWarmup = 1, throughputRuns = 10
    public var compileRuns = 3
    public var keepScratch = false

    public static let allSections = ["startup", "container", "coldstart", "throughput", "compile"]

    /// Sightglass modules of quick mode: small, quick to compile, and together a mix of integer,
    /// memory, floating-point and call-heavy code.
    public static let quickSightglass = ["shootout-fib2", "shootout-sieve", "shootout-matrix", "shootout-keccak",
                                         "shootout-base64", "shootout-heapsort", "quicksort", "richards"]
    public static let quickCompile = ["shootout-keccak", "quicksort", "bz2"]
    /// Cold-start modules of quick mode: short and long runs, small and mid-sized modules.
    public static let quickColdStart = ["shootout-fib2", "shootout-keccak", "quicksort", "bz2", "rust-json", "shootout-sieve"]
    /// The ~80 libsodium-* modules are one library linked into many small tests; the full compile
    /// section takes these representatives of it (`--only libsodium` selects all of them).
    public static let libsodiumCompile = ["libsodium-aead_chacha20poly1305", "libsodium-box", "libsodium-generichash",
                                          "libsodium-pwhash_argon2id", "libsodium-sign"]

    /// C programs: name → (quick size, full size: the program's built-in default).
    public static let programs: [(name: String, quickSize: String)] = [
        ("nbody", "1000000"), ("matmul", "400"), ("sha256", "24"), ("sort", "400000"), ("wordfreq", "600000"),
    ]

    public init(quick: Bool, out: String, packageRoot: String, corpus: String) {
        self.quick = quick
        self.out = out
        self.packageRoot = packageRoot
        self.corpus = corpus
        if quick {
            startupWarmup = 5; startupRuns = 50; coldRuns = 3
            containerWarmup = 2; containerRuns = 20; podmanRuns = 5
            throughputWarmup = 1; throughputRuns = 3
            compileRuns = 1; coldStartRuns = 1
        }
    }

    func selected(_ name: String) -> Bool {
        if exclude.contains(where: { name.contains($0) }) { return false }
        return only.isEmpty || only.contains(where: { name.contains($0) })
    }
}

/// Row names, shared by the sections, the report and the targets.
public enum Engine {
    public static let native = "native static (clang -O2)"
    public static let artifact = "wasmaot artifact (cached)"
    public static let runHit = "wasmaot run (cache hit)"
    public static let runCold = "wasmaot run (cold: baseline tier + run)"
    public static let wasmtime = "wasmtime run (cache warm)"
    public static let wasmtimeMin = "wasmtime-min run (.cwasm)"

    public static let wasmaot = "wasmaot"
    public static let wasmaotBaseline = "wasmaot baseline tier"
    public static let wasmtimeT = "wasmtime"
    public static let nativeT = "native"

    public static let coldAOT = "wasmaot run, cold (empty cache)"
    public static let coldWT = "wasmtime run -C cache=n"
    public static let warmAOT = "wasmaot run, warm (after tier-up)"
    public static let o2Artifact = "-O2 artifact"

    public static let runcNative = "runc run (native static)"
    public static let ociNative = "wasmaot-oci run (native, pass-through)"
    public static let ociWasm = "wasmaot-oci run (Wasm, cache warm)"
    public static let podmanNative = "podman run, runtime runc (native)"
    public static let podmanOCINative = "podman run, runtime wasmaot-oci (native)"
    public static let podmanOCIWasm = "podman run, runtime wasmaot-oci (Wasm, cache warm)"
    public static let ctrNative = "ctr run, runtime runc (native)"
    public static let ctrOCINative = "ctr run, runtime wasmaot-oci (native)"
    public static let ctrOCIWasm = "ctr run, runtime wasmaot-oci (Wasm, cache warm)"
    public static let criNative = "CRI pod, handler wasmaot (native image)"
    public static let criWasm = "CRI pod, handler wasmaot (Wasm image, cache warm)"

    public static let aotBaseline = "wasmaot compile --tier baseline"
    public static let aotO2 = "wasmaot compile -O2"
    public static let wtCompile = "wasmtime compile"
}

/// The `bench` module wasmtime gets with `--preload bench=…`: sightglass modules import
/// `bench.start`/`bench.end`. `timing` makes them report like wasmaot's `--bench-timing`
/// (CLOCK_MONOTONIC via WASI, `bench elapsed: N ns` on stderr); the no-op one is for start-up.
enum BenchModule {
    static let noop = """
        (module (func (export "start")) (func (export "end")))
        """
    static let timing = """
        (module
          (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
          (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 1)
          (global $t0 (mut i64) (i64.const 0))
          (data (i32.const 64) "bench elapsed: ")
          (func $now (result i64)
            (drop (call $clock (i32.const 1) (i64.const 1) (i32.const 0)))
            (i64.load (i32.const 0)))
          (func (export "start") (global.set $t0 (call $now)))
          (func (export "end") (local $ns i64) (local $p i32) (local $len i32)
            (local.set $ns (i64.sub (call $now) (global.get $t0)))
            (local.set $p (i32.const 160))
            (loop $d
              (local.set $p (i32.sub (local.get $p) (i32.const 1)))
              (i64.store8 (local.get $p) (i64.add (i64.const 48) (i64.rem_u (local.get $ns) (i64.const 10))))
              (local.set $ns (i64.div_u (local.get $ns) (i64.const 10)))
              (br_if $d (i64.ne (local.get $ns) (i64.const 0))))
            (local.set $len (i32.sub (i32.const 160) (local.get $p)))
            (memory.copy (i32.const 79) (local.get $p) (local.get $len))
            (i32.store (i32.add (i32.const 79) (local.get $len)) (i32.const 0x0a736e20))
            (i32.store (i32.const 16) (i32.const 64))
            (i32.store (i32.const 20) (i32.add (i32.const 19) (local.get $len)))
            (drop (call $write (i32.const 2) (i32.const 16) (i32.const 1) (i32.const 32)))))
        """
}

/// Sums every `bench elapsed: N ns` line (a program may measure several regions); seconds.
public func parseBenchElapsed(_ stderr: String) -> Double? {
    var total = 0.0, found = false
    for line in stderr.split(separator: "\n") where line.hasPrefix("bench elapsed: ") {
        let num = line.dropFirst("bench elapsed: ".count).prefix { $0.isNumber }
        if let ns = Double(num) { total += ns / 1e9; found = true }
    }
    return found ? total : nil
}

/// stderr without the harness's timing lines (what is compared with `*.stderr.expected`).
func stripBenchLines(_ s: String) -> String {
    s.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("bench elapsed: ") }.joined(separator: "\n")
}

/// A sightglass module: `stem.wasm` in `directory`, with the files it needs.
struct SightglassModule {
    var name: String
    var directory: String
    var stem: String
    var files: [String]
    var expectedStdout: String?
    var expectedStderr: String?
    var wasmPath: String { "\(directory)/\(stem).wasm" }
}

public final class Harness {
    let config: BenchConfig
    let log: Logger
    let spawner: Spawner
    let scratch: String
    var tools: Tools
    var report: BenchReport
    let baseEnv: [String: String]
    let aotCache: String
    let wasmtimeCacheConfig: String
    /// Wasm modules for wasmtime's --preload (binary if wat2wasm exists, else text: wasmtime reads both).
    var benchTiming = ""
    var benchNoop = ""

    public init(config: BenchConfig, toolOptions: ToolOptions, log: Logger, commandLine: String) throws {
        self.config = config
        self.log = log
        var template = Array("/tmp/wasmaot-bench-XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else { throw SpawnError("mkdtemp failed") }
        scratch = String(cString: p)
        spawner = Spawner(scratch: scratch)
        tools = ToolFinder.locate(log: log, spawner: spawner, options: toolOptions)
        let formatter = ISO8601DateFormatter()
        report = BenchReport(mode: config.quick ? "quick" : "full", started: formatter.string(from: Date()), command: commandLine)
        // One small, fixed environment for every engine (environment size affects start-up).
        baseEnv = ["PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": scratch, "LANG": "C"]
        // Persistent caches: a re-run of the harness starts warm (entries are keyed by the compiler
        // identity, so a rebuilt wasmaot never reuses stale artifacts).
        aotCache = toolOptions.toolsDir + "/wasmaot-cache"
        let wtCache = toolOptions.toolsDir + "/wasmtime-cache"
        try FileManager.default.createDirectory(atPath: aotCache, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: wtCache, withIntermediateDirectories: true)
        wasmtimeCacheConfig = scratch + "/wasmtime-cache.toml"
        try "[cache]\ndirectory = \"\(wtCache)\"\n".write(toFile: wasmtimeCacheConfig, atomically: true, encoding: .utf8)
    }

    deinit {
        if !config.keepScratch { try? FileManager.default.removeItem(atPath: scratch) }
    }

    // MARK: - driver

    public func run() throws -> BenchReport {
        report.machine = ToolFinder.machine()
        let cores = Double(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        if let load = Double(ToolFinder.loadAverage().split(separator: " ").first ?? ""), load > 0.25 * cores {
            report.warnings.append("Load average \(load) on \(Int(cores)) cores at the start: other work was running, so the figures are noisy (runs are interleaved across engines, which keeps the ratios fairer than the absolute times).")
        }
        report.versions = ToolFinder.versions(tools, spawner: spawner)
        let paths: [(String, String?)] = [("wasmaot", tools.wasmaot), ("wasmaot-oci", tools.wasmaotOCI), ("wasmtime", tools.wasmtime),
                                          ("wasmtime-min", tools.wasmtimeMin), ("clang", tools.clang), ("runc", tools.runc), ("podman", tools.podman)]
        for (name, path) in paths {
            report.anchors.append(KeyValue("\(name) binary", path ?? "missing: \(tools.why(name))"))
        }
        report.anchors += tools.notes
        for (k, v) in tools.missing.sorted(by: { $0.key < $1.key }) { log.say("anchor \(k) unavailable: \(v)") }
        try prepareBenchModules()
        try FileManager.default.createDirectory(atPath: config.out, withIntermediateDirectories: true)

        for id in config.sections {
            log.say("== section \(id)")
            let section: Section
            switch id {
            case "startup": section = try startupSection()
            case "container": section = try containerSection()
            case "coldstart": section = try coldStartSection()
            case "throughput": section = try throughputSection()
            case "compile": section = try compileSection()
            default: throw SpawnError("unknown section \(id) (sections: \(BenchConfig.allSections.joined(separator: ", ")))")
            }
            report.sections.append(section)
            report.durationSeconds = log.elapsed
            try ReportWriter.write(report, to: config.out)   // partial results survive a later failure
        }
        report.machine.append(KeyValue("load average at end", ToolFinder.loadAverage()))
        report.durationSeconds = log.elapsed
        try ReportWriter.write(report, to: config.out)
        return report
    }

    func prepareBenchModules() throws {
        let dir = scratch + "/bench-module"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for (name, text) in [("timing", BenchModule.timing), ("noop", BenchModule.noop)] {
            let wat = "\(dir)/bench-\(name).wat"
            try text.write(toFile: wat, atomically: true, encoding: .utf8)
            var module = wat
            if let w2w = tools.wat2wasm {
                let wasm = "\(dir)/bench-\(name).wasm"
                let r = try spawner.run([w2w, wat, "-o", wasm], environment: baseEnv, timeout: 60)
                if r.ok { module = wasm }
            }
            if name == "timing" { benchTiming = module } else { benchNoop = module }
        }
    }

    // MARK: - measuring

    /// One row to measure: a command, how to run it, and how to check it.
    struct RowSpec {
        var engine: String
        var argv: [String]
        var env: [String: String]
        var cwd: String?
        var timeout: Double = 600
        var warmupTimeout: Double?
        /// Runs before run `i` (warm-ups count), outside the timing; may return a replacement
        /// environment (fresh cold-cache directories and the like).
        var prepare: ((Int) throws -> [String: String]?)?
        /// Called after `prepare`; may replace the command (fresh container ids).
        var argvFor: ((Int) -> [String])?
        /// Clean-up after run `i`, untimed.
        var after: ((Int) -> Void)?
        /// nil = output right; else what is wrong.
        var expect: ((ProcessResult) -> String?)?
        /// Timed runs when every other row of the group has failed (nothing to compare with).
        var runsWhenAlone: Int?

        init(_ engine: String, _ argv: [String], env: [String: String], cwd: String? = nil, timeout: Double = 600,
             warmupTimeout: Double? = nil, expect: ((ProcessResult) -> String?)? = nil) {
            self.engine = engine
            self.argv = argv
            self.env = env
            self.cwd = cwd
            self.timeout = timeout
            self.warmupTimeout = warmupTimeout
            self.expect = expect
        }
    }

    /// Measures a group of rows that will be compared with each other: every row's warm-up runs
    /// first, then the timed runs *interleaved* — round r runs each row once, starting with a
    /// different row each round — so a burst of load from elsewhere on the machine hits all rows
    /// alike instead of biasing whichever row happened to be running. Every run's exit status is
    /// checked and its output compared; a row's first failure ends that row with `unavailable`.
    func measureRows(_ specs: [RowSpec], warmup: Int, runs: Int) -> [BenchRow] {
        var rows = specs.map { BenchRow(engine: $0.engine, command: $0.argv) }
        var cpu = Array(repeating: [Double](), count: specs.count)
        var failed = Array(repeating: false, count: specs.count)

        /// One run of row k as run number i; false if the row failed.
        func runOnce(_ k: Int, _ i: Int, timed: Bool) -> Bool {
            let spec = specs[k]
            do {
                let e = try spec.prepare?(i) ?? spec.env
                let r = try spawner.run(spec.argvFor?(i) ?? spec.argv, environment: e, cwd: spec.cwd,
                                        timeout: timed ? spec.timeout : (spec.warmupTimeout ?? spec.timeout))
                spec.after?(i)
                guard r.ok else {
                    rows[k].unavailable = "run \(i + 1) failed: \(r.failureSummary)"
                    return false
                }
                if let expect = spec.expect {
                    if let problem = expect(r) {
                        if rows[k].output == nil || rows[k].output == "ok" { log.say("  \(spec.engine): OUTPUT MISMATCH: \(problem)") }
                        rows[k].output = problem
                    } else if rows[k].output == nil {
                        rows[k].output = "ok"
                    }
                }
                if timed {
                    rows[k].wallSamples.append(r.seconds)
                    if let b = parseBenchElapsed(r.stderrText) { rows[k].benchSamples.append(b) }
                    cpu[k].append(r.userSeconds + r.systemSeconds)
                }
                return true
            } catch {
                rows[k].unavailable = "\(error)"
                return false
            }
        }

        for k in specs.indices {
            for i in 0..<warmup where !failed[k] { failed[k] = !runOnce(k, i, timed: false) }
        }
        var quota = Array(repeating: runs, count: specs.count)
        let alive = specs.indices.filter { !failed[$0] }
        if alive.count == 1, specs.count > 1, let solo = specs[alive[0]].runsWhenAlone {
            quota[alive[0]] = min(runs, solo)
            rows[alive[0]].note = "\(quota[alive[0]]) timed run(s) only: no other engine has a result to compare with"
        }
        for round in 0..<runs {
            for j in specs.indices {
                let k = (round + j) % specs.count
                if failed[k] || round >= quota[k] { continue }
                failed[k] = !runOnce(k, warmup + round, timed: true)
            }
        }
        for k in specs.indices {
            var m = rows[k]
            if m.unavailable != nil { m.wallSamples = []; m.benchSamples = []; cpu[k] = [] }
            m.wall = Summary(m.wallSamples)
            m.cpu = m.wall == nil ? nil : Summary(cpu[k])
            // Bench times only when every run reported one.
            m.bench = !m.benchSamples.isEmpty && m.benchSamples.count == m.wallSamples.count ? Summary(m.benchSamples) : nil
            if m.bench == nil { m.benchSamples = [] }
            let shown = m.wall.map { "median \(Fmt.time($0.median))" + (m.bench.map { ", bench \(Fmt.time($0.median))" } ?? "") } ?? "n/a"
            log.say("  \(m.engine): \(m.unavailable ?? shown)")
            rows[k] = m
        }
        return rows
    }

    /// A row of a table in display order: measured (interleaved with the group's other specs) or
    /// already decided (unavailable, or measured on its own).
    enum Slot {
        case spec(RowSpec)
        case done(BenchRow)
    }

    func measureSlots(_ slots: [Slot], warmup: Int, runs: Int) -> [BenchRow] {
        let specs = slots.compactMap { if case .spec(let s) = $0 { return s } else { return nil } }
        var measured = measureRows(specs, warmup: warmup, runs: runs).makeIterator()
        return slots.map { slot in
            switch slot {
            case .spec: return measured.next()!
            case .done(let row): return row
            }
        }
    }

    /// One row on its own (rows that are not compared run for run, e.g. cold compiles).
    func measure(_ spec: RowSpec, warmup: Int, runs: Int) -> BenchRow {
        measureRows([spec], warmup: warmup, runs: runs)[0]
    }

    /// nil if the output is right. Trailing whitespace at the very end is ignored (some of
    /// sightglass's expected files lack the final newline the program prints, e.g. libsodium's
    /// `default.stdout.expected` is "0" for an output of "0\n"); everything else must match exactly.
    func compareOutput(_ r: ProcessResult, stdout: String?, stderr: String?) -> String? {
        func trimEnd(_ s: String) -> Substring {
            var t = Substring(s)
            while let last = t.last, last.isWhitespace { t = t.dropLast() }
            return t
        }
        var problems: [String] = []
        if let stdout, trimEnd(r.stdoutText) != trimEnd(stdout) {
            problems.append("stdout differs (\(r.stdout.count) bytes vs \(stdout.utf8.count) expected): " + Fmt.firstDifference(r.stdoutText, stdout))
        }
        if let stderr {
            let actual = stripBenchLines(r.stderrText)
            if trimEnd(actual) != trimEnd(stderr) { problems.append("stderr differs: " + Fmt.firstDifference(actual, stderr)) }
        }
        return problems.isEmpty ? nil : problems.joined(separator: "; ")
    }

    // MARK: - building programs

    /// clang → wasm32-wasi and → static native, from Benchmarks/programs.
    func buildC(_ source: String, name: String) throws -> (wasm: String, native: String) {
        guard let clang = tools.clang else { throw SpawnError(tools.why("clang")) }
        let dir = scratch + "/programs"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let wasm = "\(dir)/\(name).wasm", native = "\(dir)/\(name)-native"
        let env = ProcessInfo.processInfo.environment
        let w = try spawner.run([clang, "--target=wasm32-wasi", "-O2", source, "-o", wasm, "-lm"], environment: env, timeout: 300)
        guard w.ok else { throw SpawnError("clang --target=wasm32-wasi \(name): \(w.failureSummary)") }
        let n = try spawner.run([clang, "-O2", "-static", source, "-o", native, "-lm"], environment: env, timeout: 300)
        guard n.ok else { throw SpawnError("clang -O2 -static \(name): \(n.failureSummary)") }
        return (wasm, native)
    }

    /// A private, writable copy of a sightglass module's files (the corpus is read-only shared data).
    func privateCopy(_ m: SightglassModule) throws -> String {
        let dir = "\(scratch)/sg/\(m.name)"
        if FileManager.default.fileExists(atPath: dir) { try FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for f in m.files {
            try FileManager.default.copyItem(atPath: "\(m.directory)/\(f)", toPath: "\(dir)/\(f)")
            chmod("\(dir)/\(f)", 0o644)
        }
        return dir
    }

    /// Every `*.wasm` of the corpus: directories with one `benchmark.wasm`, and directories of
    /// several modules (shootout-*, libsodium-*, tinygo-*). Expected output: `<stem>.std*.expected`,
    /// else the directory's `default.std*.expected`.
    func sightglassModules() -> [SightglassModule] {
        let fm = FileManager.default
        guard let dirs = try? fm.contentsOfDirectory(atPath: config.corpus) else { return [] }
        var out: [SightglassModule] = []
        for d in dirs.sorted() {
            let dir = config.corpus + "/" + d
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue,
                  let files = try? fm.contentsOfDirectory(atPath: dir) else { continue }
            let plainFiles = files.filter { f in
                var sub: ObjCBool = false
                return fm.fileExists(atPath: dir + "/" + f, isDirectory: &sub) && !sub.boolValue
            }
            let wasms = plainFiles.filter { $0.hasSuffix(".wasm") }.sorted()
            for w in wasms {
                let stem = String(w.dropLast(5))
                let name = stem == "benchmark" ? d : stem
                let otherStems = wasms.filter { $0 != w }.map { String($0.dropLast(5)) }
                let needed = plainFiles.filter { f in
                    if f.hasSuffix(".wasm") { return f == w }
                    return !otherStems.contains { f.hasPrefix($0 + ".") }
                }
                func expected(_ stream: String) -> String? {
                    for candidate in ["\(stem).\(stream).expected", "default.\(stream).expected"] where plainFiles.contains(candidate) {
                        return try? String(contentsOfFile: dir + "/" + candidate, encoding: .utf8)
                    }
                    return nil
                }
                out.append(SightglassModule(name: name, directory: dir, stem: stem, files: needed.sorted(),
                                            expectedStdout: expected("stdout"), expectedStderr: expected("stderr")))
            }
        }
        return out
    }

    func fileSize(_ p: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: p)[.size] as? NSNumber)?.intValue
    }
}

/// Formatting shared by the log and the report.
public enum Fmt {
    public static func time(_ s: Double) -> String {
        if s < 1e-3 { return String(format: "%.0f µs", s * 1e6) }
        if s < 1 { return String(format: s < 0.01 ? "%.2f ms" : (s < 0.1 ? "%.1f ms" : "%.0f ms"), s * 1e3) }
        return String(format: s < 10 ? "%.2f s" : "%.1f s", s)
    }

    public static func ratio(_ r: Double?) -> String {
        guard let r else { return "–" }
        return String(format: r < 10 ? "%.2f×" : "%.1f×", r)
    }

    /// For the targets table: one more digit, so a value just over a limit never reads as equal to it.
    public static func targetRatio(_ r: Double) -> String { String(format: r < 10 ? "%.3f×" : "%.1f×", r) }

    public static func bytes(_ b: Int?) -> String {
        guard let b else { return "–" }
        if b < 1024 { return "\(b) B" }
        if b < 1 << 20 { return String(format: "%.0f KiB", Double(b) / 1024) }
        return String(format: "%.2f MiB", Double(b) / 1_048_576)
    }

    static func firstDifference(_ actual: String, _ expected: String) -> String {
        let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
        let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
        for i in 0..<max(a.count, e.count) {
            let al = i < a.count ? String(a[i]) : "<end>", el = i < e.count ? String(e[i]) : "<end>"
            if al != el { return "line \(i + 1): got \"\(al.prefix(80))\", expected \"\(el.prefix(80))\"" }
        }
        return "only trailing bytes differ"
    }
}

public enum BenchPaths {
    /// The checkout this harness was built from (Benchmarks/Sources/WasmAOTBench/Harness.swift → root).
    public static let packageRoot: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
}
