import Foundation
import WasmParser
import WasmTypes

/// Which edition of the core spec a module is validated against. Wasm 3.0 (the default) is a
/// superset except for a few rules it relaxed — constant expressions may read any earlier
/// immutable global and use `i32/i64.add/sub/mul` — which the Wasm 2.0 suite still asserts.
public enum WasmStandard: String, Sendable, CaseIterable {
    case wasm2 = "2.0"
    case wasm3 = "3.0"
}

/// A decoded and module-level-validated Wasm module, with the index spaces resolved
/// (imports first, then definitions), ready for lowering. Function bodies are validated
/// during lowering (one pass, one stack).
public struct WasmModule: Sendable {
    public var types: [FunctionType] = []
    /// Canonical text of each type (Signature): the identity `call_indirect`, `call_ref` casts and
    /// linking compare, and the equivalence of concrete reference types.
    public var typeTexts: [String] = []
    public var imports: [Import] = []
    /// Type index of every function (imported first).
    public var functionTypeIndices: [UInt32] = []
    public var importedFunctionCount = 0
    public var codes: [Code] = []
    /// Every table / memory / global, imported first.
    public var tables: [TableType] = []
    public var importedTableCount = 0
    public var memories: [MemoryType] = []
    public var importedMemoryCount = 0
    public var globals: [GlobalType] = []
    public var importedGlobalCount = 0
    /// The module has return_call* (TailCallScan): its functions use LLVM's tailcc convention.
    public var usesTailCalls = false
    /// The type index of every tag (imported first).
    public var tags: [UInt32] = []
    public var importedTagCount = 0
    /// The module has tags or handlers (exception handling): its functions may unwind, and those
    /// with handlers have landing pads.
    public var usesExceptions = false
    /// The legacy exception instructions by byte offset (see LegacyExceptionOp): decoding rewrote
    /// each to a stand-in WasmKit decodes.
    public var legacyExceptions: [Int: LegacyExceptionOp] = [:]
    /// Initializers of the defined tables (index - importedTableCount); nil: null references.
    public var tableInitializers: [ConstExpression?] = []
    /// Initializers of the defined globals (index - importedGlobalCount).
    public var globalInitializers: [ConstExpression] = []
    public var exports: [Export] = []
    public var start: UInt32?
    public var elements: [ElementSegment] = []
    /// Each element segment's reference type (for segments of function indices `(ref func)`
    /// under Wasm 3.0 rules, where WasmKit says funcref).
    public var elementTypes: [ReferenceType] = []
    public var data: [DataSegment] = []
    public var dataCount: UInt32?
    /// Functions that `ref.func` may name inside bodies (C.refs of the spec).
    public var declaredFunctionReferences: Set<UInt32> = []
    public var functionNames: [UInt32: String] = [:]
    /// Byte offset of each defined function's body, for error messages.
    public var codeOffsets: [Int] = []
    /// The module's bytes (the code entries are slices of them anyway), for naming an unsupported
    /// proposal when a function body fails to decode (`UnsupportedProposal.diagnose`).
    public var bytes: [UInt8] = []

    /// The validation rules applied (where Wasm 3.0 relaxed a 2.0 rule).
    public var standard: WasmStandard = .wasm3

    public init() {}

    public var definedFunctionCount: Int { functionTypeIndices.count - importedFunctionCount }

    public func functionType(ofFunction index: UInt32) -> FunctionType {
        types[Int(functionTypeIndices[Int(index)])]
    }

    /// Features accepted by the decoder (Wasm 3.0 but GC and threads; relaxed SIMD comes with SIMD).
    public static let features: WasmFeatureSet = [.referenceTypes, .simd, .functionReferences, .tailCall, .multiMemory, .memory64, .exceptionHandling]
    /// What `--standard 2.0` decodes: Wasm 2.0 (memory indices are zero bytes, no typed references).
    static let wasm2Features: WasmFeatureSet = [.referenceTypes, .simd]

