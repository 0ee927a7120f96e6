/// Turns a Wasm container's config into one that runs the compiled artifact natively.
///
/// How the artifact gets exec'ed with the guest's argv intact: OCI has no "executable path"
/// separate from args[0], and the artifact passes its whole argv to the guest. Putting the artifact
/// at a new path (say /.wasmaot/app) and making that args[0] would change the guest's argv[0]. So
/// instead the artifact is bind-mounted read-only *over the entrypoint file itself* (the resolved,
/// symlink-free path of args[0] inside the rootfs): args stay exactly as configured, the runtime
/// resolves args[0] to the same file as before, and the kernel execs the artifact. The mount comes
/// last in `mounts` so it also covers an entrypoint that lives in a volume. The guest can no longer
/// read its own .wasm through that path — an accepted trade-off (it never could under crun's
/// handlers either, which run the module in-process).
public enum ConfigRewrite {
    /// Set on rewritten configs: a second `create` on the same bundle must not stack another mount
    /// or wrap WASMAOT_WASI twice.
    public static let markerAnnotation = "org.wasmaot.oci.artifact"

    public static func isRewritten(_ config: OCIConfig) -> Bool {
        config.annotations[markerAnnotation] != nil
    }

    /// `entrypoint`: container path of args[0] (from `RootfsPath.entrypoint`); `artifact`: host path.
    public static func rewrite(_ config: OCIConfig, entrypoint: String, artifact: String) -> OCIConfig {
        var c = config
        c.mounts.append(.object([
            "destination": .string(entrypoint),
            "type": .string("bind"),
            "source": .string(artifact),
            // nosuid/nodev: the artifact needs neither; no noexec, obviously.
            "options": .array(["bind", "ro", "nosuid", "nodev"].map { .string($0) }),
        ]))
        let env = c.env.filter { !$0.hasPrefix("WASMAOT_WASI=") }
        // The original entries stay in process.env (harmless: the runtime builds the guest's
        // environment from WASMAOT_WASI alone and hides WASMAOT_WASI itself).
        c.env = env + ["WASMAOT_WASI=" + wasiConfig(env: env)]
        c.setAnnotation(markerAnnotation, artifact)
        return c
    }

    /// The guest sees the container's root as "/" and exactly the configured environment.
    public static func wasiConfig(env: [String]) -> String {
        (["--dir", "/::/"] + env.flatMap { ["--env", shellQuote($0)] }).joined(separator: " ")
    }

    /// Single-quoted word for the runtime's shell-style WASMAOT_WASI splitter ('…' is literal, and
    /// a ' is written as '\'' ).
    public static func shellQuote(_ s: String) -> String {
        "'" + s.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
    }
}
