/// The parts of an OCI runtime-spec config.json that the wrapper reads or rewrites, as typed views
/// over the full document (`json`), which is written back whole.
public struct OCIConfig: Equatable, Sendable {
    public var json: JSONValue

    public init(json: JSONValue) { self.json = json }
    public init(bytes: [UInt8]) throws { json = try JSONValue.parse(bytes) }

    public var annotations: [String: String] {
        (json["annotations"]?.objectValue ?? [:]).compactMapValues { $0.stringValue }
    }

    public mutating func setAnnotation(_ key: String, _ value: String) {
        var a = json["annotations"] ?? .object([:])
        a[key] = .string(value)
        json["annotations"] = a
    }

    public var args: [String] {
        get { (json["process"]?["args"]?.arrayValue ?? []).compactMap { $0.stringValue } }
        set { json["process", default: .object([:])]["args"] = .array(newValue.map { .string($0) }) }
    }

    /// `process.env` as written: KEY=VALUE strings, order kept (later entries win, as in execve).
    public var env: [String] {
        get { (json["process"]?["env"]?.arrayValue ?? []).compactMap { $0.stringValue } }
        set { json["process", default: .object([:])]["env"] = .array(newValue.map { .string($0) }) }
    }

    public var cwd: String { json["process"]?["cwd"]?.stringValue ?? "/" }

    /// `root.path`, relative to the bundle unless absolute (runtime-spec "Root").
    public var rootPath: String { json["root"]?["path"]?.stringValue ?? "rootfs" }

    public var mounts: [JSONValue] {
        get { json["mounts"]?.arrayValue ?? [] }
        set { json["mounts"] = .array(newValue) }
    }
}

extension JSONValue {
    subscript(key: String, default def: JSONValue) -> JSONValue {
        get { self[key] ?? def }
        set { self[key] = newValue }
    }
}
