/// The runc/crun command line, parsed only as far as the wrapper needs: the global flags it reads
/// (--log, --log-format, --root), the command, and the bundle/ID of create/run. Everything is kept
/// as given in `delegateArguments`, so a delegate sees exactly what podman/containerd passed —
/// minus the wrapper's own `--handler` flag, which runc would reject.
public struct RuntimeArguments: Equatable, Sendable {
    public var delegateArguments: [String]
    public var command: String?
    public var root: String?
    public var log: String?
    public var logFormat: String?
    /// `--handler wasm`: treat every container whose entrypoint is a Wasm module as Wasm.
    public var handler: String?
    /// create/run only: `--bundle/-b`, nil when absent (the runtime then uses its cwd).
    public var bundle: String?
    public var containerID: String?

    public static let commands: Set<String> = [
        "create", "start", "run", "state", "kill", "delete", "exec", "ps", "pause", "resume",
        "update", "features", "spec", "list", "events", "checkpoint", "restore", "help",
    ]
    /// Global flags (runc ∪ crun) that take a value; the rest (--debug, --systemd-cgroup, …) don't.
    static let globalValueFlags: Set<String> = ["root", "log", "log-format", "log-level", "criu", "rootless", "cgroup-manager"]
    static let globalBoolFlags: Set<String> = ["debug", "systemd-cgroup", "help", "h", "version", "v"]
    /// create/run options that take a value, so their values are not mistaken for the container ID.
    static let commandValueFlags: Set<String> = ["bundle", "b", "console-socket", "pid-file", "preserve-fds", "pidfd-socket"]

    public init(_ argv: [String]) {
        var out: [String] = []
        var i = 0
        // Global flags: urfave/cli (runc) accepts -flag and --flag, with " value" or "=value".
        while i < argv.count, argv[i].hasPrefix("-"), argv[i] != "-", argv[i] != "--" {
            let arg = argv[i]
            let (name, inline) = Self.split(arg)
            var value = inline
            var consumed = 1
            let next = i + 1 < argv.count ? argv[i + 1] : nil
            if inline == nil, let next {
                let known = Self.globalValueFlags.contains(name) || name == "handler"
                // Unknown flags: a following word that is neither a flag nor a command is its value.
                let unknownWithValue = !Self.globalBoolFlags.contains(name) && !known
                    && !next.hasPrefix("-") && !Self.commands.contains(next)
                if known || unknownWithValue { value = next; consumed = 2 }
            }
            switch name {
            case "root": root = value
            case "log": log = value
            case "log-format": logFormat = value
            case "handler": handler = value
            default: break
            }
            if name != "handler" { out += argv[i..<i + consumed] }
            i += consumed
        }
        if i < argv.count, Self.commands.contains(argv[i]) {
            command = argv[i]
        }
        out += argv[i...]
        delegateArguments = out
        guard let command, command == "create" || command == "run" else { return }
        var j = i + 1
        while j < argv.count {
            let arg = argv[j]
            if arg == "--" { if j + 1 < argv.count, containerID == nil { containerID = argv[j + 1] }; break }
            if arg.hasPrefix("-") && arg != "-" {
                let (name, inline) = Self.split(arg)
                var value = inline
                if inline == nil, Self.commandValueFlags.contains(name), j + 1 < argv.count {
                    value = argv[j + 1]
                    j += 1
                }
                if name == "bundle" || name == "b" { bundle = value }
            } else if containerID == nil {
                containerID = arg
            }
            j += 1
        }
    }

    /// "--name=value" → ("name", "value"); "-name" → ("name", nil).
    static func split(_ arg: String) -> (String, String?) {
        let body = arg.drop(while: { $0 == "-" })
        if let eq = body.firstIndex(of: "=") {
            return (String(body[..<eq]), String(body[body.index(after: eq)...]))
        }
        return (String(body), nil)
    }
}
