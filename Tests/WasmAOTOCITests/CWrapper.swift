import CWasmAOTOCI
import Foundation

/// Swift views of the wrapper's C functions (Sources/CWasmAOTOCI), so the unit tests read as
/// plain Swift. Nothing here decides anything: every answer comes from the C code that
/// wasmaot-oci runs.

/// NUL-terminated copies of `strings` for the duration of `body`.
func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) throws -> R) rethrows -> R {
    let c = strings.map { strdup($0) }
    defer { c.forEach { free($0) } }
    return try body(c + [nil])
}

func swiftString(_ p: UnsafePointer<CChar>?) -> String? { p.map { String(cString: $0) } }

/// Takes a malloc'ed C string.
func takeString(_ p: UnsafeMutablePointer<CChar>?) -> String? {
    defer { free(p) }
    return p.map { String(cString: $0) }
}

struct RuntimeArguments: Equatable {
    var delegateArguments: [String] = []
    var command, root, log, logFormat, handler, config, bundle, containerID: String?
    var commandIndex = 0
    // exec
    var idIndex = -1, commandWordIndex = -1, flagsEnd = -1
    var process, cwd: String?
    var env: [String] = []
    var envFlag: String?

    init(_ argv: [String]) {
        withCStrings(argv) { c in
            var a = wao_args()
            precondition(wao_args_parse(Int32(argv.count), c, &a) == 0)
            defer { wao_args_free(&a) }
            delegateArguments = (0..<Int(a.delegate_argc)).map { String(cString: a.delegate_argv[$0]!) }
            command = swiftString(a.command); root = swiftString(a.root); log = swiftString(a.log)
            logFormat = swiftString(a.log_format); handler = swiftString(a.handler); config = swiftString(a.config)
            bundle = swiftString(a.bundle); containerID = swiftString(a.container_id)
            commandIndex = Int(a.command_index)
            idIndex = Int(a.id_index); commandWordIndex = Int(a.exec_cmd_index); flagsEnd = Int(a.exec_flags_end)
            process = swiftString(a.process); cwd = swiftString(a.exec_cwd); envFlag = swiftString(a.exec_env_flag)
            env = (0..<a.nexec_env).map { String(cString: a.exec_env[$0]!) }
        }
    }
}

private final class ProbeBox { let probe: () -> Bool; init(_ p: @escaping () -> Bool) { probe = p } }

enum WasmDetection {
    static func isWasm(annotations: [String: String], handlerMode: Bool, entrypointIsWasm: @escaping () -> Bool) -> Bool {
        let keys = Array(annotations.keys), values = keys.map { annotations[$0]! }
        let box = ProbeBox(entrypointIsWasm)
        return withCStrings(keys) { k in
            withCStrings(values) { v in
                let kc = k.map { UnsafePointer($0) }, vc = v.map { UnsafePointer($0) }
                return wao_is_wasm(kc, vc, keys.count, handlerMode ? 1 : 0, { ctx in
                    Unmanaged<ProbeBox>.fromOpaque(ctx!).takeUnretainedValue().probe() ? 1 : 0
                }, Unmanaged.passUnretained(box).toOpaque()) != 0
            }
        }
    }

    static func isHandlerName(_ argv0: String) -> Bool { wao_is_handler_name(argv0) != 0 }
}

enum ConfigRewrite {
    static let markerAnnotation = WAO_MARKER_ANNOTATION
    static func shellQuote(_ s: String) -> String { takeString(wao_shell_quote(s))! }
    static func wasiConfig(env: [String]) -> String {
        withCStrings(env) { c in takeString(wao_wasi_config(c.map { UnsafePointer($0) }, env.count))! }
    }
    static func wasiConfig(env: [String], cwd: String, dirs: [String]) -> String {
        withCStrings(env) { e in
            withCStrings(dirs) { d in
                takeString(wao_wasi_config_cwd(e.map { UnsafePointer($0) }, env.count, cwd, d.map { UnsafePointer($0) }, dirs.count))!
            }
        }
    }
    static func cwdIsRoot(_ cwd: String) -> Bool { wao_cwd_is_root(cwd) != 0 }
    static let maxTopLevelPreopens = Int(WAO_MAX_TOPLEVEL_PREOPENS)
    static let entrypointAnnotation = WAO_ENTRYPOINT_ANNOTATION

