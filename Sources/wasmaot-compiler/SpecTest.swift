import ArgumentParser
import Foundation
import WasmAOTCodegen
import WasmAOTCore
import WasmAOTEmbed
import WasmAOTSpec

struct SpecTest: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spec-test",
        abstract: "Run official spec-test scripts (.wast) through the embedding API.",
        usage: "wasmaot spec-test [<options>] <files> ...",
        discussion: """
            Every command of a script (module, register, invoke, get and each
            assertion) counts as one passed or failed unit. Exit status 1 if anything
            failed.

            Examples:
              wasmaot spec-test ../shared/corpora/spec/wasm-3.0/global.wast
              cd ../shared/corpora/spec/wasm-2.0
              wasmaot spec-test --standard 2.0 i32.wast
              wasmaot spec-test --standard 2.0 --verbose *.wast

            See also: README.md (Status, What is supported).
            """
    )

    @Argument(help: "Spec-test scripts (.wast).")
    var files: [String]

    @Flag(name: .long, help: "Print each failure with its line, and spectest print output.")
    var verbose = false

    @Option(name: .customShort("O", allowingJoined: true), help: ArgumentHelp("Optimization level 0-3.", valueName: "N"))
    var optLevel: Int = 1

    @Option(name: .customLong("tier"), help: ArgumentHelp(
        "baseline: compile with the baseline tier's pipeline instead of -O<n>; optimized (default): -O<n>.",
        valueName: "baseline|optimized"))
    var tier: Tier = .optimized

    @Option(name: .customLong("cpu"), help: ArgumentHelp(
        "CPU to compile for: native (default), baseline (what `wasmaot compile` assumes: x86-64-v2, generic armv8-a) or an LLVM CPU name this machine can run.",
        valueName: "cpu"))
    var cpu: String = "native"

    var profile: CodegenProfile { tier == .baseline ? .baseline : .level(OptLevel(rawValue: optLevel)!) }

    @Option(name: .long, help: ArgumentHelp("Modules compiled in parallel (default: the CPU count).", valueName: "N"))
    var jobs: Int?
    var jobCount: Int { jobs ?? ProcessInfo.processInfo.activeProcessorCount }

    @Flag(inversion: .prefixedNo, help: ArgumentHelp(
        "Run each script in a child process (default with several scripts), so that a crash fails only that script.",
        discussion: "Instances are never freed and the runtime tracks at most 256 memory reservations, so a whole suite does not fit in one process."))
    var isolate: Bool?

    @Option(name: .long, help: ArgumentHelp(
        "Core spec edition to validate against: 3.0, or 2.0 for the Wasm 2.0 suite (which asserts rules 3.0 relaxed: constant expressions reading defined globals, extended constants).",
        valueName: "edition"))
    var standard: String = WasmStandard.wasm3.rawValue

    @Flag(name: .long, help: "Append each script's wall time to its line.")
    var timing = false

    @Flag(name: .long, help: ArgumentHelp("Write '@file:line passed failed' to stderr before each command.", visibility: .hidden))
    var trace = false

    func validate() throws {
        guard OptLevel(rawValue: optLevel) != nil else { throw ValidationError("-O expects 0, 1, 2 or 3") }
        guard (jobs ?? 1) >= 1 else { throw ValidationError("--jobs expects at least 1") }
        guard WasmStandard(rawValue: standard) != nil else { throw ValidationError("--standard expects 2.0 or 3.0") }
    }

    mutating func run() throws {
        let start = Date()
        var passed = 0, failed = 0
        // Files that are not scripts: said once, in words, and counted as failed.
        var unusable = 0
        files = files.filter { file in
            do {
                let bytes = try ModuleFile.read(file)
                guard !bytes.starts(with: [0x00, 0x61, 0x73, 0x6d]) else {
                    throw CompileError("a binary WebAssembly module; spec-test runs .wast scripts (`wasmaot run` runs modules)")
                }
                return true
            } catch {
                FileHandle.standardError.write(Data("error: \(file): \(error)\n".utf8))
                unusable += 1
                return false
            }
        }
        failed += unusable
        if isolate ?? (files.count > 1) {
            for file in files {
                let r = runIsolated(file)
                passed += r.passed
                failed += r.failed
            }
        } else {
            let runner: SpecRunner
            do {
                runner = try SpecRunner(engine: try Engine(standard: WasmStandard(rawValue: standard)!, cpu: CPUChoice(cpu)), profile: profile, jobs: jobCount, verbose: verbose)
            } catch {
                fail("cannot start the spec runner: \(error)")
            }
            if verbose {
                runner.onFailure = { print($0.description); fflush(nil) }
            }
            if trace {
                runner.trace = { file, line, p, f in
                    FileHandle.standardError.write(Data("@\(file):\(line) \(p) \(f)\n".utf8))
                }
            }
            for file in files {
                let r = runner.run(path: file)
                if verbose { for note in r.notes { print("\(note.file):\(note.line): note: \(note.message)") } }
                passed += r.passed
                failed += r.failed
                print(r.summary + (timing ? String(format: " (%.2f s)", r.seconds) : ""))
                fflush(nil)
            }
        }
        print("\(passed) passed, \(failed) failed" + (timing ? String(format: " (%.1f s)", Date().timeIntervalSince(start)) : ""))
        if failed > 0 { throw ExitCode(1) }
    }

    /// Runs one script in a child `wasmaot spec-test --trace`, relaying its output; a crash
    /// counts the commands it did not get to as failed.
    private func runIsolated(_ file: String) -> (passed: Int, failed: Int) {
        let name = (file as NSString).lastPathComponent
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        var args = ["spec-test", file, "-O", "\(optLevel)", "--tier", tier.rawValue, "--cpu", cpu, "--jobs", "\(jobCount)", "--standard", standard, "--trace", "--no-isolate"]
        if verbose { args.append("--verbose") }
        if timing { args.append("--timing") }
        process.arguments = args
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        do {
            try process.run()
        } catch {
            print("\(name): cannot start a child process: \(error)")
            return (0, 1)
        }
        // Drain stderr (the trace) in the background so the child never blocks on it.
        final class Box: @unchecked Sendable { var data = Data() }
        let errData = Box()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errData.data = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        group.wait()
        var lines = String(decoding: outData, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        if process.terminationReason == .exit, let total = lines.last, let counts = Self.counts(total) {
            // Everything but the child's grand total.
            for line in lines.dropLast() { print(line) }
            fflush(nil)
            return counts
        }
        for line in lines { print(line) }
        let trace = String(decoding: errData.data, as: UTF8.self).split(separator: "\n").last { $0.hasPrefix("@") }
        let how = process.terminationReason == .uncaughtSignal ? "signal \(process.terminationStatus)" : "status \(process.terminationStatus)"
        var passed = 0, failedBefore = 0, at = "before its first command"
        if let trace {
            let parts = trace.dropFirst().split(separator: " ")
            if parts.count == 3 {
                at = "at \(parts[0])"
                passed = Int(parts[1]) ?? 0
                failedBefore = Int(parts[2]) ?? 0
            }
        }
        let total = SpecRunner.commandCount(path: file)
        let failed = max(total - passed, failedBefore + 1)
        print("\(name): \(passed) passed, \(failed) failed (crashed with \(how) \(at); the \(total - passed - failedBefore) commands from there on count as failed)")
        let tail = String(decoding: errData.data, as: UTF8.self).split(separator: "\n").filter { !$0.hasPrefix("@") }.suffix(5)
        for line in tail { print("  \(line)") }
        fflush(nil)
        return (passed, failed)
    }

    /// Parses "N passed, M failed…".
    private static func counts(_ line: String) -> (passed: Int, failed: Int)? {
        let words = line.split(separator: " ")
        guard words.count >= 4, words[1] == "passed,", words[3].hasPrefix("failed"),
              let p = Int(words[0]), let f = Int(words[2]) else { return nil }
        return (p, f)
    }
}
