import WasmParser
import WasmTypes

/// The Wasm proposals wasmaot does not compile yet, and how a module that uses one is told so:
/// `unsupported: <proposal> (<what>)` at the place (function, byte offset) where it is first
/// used — never a "malformed …" message about a valid module.
public enum UnsupportedProposal {
    /// The proposals beyond what the decoder accepts (`WasmModule.features`), in the order they
    /// are tried when a decoding error might only mean "this proposal is off".
    public static let proposals: [WasmFeatureSet.Feature] = WasmFeatureSet.Feature.allCases.filter {
        !WasmModule.features.contains(WasmFeatureSet($0))
    }

    /// A proposal's name as users see it.
    public static func name(_ feature: WasmFeatureSet.Feature) -> String {
        switch feature {
        case .memory64: "memory64"
        case .referenceTypes: "reference types"
        case .threads: "threads (shared memory and atomics)"
        case .tailCall: "tail calls"
        case .simd: "SIMD"
        case .exceptionHandling: "exception handling"
        case .functionReferences: "typed function references"
        case .multiMemory: "multi-memory"
        case .gc: "GC"
        }
    }

    /// The error for a construct of `feature`; `what` names the construct.
    public static func error(_ feature: WasmFeatureSet.Feature, _ what: String, offset: Int? = nil,
                             function: UInt32? = nil, functionName: String? = nil) -> CompileError {
        CompileError("unsupported: \(name(feature)) (\(what))", offset: offset, function: function, functionName: functionName)
    }

    /// The proposal a value type belongs to, if wasmaot does not support it.
    public static func feature(of type: ValueType) -> WasmFeatureSet.Feature? {
        switch type {
        case .i32, .i64, .f32, .f64, .v128: return nil
        case .ref(let ref): return feature(of: ref)
        }
    }

    public static func feature(of ref: ReferenceType) -> WasmFeatureSet.Feature? {
        switch ref.heapType {
        case .abstract(.funcRef), .abstract(.externRef), .abstract(.noFunc), .abstract(.noExtern), .concrete,
             .abstract(.exnRef), .abstract(.noExn): return nil
        case .abstract: return .gc
        }
    }

    /// The proposal an instruction belongs to, if wasmaot does not compile it (nil: an instruction
    /// of a supported proposal).
    public static func feature(of instruction: Instruction) -> WasmFeatureSet.Feature? {
        switch instruction {
        case .atomicFence, .memoryAtomicNotify, .memoryAtomicWait32, .memoryAtomicWait64: return .threads
        case .refI31, .i31GetS, .i31GetU, .structNew, .structNewDefault, .structGet, .structGetS, .structGetU,
             .structSet, .arrayNew, .arrayNewDefault, .arrayNewFixed, .arrayGet, .arrayGetS, .arrayGetU, .arraySet,
             .arrayLen, .refEq, .anyConvertExtern, .externConvertAny, .arrayNewData, .arrayNewElem, .arrayFill,
             .arrayCopy, .arrayInitData, .arrayInitElem, .refTest, .refCast, .brOnCast, .brOnCastFail:
            return .gc
        case .load(let op, _): return accessFeature("\(op)")
        case .store(let op, _): return accessFeature("\(op)")
        default:
            // The atomic read-modify-write instructions (`i32AtomicRmwAdd(memarg:)` …).
            return "\(instruction)".contains("AtomicRmw") ? .threads : nil
        }
    }

    /// A value type in the text format's spelling (`v128`, `(ref null 3)`, `exnref`).
    public static func typeName(_ type: ValueType) -> String {
        switch type {
        case .i32: return "i32"
        case .i64: return "i64"
        case .f32: return "f32"
        case .f64: return "f64"
        case .v128: return "v128"
        case .ref(let ref):
            let heap: String
            switch ref.heapType {
            case .concrete(let index): heap = "\(index)"
            case .abstract(let a):
                switch a {
                case .funcRef: heap = "func"
                case .externRef: heap = "extern"
                case .exnRef: heap = "exn"
                case .any: heap = "any"
                case .eq: heap = "eq"
                case .i31: heap = "i31"
                case .structRef: heap = "struct"
                case .arrayRef: heap = "array"
                case .noneRef: heap = "none"
                case .noExtern: heap = "noextern"
                case .noFunc: heap = "nofunc"
                case .noExn: heap = "noexn"
                }
            }
            return ref.isNullable ? "(ref null \(heap))" : "(ref \(heap))"
        }
    }

    /// Loads and stores share their opcode enums with threads (`i32AtomicLoad…`).
    private static func accessFeature(_ op: String) -> WasmFeatureSet.Feature? {
        op.contains("Atomic") ? .threads : nil
    }

    /// An instruction's name for messages: its case without operands (`v128Const`, `returnCall`).
    public static func instructionName(_ instruction: Instruction) -> String {
        let text = "\(instruction)"
        return String(text.prefix { $0 != "(" })
    }

    /// For a decoding error at `offset` (inside defined function `function`'s body, or at module
    /// level when nil): the first proposal with which the same bytes decode past that offset —
    /// the error then only means the module uses that proposal. nil: the module is malformed.
    public static func diagnose(_ bytes: [UInt8], failedAt offset: Int, function: UInt32? = nil) -> WasmFeatureSet.Feature? {
        for feature in proposals {
            var features = WasmModule.features.union(WasmFeatureSet(feature))
            if feature == .gc { features.formUnion(.functionReferences) }  // GC is built on typed references
            if decodes(bytes, features: features, past: offset, function: function) { return feature }
        }
        return nil
    }

    private static func decodes(_ bytes: [UInt8], features: WasmFeatureSet, past offset: Int, function: UInt32?) -> Bool {
        var parser = Parser(bytes: bytes, features: features)
        var importedFunctions = 0
        var codes: [Code] = []
        do {
            while let payload = try parser.parseNext() {
                switch payload {
                case .importSection(let imports):
                    importedFunctions = imports.filter { if case .function = $0.descriptor { true } else { false } }.count
                case .codeSection(let c): codes = c
                default: break
                }
            }
        } catch {
            return (WasmModule.convert(error, fallbackOffset: parser.offset).offset ?? 0) > offset
        }
        guard let function else { return true }
        let index = Int(function) - importedFunctions
        guard index >= 0, index < codes.count else { return false }
        var body = ExpressionParser(code: codes[index])
        do {
            while try body.parse() != nil {}
            return true
        } catch {
            return body.offset > offset
        }
    }
}
