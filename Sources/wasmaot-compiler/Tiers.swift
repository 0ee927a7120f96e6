import ArgumentParser
import Synchronization
import Foundation
import WasmAOTCache
import WasmAOTCodegen
import WasmAOTFastPath
import WasmAOTLink

/// `--tier` of `run` and `cache artifact`.
enum TierChoice: String, ExpressibleByArgument, CaseIterable {
    /// The optimized tier if it is cached; else the baseline tier (compiled now if missing), with
    /// the optimized tier built in the background for the next start.
    case auto
    /// Only the baseline tier; nothing in the background.
    case baseline
    /// Only the optimized tier, compiled now if missing (what `run` did before tiers).
    case optimized
}

struct TierOptions: ParsableArguments {
    @Option(name: .customLong("tier"), help: ArgumentHelp(
        "auto (default): the optimized tier if cached, else the quick-to-compile baseline tier now and the optimized one in the background; baseline; optimized.",
        valueName: "auto|baseline|optimized"))
    var tier: TierChoice = .auto

    @Option(name: .customLong("background-jobs"), help: ArgumentHelp(
        "Background builds of the optimized tier running at once on this cache (default: $WASMAOT_BACKGROUND_JOBS, else 1); more wait their turn.",
        valueName: "N"))
    var backgroundJobs: Int?

    func validate() throws {
        if let n = backgroundJobs, n < 1 { throw ValidationError("--background-jobs expects at least 1") }
    }

    var jobs: Int { backgroundJobs ?? Self.defaultJobs }

    /// $WASMAOT_BACKGROUND_JOBS, else 1.
    static var defaultJobs: Int {
        ProcessInfo.processInfo.environment["WASMAOT_BACKGROUND_JOBS"].flatMap(Int.init).map { max(1, $0) } ?? 1
    }
}

/// What an artifact for this machine is keyed by: module bytes, compiler identity, host target
/// and the profile's options text ("O2 emit=exe", "baseline emit=exe": wafp_options, the launcher
/// derives the same).
struct ArtifactKey {
    let key: CacheKey
    let identity: String
    let target: String
    let options: String
    let profile: CodegenProfile

    init(module bytes: [UInt8], profile: CodegenProfile) {
        identity = WasmAOT.identity()
        target = Self.hostTarget
        options = Self.options(profile)
        self.profile = profile
        key = CacheKey(module: bytes, identity: identity, target: target, options: options)
    }

    /// This machine's target text (triple, CPU, features digest), computed once per process.
    static let hostTarget: String = {
        let spec: TargetSpec
        do {
            spec = try TargetSpec(architecture: .host, cpu: .native)
        } catch {
            fail("\(error)")
        }
        return "\(spec) features=sha256:\(sha256Hex(Data(spec.features.utf8)).prefix(16))"
    }()

    static func options(_ profile: CodegenProfile) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        wafp_options(fastPathLevel(profile), &buffer, buffer.count)
        return String(cString: buffer)
    }

    /// The launcher's encoding of a profile (opt level, -1 for the baseline tier).
    static func fastPathLevel(_ profile: CodegenProfile) -> Int32 {
        switch profile {
        case .baseline, .baselineHuge, .reduced: -1
        case .level(let o): Int32(o.rawValue)
        }
    }
}

/// One artifact `run` / `cache artifact` can start.
struct TieredArtifact {
    var path: String
    var tier: Tier
    var compiled: Bool
}

