import Foundation

/// The system C toolchain used to link (and to build the runtime archive): checked up front so
/// a missing package is named exactly instead of failing mid-link.
public struct Toolchain: Sendable {
    public var compilerDriver: String

    /// Finds the C compiler driver for `gnuTriple` and its static C library.
    public static func find(for gnuTriple: String) throws(LinkError) -> Toolchain {
        let native = gnuTriple == hostGNUTriple
        let candidates = native ? ["cc", "gcc", "clang"] : ["\(gnuTriple)-gcc"]
        guard let driver = candidates.lazy.compactMap(which).first else {
            let package = native ? "gcc libc6-dev" : "gcc-\(gnuTriple.replacingOccurrences(of: "_", with: "-")) libc6-dev-\(debianArch(gnuTriple))-cross"
            throw LinkError("no C compiler/linker for \(gnuTriple) found (looked for \(candidates.joined(separator: ", "))); install it with: apt-get install \(package)")
        }
        if native && !FileManager.default.fileExists(atPath: "/usr/lib/\(gnuTriple)/libc.a") {
            throw LinkError("static C library /usr/lib/\(gnuTriple)/libc.a not found; install it with: apt-get install libc6-dev")
        }
        if !native {
            // The cross driver's sysroot (Debian: /usr/<triple>/lib from libc6-dev-<arch>-cross).
            let found = run(driver, ["-print-file-name=libc.a"]).output.trimmingCharacters(in: .whitespacesAndNewlines)
            if !found.hasPrefix("/") || !FileManager.default.fileExists(atPath: found) {
                throw LinkError("static C library for \(gnuTriple) not found (\(driver) -print-file-name=libc.a); install it with: apt-get install libc6-dev-\(debianArch(gnuTriple))-cross")
            }
        }
        return Toolchain(compilerDriver: driver)
    }

    /// mold (Debian package `mold`), the fastest static linker Debian offers; nil when absent.
    /// Set WASMAOT_LINKER=cc to always link with the C driver.
    public static let mold: String? = {
        if ProcessInfo.processInfo.environment["WASMAOT_LINKER"] == "cc" { return nil }
        return which("ld.mold") ?? which("mold")
    }()

    public static var hostGNUTriple: String {
        #if arch(arm64)
        return "aarch64-linux-gnu"
        #else
        return "x86_64-linux-gnu"
        #endif
    }

    static func debianArch(_ gnuTriple: String) -> String {
        gnuTriple.hasPrefix("aarch64") ? "arm64" : "amd64"
    }

    static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// Runs a tool, capturing stdout+stderr. posix_spawn + waitpid: Foundation's Process polls
    /// for termination every 50 ms, which is longer than a whole link.
    public static func run(_ executable: String, _ arguments: [String]) -> (status: Int32, output: String) {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return (127, "cannot run \(executable): pipe: \(String(cString: strerror(errno)))") }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 2)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        close(fds[1])
        defer { close(fds[0]) }
        guard spawned == 0 else { return (127, "cannot run \(executable): \(String(cString: strerror(spawned)))") }
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fds[0], &buffer, buffer.count)
            if n > 0 { output += buffer[0..<n] } else if n < 0 && errno == EINTR { continue } else { break }
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let code: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return (code, String(decoding: output, as: UTF8.self))
    }
}
