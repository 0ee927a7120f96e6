import CArchive
import Crypto
import Foundation

/// Writes OCI images (image-spec v1.1: image layout directory or its tar, the `oci-archive` that
/// podman, skopeo and `ctr images import` read) without buildah or a daemon.
///
/// Reproducible: the same spec gives byte-identical blobs and so the same digests — every tar
/// entry has uid/gid 0, no user/group names and the spec's `created` time as mtime; entries are
/// sorted; gzip carries no timestamp or name; JSON has sorted keys. tar and gzip are libarchive's.
public enum OCIImage {
    /// Writes `spec` to `path` as `format`. The result appears atomically: an archive is renamed
    /// into place, a layout directory replaces an earlier *layout* at that path (anything else
    /// there is left alone and reported). Nothing is left behind on failure.
    public static func write(_ spec: ImageSpec, to path: String, format: ImageFormat) throws(ImageError) -> ImageResult {
        do {
            return try Writer(spec: spec, destination: path, format: format).run()
        } catch let error as ImageError {
            throw error
        } catch {
            throw ImageError("\(path): \(error)")
        }
    }
}

// MARK: - What to build

public enum ImageFormat: String, Sendable, CaseIterable {
    case ociArchive = "oci-archive"
    case ociDirectory = "oci-dir"
}

/// `os`/`architecture` as OCI spells them (`linux`/`amd64`, `wasi`/`wasm`).
public struct ImagePlatform: Hashable, Sendable, CustomStringConvertible {
    public var os: String
    public var architecture: String
    public init(os: String, architecture: String) {
        self.os = os
        self.architecture = architecture
    }
    public var description: String { "\(os)/\(architecture)" }
}

/// One entry of a layer. `path` is absolute in the image; parent directories are added.
public struct ImageFile: Sendable {
    public enum Content: Sendable {
        case file(String)          // host path, read when the layer is written
        case bytes([UInt8])
        case directory
        case symlink(String)       // target
    }
    public var path: String
    public var content: Content
    public var mode: UInt32
    public init(path: String, content: Content, mode: UInt32) {
        self.path = path
        self.content = content
        self.mode = mode
    }
}

/// The runtime part of the image config (image-spec `config` object).
public struct ImageRunConfig: Sendable {
    public var entrypoint: [String]
    public var cmd: [String]
    public var env: [String]
    public var workingDir: String
    public var labels: [String: String]
    public init(entrypoint: [String], cmd: [String] = [], env: [String] = [], workingDir: String = "/",
                labels: [String: String] = [:]) {
        self.entrypoint = entrypoint
        self.cmd = cmd
        self.env = env
        self.workingDir = workingDir
        self.labels = labels
    }
}

/// One platform's image: its layers (bottom first), config and manifest annotations.
public struct ImagePlatformSpec: Sendable {
    public var platform: ImagePlatform
    public var layers: [[ImageFile]]
    public var config: ImageRunConfig
    public var annotations: [String: String]
    /// `created_by` of each layer's history entry.
    public var history: [String]
    public init(platform: ImagePlatform, layers: [[ImageFile]], config: ImageRunConfig, annotations: [String: String],
                history: [String]) {
        self.platform = platform
        self.layers = layers
        self.config = config
        self.annotations = annotations
        self.history = history
    }
}

public struct ImageSpec: Sendable {
    /// `org.opencontainers.image.ref.name` of the layout's entry (e.g. `localhost/app:1.0`).
    public var reference: String
    /// One per platform; more than one gives an image index.
    public var platforms: [ImagePlatformSpec]
    /// Seconds since the epoch: config `created` and every file's mtime (SOURCE_DATE_EPOCH).
    public var created: Int64
    public init(reference: String, platforms: [ImagePlatformSpec], created: Int64) {
        self.reference = reference
        self.platforms = platforms
        self.created = created
    }
}

public struct ImageResult: Sendable {
    /// The descriptor index.json names: the manifest (one platform) or the image index.
    public var digest: String
    public var mediaType: String
    public var manifests: [(platform: ImagePlatform, digest: String, size: Int)]
}

public struct ImageError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

// MARK: - Media types and JSON documents

enum MediaType {
    static let manifest = "application/vnd.oci.image.manifest.v1+json"
    static let index = "application/vnd.oci.image.index.v1+json"
    static let config = "application/vnd.oci.image.config.v1+json"
    static let layerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
}