/// The artifact to start for `choice` (see TierChoice), compiling or scheduling what is missing.
func tieredArtifact(input: String, choice: TierChoice, opt: OptLevel, cache openCache: @autoclosure () -> ArtifactCache, verbose: Bool,
                    backgroundJobs: Int) -> TieredArtifact {
    Timeline.mark("tieredArtifact")
    let started = Date()
    let record = FastPathRecord(module: input)
    let bytes = readModuleOrFail(input)
    let data = Data(bytes)
    // Opened (created, the first time) only for a module worth caching: bad input writes nothing.
    let cache = openCache()
    let log = verbose || ProcessInfo.processInfo.environment["WASMAOT_LOG"] != nil
    func say(_ text: String) {
        if log { FileHandle.standardError.write(Data("wasmaot: \(text)\n".utf8)) }
    }
    let optimized = ArtifactKey(module: bytes, profile: .level(opt))
    Timeline.mark("keys")
    let optimizedHit: URL?
    do { optimizedHit = choice != .baseline ? try cache.validEntry(optimized.key.hex) : nil } catch { fail("\(error)") }
    if let hit = optimizedHit {
        say("cache hit (optimized tier): \(optimized.key.hex.prefix(16)) \(hit.path)")
        record.write(cacheRoot: cache.root.path, module: input, key: optimized, artifact: hit.path)
        return TieredArtifact(path: hit.path, tier: .optimized, compiled: false)
    }
    let wanted = choice == .optimized ? optimized : ArtifactKey(module: bytes, profile: .baseline)
    let result: (path: URL, compiled: Bool)
    do {
        result = try cache.artifact(for: wanted.key, identity: wanted.identity, target: wanted.target, options: wanted.options) { temporary in
            try Pipeline(input: input, output: temporary, profile: wanted.profile, architecture: .host, cpu: .native, emit: .exe,
                         bytes: bytes).run()
        }
    } catch {
        fail("\(error)")
    }
    Timeline.mark("artifact ready")
    let tier: Tier = wanted.profile.isBaseline ? .baseline : .optimized
    say((result.compiled ? String(format: "compiled (%@ tier) in %.2f s", tier.rawValue, Date().timeIntervalSince(started))
                         : "cache hit (\(tier.rawValue) tier)") + ": \(wanted.key.hex.prefix(16)) \(result.path.path)")
    // The optimized tier's build starts once the baseline tier is there (not alongside its
    // compile: even at SCHED_IDLE a concurrent build slowed that by up to 1.5x here, through the
    // cores' shared caches and the compile's serial phases).
    if choice == .auto,
       let scheduled = TierUp.schedule(cache: cache, baseline: wanted.key, opt: opt, module: input, bytes: bytes, jobs: backgroundJobs) {
        say(scheduled)
    }
    Timeline.mark("scheduled")
    record.write(cacheRoot: cache.root.path, module: input, key: wanted, artifact: result.path.path)
    Timeline.mark("records written")
    if let problem = TierUp.reap() { say(problem) }
    return TieredArtifact(path: result.path.path, tier: tier, compiled: result.compiled)
}

/// Background builds of the optimized tier.
///
///   ROOT/tierup/<baseline key>-O<n>.lock     held (flock) by the build while queued or running
///   ROOT/tierup/<baseline key>-O<n>.wasm     the module bytes it compiles (a container's rootfs
///                                            may be gone by then); removed when done
///   ROOT/tierup/<baseline key>-O<n>.failed   the error, when the optimized tier cannot be built:
///                                            never retried for that key (`cache clear` forgets)
///   ROOT/tierup/slot-<i>.lock                at most --background-jobs builds compile at once
///   ROOT/tierup/log                          one line per finished build
///
/// The build publishes its entry like any other (ArtifactCache: per-key lock, finished folder
/// renamed into place), so a build that is killed leaves only a work folder nobody uses and its
/// lock released: the next start of the module finds no build running and schedules it again.
enum TierUp {
    static func directory(_ cache: ArtifactCache) -> URL { cache.root.appendingPathComponent("tierup") }

    static func name(baseline: String, opt: OptLevel) -> String { "\(baseline)-O\(opt.rawValue)" }

