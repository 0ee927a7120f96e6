import Foundation
import WAT
import WasmAOTCodegen
import WasmAOTCore
import WasmAOTEmbed
import WasmParser
import WasmTypes

/// One failed command of a script.
public struct SpecFailure: Sendable, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let message: String
    /// `file.wast:123: assert_return (invoke "f") expected … got …`
    public var description: String { "\(file):\(line): \(message)" }
}

/// The outcome of one script.
public struct SpecFileResult: Sendable {
    public let path: String
    public var passed = 0
    public var failed = 0
    public var failures: [SpecFailure] = []
    /// Passed commands worth knowing about: `assert_invalid` modules that the WAT parser
    /// rejected, so that wasmaot's validation never saw them.
    public var notes: [SpecFailure] = []
    public var seconds: Double = 0

    public var name: String { (path as NSString).lastPathComponent }
    /// `address.wast: 260 passed, 0 failed`.
    public var summary: String {
        return "\(name): \(passed) passed, \(failed) failed"
    }
}

/// Runs official Wasm spec-test scripts (`.wast`) against the embedding API: every command of a
/// script is one passed or failed unit. A script's modules are compiled on background threads
/// (in script order, `jobs` at a time) while its commands run in order on the calling thread,
/// which must be the engine's thread.
public final class SpecRunner {
    public let engine: Engine
    public let profile: CodegenProfile
    public let jobs: Int
    public let verbose: Bool
    /// Called before each command runs with (file name, line, passed so far, failed so far); for
    /// locating crashes.
    public var trace: ((String, Int, Int, Int) -> Void)?
    /// Called on each failure as it happens (the result lists them too).
    public var onFailure: ((SpecFailure) -> Void)?

    public static let features: WasmFeatureSet = WasmModule.features

    private let spectestModule: Module
    private var printFunctions: [String: Extern] = [:]

    public init(engine: Engine, profile: CodegenProfile = .level(.o1), jobs: Int = ProcessInfo.processInfo.activeProcessorCount,
                verbose: Bool = false) throws {
        self.engine = engine
        self.profile = profile
        self.jobs = max(1, jobs)
        self.verbose = verbose
        // The spectest memory, table and globals come from a real module, so that they are runtime
        // objects like any other instance's exports.
        let wasm = try wat2wasm("""
            (module
              (memory (export "memory") 1 2)
              (table (export "table") 10 20 funcref)
              (table (export "table64") i64 10 20 funcref)
              (global (export "global_i32") i32 (i32.const 666))
              (global (export "global_i64") i64 (i64.const 666))
              (global (export "global_f32") f32 (f32.const 666.6))
              (global (export "global_f64") f64 (f64.const 666.6)))
            """, features: Self.features)
        // Decoded by Wasm 3.0 rules whatever the engine's standard: table64 needs memory64.
        spectestModule = try engine.compile(try WasmModule.decode(bytes: wasm, standard: .wasm3), profile: profile)
        let prints: [(String, String)] = [
            ("print", ":"), ("print_i32", "i:"), ("print_i64", "I:"), ("print_f32", "f:"), ("print_f64", "F:"),
            ("print_i32_f32", "if:"), ("print_f64_f64", "FF:"),
        ]
        for (name, type) in prints {
            printFunctions[name] = try engine.hostFunction(type: type) { args in
                if verbose { print(args.map(SpecValues.describe).joined(separator: " ")) }
                return []
            }
        }
    }

    /// The number of commands in a script (each one a passed or failed unit).
    public static func commandCount(path: String) -> Int {
        guard let data = FileManager.default.contents(atPath: path) else { return 1 }
        return Script(text: String(decoding: data, as: UTF8.self)).commands.count
    }

    /// A script of the SIMD proposals: `simd_*.wast`, and relaxed SIMD's (`*relaxed*.wast`).
    public static func isSIMD(_ path: String) -> Bool {
        let name = (path as NSString).lastPathComponent
        return name.hasPrefix("simd_") || name.contains("relaxed")
    }

    /// Runs one script. Never throws: unreadable files and unparsable directives are failures.
    public func run(path: String) -> SpecFileResult {
        let start = Date()
        var result = SpecFileResult(path: path)
        run(path: path, into: &result)
        result.seconds = Date().timeIntervalSince(start)
        return result
    }