    /// Decodes and validates everything except function bodies.
    public static func decode(bytes: [UInt8], standard: WasmStandard = .wasm3) throws(CompileError) -> WasmModule {
        if let problem = ModuleFile.headerProblem(bytes) { throw problem }
        var bytes = bytes
        var legacy: [Int: LegacyExceptionOp] = [:]
        while true {
            var module: WasmModule
            do { module = try decodeOnce(bytes, standard: standard) } catch { throw namingUnsupported(error, bytes) }
            if standard == .wasm3, let rewritten = LegacyExceptions.rewrite(module, bytes, features: features) {
                legacy.merge(rewritten.ops) { old, _ in old }
                bytes = rewritten.bytes
                continue
            }
            // WasmKit 0.4.2 reads the 0xFC prefix's sub-opcode as one byte, but it is a u32 LEB
            // and may be encoded overlong (`fc 80 00`). Rewrite such spots to the same number of
            // bytes, `01 … fc 00` (nops before the canonical form), and decode again.
            if let patched = canonicalizingPrefixedOpcode(module, bytes) {
                bytes = patched
                continue
            }
            module.legacyExceptions = legacy
            module.usesExceptions = !module.tags.isEmpty || !legacy.isEmpty || TailCallScan.usesExceptionHandling(module.codes)
            return module
        }
    }

    /// The module with its first overlong 0xFC sub-opcode rewritten, or nil if it has none.
    static func canonicalizingPrefixedOpcode(_ module: WasmModule, _ bytes: [UInt8]) -> [UInt8]? {
        for code in module.codes {
            var parser = ExpressionParser(code: code)
            do {
                while try parser.parse() != nil {}
            } catch {
                guard "\(error)".contains("Illegal opcode: [252, ") else { continue }
                let end = min(parser.offset, bytes.count - 1)
                for p in stride(from: end, through: max(0, end - 6), by: -1) where bytes[p] == 0xFC {
                    // A u32 LEB: at most 5 bytes, the 5th without continuation and unused bits.
                    var value: UInt32 = 0, length = 0, terminated = false
                    while p + 1 + length < bytes.count, length < 5 {
                        let byte = bytes[p + 1 + length]
                        if length == 4 && byte & 0xF0 != 0 { break }
                        value |= UInt32(byte & 0x7F) << (7 * UInt32(length))
                        length += 1
                        if byte & 0x80 == 0 { terminated = true; break }
                    }
                    guard terminated, length >= 2, value < 0x80 else { continue }
                    var patched = bytes
                    patched.replaceSubrange(p..<(p + 1 + length), with: Array(repeating: 0x01, count: length - 1) + [0xFC, UInt8(value)])
                    return patched
                }
            }
        }
        return nil
    }

    /// A decoding error that only means "this module uses a proposal wasmaot does not support",
    /// reworded to say so; any other error unchanged.
    public static func namingUnsupported(_ error: CompileError, _ bytes: [UInt8], function: UInt32? = nil) -> CompileError {
        guard error.fromDecoder, let offset = error.offset,
              let feature = UnsupportedProposal.diagnose(bytes, failedAt: offset, function: function) else { return error }
        var named = UnsupportedProposal.error(feature, "decoding stops here without it: \(error.reason)", offset: offset)
        named.function = error.function
        named.functionName = error.functionName
        return named
    }

