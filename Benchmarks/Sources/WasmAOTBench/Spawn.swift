import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One finished child process: exit status, wall time (spawn → exit, CLOCK_MONOTONIC), CPU time
/// and peak RSS from wait4, and its output.
public struct ProcessResult: Sendable {
    public var status: Int32          // exit status, or 128 + signal
    public var seconds: Double        // wall clock, spawn to exit
    public var userSeconds: Double
    public var systemSeconds: Double
    public var maxRSSKiB: Int
    public var stdout: Data
    public var stderr: Data
    public var timedOut: Bool

    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
    public var ok: Bool { status == 0 && !timedOut }

    /// A one-line description of a failure, for reports.
    public var failureSummary: String {
        if timedOut { return "timed out after \(String(format: "%.0f", seconds)) s" }
        let err = stderrText.split(separator: "\n").filter { !$0.hasPrefix("bench elapsed:") }.prefix(3).joined(separator: " / ")
        return "exit \(status)" + (err.isEmpty ? "" : ": \(err.prefix(300))")
    }
}

public struct SpawnError: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}

/// Runs commands with posix_spawn + wait4 (never Foundation's Process: it learns of a child's exit
/// through a socket the child inherits, so it hangs when a child — conmon, a container init —
/// keeps inherited fds open). stdin is /dev/null; stdout/stderr go to files opened *before* the
/// clock starts, so the measured interval is spawn → exit of the command and nothing else.
public final class Spawner: @unchecked Sendable {
    let scratch: String
    private var counter = 0

    public init(scratch: String) {
        self.scratch = scratch
        Self.installInterruptHandler
    }

    /// The running child's process group (children get their own group so that a timeout can kill
    /// everything they started); 0 when none. Read by the signal handler.
    nonisolated(unsafe) static var runningGroup: pid_t = 0

    /// Ctrl-C / SIGTERM: the children are in their own process group and would not see the
    /// terminal's signal, so the harness kills the running one's group before exiting.
    private static let installInterruptHandler: Void = {
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig) { s in
                let g = Spawner.runningGroup
                if g > 0 { kill(-g, SIGKILL) }
                _exit(128 + s)
            }
        }
    }()

    private typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
    /// glibc ≥ 2.29 has it, but Swift's Glibc module does not import it (it needs _GNU_SOURCE).
    private static let addChdir: AddChdir? = {
        guard let sym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addchdir_np") else { return nil }
        return unsafeBitCast(sym, to: AddChdir.self)
    }()

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Runs `argv` (argv[0] must be a path) to completion; killed (SIGKILL to its process group)
    /// after `timeout` seconds. `environment` replaces the environment entirely.
    public func run(_ argv: [String], environment: [String: String], cwd: String? = nil,
                    timeout: Double = 600, keepOutput: Bool = true) throws -> ProcessResult {
        precondition(!argv.isEmpty)
        counter += 1
        let outPath = keepOutput ? "\(scratch)/.out-\(counter)" : "/dev/null"
        let errPath = "\(scratch)/.err-\(counter)"   // always kept: failures need their message
        defer { if keepOutput { unlink(outPath) }; unlink(errPath) }
        let outFD = open(outPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        let errFD = open(errPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        let inFD = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { close(outFD); close(errFD); close(inFD) }
        guard outFD >= 0, errFD >= 0, inFD >= 0 else { throw SpawnError("cannot open output files in \(scratch)") }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inFD, 0)
        posix_spawn_file_actions_adddup2(&actions, outFD, 1)
        posix_spawn_file_actions_adddup2(&actions, errFD, 2)
        if let cwd {
            guard let addChdir = Self.addChdir else { throw SpawnError("posix_spawn_file_actions_addchdir_np is unavailable (glibc < 2.29)") }
            _ = addChdir(&actions, cwd)
        }
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        // Own process group, so a timeout kills the command's children too; default signal mask.
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attr, &empty)
        posix_spawnattr_setpgroup(&attr, 0)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK))

        let cArgv = argv.map { strdup($0) } + [nil]
        let cEnv = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { cArgv.forEach { free($0) }; cEnv.forEach { free($0) } }

        // Watchdog, started before the clock: it sleeps on a condition until the child is reaped or
        // the deadline passes. The child is not reaped until `finish()` (waitid WNOWAIT first), so
        // its pid cannot be reused while the watchdog might still signal it.
        let state = WatchState()
        let watchdog = Thread {
            guard let (pid, deadline) = state.waitForChild() else { return }
            state.killUnlessFinished(pid: pid, by: deadline)
        }
        watchdog.start()

        var pid: pid_t = 0
        let start = Self.now()
        let rc = posix_spawn(&pid, argv[0], &actions, &attr, cArgv, cEnv)
        guard rc == 0 else {
            state.abandon()
            throw SpawnError("cannot run \(argv[0]): \(String(cString: strerror(rc)))")
        }
        Self.runningGroup = pid
        state.started(pid: pid, deadline: Date().addingTimeInterval(timeout))

        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0 {
            if errno != EINTR { break }
        }
        let end = Self.now()
        let timedOut = state.finish()
        Self.runningGroup = 0
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        let code: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)

        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return ProcessResult(
            status: code, seconds: end - start,
            userSeconds: seconds(usage.ru_utime), systemSeconds: seconds(usage.ru_stime), maxRSSKiB: usage.ru_maxrss,
            stdout: keepOutput ? ((try? Data(contentsOf: URL(fileURLWithPath: outPath))) ?? Data()) : Data(),
            stderr: (try? Data(contentsOf: URL(fileURLWithPath: errPath))) ?? Data(),
            timedOut: timedOut)
    }
}

private final class WatchState: @unchecked Sendable {
    private let cond = NSCondition()
    private var pid: pid_t?, deadline = Date.distantFuture
    private var finished = false, abandoned = false, timedOut = false

    func started(pid: pid_t, deadline: Date) { cond.lock(); self.pid = pid; self.deadline = deadline; cond.broadcast(); cond.unlock() }
    func abandon() { cond.lock(); abandoned = true; cond.broadcast(); cond.unlock() }

    /// Watchdog side: the child's pid and deadline, or nil if the spawn failed.
    func waitForChild() -> (pid_t, Date)? {
        cond.lock(); defer { cond.unlock() }
        while pid == nil && !abandoned { cond.wait() }
        return pid.map { ($0, deadline) }
    }

    /// Watchdog side: returns once the child has finished, or kills it (and its process group) at
    /// the deadline. The kill happens under the lock, so always before the parent reaps the pid.
    func killUnlessFinished(pid: pid_t, by deadline: Date) {
        cond.lock(); defer { cond.unlock() }
        while !finished {
            if !cond.wait(until: deadline) && !finished {
                timedOut = true
                kill(-pid, SIGKILL); kill(pid, SIGKILL)
                return
            }
        }
    }

    /// Parent side, before reaping: marks the child finished; returns whether it was killed for the timeout.
    func finish() -> Bool { cond.lock(); defer { cond.unlock() }; finished = true; cond.broadcast(); return timedOut }
}

/// `which`: the first executable `name` on PATH (plus the sbin directories root tools live in).
public func findExecutable(_ name: String, extraDirs: [String] = []) -> String? {
    if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
    let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
    for dir in extraDirs + path + ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"] {
        let p = "\(dir)/\(name)"
        if FileManager.default.isExecutableFile(atPath: p) { return p }
    }
    return nil
}
