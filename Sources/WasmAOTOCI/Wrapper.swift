/// The wrapper's whole flow: parse, and for create/run of a Wasm container compile + rewrite
/// config.json; then become the delegate runtime with the original arguments.
public struct Wrapper {
    public var arguments: RuntimeArguments
    public var settings: Settings
    public var handlerMode: Bool
    var environment: [String: String]

    public init(argv: [String], environment: [String: String]) {
        arguments = RuntimeArguments(Array(argv.dropFirst()))
        settings = Settings.load(environment: environment)
        handlerMode = WasmDetection.isHandlerName(argv.first ?? "") || arguments.handler == "wasm"
        self.environment = environment
    }

    /// Never returns on success (the process becomes the delegate); returns the exit status on error.
    public func main() -> Int32 {
        do {
            let delegate = try findDelegate()
            if arguments.command == "create" || arguments.command == "run" { try prepareBundle() }
            throw System.exec(delegate, arguments.delegateArguments)
        } catch {
            ErrorLog.report("\(error)", log: arguments.log, format: arguments.logFormat)
            return 1
        }
    }

    /// Rewrites `<bundle>/config.json` when the container is Wasm; leaves it untouched otherwise.
    public func prepareBundle() throws {
        let bundle = arguments.bundle ?? System.currentDirectory()
        let configPath = bundle + "/config.json"
        let config = try OCIConfig(bytes: try System.readFile(configPath))
        if ConfigRewrite.isRewritten(config) { return }
        let rootPath = config.rootPath
        let root = rootPath.hasPrefix("/") ? rootPath : bundle + "/" + rootPath
        let args = config.args
        let entry = args.first.flatMap { RootfsPath.entrypoint($0, cwd: config.cwd, env: config.env, root: root) }
        let wasm = WasmDetection.isWasm(annotations: config.annotations, handlerMode: handlerMode) {
            entry.map { RootfsPath.hasWasmMagic(root + $0) } ?? false
        }
        guard wasm else { return }
        guard let entry else {
            throw System.Failure("Wasm container: entrypoint \(args.first.map { "\"\($0)\"" } ?? "(process.args is empty)") not found in \(root)")
        }
        let artifact = try artifact(for: root + entry, root: root)
        let rewritten = ConfigRewrite.rewrite(config, entrypoint: entry, artifact: artifact)
        try System.writeAtomically(try rewritten.json.serialized() + [0x0a], to: configPath)
    }

    /// `wasmaot cache artifact`: compiled for this CPU, content-addressed, reused when cached.
    func artifact(for module: String, root: String) throws -> String {
        guard settings.trustImageArtifacts else { return try cacheArtifact(module, trustImage: false) }
        let path = try cacheArtifact(module, trustImage: true)
        // A prebuilt artifact from the image is a path in the rootfs, found by the compiler with
        // host symlink semantics; an image could point it (app.wasm.wasmaot -> /usr/bin) at a host
        // file. Use it only if the host path is where the same path leads inside the container.
        guard path.hasPrefix(root + "/") else { return path }
        if let inside = RootfsPath.resolve(String(path.dropFirst(root.count)), in: root),
           let realRoot = System.realPath(root), System.realPath(path) == realRoot + inside {
            return path
        }
        return try cacheArtifact(module, trustImage: false)
    }

    func cacheArtifact(_ module: String, trustImage: Bool) throws -> String {
        let compiler = try findCompiler()
        var flags = trustImage ? ["--trust-image-artifacts"] : []
        flags += ["--tier", settings.tiering.tierFlag]
        if let n = settings.backgroundBuilds { flags += ["--background-jobs", "\(n)"] }
        let r = try System.run(compiler, ["cache", "artifact", module, "--cache-dir", settings.cacheDir] + flags)
        let out = String(decoding: r.stdout, as: UTF8.self).trimmed(" \t\n")
        guard r.status == 0, out.hasPrefix("/") else {
            let why = String(decoding: r.stderr, as: UTF8.self).trimmed(" \t\n")
            throw System.Failure("cannot compile Wasm entrypoint \(module): \(why.isEmpty ? "wasmaot exited with status \(r.status)" : why)")
        }
        return out
    }

    func findCompiler() throws -> String {
        if let c = settings.compiler { return c }
        if let me = System.realPath("/proc/self/exe") {
            let sibling = String(me[..<me.lastIndex(of: "/")!]) + "/wasmaot"
            if System.isExecutable(sibling) { return sibling }
        }
        if let c = System.which("wasmaot", path: environment["PATH"]) { return c }
        throw System.Failure("the wasmaot compiler was not found (set `wasmaot` in \(Settings.defaultConfigFile) or WASMAOT_OCI_COMPILER)")
    }

    /// WASMAOT_OCI_DELEGATE / oci.toml `delegate`, else crun, else runc — never this wrapper itself
    /// (installed as `runc`, or found on PATH via a symlink), which would exec itself forever.
    func findDelegate() throws -> String {
        if let d = settings.delegate {
            guard System.isExecutable(d) else { throw System.Failure("delegate runtime \(d) is not executable") }
            return d
        }
        let me = System.realPath("/proc/self/exe")
        for name in ["crun", "runc"] {
            if let p = System.which(name, path: environment["PATH"]), System.realPath(p) != me { return p }
        }
        throw System.Failure("no delegate OCI runtime: set WASMAOT_OCI_DELEGATE or `delegate` in \(Settings.defaultConfigFile), or install crun or runc")
    }
}
