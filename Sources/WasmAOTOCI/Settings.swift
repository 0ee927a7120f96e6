#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Wrapper settings: environment first (tests, one-off overrides), then /etc/wasmaot/oci.toml,
/// then defaults. podman/containerd give the runtime a scrubbed environment, so the file is the
/// normal way to configure a host.
public struct Settings: Equatable, Sendable {
    public static let defaultConfigFile = "/etc/wasmaot/oci.toml"
    public static let defaultCacheDir = "/var/lib/wasmaot/cache"

    public var delegate: String?
    public var cacheDir: String = Settings.defaultCacheDir
    /// The `wasmaot` compiler; default: next to this executable, else on PATH.
    public var compiler: String?
    /// Let `wasmaot cache artifact --trust-image-artifacts` use MODULE.wasmaot/<arch> shipped in
    /// the image (checked against module digest, compiler identity and arch); off by default.
    public var trustImageArtifacts = false
    /// `tiering`: "auto" (default: a module the node has not compiled starts on the baseline tier
    /// while the optimized tier is built in the background), "optimized-only" (compile the
    /// optimized tier before the container starts), "baseline-only" (never build the optimized tier).
    public var tiering: Tiering = .auto
    /// `background_builds`: optimized-tier builds at once on this node (nil: wasmaot's default, 1).
    public var backgroundBuilds: Int?

    public enum Tiering: String, Sendable, CaseIterable {
        case auto
        case optimizedOnly = "optimized-only"
        case baselineOnly = "baseline-only"

        /// `wasmaot cache artifact --tier …`
        public var tierFlag: String {
            switch self {
            case .auto: "auto"
            case .optimizedOnly: "optimized"
            case .baselineOnly: "baseline"
            }
        }
    }

    public init() {}

    public static func load(environment: [String: String]) -> Settings {
        var s = Settings()
        let file = environment["WASMAOT_OCI_CONFIG"] ?? defaultConfigFile
        if let text = readText(file) { s.apply(toml: text) }
        if let v = environment["WASMAOT_OCI_DELEGATE"], !v.isEmpty { s.delegate = v }
        if let v = environment["WASMAOT_OCI_CACHE_DIR"], !v.isEmpty { s.cacheDir = v }
        if let v = environment["WASMAOT_OCI_COMPILER"], !v.isEmpty { s.compiler = v }
        return s
    }

    /// The flat `key = value` subset of TOML the file needs: strings ("…" or '…'), booleans and
    /// non-negative integers;
    /// unknown keys and [tables] are ignored so newer config files still load.
    public mutating func apply(toml: String) {
        for raw in toml.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let line = raw.trimmed()
            guard !line.hasPrefix("#"), let eq = line.firstIndex(of: "=") else { continue }
            let key = String(line[..<eq]).trimmed()
            guard let value = Self.tomlValue(String(line[line.index(after: eq)...]).trimmed()) else { continue }
            switch key {
            case "delegate": delegate = value
            case "cache_dir": cacheDir = value
            case "wasmaot": compiler = value
            case "trust_image_artifacts": trustImageArtifacts = value == "true"
            case "tiering": if let t = Tiering(rawValue: value) { tiering = t }
            case "background_builds": if let n = Int(value), n >= 1 { backgroundBuilds = n }
            default: break
            }
        }
    }

    static func tomlValue(_ v: String) -> String? {
        if v.hasPrefix("\"") {
            var out = "", escaped = false
            for ch in v.dropFirst() {
                if escaped {
                    switch ch { case "n": out.append("\n"); case "t": out.append("\t"); default: out.append(ch) }
                    escaped = false
                } else if ch == "\\" { escaped = true }
                else if ch == "\"" { return out }
                else { out.append(ch) }
            }
            return nil
        }
        if v.hasPrefix("'") {
            let body = v.dropFirst()
            return body.firstIndex(of: "'").map { String(body[..<$0]) }
        }
        let word = v.prefix(while: { $0 != " " && $0 != "\t" && $0 != "#" })
        if word == "true" || word == "false" { return String(word) }
        return !word.isEmpty && word.allSatisfy({ $0.isASCII && $0.isNumber }) ? String(word) : nil
    }

    static func readText(_ path: String) -> String? {
        guard let f = fopen(path, "re") else { return nil }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&buf, 1, buf.count, f)
            if n <= 0 { break }
            bytes += buf[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension StringProtocol {
    func trimmed(_ set: String = " \t") -> String {
        let chars = Set(set)
        let s = self.drop(while: { chars.contains($0) })
        return String(s.reversed().drop(while: { chars.contains($0) }).reversed())
    }
}
