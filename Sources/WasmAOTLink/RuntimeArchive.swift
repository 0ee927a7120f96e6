import Crypto
import Foundation

/// The C runtime (Runtime/) built as a static archive for one target. Found, in order, through
/// `$WASMAOT_RUNTIME_DIR/<triple>/`, an installed `<prefix>/share/wasmaot/<triple>/` beside the
/// executable, or the source tree the compiler was built from (built there on demand with make,
/// so a fresh clone works with nothing but `swift build`).
public struct RuntimeArchive: Sendable {
    public var gnuTriple: String
    public var path: String
    /// The Runtime/ source folder when the archive is built on demand from it.
    public var sourceDirectory: String? = nil

    /// Files whose change changes the archive: the archive itself and, when it is rebuilt from
    /// source on demand, the source folders and files (a new or edited file must be noticed).
    public var identityInputs: [String] {
        if let known = Self.lock.withLock({ Self.inputsMemo[path] }) { return known }
        let inputs = listIdentityInputs()
        Self.lock.withLock { Self.inputsMemo[path] = inputs }
        return inputs
    }

    private func listIdentityInputs() -> [String] {
        var inputs = [path]
        guard let source = sourceDirectory else { return inputs }
        for sub in ["src", "include"] {
            let dir = "\(source)/\(sub)"
            inputs.append(dir)
            for file in ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted() {
                inputs.append("\(dir)/\(file)")
            }
        }
        return inputs
    }

    /// The pre-linked runtime beside the archive (Runtime/Makefile: start files, the archive and
    /// the C library members it needs in one relocatable object), if it is there and not older
    /// than the archive.
    public var prelinkedPath: String? {
        let candidate = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("wasmaot_rt_static.o").path
        guard let made = Self.modificationDate(candidate), let archive = Self.modificationDate(path), made >= archive else { return nil }
        return candidate
    }

    /// The shared runtime beside the archive (`make` builds both).
    public var sharedLibraryPath: String {
        URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("libwasmaot_rt.so").path
    }

    /// Memo of `locate` per triple: a compile asks for the archive several times (identity,
    /// toolchain check, link, fast-path records), and the answer does not change in one process.
    nonisolated(unsafe) private static var located: [String: RuntimeArchive] = [:]
    private static let lock = NSLock()

    public static func locate(gnuTriple: String) throws(LinkError) -> RuntimeArchive {
        if let known = lock.withLock({ located[gnuTriple] }) { return known }
        let archive = try locateUncached(gnuTriple: gnuTriple)
        lock.withLock { located[gnuTriple] = archive }
        return archive
    }

    private static func locateUncached(gnuTriple: String) throws(LinkError) -> RuntimeArchive {
        let name = "libwasmaot_rt.a"
        if let dir = ProcessInfo.processInfo.environment["WASMAOT_RUNTIME_DIR"] {
            let path = "\(dir)/\(gnuTriple)/\(name)"
            guard FileManager.default.fileExists(atPath: path) else {
                throw LinkError("WASMAOT_RUNTIME_DIR is set but \(path) does not exist")
            }
            return RuntimeArchive(gnuTriple: gnuTriple, path: path)
        }
        let exeDir = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]).deletingLastPathComponent()
        let installed = exeDir.appendingPathComponent("../share/wasmaot/\(gnuTriple)/\(name)").standardized.path
        if FileManager.default.fileExists(atPath: installed) {
            return RuntimeArchive(gnuTriple: gnuTriple, path: installed)
        }
        guard let source = sourceDirectory(startingAt: exeDir) else {
            throw LinkError("cannot find the wasmaot runtime (\(gnuTriple)/\(name)); set WASMAOT_RUNTIME_DIR or run `make -C Runtime`")
        }
        let path = "\(source)/build/\(gnuTriple)/\(name)"
        let shared = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("libwasmaot_rt.so").path
        // The shared runtime (embedding, host only) is built for the host triple alone.
        let needsShared = gnuTriple == Toolchain.hostGNUTriple
        if !isUpToDate(archive: path, source: source) || (needsShared && !FileManager.default.fileExists(atPath: shared)) {
            try build(source: source, gnuTriple: gnuTriple)
        }
        return RuntimeArchive(gnuTriple: gnuTriple, path: path, sourceDirectory: source)
    }

    /// SHA-256 of the archive: part of the compiler identity (and later of cache keys).
    public func digest() -> String {
        guard let data = FileManager.default.contents(atPath: path) else { return "missing" }
        return SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }

    /// The files of `identityInputs`, listed once per process.
    nonisolated(unsafe) private static var inputsMemo: [String: [String]] = [:]

    static func sourceDirectory(startingAt exeDir: URL) -> String? {
        var candidates = [exeDir]
        candidates.append(URL(fileURLWithPath: #filePath).deletingLastPathComponent())
        for start in candidates {
            var dir = start
            for _ in 0..<8 {
                let runtime = dir.appendingPathComponent("Runtime")
                if FileManager.default.fileExists(atPath: runtime.appendingPathComponent("Makefile").path) {
                    return runtime.path
                }
                dir = dir.deletingLastPathComponent()
            }
        }
        return nil
    }

    static func isUpToDate(archive: String, source: String) -> Bool {
        guard let built = modificationDate(archive) else { return false }
        let fm = FileManager.default
        for sub in ["src", "include"] {
            let dir = "\(source)/\(sub)"
            for file in (try? fm.contentsOfDirectory(atPath: dir)) ?? [] {
                if let date = modificationDate("\(dir)/\(file)"), date > built { return false }
            }
        }
        return true
    }

    /// stat(2)'s mtime (FileManager's attributes also resolve owner and group names: a passwd and
    /// group lookup per file, ~0.1 ms each, on every cold start).
    static func modificationDate(_ path: String) -> Date? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return Date(timeIntervalSince1970: Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9)
    }

    static func build(source: String, gnuTriple: String) throws(LinkError) {
        guard let make = Toolchain.which("make") else {
            throw LinkError("the runtime needs to be built but `make` is missing; install it with: apt-get install make")
        }
        var arguments = ["-s", "-C", source, "TRIPLE=\(gnuTriple)"]
        if gnuTriple != Toolchain.hostGNUTriple { arguments.append("CC=\(gnuTriple)-gcc") }
        let result = Toolchain.run(make, arguments)
        guard result.status == 0 else {
            throw LinkError("building the runtime failed (make \(arguments.joined(separator: " "))):\n\(result.output)")
        }
    }
}