struct Descriptor: Codable {
    var mediaType: String
    var digest: String
    var size: Int
    var platform: Platform?
    var annotations: [String: String]?
    struct Platform: Codable {
        var architecture: String
        var os: String
    }
}

struct Manifest: Codable {
    var schemaVersion = 2
    var mediaType = MediaType.manifest
    var config: Descriptor
    var layers: [Descriptor]
    var annotations: [String: String]?
}

struct Index: Codable {
    var schemaVersion = 2
    var mediaType = MediaType.index
    var manifests: [Descriptor]
}

struct ConfigDocument: Codable {
    var created: String
    var architecture: String
    var os: String
    var config: RunConfig
    var rootfs: RootFS
    var history: [History]
    struct RunConfig: Codable {
        var Entrypoint: [String]
        var Cmd: [String]?
        var Env: [String]?
        var WorkingDir: String
        var Labels: [String: String]?
    }
    struct RootFS: Codable {
        var type = "layers"
        var diff_ids: [String]
    }
    struct History: Codable {
        var created: String
        var created_by: String
    }
}

func canonicalJSON<T: Encodable>(_ value: T) throws -> [UInt8] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return Array(try encoder.encode(value))
}

/// RFC 3339 in UTC, as image configs write it.
func rfc3339(_ seconds: Int64) -> String {
    var t = time_t(seconds)
    var parts = tm()
    gmtime_r(&t, &parts)
    return String(format: "%04d-%02d-%02dT%02d:%02d:%02dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                  Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
}

// MARK: - Writing

/// A content-addressed blob store in a staging layout directory.
struct BlobStore {
    let root: String
    var blobs: String { root + "/blobs/sha256" }

    /// Stores `bytes`; returns the descriptor fields.
    func put(_ bytes: [UInt8]) throws -> (digest: String, size: Int) {
        let hex = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
        let path = "\(blobs)/\(hex)"
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: Data(bytes), attributes: [.posixPermissions: 0o644]) else {
                throw ImageError("cannot write \(path)")
            }
        }
        return ("sha256:\(hex)", bytes.count)
    }

    /// Moves a finished file into the store under its digest.
    func adopt(_ file: String, digest hex: String) throws {
        let path = "\(blobs)/\(hex)"
        if FileManager.default.fileExists(atPath: path) {
            unlink(file)
        } else if rename(file, path) != 0 {
            throw ImageError("cannot move \(file) to \(path): \(String(cString: strerror(errno)))")
        }
    }
}

/// SHA-256 and size of a file, read in 1 MiB chunks.
func digestOfFile(_ path: String) throws -> (hex: String, size: Int) {
    guard let handle = FileHandle(forReadingAtPath: path) else { throw ImageError("cannot read \(path)") }
    defer { try? handle.close() }
    var hasher = SHA256()
    var size = 0
    while true {
        let chunk = handle.readData(ofLength: 1 << 20)
        if chunk.isEmpty { break }
        hasher.update(data: chunk)
        size += chunk.count
    }
    return (hasher.finalize().map { String(format: "%02x", $0) }.joined(), size)
}

/// libarchive writer with the project's error reporting.
final class ArchiveWriter {
    let handle: OpaquePointer
    let target: String

    init(to path: String, gzip: Bool) throws {
        guard let a = archive_write_new() else { throw ImageError("libarchive: out of memory") }
        handle = a
        target = path
        if gzip {
            // Raw: the gzip member of one stream (the tar written before); no timestamp, no
            // name, and no zero padding after it (Go's gzip reader rejects trailing zeros).
            try check(archive_write_add_filter_gzip(a))
            try check(archive_write_set_format_raw(a))
            try check(archive_write_set_options(a, "gzip:!timestamp"))
            try check(archive_write_set_bytes_in_last_block(a, 1))
        } else {
            try check(archive_write_set_format_pax_restricted(a))  // ustar unless a name needs pax
        }
        try check(archive_write_open_filename(a, path))
    }

    deinit { archive_write_free(handle) }

    func check(_ rc: Int32) throws {
        if rc < ARCHIVE_OK {
            let why = archive_error_string(handle).map { String(cString: $0) } ?? "error \(rc)"
            throw ImageError("\(target): \(why)")
        }
    }