    private func run(path: String, into result: inout SpecFileResult) {
        let data: [UInt8]
        do {
            data = try ModuleFile.read(path)
        } catch {
            result.failed = 1
            result.failures.append(SpecFailure(file: result.name, line: 0, message: "\(path): \(error)"))
            return
        }
        let script = Script(text: String(decoding: data, as: UTF8.self))
        let compiler = BackgroundCompiler(engine: engine, profile: profile, sources: script.sources, jobs: jobs)
        defer { compiler.finish() }
        var execution = Execution(runner: self, compiler: compiler, file: result.name)
        for command in script.commands {
            trace?(result.name, command.line, result.passed, result.failed)
            let outcome = execution.run(command.kind)
            if let note = execution.note {
                result.notes.append(SpecFailure(file: result.name, line: command.line, message: note))
                execution.note = nil
            }
            if let failure = outcome {
                let f = SpecFailure(file: result.name, line: command.line, message: failure)
                result.failed += 1
                result.failures.append(f)
                onFailure?(f)
            } else {
                result.passed += 1
            }
        }
    }

    fileprivate func makeSpectest() throws -> Instance {
        try engine.instantiate(spectestModule) { _, _ in nil }
    }

    fileprivate func spectestExport(_ spectest: Instance, _ name: String) -> Extern? {
        printFunctions[name] ?? spectest.export(name)
    }
}

// MARK: - Scripts

/// A module's bytes, or why the text parser (WAT encoder) rejected it.
enum ScriptModule: Sendable {
    case bytes([UInt8])
    case rejectedByTextParser(String)
}

enum Action {
    case invoke(module: String?, name: String, args: [WASTConstValue])
    case get(module: String?, name: String)
    /// Instantiating a module (assert_trap on a module: it must be uninstantiable).
    case instantiate(module: Int)

    var text: String {
        switch self {
        case .invoke(let m, let name, let args):
            let a = args.map { arg -> String in
                (try? SpecValues.argument(arg)).map(SpecValues.describe) ?? "\(arg)"
            }
            return "(invoke \(m.map { $0 + " " } ?? "")\"\(name)\"\(a.isEmpty ? "" : " " + a.joined(separator: " ")))"
        case .get(let m, let name): return "(get \(m.map { $0 + " " } ?? "")\"\(name)\")"
        case .instantiate: return "(module …)"
        }
    }
}

enum CommandKind {
    case module(id: String?, module: Int, definition: Bool)
    case moduleInstance(instance: String?, module: String?)
    case register(name: String, module: String?)
    case action(Action)
    case assertReturn(Action, [Expected])
    case assertTrap(Action, String)
    case assertExhaustion(Action, String)
    /// The action ends with an uncaught Wasm exception.
    case assertException(Action)
    case assertInvalid(module: Int, message: String)
    case assertMalformed(module: Int, message: String)
    case assertUnlinkable(module: Int, message: String)
    /// A directive the WAST parser could not parse, or one this runner does not support.
    case broken(String)
}

struct Command {
    let line: Int
    let kind: CommandKind
}

/// A parsed script: its commands and the module sources they refer to (by index).
struct Script {
    var commands: [Command] = []
    var sources: [ScriptModule] = []

    init(text: String) {
        let lines = ScriptLines(text)
        var wast: WAST
        do {
            wast = try parseWAST(TypeUseParams.rewrite(text), features: SpecRunner.features)
        } catch {
            commands.append(Command(line: 1, kind: .broken("WAST parser error: \(error)")))
            return
        }
        var k = 0
        while let (parsed, _) = wast.nextDirectiveResult() {
            let line = lines.line(ofDirective: k)
            k += 1
            switch parsed {
            case .failure(let failure):
                commands.append(Command(line: line, kind: .broken("WAST parser error: \(failure.error)")))
            case .success(let directive):
                commands.append(Command(line: line, kind: convert(directive, nanLanes: { lines.v128NaNLanes(ofDirective: k - 1) })))
                legacyFallback(lines, directive: k - 1)
            }
        }
    }

