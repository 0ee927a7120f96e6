import ArgumentParser
import Foundation
import WasmAOTCodegen
import WasmAOTCache
import WasmAOTCore
import WasmAOTEmbed
import WasmAOTLower

/// The two halves of the fuzzing tool that need the compiler in-process (Tests/Fuzz/fuzz.py drives
/// them; README "Fuzzing"). Hidden: their output is a protocol, not a user interface.

/// The arguments every engine passes to an exported function: parameter k of a type gets entry
/// k % 5 of its row (bit patterns; references are null). Tests/Fuzz/fuzz.py has the same table.
enum FuzzArguments {
    static let i32: [UInt32] = [0, 1, 0xFFFF_FFFF, 0x10000, 0x7FFF_FFFF]
    static let i64: [UInt64] = [0, 1, 0xFFFF_FFFF_FFFF_FFFF, 0x10000, 0x7FFF_FFFF_FFFF_FFFF]
    static let f32: [UInt32] = [0, 0x3F80_0000, 0xBFC0_0000, 0x5015_02F9, 0x3F00_0000]
    static let f64: [UInt64] = [0, 0x3FF0_0000_0000_0000, 0xBFF8_0000_0000_0000, 0x4202_A05F_2000_0000, 0x3FE0_0000_0000_0000]

    static func value(_ letter: Character, _ k: Int) -> Value {
        switch letter {
        case "i": .i32(i32[k % 5])
        case "I": .i64(i64[k % 5])
        case "f": .f32(f32[k % 5])
        case "F": .f64(f64[k % 5])
        case "r": .funcref(nil)
        case "v": .v128(lo: i64[k % 5], hi: f64[k % 5])
        default: .externref(nil)
        }
    }

    static func text(_ v: Value) -> String {
        switch v {
        case .i32(let x): "i32:" + hex(UInt64(x), 8)
        case .i64(let x): "i64:" + hex(x, 16)
        case .f32(let x): "f32:" + hex(UInt64(x), 8)
        case .f64(let x): "f64:" + hex(x, 16)
        case .funcref(let p): "funcref:" + (p == nil ? "null" : "nonnull")
        case .externref(let p): "externref:" + (p == nil ? "null" : "nonnull")
        case .v128(let lo, let hi): "v128:" + hex(hi, 16) + hex(lo, 16)
        }
    }

    static func hex(_ v: UInt64, _ width: Int) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }

    /// Trap kinds as both engines can name them ("undefined element" and table bounds are one
    /// kind: wasmtime reports both as a table out-of-bounds access).
    static func trapName(_ t: Trap) -> String {
        switch t.description {
        case "unreachable": "unreachable"
        case "out of bounds memory access": "memory"
        case "integer divide by zero": "div0"
        case "integer overflow": "overflow"
        case "invalid conversion to integer": "conversion"
        case "undefined element", "out of bounds table access": "table"
        case "uninitialized element": "null"
        case "indirect call type mismatch": "signature"
        case "call stack exhausted": "stack"
        case "thrown Wasm exception": "exception"  // not a trap: an uncaught exception
        default: "other(\(t.description))"
        }
    }
}

/// Export names as the hex of their UTF-8 bytes: no escaping rules to agree on.
private func nameHex(_ name: String) -> String {
    name.utf8.isEmpty ? "-" : name.utf8.map { FuzzArguments.hex(UInt64($0), 2) }.joined()
}

struct FuzzExec: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fuzz-exec", abstract: "Differential fuzzing: run every export of each module and print the outcome.",
        shouldDisplay: false)

    @Option(name: .long, help: "Codegen profile: baseline, O0, O1, O2 or O3.")
    var profile = "O2"

    @Argument(help: "Modules (.wasm) without imports.")
    var files: [String]

    mutating func run() throws {
        let chosen: CodegenProfile
        switch profile {
        case "baseline": chosen = .baseline
        case "O0", "O1", "O2", "O3": chosen = .level(OptLevel(rawValue: Int(profile.dropFirst())!)!)
        default: throw ValidationError("--profile expects baseline, O0, O1, O2 or O3")
        }
        let engine: Engine
        do { engine = try Engine() } catch { fail("\(error)") }
        for file in files {
            print("module \((file as NSString).lastPathComponent)")
            defer { print("end"); fflush(nil) }
            guard let data = FileManager.default.contents(atPath: file) else { print("read-error"); continue }
            let module: WasmAOTEmbed.Module
            do { module = try engine.compile(Array(data), profile: chosen) } catch {
                print("compile-error \(String(describing: error).split(separator: "\n").first ?? "")")
                continue
            }
            let instance: Instance
            do { instance = try engine.instantiate(module) { _, _ in nil } } catch let trap as Trap {
                print("instantiate-trap \(FuzzArguments.trapName(trap))")
                continue
            } catch {
                print("instantiate-error \(error)")
                continue
            }
            let exports = module.wasm.exports
            for export in exports {
                guard case .function(let f)? = instance.export(export.name) else { continue }
                // wasmtime-py (the reference) cannot pass or return v128 values (Tests/Fuzz/fuzz.py).
                if f.type.contains("v") {
                    print("call \(nameHex(export.name)) skipped-v128")
                    continue
                }
                let params = Array(f.type.prefix { $0 != ":" })
                let args = params.enumerated().map { FuzzArguments.value($0.element, $0.offset) }
                do {
                    let results = try instance.call(f, args)
                    print("call \(nameHex(export.name)) -> " + results.map(FuzzArguments.text).joined(separator: " "))
                } catch let trap as Trap {
                    print("call \(nameHex(export.name)) trap \(FuzzArguments.trapName(trap))")
                } catch {
                    print("call \(nameHex(export.name)) error \(error)")
                }
            }
            for export in exports {
                switch instance.export(export.name) {
                case .global(_, let type)?:
                    if type.contains("v") { print("global \(nameHex(export.name)) skipped-v128"); continue }
                    if let v = instance.global(export.name) { print("global \(nameHex(export.name)) \(FuzzArguments.text(v))") }
                case .memory(let m)?:
                    let bytes = UnsafeRawBufferPointer(start: m.pointee.base, count: Int(m.pointee.size))
                    let digest = sha256Hex(Data(bytes))
                    print("memory \(nameHex(export.name)) pages=\(m.pointee.size / 65536) sha256=\(digest)")
                case .table(let t, _)?:
                    print("table \(nameHex(export.name)) size=\(t.pointee.size)")
                default: break
                }
            }
        }
    }
}

