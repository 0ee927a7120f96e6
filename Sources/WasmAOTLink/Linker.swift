import CLLVMShim
import Foundation

public struct LinkError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Links generated objects with the C runtime: the link stage's one entry point.
public enum Linker {
    public enum Output: Sendable {
        /// Static executable: no dynamic loader, runs alone in a `FROM scratch` container.
        case executable
        /// Shared object for in-process embedding.
        case sharedObject
    }

    /// Links `object` (bytes of an ELF relocatable) with the runtime archive into `output`.
    public static func link(object: [UInt8], runtime: RuntimeArchive, output: String, kind: Output) throws(LinkError) {
        try link(objects: [object], runtime: runtime, output: output, kind: kind)
    }

    /// Links `objects` (one module compiled in partitions, see Codegen.emitObjects) likewise.
    public static func link(objects: [[UInt8]], runtime: RuntimeArchive, output: String, kind: Output) throws(LinkError) {
        let toolchain = try Toolchain.find(for: runtime.gnuTriple)
        let scratch = FileManager.default.temporaryDirectory
            .appendingPathComponent("wasmaot-link-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        do {
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        } catch {
            throw LinkError("cannot create a temporary directory: \(error.localizedDescription)")
        }
        defer { try? FileManager.default.removeItem(at: scratch) }
        var objectPaths: [String] = []
        for (index, object) in objects.enumerated() {
            let path = scratch.appendingPathComponent("module\(index).o").path
            guard writeScratchFile(path, object) else {
                throw LinkError("cannot write \(path)")
            }
            objectPaths.append(path)
        }
        // Link to a temporary name beside the output and rename: a failed link never leaves a
        // half-written executable where the user expects a good one.
        let temporary = output + ".tmp-\(getpid())"
        // Executables: mold and the pre-linked runtime (start files, runtime, the libc members it
        // uses) when both are there — a link of a few objects, ~15 ms instead of ~110 ms for the C
        // driver scanning libc.a with ld.bfd. Anything unusual (mold missing or failing) takes the
        // C driver with the archive, which needs nothing but gcc and libc6-dev.
        if kind == .executable, let prelinked = runtime.prelinkedPath {
            let emulation = runtime.gnuTriple.hasPrefix("aarch64") ? "aarch64linux" : "elf_x86_64"
            // lld inside this process first (no linker process: ~3 ms instead of ~10 for mold
            // on a small module), then mold, then the C driver below.
            let lldArguments = ["--threads=1", "-m", emulation, "-static", "--eh-frame-hdr", "-o", temporary] + objectPaths + [prelinked]
            if Self.lldInProcess(lldArguments) { return try publish(temporary, as: output) }
            try? FileManager.default.removeItem(atPath: temporary)
            if let mold = Toolchain.mold {
                let arguments = ["--no-fork", "--threads=1", "-m", emulation, "-static", "--eh-frame-hdr", "-o", temporary] + objectPaths + [prelinked]
                if Toolchain.run(mold, arguments).status == 0 {
                    return try publish(temporary, as: output)
                }
                try? FileManager.default.removeItem(atPath: temporary)
            }
        }
        var arguments: [String]
        switch kind {
        case .executable:
            // --eh-frame-hdr: the unwinder finds the generated code's unwind tables through it
            // (Wasm exceptions); gcc leaves it out of static links.
            arguments = ["-static", "-Wl,--eh-frame-hdr", "-o", temporary] + objectPaths + [runtime.path, "-lm"]
        case .sharedObject:
            // The runtime comes from libwasmaot_rt.so, loaded RTLD_GLOBAL by the embedder: every
            // instance in a process shares one trap handler and one memory registry.
            arguments = ["-shared", "-o", temporary] + objectPaths
        }
        let result = Toolchain.run(toolchain.compilerDriver, arguments)
        guard result.status == 0 else {
            try? FileManager.default.removeItem(atPath: temporary)
            throw LinkError("link failed (\(toolchain.compilerDriver) \(arguments.joined(separator: " "))):\n\(result.output)")
        }
        try publish(temporary, as: output)
    }

    /// Whether lld, linked into this program, produced the output (WASMAOT_LINKER=external skips it).
    static func lldInProcess(_ arguments: [String]) -> Bool {
        if getenv("WASMAOT_LINKER").map({ String(cString: $0) }) == "external" { return false }
        let cArgs = arguments.map { UnsafePointer(strdup($0)) }
        defer { cArgs.forEach { free(UnsafeMutablePointer(mutating: $0)) } }
        var messages: UnsafeMutablePointer<CChar>? = nil
        let status = cArgs.withUnsafeBufferPointer { wasmaot_lld_link($0.baseAddress, Int32($0.count), &messages) }
        defer { free(messages) }
        return status == 0
    }

    private static func publish(_ temporary: String, as output: String) throws(LinkError) {
        if rename(temporary, output) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temporary)
            throw LinkError("cannot write \(output): \(reason)")
        }
    }
}

/// Writes `bytes` to a new file at `path` (O_EXCL, no symlink followed, mode 0644) without
/// syncing it: for scratch files that are read back at once and are worthless after a crash
/// (linker inputs, a module copy for a background build). Foundation's createFile writes a
/// temporary file and fsyncs it. Whether it worked.
public func writeScratchFile(_ path: String, _ bytes: [UInt8]) -> Bool {
    let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
    guard fd >= 0 else { return false }
    var ok = true
    bytes.withUnsafeBytes { buffer in
        var offset = 0
        while offset < buffer.count {
            let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { ok = false; return }
            offset += n
        }
    }
    if close(fd) != 0 { ok = false }
    if !ok { unlink(path) }
    return ok
}