    /// Starts the background build unless one is running or has failed for good. Returns what to
    /// say with -v.
    static func schedule(cache: ArtifactCache, baseline: CacheKey, opt: OptLevel, module: String, bytes: [UInt8], jobs: Int) -> String? {
        switch wafp_tierup_pending(cache.root.path, baseline.hex, Int32(opt.rawValue)) {
        case 1:
            let failed = directory(cache).appendingPathComponent(name(baseline: baseline.hex, opt: opt) + ".failed")
            if let reason = try? String(contentsOf: failed, encoding: .utf8) {
                return "optimized tier (O\(opt.rawValue)) not available: \(reason.trimmingCharacters(in: .whitespacesAndNewlines))"
            }
            return "optimized tier (O\(opt.rawValue)) is being built in the background"
        case 0: break
        default: return nil
        }
        let dir = directory(cache)
        let base = dir.appendingPathComponent(name(baseline: baseline.hex, opt: opt))
        do {
            try cache.makeDirectory(dir)
        } catch {
            return "cannot schedule the optimized tier: \(error)"
        }
        // The build's lock is taken here, before the build exists, and handed to it as fd 3: from
        // the moment this start says "scheduled", `cache wait` and every other start see a build
        // (no window in which a just-scheduled build looks absent), and of two starts racing
        // here only one schedules.
        let lock = open(base.path + ".lock", O_CREAT | O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard lock >= 0 else { return "cannot schedule the optimized tier: cannot open \(base.path).lock: \(String(cString: strerror(errno)))" }
        defer { close(lock) }
        guard flock(lock, LOCK_EX | LOCK_NB) == 0 else { return "optimized tier (O\(opt.rawValue)) is being built in the background" }
        // The bytes we compiled, for the build to read whatever happens to the module's path.
        let temporary = base.path + ".wasm.tmp.\(getpid())"
        unlink(temporary)  // left by a killed scheduler with this pid
        guard writeScratchFile(temporary, bytes) else {
            return "cannot schedule the optimized tier: cannot write \(temporary)"
        }
        guard rename(temporary, base.path + ".wasm") == 0 else {
            unlink(temporary)
            return "cannot schedule the optimized tier: cannot write \(base.path).wasm"
        }
        let arguments = ["cache", "tier-up", "--cache-dir", cache.root.path, "-O\(opt.rawValue)", "--background-jobs", "\(jobs)",
                         "--baseline-key", baseline.hex, "--lock-fd", "3", "--module", module, base.path + ".wasm"]
        guard spawnBackground(arguments, lock: lock) else {
            unlink(base.path + ".wasm")
            return "cannot schedule the optimized tier: the background build did not start"
        }
        return "optimized tier (O\(opt.rawValue)) scheduled in the background"
    }

    /// Starts this compiler with `arguments` detached, `lock` as its fd 3: through
    /// `wasmaot __background --keep-fd 3` (the launcher beside the compiler double-forks it out of
    /// the caller's process tree: see main.c), or, without the launcher, in a new session.
    /// Whether it started.
    static func spawnBackground(_ arguments: [String], lock: Int32) -> Bool {
        guard let compiler = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return false }
        let launcher = URL(fileURLWithPath: compiler).deletingLastPathComponent().appendingPathComponent("wasmaot").path
        let viaLauncher = access(launcher, X_OK) == 0
        let argv = viaLauncher ? [launcher, "__background", "--keep-fd", "3", compiler] + arguments : [compiler] + arguments
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        if !viaLauncher { posix_spawnattr_setflags(&attributes, 0x80) }  // POSIX_SPAWN_SETSID (glibc, _GNU_SOURCE only)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for fd: Int32 in 0...2 { posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_RDWR, 0) }
        posix_spawn_file_actions_adddup2(&actions, lock, 3)  // clears FD_CLOEXEC on the copy
        let cargv = argv.map { strdup($0) } + [nil]
        defer { cargv.forEach { free($0) } }
        var pid: pid_t = 0
        // posix_spawn returns once the child has exec'd, so it holds its copy of the lock by then.
        guard posix_spawn(&pid, argv[0], &actions, &attributes, cargv, environ) == 0 else { return false }
        // The launcher forks the build off and exits at once; it is reaped later (`reap`), so
        // the compile does not wait for that.
        if viaLauncher { spawned.withLock { $0.append(pid) } }
        return true
    }

    private static let spawned = Mutex<[pid_t]>([])

    /// Reaps the launchers `spawnBackground` started (before this process execs the artifact or
    /// exits); what to say with -v when one of them could not fork the build.
    static func reap() -> String? {
        var problem: String? = nil
        for pid in spawned.withLock({ pids in defer { pids = [] }; return pids }) {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            if status != 0 { problem = "cannot schedule the optimized tier: the background build did not start" }
        }
        return problem
    }

