#if canImport(Glibc)
import Glibc
#endif

/// Reading a module file and saying, in words, what a file is when it is not a core module: a
/// missing or unreadable file (the system's reason), a directory, an empty file, text, an ELF
/// executable, an archive, a Wasm *component*, another binary version, a module cut short inside
/// a section. Every command that reads a module goes through here (`decode` checks the header).
public enum ModuleFile {
    /// The file's bytes, or an error with the system's reason.
    public static func read(_ path: String) throws(CompileError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw CompileError("cannot read it: \(systemReason(errno))") }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR {
            throw CompileError("is a directory, not a WebAssembly module")
        }
        var bytes: [UInt8] = []
        if (st.st_mode & S_IFMT) == S_IFREG { bytes.reserveCapacity(Int(st.st_size)) }
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw CompileError("cannot read it: \(systemReason(errno))")
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return bytes
    }

    static func systemReason(_ code: Int32) -> String {
        String(cString: strerror(code))
    }

    static let magic: [UInt8] = [0x00, 0x61, 0x73, 0x6D]

    /// Why `bytes` cannot be a core module, checked before decoding, or nil when the header is
    /// a core module's and every section fits in the file.
    public static func headerProblem(_ bytes: [UInt8]) -> CompileError? {
        if bytes.isEmpty { return CompileError("empty file (0 bytes), not a WebAssembly module") }
        guard bytes.starts(with: magic.prefix(min(4, bytes.count))) else {
            return CompileError("not a WebAssembly module: \(looksLike(bytes))")
        }
        guard bytes.count >= 8 else {
            return CompileError("truncated: \(bytes.count) bytes, but a WebAssembly header alone is 8")
        }
        let version = UInt16(bytes[4]) | UInt16(bytes[5]) << 8, layer = UInt16(bytes[6]) | UInt16(bytes[7]) << 8
        if layer == 1 {
            return CompileError("""
                a WebAssembly component (component model, binary version 0x\(String(version, radix: 16))), not a core module: \
                components (WASI 0.2, wasm32-wasip2) are not supported yet; build for wasm32-wasip1 \
                (Rust: --target wasm32-wasip1; wasi-sdk: --target=wasm32-wasip1) or run it with wasmtime
                """)
        }
        if layer != 0 || version != 1 {
            return CompileError("WebAssembly binary version \(version) (layer \(layer)); wasmaot reads version 1 core modules",
                                offset: 4)
        }
        // Section headers: id, size (u32 LEB). One whose size runs past the end means the file
        // was cut short (a partial download or copy) — say where.
        var p = 8
        while p < bytes.count {
            let start = p, id = bytes[p]
            p += 1
            var size = 0, shift = 0, terminated = false
            while p < bytes.count, shift < 35 {
                let b = bytes[p]
                p += 1
                size |= Int(b & 0x7F) << shift
                shift += 7
                if b & 0x80 == 0 { terminated = true; break }
            }
            if !terminated {
                if p >= bytes.count {
                    return CompileError("truncated: the file (\(bytes.count) bytes) ends inside the header of the \(sectionName(id)) section",
                                        offset: start)
                }
                return nil  // a malformed size: the decoder reports it
            }
            if size > bytes.count - p {
                return CompileError("""
                    truncated: the \(sectionName(id)) section declares \(size) bytes but the file ends \(bytes.count - p) bytes \
                    into it (file size \(bytes.count) bytes)
                    """, offset: start)
            }
            p += size
        }
        return nil
    }

    static func sectionName(_ id: UInt8) -> String {
        let names = ["custom", "type", "import", "function", "table", "memory", "global", "export", "start", "element", "code", "data",
                     "data count", "tag"]
        return Int(id) < names.count ? names[Int(id)] : "unknown (id \(id))"
    }

    /// What a file that is not Wasm looks like, from its first bytes.
    static func looksLike(_ bytes: [UInt8]) -> String {
        func starts(_ s: [UInt8]) -> Bool { bytes.starts(with: s) }
        if starts([0x7F, 0x45, 0x4C, 0x46]) { return "it is an ELF file (a native executable, library or object)" }
        if starts([0x1F, 0x8B]) { return "it is gzip-compressed data (decompress it first)" }
        if starts([0x50, 0x4B, 0x03, 0x04]) { return "it is a zip archive (a wheel or jar? extract the .wasm from it)" }
        if starts([0x28, 0xB5, 0x2F, 0xFD]) { return "it is zstd-compressed data (decompress it first)" }
        if starts([0x4D, 0x5A]) { return "it is a Windows executable (MZ)" }
        if starts([0xCF, 0xFA, 0xED, 0xFE]) || starts([0xCE, 0xFA, 0xED, 0xFE]) { return "it is a Mach-O executable" }
        if bytes.count > 262, Array(bytes[257..<262]) == Array("ustar".utf8) { return "it is a tar archive (extract the .wasm from it)" }
        let head = bytes.prefix(512)
        if let text = String(validating: head.count == bytes.count ? head : head.prefix(while: { $0 != 0 }), as: UTF8.self),
           !text.isEmpty, text.unicodeScalars.allSatisfy({ $0.value >= 0x20 || $0 == "\n" || $0 == "\r" || $0 == "\t" }) {
            let trimmed = text.drop { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" || $0 == "\u{FEFF}" }
            if trimmed.hasPrefix("(module") || trimmed.hasPrefix("(component") || trimmed.hasPrefix(";;") {
                return "it is WebAssembly text (.wat), not the binary format: convert it with `wat2wasm FILE -o FILE.wasm`"
            }
            if trimmed.hasPrefix("#!") { return "it is a script (\(quoted(trimmed.prefix { $0 != "\n" })))" }
            if trimmed.hasPrefix("<") { return "it is text: HTML or XML (\(quoted(trimmed.prefix { $0 != "\n" })) — an error page instead of a download?)" }
            return "it is text (\(quoted(trimmed.prefix { $0 != "\n" && $0 != "\r" })))"
        }
        let hex = bytes.prefix(4).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: " ")
        return "it starts with bytes \(hex), not the WebAssembly magic 00 61 73 6d (\"\\0asm\")"
    }

    static func quoted(_ s: Substring) -> String {
        let cut = s.prefix(40)
        return "\"\(cut)\(cut.count < s.count ? "…" : "")\""
    }
}
