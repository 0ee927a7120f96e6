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

    init(_ argv: [String]) {
        withCStrings(argv) { c in
            var a = wao_args()
            precondition(wao_args_parse(Int32(argv.count), c, &a) == 0)
            defer { wao_args_free(&a) }
            delegateArguments = (0..<Int(a.delegate_argc)).map { String(cString: a.delegate_argv[$0]!) }
            command = swiftString(a.command); root = swiftString(a.root); log = swiftString(a.log)
            logFormat = swiftString(a.log_format); handler = swiftString(a.handler); config = swiftString(a.config)
            bundle = swiftString(a.bundle); containerID = swiftString(a.container_id)
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
}

/// A parsed config.json (the C parser's views), its serialization and its rewrite.
final class OCIConfig {
    let c: UnsafeMutablePointer<wao_config>

    init(bytes: [UInt8]) throws {
        var err = [CChar](repeating: 0, count: 512)
        guard let c = bytes.withUnsafeBufferPointer({ b in
            b.withMemoryRebound(to: CChar.self) { wao_config_parse($0.baseAddress, b.count, &err, err.count) }
        }) else { throw OCITestError("parse: \(String(cString: err))") }
        self.c = c
    }
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

    func serialized() -> Data { Data(takeString(wao_config_serialize(c, nil))!.utf8) }
    func rewrite(entrypoint: String, artifact: String) -> Data {
        Data(takeString(wao_config_rewrite(c, entrypoint, artifact, nil))!.utf8)
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