    /// WasmKit's text parser has no legacy exception instructions (`try`, `catch`, `catch_all`,
    /// `delegate`, `rethrow`): a module it rejected for one of them is encoded with wabt's
    /// `wat2wasm` instead, when that is installed (the source index a directive added last).
    private mutating func legacyFallback(_ lines: ScriptLines, directive k: Int) {
        guard let i = sources.indices.last, case .rejectedByTextParser(let why) = sources[i],
              why.range(of: #"unknown instruction (try|catch|catch_all|delegate|rethrow)\b"#, options: .regularExpression) != nil,
              !(commands.last.map { if case .assertMalformed = $0.kind { true } else { false } } ?? false),
              let text = lines.moduleText(ofDirective: k) else { return }
        switch LegacyText.encode(text) {
        case .success(let bytes): sources[i] = .bytes(bytes)
        case .failure(let reason): sources[i] = .rejectedByTextParser("\(why); legacy exception handling text: \(reason)")
        }
    }

    private mutating func add(_ source: WAT.ModuleSource) -> Int {
        let converted: ScriptModule
        switch source {
        case .text(let wat):
            do { converted = .bytes(try wat.encode()) } catch { converted = .rejectedByTextParser("\(error)") }
        case .quote(let text):
            do {
                converted = .bytes(try wat2wasm(String(decoding: text, as: UTF8.self), features: SpecRunner.features))
            } catch {
                converted = .rejectedByTextParser("\(error)")
            }
        case .binary(let bytes):
            converted = .bytes(bytes)
        }
        sources.append(converted)
        return sources.count - 1
    }

    private mutating func add(_ wat: Wat) -> Int {
        do { sources.append(.bytes(try wat.encode())) } catch { sources.append(.rejectedByTextParser("\(error)")) }
        return sources.count - 1
    }

    private mutating func action(_ execute: WASTExecute) -> Action {
        switch execute {
        case .invoke(let call): return .invoke(module: call.module, name: call.name, args: call.args)
        case .get(let module, let name): return .get(module: module, name: name)
        case .wat(let wat): return .instantiate(module: add(wat))
        }
    }

    private mutating func convert(_ directive: WASTDirective, nanLanes: () -> [(canonical: UInt8, any: UInt8)]) -> CommandKind {
        switch directive {
        case .module(let m):
            return .module(id: m.id, module: add(m.source), definition: m.isDefinition)
        case .moduleInstance(let instance, let module):
            return .moduleInstance(instance: instance, module: module)
        case .register(let name, let module):
            return .register(name: name, module: module)
        case .invoke(let call):
            return .action(.invoke(module: call.module, name: call.name, args: call.args))
        case .assertReturn(let execute, let results):
            let action = action(execute)
            guard let expected = Expected.convert(results, nanLanes: nanLanes) else {
                return .broken("the NaN lanes of a v128 result were not found in the directive's text")
            }
            return .assertReturn(action, expected)
        case .assertTrap(let execute, let message):
            return .assertTrap(action(execute), message)
        case .assertExhaustion(let call, let message):
            return .assertExhaustion(.invoke(module: call.module, name: call.name, args: call.args), message)
        case .assertInvalid(let m, let message):
            return .assertInvalid(module: add(m.source), message: message)
        case .assertMalformed(let m, let message):
            return .assertMalformed(module: add(m.source), message: message)
        case .assertUnlinkable(let wat, let message):
            return .assertUnlinkable(module: add(wat), message: message)
        case .assertException(let execute):
            return .assertException(action(execute))
        case .assertFuel, .assertOutOfFuel:
            return .broken("fuel assertions are not supported")
        }
    }
}

// MARK: - Background compilation

/// Compiles a script's modules in script order on `jobs` background threads; `module(i)` waits
/// for module i.
final class BackgroundCompiler: @unchecked Sendable {
    private let engine: Engine
    private let profile: CodegenProfile
    private let sources: [ScriptModule]
    private var results: [Result<Module, EmbedError>?]
    private var next = 0
    private var running = 0
    private var cancelled = false
    private let condition = NSCondition()

