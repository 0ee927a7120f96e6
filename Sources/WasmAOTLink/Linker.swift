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
            guard FileManager.default.createFile(atPath: path, contents: Data(object)) else {
                throw LinkError("cannot write \(path)")
            }
            objectPaths.append(path)
        }
        // Link to a temporary name beside the output and rename: a failed link never leaves a
        // half-written executable where the user expects a good one.
        let temporary = output + ".tmp-\(getpid())"
        var arguments: [String]
        switch kind {
        case .executable:
            arguments = ["-static", "-o", temporary] + objectPaths + [runtime.path, "-lm"]
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
        if rename(temporary, output) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temporary)
            throw LinkError("cannot write \(output): \(reason)")
        }
    }
}