    static func decodeOnce(_ bytes: [UInt8], standard: WasmStandard) throws(CompileError) -> WasmModule {
        var module = WasmModule()
        module.standard = standard
        module.bytes = bytes
        var parser = Parser(bytes: bytes, features: standard == .wasm2 ? wasm2Features : features)
        var functionSection: [UInt32]? = nil
        var codeSection: [Code]? = nil
        var definedTables: [Table] = []
        var definedMemories: [Memory] = []
        var definedGlobals: [Global] = []
        var definedTags: [UInt32] = []
        do {
            var sectionStart = parser.offset
            while let payload = try parser.parseNext() {
                defer { sectionStart = parser.offset }
                switch payload {
                case .header: break
                case .customSection(let section):
                    if section.name == "name" { module.functionNames = Self.parseFunctionNames(section.bytes) }
                case .typeSection(let groups):
                    for group in groups {
                        for sub in group.types {
                            guard case .function(let type) = sub.body else {
                                throw UnsupportedProposal.error(.gc, "struct and array types", offset: parser.offset)
                            }
                            module.types.append(type)
                        }
                    }
                case .importSection(let imports): module.imports = imports
                case .functionSection(let indices): functionSection = indices
                case .tableSection(let tables): definedTables = tables
                case .memorySection(let memories): definedMemories = memories
                case .globalSection(let globals): definedGlobals = globals
                case .exportSection(let exports): module.exports = exports
                case .startSection(let start): module.start = start
                case .elementSection(let elements):
                    let flags = try ElementSegmentFlags.check(bytes, sectionStart: sectionStart)
                    module.elements = elements
                    // Wasm 3.0: a segment of function indices (flags 0-3) has type (ref func).
                    module.elementTypes = elements.enumerated().map { i, segment in
                        standard == .wasm3 && i < flags.count && flags[i] & 4 == 0 && segment.type == .funcRef
                            ? ReferenceType(isNullable: false, heapType: .funcRef) : segment.type
                    }
                case .codeSection(let codes): codeSection = codes
                case .dataSection(let data): module.data = data
                case .dataCount(let count): module.dataCount = count
                case .tagSection(let tags): definedTags = tags.map(\.type)
                }
            }
        } catch let error as WasmParserError {
            throw Self.convert(error, fallbackOffset: parser.offset)
        } catch let error as CompileError {
            throw error
        } catch {
            throw CompileError("\(error)")
        }
        let functions = functionSection ?? []
        let codes = codeSection ?? []
        guard functions.count == codes.count else {
            throw CompileError("function and code section have inconsistent lengths", offset: bytes.count)
        }
        if let count = module.dataCount, Int(count) != module.data.count {
            throw CompileError("data count and data section have inconsistent lengths", offset: bytes.count)
        }
        for imp in module.imports {
            switch imp.descriptor {
            case .function(let t):
                module.functionTypeIndices.append(t)
                module.importedFunctionCount += 1
            case .table(let t):
                module.tables.append(t)
                module.importedTableCount += 1
            case .memory(let m):
                module.memories.append(m)
                module.importedMemoryCount += 1
            case .global(let g):
                module.globals.append(g)
                module.importedGlobalCount += 1
            case .tag(let t):
                module.tags.append(t)
                module.importedTagCount += 1
            }
        }
        module.functionTypeIndices += functions
        module.typeTexts = canonicalTexts(module.types)
        module.codes = codes
        module.usesTailCalls = TailCallScan.usesTailCalls(codes)
        module.tables += definedTables.map(\.type)
        module.tableInitializers = definedTables.map(\.initializer)
        module.memories += definedMemories.map(\.type)
        module.globals += definedGlobals.map(\.type)
        module.globalInitializers = definedGlobals.map(\.initializer)
        module.tags += definedTags
        try ModuleValidator(module: module, definedTables: definedTables).validate()
        module.declaredFunctionReferences = ModuleValidator.collectDeclaredReferences(module)
        return module
    }

    /// WasmParserError keeps its offset package-private; recover it from the description
    /// (`"reason" at offset 0x1f`, `Unexpected end … at offset 0x1f …`).
    static func convert(_ error: WasmParserError, fallbackOffset: Int? = nil) -> CompileError {
        var text = "\(error)"
        var offset = fallbackOffset
        if let range = text.range(of: " at offset 0x") {
            let hex = text[range.upperBound...].prefix { $0.isHexDigit }
            offset = Int(hex, radix: 16) ?? offset
            text.removeSubrange(range.lowerBound..<text.index(range.upperBound, offsetBy: hex.count))
        }
        // Message-kind errors print as `"Message(text: "reason")"`.
        if let open = text.range(of: "Message(text: \""), let close = text.range(of: "\")", options: .backwards),
           open.upperBound <= close.lowerBound {
            text = String(text[open.upperBound..<close.lowerBound])
        } else if text.hasPrefix("\""), let close = text.dropFirst().firstIndex(of: "\"") {
            text = String(text[text.index(after: text.startIndex)..<close])
        }
        var converted = CompileError(text, offset: offset)
        converted.fromDecoder = true
        return converted
    }

    /// A parser error inside a function body, located at that function.
    public static func locate(_ error: WasmParserError, function: UInt32, name: String?, offset: Int) -> CompileError {
        var located = convert(error)
        located.offset = offset
        located.function = function
        located.functionName = name
        return located
    }

    static func parseFunctionNames(_ bytes: ArraySlice<UInt8>) -> [UInt32: String] {
        var parser = NameSectionParser(stream: StaticByteStreamSource(bytes: Array(bytes)))
        guard let all = try? parser.parseAll() else { return [:] }
        for names in all {
            if case .functions(let map) = names { return map }
        }
        return [:]
    }
}

