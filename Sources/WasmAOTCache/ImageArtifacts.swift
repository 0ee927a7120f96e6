import Foundation

/// Prebuilt artifacts shipped inside an image next to the module:
///   app.wasm.wasmaot/manifest.json   binds each artifact to the module digest + compiler identity
///   app.wasm.wasmaot/<arch>          the static executable for that architecture (x86_64, aarch64)
/// Each artifact records the compiler identity *of its architecture* (compiler, LLVM, that
/// architecture's runtime archive): a node computes its own and looks only at its own
/// architecture's entry. A node uses it only when its policy trusts image artifacts *and* module
/// digest, identity and architecture all match (and the file still has its recorded digest);
/// otherwise it compiles.
public struct ImageManifest: Codable, Sendable {
    public var moduleSha256: String
    public var artifacts: [String: Artifact]

    public struct Artifact: Codable, Sendable {
        public var file: String
        public var sha256: String
        public var size: UInt64
        public var identity: String
        public var cpu: String
        public var options: String
    }
}

public enum ImageArtifacts {
    public static func directory(forModule module: String) -> String { module + ".wasmaot" }

    /// Builds `<module>.wasmaot/<arch>` with `build(temporaryPath)` and records it in the manifest
    /// with `identity` (the compiler identity for `arch`). Other architectures' entries are kept
    /// when the module is unchanged; each is checked against its own identity when used.
    public static func publish(module: String, moduleBytes: [UInt8], identity: String, arch: String,
                               cpu: String, options: String, build: (String) throws -> Void) throws {
        let fm = FileManager.default
        let dir = directory(forModule: module)
        let created = !fm.fileExists(atPath: dir)
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        // A failed build leaves nothing behind: not even the directory it would have gone to.
        var published = false
        defer { if created && !published { try? fm.removeItem(atPath: dir) } }
        let moduleDigest = sha256Hex(Data(moduleBytes))
        var manifest = read(dir).flatMap { $0.moduleSha256 == moduleDigest ? $0 : nil }
            ?? ImageManifest(moduleSha256: moduleDigest, artifacts: [:])
        let temporary = "\(dir)/.\(arch).tmp-\(getpid())"
        defer { try? fm.removeItem(atPath: temporary) }
        try build(temporary)
        guard let data = fm.contents(atPath: temporary) else { throw CacheError("no artifact was built for \(arch)") }
        guard rename(temporary, "\(dir)/\(arch)") == 0 else { throw CacheError("cannot write \(dir)/\(arch)") }
        manifest.artifacts[arch] = .init(file: arch, sha256: sha256Hex(data), size: UInt64(data.count), identity: identity,
                                         cpu: cpu, options: options)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let manifestTemp = "\(dir)/.manifest.json.tmp-\(getpid())"
        try encoder.encode(manifest).write(to: URL(fileURLWithPath: manifestTemp))
        guard rename(manifestTemp, "\(dir)/manifest.json") == 0 else { throw CacheError("cannot write \(dir)/manifest.json") }
        published = true
    }

    /// The prebuilt artifact for `arch` if everything matches (`identity`: this node's compiler
    /// identity, for its own architecture), else nil and why not.
    public static func verified(module: String, moduleBytes: [UInt8], identity: String, arch: String) -> (path: String?, reason: String) {
        let dir = directory(forModule: module)
        guard let manifest = read(dir) else {
            let exists = FileManager.default.fileExists(atPath: "\(dir)/manifest.json")
            return (nil, exists ? "\(dir)/manifest.json is not a manifest this wasmaot reads" : "no image artifact manifest at \(dir)/manifest.json")
        }
        guard manifest.moduleSha256 == sha256Hex(Data(moduleBytes)) else { return (nil, "image artifact was built from a different module") }
        guard let entry = manifest.artifacts[arch], !entry.file.contains("/") else {
            let present = manifest.artifacts.keys.sorted().joined(separator: ", ")
            return (nil, "image has no artifact for \(arch) (it has: \(present.isEmpty ? "none" : present))")
        }
        guard entry.identity == identity else { return (nil, "image artifact for \(arch) was built by a different compiler (identity differs)") }
        let path = URL(fileURLWithPath: "\(dir)/\(entry.file)").standardizedFileURL.path
        guard let data = readImageFile(path, limit: maxArtifactBytes), UInt64(data.count) == entry.size,
              sha256Hex(data) == entry.sha256 else { return (nil, "image artifact \(path) does not match its recorded digest") }
        return (path, "image artifact matches")
    }

    /// Image content is hostile: a manifest or artifact is read only as a regular file (not a
    /// symlink, FIFO or device — opened O_NOFOLLOW|O_NONBLOCK, then checked) of at most `limit` bytes.
    static let maxManifestBytes = 1 << 20, maxArtifactBytes = 1 << 31

    static func readImageFile(_ path: String, limit: Int) -> Data? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_size <= limit else { return nil }
        return try? handle.readToEnd() ?? Data()
    }

    static func read(_ dir: String) -> ImageManifest? {
        guard let data = readImageFile("\(dir)/manifest.json", limit: maxManifestBytes) else { return nil }
        return try? JSONDecoder().decode(ImageManifest.self, from: data)
    }
}
