import Foundation
import WasmAOTCache
import XCTest

final class ArtifactCacheTests: XCTestCase {
    private var root: URL!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("cache-test-\(UUID().uuidString)")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: root)
    }

    private func key(_ module: String, identity: String = "wasmaot 1", options: String = "O2") -> CacheKey {
        CacheKey(module: Array(module.utf8), identity: identity, target: "x86_64", options: options)
    }

    private func fetch(_ cache: ArtifactCache, _ k: CacheKey, content: String = "artifact", counter: Counter) throws -> (URL, Bool) {
        let r = try cache.artifact(for: k, identity: "wasmaot 1", target: "x86_64", options: "O2") { path in
            counter.increment()
            Thread.sleep(forTimeInterval: 0.05)
            try content.write(toFile: path, atomically: false, encoding: .utf8)
        }
        return (r.path, r.compiled)
    }

    func testKeyCoversModuleIdentityAndOptions() {
        XCTAssertEqual(key("m").hex, key("m").hex)
        XCTAssertNotEqual(key("m").hex, key("m2").hex)
        XCTAssertNotEqual(key("m").hex, key("m", identity: "wasmaot 2").hex)
        XCTAssertNotEqual(key("m").hex, key("m", options: "O0").hex)
        XCTAssertEqual(key("m").hex.count, 64)
        // The documented material (wafp_cache_key), which the launcher derives in C.
        let material = ["wasmaot-cache-v1", sha256Hex(Data("m".utf8)), "wasmaot 1", "x86_64", "O2"].joined(separator: "\0")
        XCTAssertEqual(key("m").hex, sha256Hex(Data(material.utf8)))
        XCTAssertEqual(key("m", identity: "é\nx").hex.count, 64)
    }

    func testSecondLookupDoesNotCompile() throws {
        let cache = try ArtifactCache(root: root)
        let counter = Counter()
        let first = try fetch(cache, key("m"), counter: counter)
        let second = try fetch(cache, key("m"), counter: counter)
        XCTAssertTrue(first.1)
        XCTAssertFalse(second.1)
        XCTAssertEqual(first.0, second.0)
        XCTAssertEqual(counter.value, 1)
        XCTAssertEqual(try String(contentsOf: second.0, encoding: .utf8), "artifact")
    }

    func testConcurrentRequestsCompileOnce() throws {
        let cache = try ArtifactCache(root: root)
        let counter = Counter()
        let paths = Locked<[URL]>([])
        let k = key("shared")
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            let r = try? cache.artifact(for: k, identity: "wasmaot 1", target: "x86_64", options: "O2") { path in
                counter.increment()
                Thread.sleep(forTimeInterval: 0.05)
                try "artifact".write(toFile: path, atomically: false, encoding: .utf8)
            }
            if let r { paths.mutate { $0.append(r.path) } }
        }
        XCTAssertEqual(counter.value, 1)
        XCTAssertEqual(paths.value.count, 8)
        XCTAssertEqual(Set(paths.value).count, 1)
    }

    func testCorruptEntryIsRebuiltNotReturned() throws {
        let cache = try ArtifactCache(root: root)
        let counter = Counter()
        let (path, _) = try fetch(cache, key("m"), counter: counter)
        try "tampered".write(to: path, atomically: false, encoding: .utf8)
        XCTAssertNil(try cache.validEntry(key("m").hex), "a mismatching artifact must never be handed out")
        let (again, compiled) = try fetch(cache, key("m"), content: "artifact", counter: counter)
        XCTAssertTrue(compiled)
        XCTAssertEqual(try String(contentsOf: again, encoding: .utf8), "artifact")
        XCTAssertEqual(counter.value, 2)
    }

    func testFailedCompileLeavesNothing() throws {
        let cache = try ArtifactCache(root: root)
        struct Boom: Error {}
        XCTAssertThrowsError(try cache.artifact(for: key("bad"), identity: "i", target: "t", options: "o") { path in
            try "half".write(toFile: path, atomically: false, encoding: .utf8)
            throw Boom()
        })
        XCTAssertTrue(cache.list().isEmpty)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("tmp").path), [])
    }

    func testGCEvictsLeastRecentlyUsedAndClearEmpties() throws {
        let cache = try ArtifactCache(root: root)
        let counter = Counter()
        let big = String(repeating: "x", count: 1000)
        _ = try fetch(cache, key("a"), content: big, counter: counter)
        Thread.sleep(forTimeInterval: 1.1)
        _ = try fetch(cache, key("b"), content: big, counter: counter)
        Thread.sleep(forTimeInterval: 1.1)
        _ = try fetch(cache, key("a"), content: big, counter: counter)   // a is now the most recent
        let r = cache.gc(maxSize: 1500)
        XCTAssertEqual(r.removed, 1)
        XCTAssertEqual(cache.list().map(\.key), [key("a").hex])
        XCTAssertEqual(try cache.info(String(key("a").hex.prefix(10))).size, 1000)
        XCTAssertEqual(cache.clear(), 1)
        XCTAssertTrue(cache.list().isEmpty)
        XCTAssertEqual(parseSize("500M"), 500 << 20)
        XCTAssertEqual(parseSize("2G"), 2 << 30)
        XCTAssertNil(parseSize("lots"))
        XCTAssertEqual(parseSize("16777215T"), 16_777_215 << 40)   // the largest that fits
        XCTAssertNil(parseSize("16777216T"))                        // 2^64: overflow, not a crash
        XCTAssertNil(parseSize("99999999999T"))
        XCTAssertNil(parseSize("99999999999999999999"))            // more than UInt64 even without a unit
    }

    // MARK: trust (issue 13 item 4)

    private func expectRefusal(_ reason: String, file: StaticString = #filePath, line: UInt = #line,
                               _ body: () throws -> Void) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            XCTAssertTrue("\(error)".contains(reason), "\(error)", file: file, line: line)
            XCTAssertTrue("\(error)".contains("refusing"), "\(error)", file: file, line: line)
        }
    }

    func testCacheRootWritableByOthersIsRefused() throws {
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        chmod(root.path, 0o777)
        expectRefusal("writable by others") { _ = try ArtifactCache(root: root) }
        chmod(root.path, 0o775)
        expectRefusal("writable by its group") { _ = try ArtifactCache(root: root) }
        chmod(root.path, 0o755)
        _ = try ArtifactCache(root: root)
        // A sub-folder too (nobody may swap entries/ for one of theirs).
        chmod(root.appendingPathComponent("entries").path, 0o777)
        expectRefusal("entries is writable by others") { _ = try ArtifactCache(root: root) }
    }

    func testUntrustedEntriesAreRefusedNotUsed() throws {
        let cache = try ArtifactCache(root: root)
        let counter = Counter()
        let (artifact, _) = try fetch(cache, key("m"), counter: counter)
        chmod(artifact.path, 0o777)
        expectRefusal("artifact is writable by others") { _ = try fetch(cache, key("m"), counter: counter) }
        chmod(artifact.path, 0o755)
        XCTAssertFalse(try fetch(cache, key("m"), counter: counter).1)
        // Swapped for a symlink to somewhere else: refused, not followed.
        let elsewhere = root.appendingPathComponent("elsewhere")
        try FileManager.default.moveItem(at: artifact, to: elsewhere)
        try FileManager.default.createSymbolicLink(at: artifact, withDestinationURL: elsewhere)
        expectRefusal("is a symbolic link") { _ = try cache.validEntry(key("m").hex) }
        try FileManager.default.removeItem(at: artifact)
        try FileManager.default.moveItem(at: elsewhere, to: artifact)
        // Owned by another user (only root can make one).
        guard geteuid() == 0 else { return }
        chown(artifact.deletingLastPathComponent().path, 4242, 4242)
        expectRefusal("owned by another user (uid 4242") { _ = try cache.validEntry(key("m").hex) }
    }

    func testPermissionsDoNotDependOnTheUmask() throws {
        let old = umask(0o002)  // Debian's default for users with a private group
        defer { umask(old) }
        let cache = try ArtifactCache(root: root)
        let (artifact, _) = try fetch(cache, key("m"), counter: Counter())
        func mode(_ url: URL) throws -> Int {
            (try FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? Int) ?? -1
        }
        XCTAssertEqual(try mode(artifact), 0o755)
        XCTAssertEqual(try mode(artifact.deletingLastPathComponent()), 0o755)
        XCTAssertEqual(try mode(artifact.deletingLastPathComponent().appendingPathComponent("entry.json")), 0o644)
        for sub in ["entries", "locks", "tmp"] { XCTAssertEqual(try mode(root.appendingPathComponent(sub)), 0o755, sub) }
        // and the cache it made is one it trusts
        XCTAssertNotNil(try cache.validEntry(key("m").hex))
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}

final class Locked<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T
    init(_ value: T) { stored = value }
    func mutate(_ body: (inout T) -> Void) { lock.withLock { body(&stored) } }
    var value: T { lock.withLock { stored } }
}