    /// wao_toplevel_dirs: the "/X" preopens for a rootfs, the mounts of `config` and a workdir.
    static func topLevelDirs(root: String?, bundle: String?, config: OCIConfig?, cwd: String?) -> [String] {
        var n = 0
        let v = wao_toplevel_dirs(root, bundle, config?.c, cwd, &n)!
        defer { wao_strings_free(v) }
        return (0..<n).map { String(cString: v[$0]!) }
    }

    static func stateBundle(_ json: String) -> String? {
        let bytes = Array(json.utf8)
        return bytes.withUnsafeBufferPointer { b in
            b.withMemoryRebound(to: CChar.self) { takeString(wao_state_bundle($0.baseAddress, b.count)) }
        }
    }
}

/// wao_exec_prepare: what `exec` hands the delegate.
enum ExecRewrite: Equatable {
    case passThrough
    case process(Data)       // the rewritten process.json
    case envArgument(String) // "WASMAOT_WASI=…" for an added --env

    static func prepare(_ argv: [String], container: OCIConfig, bundle: String, process: Data? = nil) throws -> ExecRewrite {
        try withCStrings(argv) { c in
            var a = wao_args()
            precondition(wao_args_parse(Int32(argv.count), c, &a) == 0)
            defer { wao_args_free(&a) }
            var out = wao_exec_rewrite()
            defer { wao_exec_rewrite_free(&out) }
            var err = [CChar](repeating: 0, count: 512)
            let rc: Int32
            if let process {
                let bytes = process.map { CChar(bitPattern: $0) } + [0]
                rc = bytes.withUnsafeBufferPointer { wao_exec_prepare(&a, container.c, bundle, $0.baseAddress, process.count, &out, &err, err.count) }
            } else {
                rc = wao_exec_prepare(&a, container.c, bundle, nil, 0, &out, &err, err.count)
            }
            guard rc == 0 else { throw OCITestError(String(cString: err)) }
            if out.wasm == 0 { return .passThrough }
            if let p = out.process_json { return .process(Data(bytes: p, count: out.process_len)) }
            return .envArgument(String(cString: out.env_arg!))
        }
    }
}

/// A parsed config.json (the C parser's views), its serialization and its rewrite.
final class OCIConfig {
    let c: UnsafeMutablePointer<wao_config>

    /// `process`: the bytes are a process.json (wao_process_parse).
    init(bytes: [UInt8], process: Bool = false) throws {
        var err = [CChar](repeating: 0, count: 512)
        guard let c = bytes.withUnsafeBufferPointer({ b in
            b.withMemoryRebound(to: CChar.self) {
                process ? wao_process_parse($0.baseAddress, b.count, &err, err.count)
                        : wao_config_parse($0.baseAddress, b.count, &err, err.count)
            }
        }) else { throw OCITestError("parse: \(String(cString: err))") }
        self.c = c
    }
    convenience init(_ json: String, process: Bool = false) throws { try self.init(bytes: Array(json.utf8), process: process) }
    deinit { wao_config_free(c) }

    private func list(_ p: UnsafeMutablePointer<UnsafePointer<CChar>?>!, _ n: Int) -> [String] {
        (0..<n).map { String(cString: p[$0]!) }
    }
    var args: [String] { list(c.pointee.args, c.pointee.nargs) }
    var env: [String] { list(c.pointee.env, c.pointee.nenv) }
    var cwd: String { String(cString: c.pointee.cwd) }
    var rootPath: String { String(cString: c.pointee.root_path) }
    var annotations: [String: String] {
        Dictionary(zip(list(c.pointee.annotation_keys, c.pointee.nannotations),
                       list(c.pointee.annotation_values, c.pointee.nannotations)), uniquingKeysWith: { $1 })
    }
    var isRewritten: Bool { wao_config_annotation(c, WAO_MARKER_ANNOTATION) != nil }
    var entrypoint: String? { swiftString(wao_config_entrypoint(c)) }
    var mounts: [(destination: String?, source: String?, bind: Bool)] {
        (0..<c.pointee.nmounts).map { (swiftString(c.pointee.mount_destinations[$0]), swiftString(c.pointee.mount_sources[$0]),
                                       c.pointee.mount_bind[$0] != 0) }
    }

