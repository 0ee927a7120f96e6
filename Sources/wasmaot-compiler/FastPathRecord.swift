import Foundation
import WasmAOTCache
import WasmAOTCodegen
import WasmAOTFastPath
import WasmAOTLink

/// The record that lets the `wasmaot` launcher start a cached artifact without this process (see
/// Sources/WasmAOTFastPath/include/wasmaot_fastpath.h). The module is stamped before it is read, so
/// an edit made while we compile is never recorded as matching the artifact.
struct FastPathRecord {
    private var moduleStamp = wafp_stamp()
    private let stamped: Bool
    /// When the module's content was known to be what gets compiled (the stamp precedes the read).
    private let stampedAt = wafp_now_ns()

    init(module: String) {
        stamped = wafp_stat(module, &moduleStamp) == 0
    }

    /// Best effort: without records the next run just takes the slow path again. Writes the
    /// identity record and the entry's verified stamp (content-addressed lookups), then the
    /// stamp record for this module path.
    func write(cacheRoot: String, module: String, key: ArtifactKey, artifact: String) {
        guard let (compiler, deps) = writeContentRecords(cacheRoot: cacheRoot, key: key, artifact: artifact) else { return }
        var options = [CChar](repeating: 0, count: 64)
        wafp_options(ArtifactKey.fastPathLevel(key.profile), &options, options.count)
        let cDeps = deps.map { UnsafePointer(strdup($0)) }
        defer { cDeps.forEach { free(UnsafeMutablePointer(mutating: $0)) } }

        var stamp = moduleStamp
        var checkedAt = stampedAt
        guard stamped else { return }
        if wafp_settled(&stamp, checkedAt) == 0 {
            // Written just before we read it (a build step right before `run`): the stamp alone
            // cannot vouch for it, but the content, re-read now that time has passed, can.
            let now = wafp_now_ns()
            guard let data = FileManager.default.contents(atPath: module), sha256Hex(data) == key.key.moduleDigest else { return }
            checkedAt = now
        }
        _ = cDeps.withUnsafeBufferPointer { buffer in
            wafp_write(cacheRoot, module, &stamp, checkedAt, options, compiler, buffer.baseAddress, buffer.count, artifact, key.key.hex)
        }
    }

    /// The identity record for the key's options and the entry's verified stamp: enough for the
    /// launcher to find the artifact by content. Returns the compiler path and identity inputs.
    @discardableResult
    func writeContentRecords(cacheRoot: String, key: ArtifactKey, artifact: String) -> (String, [String])? {
        guard let compiler = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return nil }
        // Everything the compiler identity (`wasmaot --version`) is made of.
        var deps = [compiler]
        if let llvm = Self.loadedLibrary(named: "libLLVM") { deps.append(llvm) }
        guard let runtime = try? RuntimeArchive.locate(gnuTriple: Architecture.host.gnuTriple) else { return nil }
        deps += runtime.identityInputs

        var options = [CChar](repeating: 0, count: 64)
        wafp_options(ArtifactKey.fastPathLevel(key.profile), &options, options.count)
        let cDeps = deps.map { UnsafePointer(strdup($0)) }
        defer { cDeps.forEach { free(UnsafeMutablePointer(mutating: $0)) } }
        _ = cDeps.withUnsafeBufferPointer { buffer in
            wafp_write_identity(cacheRoot, options, compiler, buffer.baseAddress, buffer.count, key.identity, key.target)
        }
        _ = wafp_write_verified(artifact)
        return (compiler, deps)
    }

    /// Path of a shared library mapped into this process, from /proc/self/maps (read line by line:
    /// procfs reports size 0, which whole-file readers take literally).
    static func loadedLibrary(named name: String) -> String? {
        guard let maps = fopen("/proc/self/maps", "r") else { return nil }
        defer { fclose(maps) }
        var line: UnsafeMutablePointer<CChar>? = nil
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, maps) > 0, let line {
            let text = String(cString: line).trimmingCharacters(in: .newlines)
            guard let slash = text.firstIndex(of: "/") else { continue }
            let path = String(text[slash...])
            if (path as NSString).lastPathComponent.hasPrefix(name) { return path }
        }
        return nil
    }
}