    /// One entry: `name` relative (no leading "/"), `type` S_IFREG/S_IFDIR/S_IFLNK bits.
    func entry(_ name: String, type: UInt32, mode: UInt32, size: Int, mtime: Int64, link: String? = nil,
               data: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void = { _ in }) throws {
        guard let e = archive_entry_new() else { throw ImageError("libarchive: out of memory") }
        defer { archive_entry_free(e) }
        archive_entry_set_pathname(e, name)
        archive_entry_set_mode(e, mode_t(type | (mode & 0o7777)))
        archive_entry_set_size(e, la_int64_t(size))
        archive_entry_set_uid(e, 0)
        archive_entry_set_gid(e, 0)
        archive_entry_set_mtime(e, time_t(mtime), 0)
        if let link { archive_entry_set_symlink(e, link) }
        try check(archive_write_header(handle, e))
        var written = 0
        try data { chunk in
            guard chunk.count > 0 else { return }
            let n = archive_write_data(handle, chunk.baseAddress, chunk.count)
            if n < 0 { try check(Int32(n)) }
            written += chunk.count
        }
        if written != size { throw ImageError("\(name): \(written) bytes written, \(size) expected (file changed while read?)") }
    }

    func close() throws { try check(archive_write_close(handle)) }
}

let typeRegular: UInt32 = 0o100000, typeDirectory: UInt32 = 0o040000, typeSymlink: UInt32 = 0o120000

/// Streams a host file into an entry.
func streamFile(_ path: String, _ write: (UnsafeRawBufferPointer) throws -> Void) throws {
    guard let handle = FileHandle(forReadingAtPath: path) else { throw ImageError("cannot read \(path)") }
    defer { try? handle.close() }
    while true {
        let chunk = handle.readData(ofLength: 1 << 20)
        if chunk.isEmpty { break }
        try chunk.withUnsafeBytes { try write($0) }
    }
}

struct Writer {
    let spec: ImageSpec
    let destination: String
    let format: ImageFormat

    func run() throws -> ImageResult {
        guard !spec.platforms.isEmpty else { throw ImageError("no platform to build") }
        let fm = FileManager.default
        let dest = URL(fileURLWithPath: destination)
        let parent = dest.deletingLastPathComponent().path
        let name = dest.lastPathComponent
        var isDir: ObjCBool = false
        let exists = fm.fileExists(atPath: destination, isDirectory: &isDir)
        switch format {
        case .ociArchive where exists && isDir.boolValue:
            throw ImageError("\(destination) is a directory; an oci-archive is a file (use --format oci-dir for a layout directory)")
        case .ociDirectory where exists && !(isDir.boolValue && fm.fileExists(atPath: destination + "/oci-layout")):
            throw ImageError("\(destination) exists and is not an OCI image layout; not replacing it")
        default: break
        }
        guard fm.fileExists(atPath: parent, isDirectory: &isDir), isDir.boolValue else {
            throw ImageError("\(parent): no such directory")
        }
        // Staging beside the destination: same filesystem, so the final rename is atomic.
        let stage = "\(parent)/.\(name).wasmaot-\(getpid())"
        try? fm.removeItem(atPath: stage)
        defer { try? fm.removeItem(atPath: stage) }
        let layout = format == .ociDirectory ? stage : stage + ".layout"
        defer { if format == .ociArchive { try? fm.removeItem(atPath: layout) } }
        do {
            try fm.createDirectory(atPath: layout + "/blobs/sha256", withIntermediateDirectories: true)
        } catch {
            throw ImageError("cannot create \(layout): \(error.localizedDescription)")
        }
        let store = BlobStore(root: layout)
        let result = try writeLayout(store)
        switch format {
        case .ociDirectory:
            let old = "\(parent)/.\(name).wasmaot-old-\(getpid())"
            if exists, rename(destination, old) != 0 { throw ImageError("cannot move the old layout at \(destination) aside") }
            guard rename(stage, destination) == 0 else {
                let why = String(cString: strerror(errno))
                if exists { _ = rename(old, destination) }
                throw ImageError("cannot rename \(stage) to \(destination): \(why)")
            }
            try? fm.removeItem(atPath: old)
        case .ociArchive:
            try archiveLayout(layout, to: stage)
            guard rename(stage, destination) == 0 else {
                throw ImageError("cannot rename \(stage) to \(destination): \(String(cString: strerror(errno)))")
            }
        }
        return result
    }