struct FuzzMalformed: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fuzz-malformed",
        abstract: "Malformed-input fuzzing: mutated modules through decode, validation, lowering and code generation.",
        shouldDisplay: false)

    @Option(name: .long, help: "Seed of the mutations (the same seed, corpus and count give the same inputs).")
    var seed: UInt64 = 1

    @Option(name: .long, help: "Number of mutated inputs.")
    var count = 10000

    @Option(name: .long, help: "Only input N (to reproduce one).")
    var only: Int?

    @Option(name: .long, help: "Write input N to this file (with --only).")
    var write: String?

    @Argument(help: "Corpus of valid modules to mutate.")
    var files: [String]

    mutating func run() throws {
        let corpus = files.compactMap { FileManager.default.contents(atPath: $0).map { Array($0) } }.filter { $0.count > 8 }
        guard !corpus.isEmpty else { fail("fuzz-malformed: no corpus module could be read") }
        let target: TargetSpec
        do { target = try TargetSpec(architecture: .host, cpu: .native) } catch { fail("\(error)") }
        var refused = 0, lowered = 0, compiled = 0, unnamed = 0
        var slowest = (seconds: 0.0, index: -1)
        let indices = only.map { [$0] } ?? Array(0..<count)
        for i in indices {
            let bytes = Self.mutate(corpus[i % corpus.count], seed: seed, index: i)
            if let write, only != nil { try Data(bytes).write(to: URL(fileURLWithPath: write)) }
            // Where a crash or hang happened, for the driver: the last index on stderr.
            if i % 64 == 0 || only != nil { FileHandle.standardError.write(Data("@\(i)\n".utf8)) }
            let started = Date()
            do {
                let wasm = try WasmModule.decode(bytes: bytes)
                _ = try Lowering.lower(wasm)
                lowered += 1
                // Code generation too, for what validates (a few percent of the mutations).
                _ = try Lowering.compileObjects(wasm, profile: .baseline, target: target, pic: true)
                compiled += 1
            } catch let error as CompileError {
                refused += 1
                if error.reason.isEmpty { unnamed += 1; print("input \(i): an error without a message") }
            } catch {
                refused += 1
                if "\(error)".isEmpty { unnamed += 1; print("input \(i): an error without a message") }
            }
            let seconds = Date().timeIntervalSince(started)
            if seconds > slowest.seconds { slowest = (seconds, i) }
        }
        print("fuzz-malformed seed \(seed): \(indices.count) inputs, \(refused) refused with an error, \(lowered) valid (\(compiled) through code generation too), \(unnamed) errors without a message; slowest input \(slowest.index): \(String(format: "%.3f", slowest.seconds)) s")
        if unnamed > 0 { throw ExitCode(1) }
    }

    /// 1-4 mutations (overwrite, insert, delete a byte; a LEB byte's continuation bit; truncate;
    /// duplicate a slice) from SplitMix64 of (seed, index) — any input is reproducible alone.
    static func mutate(_ original: [UInt8], seed: UInt64, index: Int) -> [UInt8] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(index) &* 0xD1B5_4A32_D192_ED03
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        var bytes = original
        for _ in 0..<(1 + Int(next() % 4)) where bytes.count > 9 {
            let at = 8 + Int(next() % UInt64(bytes.count - 8))
            switch next() % 6 {
            case 0: bytes[at] = UInt8(truncatingIfNeeded: next())
            case 1: bytes.insert(UInt8(truncatingIfNeeded: next()), at: at)
            case 2: bytes.remove(at: at)
            case 3: bytes[at] ^= 0x80
            case 4: bytes.removeSubrange(at...)
            default:
                let length = min(bytes.count - at, 1 + Int(next() % 16))
                bytes.insert(contentsOf: bytes[at..<(at + length)], at: at)
            }
        }
        return bytes
    }
}
