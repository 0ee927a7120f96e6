import Crypto
import Foundation
import WasmAOTFastPath

/// What an artifact was built from; its SHA-256 is the cache key.
public struct CacheKey: Sendable, Hashable, CustomStringConvertible {
    public let hex: String
    public let moduleDigest: String

    /// Module bytes + compiler identity (`wasmaot --version`) + target (triple, CPU) + codegen
    /// options: anything that changes the artifact changes the key.
    public init(module: [UInt8], identity: String, target: String, options: String) {
        moduleDigest = sha256Hex(Data(module))
        // wafp_cache_key: the launcher derives keys with the same C function.
        var key = [CChar](repeating: 0, count: 65)
        let (i, t, o) = (Array(identity.utf8), Array(target.utf8), Array(options.utf8))
        wafp_cache_key(moduleDigest, i.map { CChar(bitPattern: $0) }, i.count, t.map { CChar(bitPattern: $0) }, t.count,
                       o.map { CChar(bitPattern: $0) }, o.count, &key)
        hex = String(decoding: key.prefix(64).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public var description: String { hex }
}

/// The record stored beside each artifact; an artifact whose size or digest disagrees with it is
/// discarded and rebuilt, never executed.
public struct CacheEntry: Codable, Sendable {
    public var key: String
    public var moduleDigest: String
    public var identity: String
    public var target: String
    public var options: String
    public var size: UInt64
    public var sha256: String
    public var created: Date
    /// Not stored: the entry folder's modification time, refreshed on every hit (for gc).
    public var lastUsed: Date?
}

public struct CacheError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Content-addressed store of compiled artifacts:
///   ROOT/entries/KEY/{artifact,entry.json}   published by renaming a finished folder
///   ROOT/locks/KEY.lock                     flock: one compile per key, others wait and reuse
///   ROOT/tmp/                               work in progress (same file system as entries/)
///   ROOT/fast/, ROOT/tierup/                 the launcher's records, background builds' state
/// Every folder and file is held to the trust rule (checkTrusted).
public final class ArtifactCache: @unchecked Sendable {
    public let root: URL
    let fm = FileManager.default

    /// Opens (creating) the cache at `root`; refuses one that another user could write to (see
    /// `checkTrusted`).
    public init(root: URL) throws(CacheError) {
        self.root = root
        if !fm.fileExists(atPath: root.path) {
            do {
                try fm.createDirectory(at: root, withIntermediateDirectories: true)
            } catch {
                throw CacheError("cannot create the cache at \(root.path): \(error.localizedDescription)")
            }
            chmod(root.path, 0o755)  // ours: whatever the umask
        }
        try Self.checkTrusted(root.path, follow: true)
        // fast/: the launcher's records (wafp_write), held to the same rule.
        for sub in ["entries", "locks", "tmp", "fast"] { try makeDirectory(root.appendingPathComponent(sub)) }
    }

    /// The trust rule (wafp_trusted, shared with the launcher): a cache folder or file is used only
    /// if it is a directory or regular file owned by this user or root and not writable by its
    /// group or others — another user could otherwise plant an artifact that wasmaot executes.
    public static func checkTrusted(_ path: String, follow: Bool = false) throws(CacheError) {
        var why = [CChar](repeating: 0, count: 1024)
        switch wafp_trusted(path, follow ? 1 : 0, &why, why.count) {
        case 0: return
        case 1: throw CacheError(String(decoding: why.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        default: throw CacheError("cannot examine \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// A folder of the cache: created 0755 whatever the umask if absent (never a symlink),
    /// then held to the trust rule.
    public func makeDirectory(_ url: URL) throws(CacheError) {
        if mkdir(url.path, 0o755) == 0 {
            chmod(url.path, 0o755)
        } else if errno != EEXIST {
            throw CacheError("cannot create \(url.path): \(String(cString: strerror(errno)))")
        }
        try Self.checkTrusted(url.path)
    }

    /// `$WASMAOT_CACHE_DIR`, else `$XDG_CACHE_HOME/wasmaot`, else `~/.cache/wasmaot`.
    public static func defaultRoot() -> URL {
        let env = ProcessInfo.processInfo.environment
        if let dir = env["WASMAOT_CACHE_DIR"], !dir.isEmpty { return URL(fileURLWithPath: dir) }
        if let xdg = env["XDG_CACHE_HOME"], !xdg.isEmpty { return URL(fileURLWithPath: xdg).appendingPathComponent("wasmaot") }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/wasmaot")
    }

    func entryDir(_ key: String) -> URL { root.appendingPathComponent("entries/\(key)") }

    /// The artifact for `key`, compiling it with `compile(temporaryPath)` when absent or invalid.
    /// Concurrent callers with the same key compile once; the others wait and reuse.
    public func artifact(for key: CacheKey, identity: String, target: String, options: String,
                         compile: (String) throws -> Void) throws -> (path: URL, compiled: Bool) {
        if let hit = try validEntry(key.hex) { return (hit, false) }
        let lock = try acquireLock(key.hex)
        defer { close(lock) }
        if let hit = try validEntry(key.hex) { return (hit, false) }
        try? fm.removeItem(at: entryDir(key.hex))

        let work = root.appendingPathComponent("tmp/\(key.hex).\(getpid()).\(UInt32.random(in: 0...UInt32.max))")
        // A fresh folder of our own (mkdir fails on anything already there), 0755 whatever the umask.
        guard mkdir(work.path, 0o755) == 0 else {
            throw CacheError("cannot create \(work.path): \(String(cString: strerror(errno)))")
        }
        chmod(work.path, 0o755)
        defer { try? fm.removeItem(at: work) }
        let artifact = work.appendingPathComponent("artifact")
        try compile(artifact.path)
        guard let data = fm.contents(atPath: artifact.path) else { throw CacheError("compiler produced no artifact") }
        chmod(artifact.path, 0o755)
        try fsyncFile(artifact.path)
        let entry = CacheEntry(key: key.hex, moduleDigest: key.moduleDigest, identity: identity, target: target,
                               options: options, size: UInt64(data.count), sha256: sha256Hex(data), created: Date())
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(ISO8601.format(date))
        }
        let record = work.appendingPathComponent("entry.json")
        do {
            try encoder.encode(entry).write(to: record)
        } catch {
            throw CacheError("cannot write \(record.path): \(error.localizedDescription)")
        }
        chmod(record.path, 0o644)
        try fsyncFile(record.path)
        // Publishing is one rename of the finished folder: readers see all of it or nothing.
        guard rename(work.path, entryDir(key.hex).path) == 0 else {
            throw CacheError("cannot publish \(key.hex): \(String(cString: strerror(errno)))")
        }
        try? fsyncFile(root.appendingPathComponent("entries").path)
        return (entryDir(key.hex).appendingPathComponent("artifact"), true)
    }

    /// The artifact path if the entry exists and matches its recorded size and digest; a bad
    /// entry is removed. A hit refreshes the entry's use time (gc evicts least recently used).
    /// An entry that breaks the trust rule is refused with the reason (not removed: it is not ours).
    public func validEntry(_ key: String) throws(CacheError) -> URL? {
        let dir = entryDir(key)
        let artifact = dir.appendingPathComponent("artifact")
        for path in [dir.path, artifact.path, dir.appendingPathComponent("entry.json").path] where fm.fileExists(atPath: path) {
            try Self.checkTrusted(path)
        }
        guard let entry = readEntry(key), let data = fm.contents(atPath: artifact.path) else {
            if fm.fileExists(atPath: dir.path) { discard(key) }
            return nil
        }
        guard UInt64(data.count) == entry.size, sha256Hex(data) == entry.sha256 else {
            discard(key)
            return nil
        }
        utimes(dir.path, nil)
        return artifact
    }

    private func discard(_ key: String) {
        // Move aside first so a concurrent reader never sees a half-deleted folder as valid.
        let trash = root.appendingPathComponent("tmp/discard.\(key).\(getpid()).\(UInt32.random(in: 0...UInt32.max))")
        if rename(entryDir(key).path, trash.path) == 0 { try? fm.removeItem(at: trash) }
    }

    func readEntry(_ key: String) -> CacheEntry? {
        let dir = entryDir(key)
        guard let data = fm.contents(atPath: dir.appendingPathComponent("entry.json").path) else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = ISO8601.parse(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an ISO 8601 UTC time: \(text)")
            }
            return date
        }
        guard var entry = try? decoder.decode(CacheEntry.self, from: data), entry.key == key else { return nil }
        entry.lastUsed = modificationDate(dir.path)
        return entry
    }

    /// stat(2)'s mtime (FileManager's attributes look up owner names: passwd/group per call).
    func modificationDate(_ path: String) -> Date? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return Date(timeIntervalSince1970: Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9)
    }

    private func acquireLock(_ key: String) throws -> Int32 {
        let path = root.appendingPathComponent("locks/\(key).lock").path
        let fd = open(path, O_CREAT | O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CacheError("cannot open lock \(path): \(String(cString: strerror(errno)))") }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else {
                close(fd)
                throw CacheError("cannot lock \(path): \(String(cString: strerror(errno)))")
            }
        }
        return fd
    }

    private func fsyncFile(_ path: String) throws(CacheError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CacheError("cannot open \(path) to sync it") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw CacheError("fsync \(path): \(String(cString: strerror(errno)))") }
    }

    // MARK: maintenance

    public func list() -> [CacheEntry] {
        let keys = (try? fm.contentsOfDirectory(atPath: root.appendingPathComponent("entries").path)) ?? []
        return keys.compactMap(readEntry).sorted { ($0.lastUsed ?? $0.created) > ($1.lastUsed ?? $1.created) }
    }

    /// The entry whose key starts with `prefix` (unique prefixes are enough, as with git).
    public func info(_ prefix: String) throws(CacheError) -> CacheEntry {
        let matches = list().filter { $0.key.hasPrefix(prefix.lowercased()) }
        guard matches.count == 1 else {
            throw CacheError(matches.isEmpty ? "no cache entry \(prefix)" : "\(prefix) is ambiguous (\(matches.count) entries)")
        }
        return matches[0]
    }

    /// Work folders of compiles that died (e.g. `kill -9`) are never published; remove those
    /// older than `age` seconds.
    public func removeStaleWork(olderThan age: TimeInterval = 3600) {
        let tmp = root.appendingPathComponent("tmp")
        for name in (try? fm.contentsOfDirectory(atPath: tmp.path)) ?? [] {
            let path = tmp.appendingPathComponent(name).path
            let modified = modificationDate(path) ?? .distantPast
            if Date().timeIntervalSince(modified) > age { try? fm.removeItem(atPath: path) }
        }
    }

    /// Evicts least recently used entries until the cache holds at most `maxSize` bytes.
    public func gc(maxSize: UInt64) -> (removed: Int, freed: UInt64, kept: UInt64) {
        removeStaleWork()
        var entries = list()
        var total = entries.reduce(UInt64(0)) { $0 + $1.size }
        var removed = 0
        var freed: UInt64 = 0
        while total > maxSize, let oldest = entries.popLast() {
            let lock = try? acquireLock(oldest.key)
            discard(oldest.key)
            if let lock { close(lock) }
            total -= oldest.size
            freed += oldest.size
            removed += 1
        }
        return (removed, freed, total)
    }

    public func clear() -> Int {
        removeStaleWork(olderThan: 0)
        let entries = list()
        for entry in entries { discard(entry.key) }
        // The launcher's fast-path records (they only point at entries; see WasmAOTFastPath), and
        // the background builds' bookkeeping (failure markers, queued module copies, log).
        try? fm.removeItem(at: root.appendingPathComponent("fast"))
        try? fm.removeItem(at: root.appendingPathComponent("tierup"))
        return entries.count
    }
}

/// `2026-12-02T17:04:53Z` (UTC, whole seconds: what entry.json has always held) with the C
/// library: Foundation's ISO 8601 strategies load ICU's time-zone data (~3 ms per cold start).
enum ISO8601 {
    static func format(_ date: Date) -> String {
        var t = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&t, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        let n = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%SZ", &parts)
        return String(decoding: buffer.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The inverse of `format`; a fraction of a second before the "Z" (older writers) is dropped.
    static func parse(_ text: String) -> Date? {
        let c = Array(text.utf8)
        func number(_ from: Int, _ count: Int) -> Int32? {
            guard from + count <= c.count else { return nil }
            var n: Int32 = 0
            for b in c[from..<from + count] {
                guard b >= 48 && b <= 57 else { return nil }
                n = n * 10 + Int32(b - 48)
            }
            return n
        }
        guard c.count >= 20, c[4] == 45, c[7] == 45, c[10] == 84, c[13] == 58, c[16] == 58, c.last == 90,
              let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
              let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2) else { return nil }
        if c.count > 20 {
            guard c[19] == 46, c.count > 21, number(20, c.count - 21) != nil else { return nil }
        }
        var parts = tm()
        parts.tm_year = year - 1900
        parts.tm_mon = month - 1
        parts.tm_mday = day
        parts.tm_hour = hour
        parts.tm_min = minute
        parts.tm_sec = second
        return Date(timeIntervalSince1970: Double(timegm(&parts)))
    }
}

/// Hex SHA-256, for keys and for shortening long key material in displays.
public func sha256Hex(_ data: Data) -> String {
    SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
}

/// "512K", "100M", "2G", "12345" → bytes; nil for anything else, including sizes that do not fit
/// in 64 bits ("99999999999T").
public func parseSize(_ text: String) -> UInt64? {
    let units: [Character: UInt64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
    var digits = text.uppercased()
    if digits.hasSuffix("B") { digits.removeLast() }
    var multiplier: UInt64 = 1
    if let last = digits.last, let unit = units[last] {
        multiplier = unit
        digits.removeLast()
    }
    guard let value = UInt64(digits) else { return nil }
    let (bytes, overflow) = value.multipliedReportingOverflow(by: multiplier)
    return overflow ? nil : bytes
}
