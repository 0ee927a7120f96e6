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

struct Cache: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Inspect and maintain the artifact cache used by `wasmaot run`.",
        discussion: """
            Entries are keyed by SHA-256 of the module bytes, the compiler identity
            (wasmaot --version), the target (triple, CPU, features) and codegen options.

            Examples:
              wasmaot cache list
              wasmaot cache info 3fa2c1
              wasmaot cache gc --max-size 500M
              # compile (or reuse) and print the artifact path
              wasmaot cache artifact app.wasm
              wasmaot cache clear --cache-dir /var/lib/wasmaot/cache

            See also: README.md (Usage), deploy/README.md (the node cache).
            """,
        subcommands: [List.self, Info.self, GC.self, Clear.self, Artifact.self, Wait.self, TierUpCommand.self]
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List entries, most recently used first.")
        @OptionGroup var cache: CacheOptions

        func run() {
            let entries = cache.open().list()
            for e in entries {
                print("\(e.key.prefix(16))  \(formatSize(e.size))  \(tierText(e.options).padding(toLength: 14, withPad: " ", startingAt: 0))  module sha256:\(e.moduleDigest.prefix(16))  \(e.target)  \(e.options)")
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
                    tier       \(tierText(e.options))
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
            guard let limit = parseSize(maxSize) else { fail("--max-size: cannot read '\(maxSize)' (a size below 16 EiB, e.g. 500M, 2G)") }
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
        static let configuration = CommandConfiguration(
            abstract: "Compile a module into the cache (or reuse it); print the path.",
            usage: "wasmaot cache artifact [<options>] <input>",
            discussion: """
                With --tier auto (the default) a module the cache has no optimized artifact
                for gets the baseline tier now and the optimized tier in the background;
                the next call prints that one. wasmaot-oci calls this for Wasm containers.

                Examples:
                  wasmaot cache artifact app.wasm
                  wasmaot cache artifact --tier optimized -O3 app.wasm
                  wasmaot cache artifact --trust-image-artifacts app.wasm
                """)
        @OptionGroup var cache: CacheOptions
        @Option(name: .customShort("O", allowingJoined: true), help: ArgumentHelp("Optimization level 0-3 of the optimized tier.", valueName: "N")) var optLevel: Int = 2
        @OptionGroup var tiers: TierOptions
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
            print(tieredArtifact(input: input, choice: tiers.tier, opt: opt, cache: cache.open(), verbose: verbose,
                                 backgroundJobs: tiers.jobs).path)
        }
    }

    /// The background build of the optimized tier (started by `run` / `cache artifact`).
    struct TierUpCommand: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "tier-up", abstract: "Build the optimized tier of a module (background builds).",
                                                        shouldDisplay: false)
        @OptionGroup var cache: CacheOptions
        @Option(name: .customShort("O", allowingJoined: true)) var optLevel: Int = 2
        @Option(name: .customLong("background-jobs")) var jobs: Int = 1
        @Option(name: .customLong("baseline-key")) var baselineKey: String
        @Option(name: .customLong("lock-fd"), help: "The build's lock, taken by the scheduler and inherited.") var lockFD: Int32?
        @Option(name: .customLong("module"), help: "The module's own path (for its fast-path record).") var module: String
        @Argument(help: "The module bytes to compile.") var source: String

        func run() throws {
            guard let opt = OptLevel(rawValue: optLevel), baselineKey.allSatisfy(\.isHexDigit) else { throw ExitCode(2) }
            let status = TierUp.build(cache: cache.open(), baseline: baselineKey, opt: opt, source: source, module: module, jobs: jobs,
                                     lockFD: lockFD)
            if status != 0 { throw ExitCode(status) }
        }
    }

    struct Wait: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Wait until no background build of the optimized tier is running.",
            discussion: """
                Exit status 0 when none is left, 1 after --timeout seconds.

                Examples:
                  # the second start runs the optimized tier
                  wasmaot run app.wasm && wasmaot cache wait && wasmaot run app.wasm
                """)
        @OptionGroup var cache: CacheOptions
        @Option(name: .long, help: "Give up after this many seconds.") var timeout: Double = 3600

        func run() throws {
            if !TierUp.wait(cache: cache.open(), timeout: timeout) { throw ExitCode(1) }
        }
    }
}

/// "baseline" or "optimized (O2)", from an entry's options text.
func tierText(_ options: String) -> String {
    let first = options.split(separator: " ").first.map(String.init) ?? options
    return first == "baseline" ? "baseline" : "optimized (\(first))"
}

func formatSize(_ bytes: UInt64) -> String {
    if bytes >= 1 << 30 { return String(format: "%.1f GiB", Double(bytes) / Double(1 << 30)) }
    if bytes >= 1 << 20 { return String(format: "%.1f MiB", Double(bytes) / Double(1 << 20)) }
    if bytes >= 1 << 10 { return String(format: "%.1f KiB", Double(bytes) / Double(1 << 10)) }
    return "\(bytes) B"
}