    /// Blobs, index.json and oci-layout in `store.root`.
    func writeLayout(_ store: BlobStore) throws -> ImageResult {
        var manifests: [(platform: ImagePlatform, digest: String, size: Int)] = []
        var descriptors: [Descriptor] = []
        var layerCache: [String: (diffID: String, descriptor: Descriptor)] = [:]  // same layer, same blob
        for (n, p) in spec.platforms.enumerated() {
            var layers: [Descriptor] = []
            var diffIDs: [String] = []
            for (i, files) in p.layers.enumerated() {
                let key = layerKey(files)
                let layer: (diffID: String, descriptor: Descriptor)
                if let known = layerCache[key] {
                    layer = known
                } else {
                    layer = try writeLayer(files, store: store, scratch: "\(store.root)/.layer-\(n)-\(i)")
                    layerCache[key] = layer
                }
                layers.append(layer.descriptor)
                diffIDs.append(layer.diffID)
            }
            let created = rfc3339(spec.created)
            let c = p.config
            let config = ConfigDocument(
                created: created, architecture: p.platform.architecture, os: p.platform.os,
                config: .init(Entrypoint: c.entrypoint, Cmd: c.cmd.isEmpty ? nil : c.cmd, Env: c.env.isEmpty ? nil : c.env,
                              WorkingDir: c.workingDir, Labels: c.labels.isEmpty ? nil : c.labels),
                rootfs: .init(diff_ids: diffIDs),
                history: p.history.map { .init(created: created, created_by: $0) })
            let configBlob = try store.put(try canonicalJSON(config))
            let manifest = Manifest(config: Descriptor(mediaType: MediaType.config, digest: configBlob.digest, size: configBlob.size),
                                    layers: layers, annotations: p.annotations.isEmpty ? nil : p.annotations)
            let m = try store.put(try canonicalJSON(manifest))
            manifests.append((p.platform, m.digest, m.size))
            descriptors.append(Descriptor(mediaType: MediaType.manifest, digest: m.digest, size: m.size,
                                          platform: .init(architecture: p.platform.architecture, os: p.platform.os)))
        }
        let refName = ["org.opencontainers.image.ref.name": spec.reference]
        var top: Descriptor
        if descriptors.count == 1 {
            top = descriptors[0]
        } else {
            let index = try store.put(try canonicalJSON(Index(manifests: descriptors)))
            top = Descriptor(mediaType: MediaType.index, digest: index.digest, size: index.size)
        }
        top.annotations = refName
        try writeFile("\(store.root)/index.json", try canonicalJSON(Index(manifests: [top])))
        try writeFile("\(store.root)/oci-layout", Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8))
        return ImageResult(digest: top.digest, mediaType: top.mediaType, manifests: manifests)
    }

    func writeFile(_ path: String, _ bytes: [UInt8]) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes), attributes: [.posixPermissions: 0o644]) else {
            throw ImageError("cannot write \(path)")
        }
    }

    func layerKey(_ files: [ImageFile]) -> String {
        files.map { f -> String in
            switch f.content {
            case .file(let p): "\(f.path)\u{0}f\(p)\u{0}\(f.mode)"
            case .bytes(let b): "\(f.path)\u{0}b\(SHA256.hash(data: b).map { String(format: "%02x", $0) }.joined())\u{0}\(f.mode)"
            case .directory: "\(f.path)\u{0}d\u{0}\(f.mode)"
            case .symlink(let t): "\(f.path)\u{0}l\(t)"
            }
        }.joined(separator: "\u{1}")
    }

    /// The tar (its SHA-256 is the diff ID), then its gzip (the blob).
    func writeLayer(_ files: [ImageFile], store: BlobStore, scratch: String) throws -> (diffID: String, descriptor: Descriptor) {
        let tarPath = scratch + ".tar", gzPath = scratch + ".tar.gz"
        defer { unlink(tarPath); unlink(gzPath) }
        let entries = try normalized(files)
        let tar = try ArchiveWriter(to: tarPath, gzip: false)
        for f in entries {
            let name = String(f.path.dropFirst())  // relative: "app.wasm", "app.wasm.wasmaot/"
            switch f.content {
            case .directory:
                try tar.entry(name + "/", type: typeDirectory, mode: f.mode, size: 0, mtime: spec.created)
            case .symlink(let target):
                try tar.entry(name, type: typeSymlink, mode: 0o777, size: 0, mtime: spec.created, link: target)
            case .bytes(let b):
                try tar.entry(name, type: typeRegular, mode: f.mode, size: b.count, mtime: spec.created) { write in
                    try b.withUnsafeBytes { try write($0) }
                }
            case .file(let host):
                guard let attrs = try? FileManager.default.attributesOfItem(atPath: host),
                      let size = (attrs[.size] as? NSNumber)?.intValue else { throw ImageError("cannot read \(host)") }
                try tar.entry(name, type: typeRegular, mode: f.mode, size: size, mtime: spec.created) { write in
                    try streamFile(host, write)
                }
            }
        }
        try tar.close()
        let diff = try digestOfFile(tarPath)
        let gz = try ArchiveWriter(to: gzPath, gzip: true)
        try gz.entry("layer.tar", type: typeRegular, mode: 0o644, size: diff.size, mtime: 0) { write in
            try streamFile(tarPath, write)
        }
        try gz.close()
        let blob = try digestOfFile(gzPath)
        try store.adopt(gzPath, digest: blob.hex)
        return ("sha256:\(diff.hex)", Descriptor(mediaType: MediaType.layerGzip, digest: "sha256:\(blob.hex)", size: blob.size))
    }

    /// Absolute, clean paths; parents added as directories (0755); sorted; a path given twice is
    /// an error (which one should win is not obvious).
    func normalized(_ files: [ImageFile]) throws -> [ImageFile] {
        var byPath: [String: ImageFile] = [:]
        for var f in files {
            let parts = f.path.split(separator: "/").map(String.init)
            guard !parts.isEmpty, !parts.contains(".."), !parts.contains(".") else {
                throw ImageError("\(f.path): not a usable path in an image (absolute, without . or ..)")
            }
            f.path = "/" + parts.joined(separator: "/")
            if let earlier = byPath[f.path] {
                if case .directory = earlier.content, case .directory = f.content { continue }
                throw ImageError("\(f.path) is given twice")
            }
            byPath[f.path] = f
            var parent = ""
            for part in parts.dropLast() {
                parent += "/" + part
                if let p = byPath[parent] {
                    guard case .directory = p.content else { throw ImageError("\(parent) is a file and a directory") }
                } else {
                    byPath[parent] = ImageFile(path: parent, content: .directory, mode: 0o755)
                }
            }
        }
        // Byte order of the paths: a directory's entry comes before its contents.
        return byPath.values.sorted { Array($0.path.utf8).lexicographicallyPrecedes(Array($1.path.utf8)) }
    }

    /// The layout as an uncompressed tar (what `oci-archive:` means), entries sorted.
    func archiveLayout(_ layout: String, to path: String) throws {
        let fm = FileManager.default
        let blobs = try fm.contentsOfDirectory(atPath: layout + "/blobs/sha256").filter { !$0.hasPrefix(".") }.sorted()
        let tar = try ArchiveWriter(to: path, gzip: false)
        try tar.entry("blobs/", type: typeDirectory, mode: 0o755, size: 0, mtime: spec.created)
        try tar.entry("blobs/sha256/", type: typeDirectory, mode: 0o755, size: 0, mtime: spec.created)
        for b in blobs {
            let host = "\(layout)/blobs/sha256/\(b)"
            let size = (try fm.attributesOfItem(atPath: host)[.size] as? NSNumber)?.intValue ?? 0
            try tar.entry("blobs/sha256/\(b)", type: typeRegular, mode: 0o644, size: size, mtime: spec.created) { try streamFile(host, $0) }
        }
        for name in ["index.json", "oci-layout"] {
            let host = "\(layout)/\(name)"
            let size = (try fm.attributesOfItem(atPath: host)[.size] as? NSNumber)?.intValue ?? 0
            try tar.entry(name, type: typeRegular, mode: 0o644, size: size, mtime: spec.created) { try streamFile(host, $0) }
        }
        try tar.close()
    }
}
