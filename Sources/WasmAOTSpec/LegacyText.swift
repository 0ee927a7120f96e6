import Foundation

/// Encodes module text with legacy exception instructions through wabt's `wat2wasm`
/// (`--enable-exceptions`: wabt implements that encoding; WasmKit's parser does not).
enum LegacyText {
    static let tool: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/wat2wasm" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    static func encode(_ text: String) -> Result<[UInt8], LegacyTextError> {
        guard let tool else { return .failure(LegacyTextError("needs wabt's wat2wasm on PATH (apt install wabt)")) }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("wasmaot-legacy-\(getpid())-\(UUID().uuidString)")
        defer {
            try? FileManager.default.removeItem(at: scratch.appendingPathExtension("wat"))
            try? FileManager.default.removeItem(at: scratch.appendingPathExtension("wasm"))
        }
        do { try text.write(to: scratch.appendingPathExtension("wat"), atomically: false, encoding: .utf8) } catch {
            return .failure(LegacyTextError("cannot write a scratch file: \(error)"))
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = ["--enable-exceptions", "--enable-tail-call", "--enable-multi-memory", "--no-check",
                             scratch.appendingPathExtension("wat").path, "-o", scratch.appendingPathExtension("wasm").path]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        do { try process.run() } catch { return .failure(LegacyTextError("cannot run \(tool): \(error)")) }
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let data = FileManager.default.contents(atPath: scratch.appendingPathExtension("wasm").path) else {
            return .failure(LegacyTextError("wat2wasm: " + String(decoding: message, as: UTF8.self).split(separator: "\n").prefix(2).joined(separator: " ")))
        }
        return .success(Array(data))
    }
}

struct LegacyTextError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
