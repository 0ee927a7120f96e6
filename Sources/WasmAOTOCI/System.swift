#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The few POSIX operations the wrapper needs, without Foundation's Process/FileManager (see the
/// note in JSONValue.swift about start-up time).
public enum System {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(_ d: String) { description = d }
    }

    static func errnoText(_ e: Int32 = errno) -> String { String(cString: strerror(e)) }

    /// Replaces this process with `path`. Only returns (with an error) if execv fails — stdio and
    /// inherited fds (conmon's sync/start pipes 3 and 4) pass straight to the delegate.
    public static func exec(_ path: String, _ arguments: [String]) -> Failure {
        let cargs = ([path] + arguments).map { strdup($0) } + [nil]
        execv(path, cargs)
        return Failure("cannot execute \(path): \(errnoText())")
    }

    /// Runs a helper to completion: stdin from /dev/null and fds ≥ 3 closed (the container's stdin
    /// and conmon's pipes are not the compiler's business); stdout and stderr are captured.
    public static func run(_ path: String, _ arguments: [String]) throws -> (status: Int32, stdout: [UInt8], stderr: [UInt8]) {
        let inherited = openDescriptors().filter { $0 >= 3 }
        var outPipe: [Int32] = [0, 0], errPipe: [Int32] = [0, 0]
        guard pipe(&outPipe) == 0, pipe(&errPipe) == 0 else { throw Failure("pipe: \(errnoText())") }
        for fd in outPipe + errPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var fa = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fa)
        defer { posix_spawn_file_actions_destroy(&fa) }
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&fa, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&fa, errPipe[1], 2)
        for fd in inherited { posix_spawn_file_actions_addclose(&fa, fd) }
        let cargs = ([path] + arguments).map { strdup($0) } + [nil]
        defer { cargs.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &fa, nil, cargs, environ)
        close(outPipe[1]); close(errPipe[1])
        defer { close(outPipe[0]); close(errPipe[0]) }
        guard rc == 0 else { throw Failure("cannot execute \(path): \(errnoText(rc))") }
        // Drain both pipes together so a chatty stderr cannot block the child on a full pipe.
        var out: [UInt8] = [], err: [UInt8] = []
        var fds = [pollfd(fd: outPipe[0], events: Int16(POLLIN), revents: 0),
                   pollfd(fd: errPipe[0], events: Int16(POLLIN), revents: 0)]
        var buf = [UInt8](repeating: 0, count: 65536)
        while fds.contains(where: { $0.fd >= 0 }) {
            if poll(&fds, 2, -1) < 0 { if errno == EINTR { continue }; break }
            for k in 0..<2 where fds[k].fd >= 0 && fds[k].revents != 0 {
                let n = read(fds[k].fd, &buf, buf.count)
                if n > 0 { if k == 0 { out += buf[0..<n] } else { err += buf[0..<n] } }
                else if n == 0 || errno != EINTR { fds[k].fd = -1 }
            }
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return (code, out, err)
    }

    /// This process's open descriptors (/proc/self/fd), minus the one used to list them.
    static func openDescriptors() -> [Int32] {
        guard let d = opendir("/proc/self/fd") else { return [] }
        defer { closedir(d) }
        let own = dirfd(d)
        var fds: [Int32] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            if let fd = Int32(name), fd != own { fds.append(fd) }
        }
        return fds
    }

    public static func readFile(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure("cannot read \(path): \(errnoText())") }
        defer { close(fd) }
        var bytes: [UInt8] = [], buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &buf, buf.count)
            if n < 0 { if errno == EINTR { continue }; throw Failure("cannot read \(path): \(errnoText())") }
            if n == 0 { return bytes }
            bytes += buf[0..<n]
        }
    }

    /// Temp file in the same directory + fsync + rename: a runtime reading config.json sees the old
    /// or the new file, never a torn one. The original file's mode is kept.
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let dir = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        var template = Array((dir + "/.config.json.wasmaot-XXXXXX").utf8CString)
        let fd = mkstemp(&template)
        guard fd >= 0 else { throw Failure("cannot create a temporary file in \(dir): \(errnoText())") }
        let tmp = String(cString: template)
        var ok = false
        defer { if !ok { unlink(tmp) } }
        var st = stat()
        fchmod(fd, stat(path, &st) == 0 ? st.st_mode & 0o7777 : 0o644)
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue }; close(fd); throw Failure("cannot write \(tmp): \(errnoText())") }
            off += n
        }
        guard fsync(fd) == 0, close(fd) == 0 else { throw Failure("cannot write \(tmp): \(errnoText())") }
        guard rename(tmp, path) == 0 else { throw Failure("cannot replace \(path): \(errnoText())") }
        ok = true
    }

    public static func isExecutable(_ path: String) -> Bool { access(path, X_OK) == 0 && !isDirectory(path) }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// First executable `name` on PATH.
    public static func which(_ name: String, path: String?) -> String? {
        for dir in (path ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin").split(separator: ":") {
            let p = "\(dir)/\(name)"
            if isExecutable(p) { return p }
        }
        return nil
    }

    public static func realPath(_ path: String) -> String? {
        guard let r = realpath(path, nil) else { return nil }
        defer { free(r) }
        return String(cString: r)
    }

    public static func currentDirectory() -> String {
        guard let c = getcwd(nil, 0) else { return "." }
        defer { free(c) }
        return String(cString: c)
    }

    public static var environment: [String: String] {
        var env: [String: String] = [:]
        var p = environ
        while let e = p.pointee {
            let s = String(cString: e)
            if let eq = s.firstIndex(of: "=") { env[String(s[..<eq])] = String(s[s.index(after: eq)...]) }
            p += 1
        }
        return env
    }
}