    func serialized() -> Data { Data(takeString(wao_config_serialize(c, nil))!.utf8) }
    func rewrite(entrypoint: String, artifact: String, dirs: [String] = []) -> Data {
        withCStrings(dirs) { d in
            Data(takeString(wao_config_rewrite(c, entrypoint, artifact, d.map { UnsafePointer($0) }, dirs.count, nil))!.utf8)
        }
    }
    /// For a process.json: wao_process_rewrite.
    func rewriteProcess(dirs: [String] = []) -> Data {
        withCStrings(dirs) { d in Data(takeString(wao_process_rewrite(c, d.map { UnsafePointer($0) }, dirs.count, nil))!.utf8) }
    }
}

struct Settings {
    enum Tiering: Equatable {
        case auto, optimizedOnly, baselineOnly
        init(_ t: wao_tiering) {
            switch t {
            case WAO_TIERING_OPTIMIZED_ONLY: self = .optimizedOnly
            case WAO_TIERING_BASELINE_ONLY: self = .baselineOnly
            default: self = .auto
            }
        }
        var c: wao_tiering {
            switch self {
            case .auto: WAO_TIERING_AUTO
            case .optimizedOnly: WAO_TIERING_OPTIMIZED_ONLY
            case .baselineOnly: WAO_TIERING_BASELINE_ONLY
            }
        }
        var tierFlag: String { String(cString: wao_tier_flag(c)) }
    }

    private var s = wao_settings()
    /// The message of the last apply/load that reported one.
    var error: String?

    init() { wao_settings_init(&s) }

    var delegate: String? { swiftString(s.delegate) }
    var cacheDir: String { String(cString: s.cache_dir) }
    var compiler: String? { swiftString(s.compiler) }
    var trustImageArtifacts: Bool { s.trust_image_artifacts != 0 }
    var tiering: Tiering { Tiering(s.tiering) }
    var backgroundBuilds: Int? { s.background_builds == 0 ? nil : Int(s.background_builds) }

    mutating func apply(toml: String) {
        var err = [CChar](repeating: 0, count: 1024)
        let bytes = Array(toml.utf8)
        let rc = bytes.withUnsafeBufferPointer { b in
            b.withMemoryRebound(to: CChar.self) { wao_settings_apply_toml(&s, $0.baseAddress, b.count, "oci.toml", &err, err.count) }
        }
        error = rc == 0 ? nil : String(cString: err)
    }

    static func load(environment: [String: String], file: String? = nil) -> Settings {
        var out = Settings()
        var err = [CChar](repeating: 0, count: 1024)
        let rc = withCStrings(environment.map { "\($0.key)=\($0.value)" }) { envp in
            wao_settings_load(&out.s, file, envp, &err, err.count)
        }
        out.error = rc == 0 ? nil : String(cString: err)
        return out
    }
}

enum ErrorLog {
    static func line(_ message: String, format: String?, time: String) -> String {
        takeString(wao_log_line(message, format, time))!
    }
}

enum RootfsPath {
    static func resolve(_ path: String, in root: String) -> String? {
        var out = [CChar](repeating: 0, count: Int(PATH_MAX))
        return wao_rootfs_resolve(path, root, &out, out.count) == 0 ? String(cString: out) : nil
    }

    static func entrypoint(_ arg0: String, cwd: String, env: [String], root: String) -> String? {
        var out = [CChar](repeating: 0, count: Int(PATH_MAX))
        return withCStrings(env) { e in
            wao_rootfs_entrypoint(arg0, cwd, e.map { UnsafePointer($0) }, env.count, root, &out, out.count) == 0
                ? String(cString: out) : nil
        }
    }

    static func hasWasmMagic(_ hostPath: String) -> Bool { wao_has_wasm_magic(hostPath) != 0 }
}
