import ArgumentParser
import Foundation
import WasmAOTCache
import WasmAOTCodegen

struct CacheOptions: ParsableArguments {
    @Option(name: .customLong("cache-dir"), help: "Cache location (default: $WASMAOT_CACHE_DIR, $XDG_CACHE_HOME/wasmaot, ~/.cache/wasmaot).")
    var cacheDir: String?

    func open() -> ArtifactCache {
        let root = cacheDir.map { URL(fileURLWithPath: $0) } ?? ArtifactCache.defaultRoot()
        do {
            return try ArtifactCache(root: root)
        } catch {
            fail(error.description)
        }
    }
}

/// Compiles `input` for this machine into the cache, or reuses the cached artifact. With
/// `verbose` (or WASMAOT_LOG=1) says on stderr whether it was a cache hit. With `fastPath`, also
/// records the verified artifact for the launcher's next `wasmaot run`.
func cachedArtifact(input: String, opt: OptLevel, cache: ArtifactCache, verbose: Bool = false,
                    fastPath: Bool = false) -> (path: String, compiled: Bool) {
    let started = Date()
    let record = fastPath ? FastPathRecord(module: input) : nil
    guard let data = FileManager.default.contents(atPath: input) else { fail("\(input): cannot read file") }
    let target: TargetSpec
    do {
        target = try TargetSpec(architecture: .host, cpu: .native)
    } catch {
        fail(error.description)
    }
    let identity = WasmAOT.identity()
    let targetText = "\(target) features=sha256:\(sha256Hex(Data(target.features.utf8)).prefix(16))"
    let options = "O\(opt.rawValue) emit=exe"
    let key = CacheKey(module: Array(data), identity: identity, target: targetText, options: options)
    do {
        let result = try cache.artifact(for: key, identity: identity, target: targetText, options: options) { temporary in
            let pipeline = Pipeline(input: input, output: temporary, opt: opt, architecture: .host, cpu: .native, emit: .exe)
            try pipeline.run()
        }
        if verbose || ProcessInfo.processInfo.environment["WASMAOT_LOG"] != nil {
            let what = result.compiled ? String(format: "compiled in %.2f s", Date().timeIntervalSince(started)) : "cache hit"
            FileHandle.standardError.write(Data("wasmaot: \(what): \(key.hex.prefix(16)) \(result.path.path)\n".utf8))
        }
        record?.write(cacheRoot: cache.root.path, module: input, moduleDigest: key.moduleDigest, opt: opt, artifact: result.path.path,
                      key: key.hex, identity: identity, target: targetText)
        return (result.path.path, result.compiled)
    } catch {
        fail("\(error)")
    }
}

struct Cache: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Inspect and maintain the artifact cache used by `wasmaot run`.",
        discussion: """
            Entries are keyed by SHA-256 of the module bytes, the compiler identity (wasmaot --version),
            the target (triple, CPU, features) and codegen options.

            Examples:
              wasmaot cache list
              wasmaot cache info 3fa2c1
              wasmaot cache gc --max-size 500M
              wasmaot cache artifact app.wasm        # compile (or reuse) and print the artifact path
              wasmaot cache clear --cache-dir /var/lib/wasmaot/cache
            """,
        subcommands: [List.self, Info.self, GC.self, Clear.self, Artifact.self]
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List entries, most recently used first.")
        @OptionGroup var cache: CacheOptions

        func run() {
            let entries = cache.open().list()
            for e in entries {
                print("\(e.key.prefix(16))  \(formatSize(e.size))  module sha256:\(e.moduleDigest.prefix(16))  \(e.target)  \(e.options)")
            }
            print("\(entries.count) entries, \(formatSize(entries.reduce(0) { $0 + $1.size }))")
        }
    }

    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one entry (any unique key prefix).")
        @OptionGroup var cache: CacheOptions
        @Argument(help: "Key or key prefix.") var key: String

        func run() {
            let store = cache.open()
            do {
                let e = try store.info(key)
                print("""
                    key        \(e.key)
                    module     sha256:\(e.moduleDigest)
                    artifact   \(store.root.path)/entries/\(e.key)/artifact
                    size       \(e.size) bytes
                    sha256     \(e.sha256)
                    target     \(e.target)
                    options    \(e.options)
                    created    \(e.created)
                    last used  \(e.lastUsed.map { "\($0)" } ?? "-")
                    identity   \(e.identity.replacingOccurrences(of: "\n", with: "; "))
                    """)
            } catch {
                fail(error.description)
            }
        }
    }

    struct GC: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "gc", abstract: "Evict least recently used entries down to a size.")
        @OptionGroup var cache: CacheOptions
        @Option(name: .customLong("max-size"), help: "Size to keep at most, e.g. 500M, 2G, 1048576.") var maxSize: String

        func run() {
            guard let limit = parseSize(maxSize) else { fail("--max-size: cannot read '\(maxSize)' (examples: 500M, 2G)") }
            let r = cache.open().gc(maxSize: limit)
            print("removed \(r.removed) entries (\(formatSize(r.freed))); \(formatSize(r.kept)) kept")
        }
    }

    struct Clear: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove every entry.")
        @OptionGroup var cache: CacheOptions

        func run() {
            print("removed \(cache.open().clear()) entries")
        }
    }

    struct Artifact: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Compile a module for this machine into the cache (or reuse it) and print the artifact path.")
        @OptionGroup var cache: CacheOptions
        @Option(name: .customShort("O", allowingJoined: true), help: "Optimization level 0-3.") var optLevel: Int = 2
        @Flag(name: .customLong("trust-image-artifacts"), help: "Use MODULE.wasmaot/<arch> from `compile --for-image` when module digest, compiler identity and architecture match.")
        var trustImageArtifacts = false
        @Flag(name: .shortAndLong, help: "Say on stderr whether the artifact came from the cache.") var verbose = false
        @Argument(help: "Module (.wasm).") var input: String

        func run() {
            guard let opt = OptLevel(rawValue: optLevel) else { fail("-O expects 0, 1, 2 or 3") }
            if trustImageArtifacts, let data = FileManager.default.contents(atPath: input) {
                let check = ImageArtifacts.verified(module: input, moduleBytes: Array(data), identity: WasmAOT.identity(),
                                                    arch: Architecture.host.rawValue)
                if let path = check.path { return print(path) }
                FileHandle.standardError.write(Data("wasmaot: not using the image artifact: \(check.reason); compiling\n".utf8))
            }
            print(cachedArtifact(input: input, opt: opt, cache: cache.open(), verbose: verbose, fastPath: true).path)
        }
    }
}

func formatSize(_ bytes: UInt64) -> String {
    if bytes >= 1 << 30 { return String(format: "%.1f GiB", Double(bytes) / Double(1 << 30)) }
    if bytes >= 1 << 20 { return String(format: "%.1f MiB", Double(bytes) / Double(1 << 20)) }
    if bytes >= 1 << 10 { return String(format: "%.1f KiB", Double(bytes) / Double(1 << 10)) }
    return "\(bytes) B"
}
