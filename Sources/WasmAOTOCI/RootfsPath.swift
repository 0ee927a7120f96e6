#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Path lookup inside a container root that is not yet the process's root. A symlink in the image
/// (`/app -> /opt/app`, or a hostile `-> ../../../etc`) must resolve as it will inside the
/// container, never to a host path: every component is lstat'ed under `root` and symlink targets are
/// re-rooted there, with ".." clamped at the root (the algorithm of runc's securejoin).
public enum RootfsPath {
    /// The symlink-free absolute path inside the container for `path` (absolute, or relative to
    /// "/"), or nil on a symlink loop. Missing components are kept as given.
    public static func resolve(_ path: String, in root: String) -> String? {
        var pending = components(path)
        var resolved: [String] = []
        var links = 0
        while !pending.isEmpty {
            let c = pending.removeFirst()
            if c == "." { continue }
            if c == ".." { _ = resolved.popLast(); continue }
            let candidate = resolved + [c]
            let host = root + "/" + candidate.joined(separator: "/")
            var st = stat()
            guard lstat(host, &st) == 0, (st.st_mode & S_IFMT) == S_IFLNK else {
                resolved = candidate
                continue
            }
            links += 1
            if links > 255 { return nil }
            guard let target = readLink(host) else { return nil }
            if target.hasPrefix("/") { resolved = [] }
            pending = components(target) + pending
        }
        return "/" + resolved.joined(separator: "/")
    }

    /// Where the runtime will find the executable for `args[0]`, as a container path: names with a
    /// "/" are taken relative to `cwd`; bare names are searched in the config's PATH (runc and crun
    /// look it up in the container's environment the same way). Nil if no regular file is found.
    public static func entrypoint(_ arg0: String, cwd: String, env: [String], root: String) -> String? {
        if arg0.contains("/") {
            let p = arg0.hasPrefix("/") ? arg0 : cwd + "/" + arg0
            guard let r = resolve(p, in: root), isRegularFile(root + r) else { return nil }
            return r
        }
        let path = env.last(where: { $0.hasPrefix("PATH=") }).map { String($0.dropFirst(5)) }
            ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        for dir in path.split(separator: ":", omittingEmptySubsequences: false) {
            let d = dir.isEmpty ? "." : String(dir)
            let p = (d.hasPrefix("/") ? d : cwd + "/" + d) + "/" + arg0
            if let r = resolve(p, in: root), isRegularFile(root + r) { return r }
        }
        return nil
    }

    /// True when the file starts with the Wasm magic "\0asm". O_NOFOLLOW: `path` is already
    /// resolved, so a symlink here means the rootfs changed under us — treat it as not Wasm.
    public static func hasWasmMagic(_ hostPath: String) -> Bool {
        let fd = open(hostPath, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var b = [UInt8](repeating: 0, count: 4)
        return read(fd, &b, 4) == 4 && b == [0x00, 0x61, 0x73, 0x6d]
    }

    static func isRegularFile(_ hostPath: String) -> Bool {
        var st = stat()
        return stat(hostPath, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
    }

    static func components(_ p: String) -> [String] {
        p.split(separator: "/").map(String.init)
    }

    static func readLink(_ path: String) -> String? {
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink(path, &buf, buf.count - 1)
        guard n >= 0 else { return nil }
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
