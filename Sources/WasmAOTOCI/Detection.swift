/// Which containers run as Wasm. The annotations are the ones crun's Wasm handlers and the
/// containerd/CRI-O Wasm shims use, so images built for them work unchanged.
public enum WasmDetection {
    public static let variantKey = "module.wasm.image/variant"   // compat | compat-smart
    public static let handlerKey = "run.oci.handler"             // wasm | wasm-smart
    /// Kubernetes copies pod annotations onto the pause container too: it must stay native.
    public static let sandboxKeys = ["io.kubernetes.cri.container-type", "io.kubernetes.cri-o.ContainerType"]

    /// `handlerMode`: invoked as `…-wasm` or with `--handler wasm`. `entrypointIsWasm` is only
    /// called when the answer depends on the file, since it reads the rootfs.
    public static func isWasm(annotations: [String: String], handlerMode: Bool,
                              entrypointIsWasm: () -> Bool) -> Bool {
        if sandboxKeys.contains(where: { annotations[$0] == "sandbox" }) { return false }
        let variant = annotations[variantKey], handler = annotations[handlerKey]
        if variant == "compat" || handler == "wasm" { return true }
        if variant == "compat-smart" || handler == "wasm-smart" || handlerMode { return entrypointIsWasm() }
        return false
    }

    /// The `-wasm` name rule: `wasmaot-oci-wasm` (a symlink) selects handler mode, so engines that
    /// choose a runtime by name (podman's `--runtime`, containerd runtime classes) need no flags.
    public static func isHandlerName(_ argv0: String) -> Bool {
        argv0.split(separator: "/").last.map { $0.hasSuffix("-wasm") } ?? false
    }
}