    init(engine: Engine, profile: CodegenProfile, sources: [ScriptModule], jobs: Int) {
        self.engine = engine
        self.profile = profile
        self.sources = sources
        results = Array(repeating: nil, count: sources.count)
        let workers = min(jobs, sources.count)
        running = workers
        for _ in 0..<workers {
            let thread = Thread { [self] in work() }
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    private func work() {
        while true {
            condition.lock()
            while next < sources.count, case .rejectedByTextParser = sources[next] { next += 1 }
            guard next < sources.count, !cancelled else {
                running -= 1
                condition.broadcast()
                condition.unlock()
                return
            }
            let i = next
            next += 1
            condition.unlock()
            guard case .bytes(let bytes) = sources[i] else { continue }
            let r: Result<Module, EmbedError>
            do { r = .success(try engine.compile(bytes, profile: profile)) } catch { r = .failure(error) }
            condition.lock()
            results[i] = r
            condition.broadcast()
            condition.unlock()
        }
    }

    /// The compiled module i (waits for it), or nil if its text did not parse.
    func module(_ i: Int) -> Result<Module, EmbedError>? {
        if case .rejectedByTextParser = sources[i] { return nil }
        condition.lock()
        defer { condition.unlock() }
        while results[i] == nil { condition.wait() }
        return results[i]
    }

    func source(_ i: Int) -> ScriptModule { sources[i] }

    /// Stops handing out work and waits for the workers to finish what they hold.
    func finish() {
        condition.lock()
        cancelled = true
        while running > 0 { condition.wait() }
        condition.unlock()
    }
}

// MARK: - Execution

struct RunnerError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The state of one script's run: current, named and registered instances.
struct Execution {
    let runner: SpecRunner
    let compiler: BackgroundCompiler
    let file: String
    var current: Instance?
    var named: [String: Instance] = [:]
    /// Keyed by UTF-8 bytes: Swift's String equality is Unicode canonical equivalence, but Wasm
    /// names are compared byte for byte.
    var registered: [[UInt8]: Instance] = [:]
    var definitions: [String: Int] = [:]
    var lastDefinition: Int?
    var spectest: Instance?
    var spectestError: String?
    /// Set by a passing command with something to report (see `SpecFileResult.notes`).
    var note: String?
    /// Every instance stays alive for the whole script: tables and memories may refer to them.
    var instances: [Instance] = []

    init(runner: SpecRunner, compiler: BackgroundCompiler, file: String) {
        self.runner = runner
        self.compiler = compiler
        self.file = file
        do {
            spectest = try runner.makeSpectest()
        } catch {
            spectestError = "the spectest module failed to instantiate: \(error)"
        }
    }

    private func compiled(_ i: Int) throws -> Module {
        switch compiler.module(i) {
        case nil:
            if case .rejectedByTextParser(let why) = compiler.source(i) {
                throw RunnerError("module text rejected by the WAT parser: \(why)")
            }
            throw RunnerError("module text rejected by the WAT parser")
        case .failure(let error)?:
            throw RunnerError("module failed to compile: \(error)")
        case .success(let module)?:
            return module
        }
    }

    private mutating func instantiate(_ module: Module) throws -> Instance {
        let spectest = self.spectest
        let registered = self.registered
        let runner = self.runner
        let instance = try runner.engine.instantiate(module) { moduleName, field in
            if moduleName.utf8.elementsEqual("spectest".utf8), let spectest { return runner.spectestExport(spectest, field) }
            return registered[Array(moduleName.utf8)]?.export(field)
        }
        instances.append(instance)
        return instance
    }

    private func instance(_ name: String?) throws -> Instance {
        if let name {
            guard let instance = named[name] else { throw RunnerError("no module named \(name)") }
            return instance
        }
        guard let current else { throw RunnerError("no current module") }
        return current
    }

    private mutating func perform(_ action: Action) throws -> [Value] {
        switch action {
        case .invoke(let module, let name, let args):
            let instance = try instance(module)
            let values = try args.map { arg throws -> Value in try SpecValues.argument(arg) }
            return try instance.invoke(name, values)
        case .get(let module, let name):
            let instance = try instance(module)
            guard let value = instance.global(name) else { throw RunnerError("no global export \"\(name)\"") }
            return [value]
        case .instantiate(let i):
            _ = try instantiate(try compiled(i))
            return []
        }
    }

    /// The spec interpreter's messages may carry details the runtime does not report, such as
    /// the element index in "uninitialized element 2": the runtime's message must contain the
    /// expected one, or be the expected one without a trailing number.
    static func trapMatches(_ actual: String, expected: String) -> Bool {
        if actual.contains(expected) { return true }
        guard expected.hasPrefix(actual + " ") else { return false }
        return expected.dropFirst(actual.count + 1).allSatisfy(\.isNumber)
    }

    private static func describe(_ error: Error) -> String {
        switch error {
        case let trap as Trap: "trap \"\(trap.description)\""
        default: "\(error)"
        }
    }

    /// Runs one command; returns why it failed, or nil if it passed.
    mutating func run(_ kind: CommandKind) -> String? {
        if let spectestError { return spectestError }
        switch kind {
        case .broken(let why):
            return why

        case .module(let id, let i, let definition):
            if definition {
                do {
                    _ = try compiled(i)
                } catch {
                    return "module definition: \(error)"
                }
                lastDefinition = i
                if let id { definitions[id] = i }
                return nil
            }
            current = nil
            if let id { named[id] = nil }
            do {
                let instance = try instantiate(try compiled(i))
                current = instance
                if let id { named[id] = instance }
                return nil
            } catch {
                return "module: \(Self.describe(error))"
            }

        case .moduleInstance(let instanceName, let moduleName):
            current = nil
            guard let i = moduleName.map({ definitions[$0] }) ?? lastDefinition else {
                return "module instance: no module definition \(moduleName ?? "")"
            }
            do {
                let instance = try instantiate(try compiled(i))
                current = instance
                if let instanceName { named[instanceName] = instance }
                return nil
            } catch {
                return "module instance: \(Self.describe(error))"
            }

        case .register(let name, let module):
            do {
                registered[Array(name.utf8)] = try instance(module)
                return nil
            } catch {
                return "register \"\(name)\": \(error)"
            }

        case .action(let action):
            do {
                _ = try perform(action)
                return nil
            } catch {
                return "\(action.text): \(Self.describe(error))"
            }

        case .assertReturn(let action, let expected):
            do {
                let actual = try perform(action)
                if actual.count == expected.count && zip(actual, expected).allSatisfy({ SpecValues.matches($0, $1) }) {
                    return nil
                }
                return "assert_return \(action.text) expected \(SpecValues.describe(expected)) got \(SpecValues.describe(actual))"
            } catch {
                return "assert_return \(action.text) expected \(SpecValues.describe(expected)) got \(Self.describe(error))"
            }

        case .assertTrap(let action, let message), .assertExhaustion(let action, let message):
            let directive = if case .assertExhaustion = kind { "assert_exhaustion" } else { "assert_trap" }
            do {
                let values = try perform(action)
                return "\(directive) \(action.text) expected trap \"\(message)\" got \(SpecValues.describe(values))"
            } catch let trap as Trap {
                if Self.trapMatches(trap.description, expected: message) { return nil }
                return "\(directive) \(action.text) expected trap \"\(message)\" got trap \"\(trap.description)\" (message mismatch)"
            } catch {
                return "\(directive) \(action.text) expected trap \"\(message)\" got \(error)"
            }

        case .assertException(let action):
            do {
                let values = try perform(action)
                return "assert_exception \(action.text) expected an exception, got \(SpecValues.describe(values))"
            } catch let trap as Trap where trap.isUncaughtException {
                return nil
            } catch {
                return "assert_exception \(action.text) expected an exception, got \(Self.describe(error))"
            }

        case .assertInvalid(let i, let message), .assertMalformed(let i, let message):
            let directive = if case .assertInvalid = kind { "assert_invalid" } else { "assert_malformed" }
            switch compiler.module(i) {
            case nil:
                if case .assertInvalid = kind, case .rejectedByTextParser(let why) = compiler.source(i) {
                    note = "assert_invalid module (\"\(message)\") was rejected by the WAT parser, not by wasmaot: \(why)"
                }
                return nil
            case .failure?:
                // Rejected by the WAT parser, the decoder, validation or compilation.
                return nil
            case .success?:
                return "\(directive) module was accepted, expected rejection \"\(message)\""
            }

        case .assertUnlinkable(let i, let message):
            do {
                _ = try instantiate(try compiled(i))
                return "assert_unlinkable module was linked, expected \"\(message)\""
            } catch let error as EmbedError {
                if error.description.contains(message) { return nil }
                return "assert_unlinkable expected \"\(message)\" got \"\(error.description)\" (message mismatch)"
            } catch {
                return "assert_unlinkable expected \"\(message)\" got \(Self.describe(error))"
            }
        }
    }
}
