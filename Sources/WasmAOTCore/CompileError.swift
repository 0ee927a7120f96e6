/// Every error a user can see from decoding, validation or lowering. The CLI prints it as
/// `error: <file>: function <index>[ <name>] at offset 0x<hex>: <reason>`, so each error carries
/// where it happened; module-level errors have no function.
public struct CompileError: Error, CustomStringConvertible, Sendable {
    public var reason: String
    public var offset: Int?
    public var function: UInt32?
    public var functionName: String?
    /// Raised by WasmKit's decoder (not by validation): it may only mean that a proposal is off
    /// (see `WasmModule.namingUnsupported`).
    public var fromDecoder = false

    public init(_ reason: String, offset: Int? = nil, function: UInt32? = nil, functionName: String? = nil) {
        self.reason = reason
        self.offset = offset
        self.function = function
        self.functionName = functionName
    }

    /// The location prefix and reason, without the file name.
    public var description: String {
        var parts: [String] = []
        if let function {
            parts.append("function \(function)" + (functionName.map { " \($0)" } ?? ""))
        }
        if let offset {
            parts.append("at offset 0x\(String(offset, radix: 16))")
        }
        return parts.isEmpty ? reason : parts.joined(separator: " ") + ": " + reason
    }
}