    /// The body of `cache tier-up` (in the background process).
    /// `lockFD`: the lock the scheduler took for this build (inherited; flock on the same open
    /// file succeeds at once); nil: take it here.
    static func build(cache: ArtifactCache, baseline: String, opt: OptLevel, source: String, module: String, jobs: Int,
                      lockFD: Int32? = nil) -> Int32 {
        wafp_lower_priority()
        let dir = directory(cache)
        let base = dir.appendingPathComponent(name(baseline: baseline, opt: opt)).path
        guard (try? cache.makeDirectory(dir)) != nil else { return 1 }
        let lock = lockFD ?? open(base + ".lock", O_CREAT | O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard lock >= 0 else { return 1 }
        defer { close(lock) }
        if lockFD != nil { _ = fcntl(lock, F_SETFD, FD_CLOEXEC) }  // not into the linker and other children
        // One build per (module, level): another process holding the lock does the work.
        guard flock(lock, LOCK_EX | LOCK_NB) == 0 else { return 0 }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(lock, 0)
        _ = pwrite(lock, pid, pid.count, 0)
        defer { unlink(source) }
        let slot = acquireSlot(dir: dir, jobs: jobs, seed: baseline)
        defer { if slot >= 0 { close(slot) } }

        let started = Date()
        let record = FastPathRecord(module: module)
        guard let data = FileManager.default.contents(atPath: source) else { return 0 }  // scheduled twice; done already
        let bytes = Array(data)
        let key = ArtifactKey(module: bytes, profile: .level(opt))
        do {
            let result = try cache.artifact(for: key.key, identity: key.identity, target: key.target, options: key.options) { temporary in
                try Pipeline(input: source, output: temporary, profile: key.profile, architecture: .host, cpu: .native, emit: .exe,
                             bytes: bytes).run()
            }
            // The stamp record for the module's own path only if that path still holds these bytes.
            if let original = FileManager.default.contents(atPath: module), original == data {
                record.write(cacheRoot: cache.root.path, module: module, key: key, artifact: result.path.path)
            } else {
                record.writeContentRecords(cacheRoot: cache.root.path, key: key, artifact: result.path.path)
            }
            appendLog(dir, String(format: "%@ optimized O%d %@ (baseline %@) %@ in %.2f s", isoNow(), opt.rawValue, key.key.hex,
                                  baseline, result.compiled ? "compiled" : "already cached", Date().timeIntervalSince(started)))
            return 0
        } catch {
            let text = "\(error)"
            try? text.write(toFile: base + ".failed", atomically: true, encoding: .utf8)
            appendLog(dir, "\(isoNow()) optimized O\(opt.rawValue) (baseline \(baseline)) failed: \(text.prefix(500))")
            return 1
        }
    }

    /// A free slot of ROOT/tierup/slot-<i>.lock, waiting for one when all `jobs` are taken.
    static func acquireSlot(dir: URL, jobs: Int, seed: String) -> Int32 {
        var fds: [Int32] = []
        for i in 0..<max(1, jobs) {
            let fd = open(dir.appendingPathComponent("slot-\(i).lock").path, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
            guard fd >= 0 else { continue }
            if flock(fd, LOCK_EX | LOCK_NB) == 0 {
                fds.forEach { close($0) }
                return fd
            }
            fds.append(fd)
        }
        guard !fds.isEmpty else { return -1 }
        // All busy: queue on one of them (spread by key).
        let index = Int(seed.utf8.reduce(0) { ($0 &* 31 &+ Int($1)) & 0xFFFF }) % fds.count
        let fd = fds[index]
        for (i, other) in fds.enumerated() where i != index { close(other) }
        while flock(fd, LOCK_EX) != 0 && errno == EINTR {}
        return fd
    }

    static func appendLog(_ dir: URL, _ line: String) {
        let fd = open(dir.appendingPathComponent("log").path, O_CREAT | O_WRONLY | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        let bytes = Array((line + "\n").utf8)
        _ = write(fd, bytes, bytes.count)
        close(fd)
    }

    static func isoNow() -> String { ISO8601DateFormatter().string(from: Date()) }

    /// Waits until no background build holds a lock under ROOT/tierup (or `timeout` seconds pass);
    /// whether it is quiet.
    static func wait(cache: ArtifactCache, timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        let dir = directory(cache).path
        while true {
            var busy = false
            for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where name.hasSuffix(".lock") && !name.hasPrefix("slot-") {
                let fd = open("\(dir)/\(name)", O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { continue }
                if flock(fd, LOCK_SH | LOCK_NB) != 0 { busy = true }
                close(fd)
                if busy { break }
            }
            if !busy { return true }
            if Date() >= deadline { return false }
            usleep(20_000)
        }
    }
}
