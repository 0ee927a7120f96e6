import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import WasmAOTBench

/// The harness's non-timing logic: statistics, output parsing, the SVG writer and the report.
/// No timing assertions (benchmark numbers are never checked here).
final class BenchmarksTests: XCTestCase {
    // MARK: statistics

    func testMedian() {
        XCTAssertNil(Stats.median([]))
        XCTAssertEqual(Stats.median([3]), 3)
        XCTAssertEqual(Stats.median([5, 1, 3]), 3)
        XCTAssertEqual(Stats.median([4, 1, 3, 2]), 2.5)
        XCTAssertEqual(Stats.median([2, 2, 9, 2]), 2)
    }

    func testGeomean() throws {
        XCTAssertNil(Stats.geomean([]))
        XCTAssertNil(Stats.geomean([1, 0]), "a zero ratio is a broken measurement, not a value")
        XCTAssertNil(Stats.geomean([2, -1]))
        XCTAssertEqual(try XCTUnwrap(Stats.geomean([2, 8])), 4, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(Stats.geomean([0.5, 2, 1])), 1, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(Stats.geomean([3])), 3, accuracy: 1e-12)
    }

    func testSummaryAndRatio() throws {
        let s = try XCTUnwrap(Summary([0.3, 0.1, 0.2, 0.6]))
        XCTAssertEqual(s.n, 4)
        XCTAssertEqual(s.median, 0.25, accuracy: 1e-12)
        XCTAssertEqual(s.min, 0.1)
        XCTAssertEqual(s.max, 0.6)
        XCTAssertEqual(s.mean, 0.3, accuracy: 1e-12)
        XCTAssertNil(Summary([]))
        XCTAssertEqual(Stats.ratio(3, 2), 1.5)
        XCTAssertNil(Stats.ratio(nil, 2))
        XCTAssertNil(Stats.ratio(1, 0))
    }

    func testBenchElapsedLinesAreSummedAndStripped() throws {
        let stderr = "warming up\nbench elapsed: 1500000 ns\nbench elapsed: 500000 ns\nbye\n"
        XCTAssertEqual(try XCTUnwrap(parseBenchElapsed(stderr)), 0.002, accuracy: 1e-12)
        XCTAssertNil(parseBenchElapsed("no timing here\n"))
        XCTAssertEqual(stripBenchLines(stderr), "warming up\nbye\n")
    }

    func testCaseMetricUsesBenchOnlyWhenEveryEngineReportsIt() {
        var aot = BenchRow(engine: Engine.wasmaot)
        aot.wall = Summary([0.5]); aot.bench = Summary([0.4])
        var wt = BenchRow(engine: Engine.wasmtimeT)
        wt.wall = Summary([1.0]); wt.bench = Summary([0.8])
        let both = CaseMetric(BenchCase(name: "x", measurements: [aot, wt]))
        XCTAssertEqual(both.kind, "bench")
        XCTAssertEqual(both.ratio(Engine.wasmaot, Engine.wasmtimeT), 0.5)
        wt.bench = nil
        let one = CaseMetric(BenchCase(name: "x", measurements: [aot, wt]))
        XCTAssertEqual(one.kind, "process")
        XCTAssertEqual(one.ratio(Engine.wasmaot, Engine.wasmtimeT), 0.5)
    }

    func testShortReasonsForCells() {
        XCTAssertEqual(ReportWriter.shortReason("run 1 failed: exit 1: error: /tmp/x/sg/a.wasm: at offset 0xc: unsupported: GC (struct and array types)"),
                       "wasmaot: no GC support")
        XCTAssertEqual(ReportWriter.shortReason("run 1 failed: exit 1: error: /tmp/x/a.wasm: function 3 at offset 0x25: unsupported: threads (shared memory and atomics) (i32AtomicLoad)"),
                       "wasmaot: no threads support")
        XCTAssertEqual(ReportWriter.shortReason("run 2 failed: exit 134: wasm trap: unreachable in /tmp/q/x.wasm"), "exit 134: wasm trap: unreachable in …")
        XCTAssertEqual(ReportWriter.shortReason("run 1 failed: timed out after 900 s"), "timed out")
    }

    // MARK: measuring (order and bookkeeping only: /bin/true and /bin/false, no timings checked)

    final class Recorder: @unchecked Sendable { var order: [String] = [] }

    func harness() throws -> Harness {
        let tools = FileManager.default.temporaryDirectory.appendingPathComponent("bench-tools-\(UUID().uuidString.prefix(8))").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: tools) }
        let config = BenchConfig(quick: true, out: tools + "/out", packageRoot: BenchPaths.packageRoot, corpus: "/nonexistent")
        return try Harness(config: config, toolOptions: ToolOptions(toolsDir: tools, install: false), log: Logger(quiet: true), commandLine: "test")
    }

    func testTimedRunsAreInterleavedAndRotated() throws {
        let h = try harness()
        let rec = Recorder()
        let specs = ["A", "B", "C"].map { name -> Harness.RowSpec in
            var s = Harness.RowSpec(name, ["/bin/true"], env: [:])
            s.prepare = { i in rec.order.append("\(name)\(i)"); return nil }
            return s
        }
        let rows = h.measureRows(specs, warmup: 1, runs: 3)
        XCTAssertEqual(rec.order, ["A0", "B0", "C0",          // warm-ups
                                   "A1", "B1", "C1",          // round 0
                                   "B2", "C2", "A2",          // round 1 starts with the next row
                                   "C3", "A3", "B3"])
        XCTAssertEqual(rows.map(\.engine), ["A", "B", "C"])
        for r in rows {
            XCTAssertEqual(r.wallSamples.count, 3)
            XCTAssertEqual(r.wall?.n, 3)
            XCTAssertNil(r.unavailable)
            XCTAssertNil(r.bench, "no bench.start/end timing was printed")
        }
    }

    func testFailingRowIsReportedAndTheOthersRunAlone() throws {
        let h = try harness()
        var alone = Harness.RowSpec("wasmtime", ["/bin/true"], env: [:])
        alone.runsWhenAlone = 1
        let rows = h.measureRows([Harness.RowSpec("wasmaot", ["/bin/false"], env: [:]), alone], warmup: 1, runs: 4)
        XCTAssertEqual(rows[0].unavailable, "run 1 failed: exit 1")
        XCTAssertNil(rows[0].wall)
        XCTAssertEqual(rows[1].wallSamples.count, 1, "nothing to compare with: one timed run")
        XCTAssertNotNil(rows[1].note)

        let checked = h.measureRows([Harness.RowSpec("x", ["/bin/true"], env: [:], expect: { _ in "stdout differs" })], warmup: 0, runs: 2)
        XCTAssertEqual(checked[0].output, "stdout differs")
        XCTAssertFalse(checked[0].outputOK)
    }

    // MARK: SVG

    /// Parses the SVG as XML and counts the bars.
    final class SVGCounter: NSObject, XMLParserDelegate {
        var bars = 0, missing = 0, rootName = ""
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            if rootName.isEmpty { rootName = name }
            if name == "rect" && attributes["class"] == "bar" { bars += 1 }
            if name == "text" && attributes["class"] == "missing" { missing += 1 }
        }
    }

    func parse(_ svg: String) throws -> SVGCounter {
        let parser = XMLParser(data: Data(svg.utf8))
        let counter = SVGCounter()
        parser.delegate = counter
        XCTAssertTrue(parser.parse(), "SVG is not well-formed XML: \(String(describing: parser.parserError))")
        return counter
    }

    func testSVGIsWellFormedWithOneBarPerRow() throws {
        let chart = BarChart(title: "Start-up <ms> & \"ratios\"", subtitle: "it's quick", unit: "ms", groups: [
            .init("hello (C, WASI)", [.init("native", 0.8), .init("wasmaot artifact", 0.9), .init("wasmtime & co <run>", 12)]),
            .init("noop", [.init("native", 0.7), .init("wasmtime-min", nil, missing: "n/a: not installed <pip>")]),
        ])
        let svg = chart.render()
        let counted = try parse(svg)
        XCTAssertEqual(counted.rootName, "svg")
        XCTAssertEqual(counted.bars, 4, "one <rect class=\"bar\"> per row with a value")
        XCTAssertEqual(counted.missing, 1, "rows without a value are labelled, not drawn")
        XCTAssertTrue(svg.contains("wasmtime &amp; co &lt;run&gt;"))
        XCTAssertFalse(chart.usesLogScale, "0.7…12 is not a wide range")
    }

    func testSVGUsesLogScaleForWideRanges() throws {
        var chart = BarChart(title: "compile", unit: "s", groups: [.init("m", [.init("a", 0.05), .init("b", 40)])])
        XCTAssertTrue(chart.usesLogScale)
        XCTAssertTrue(chart.render().contains("(log scale)"))
        XCTAssertEqual(try parse(chart.render()).bars, 2)
        chart.groups = []
        XCTAssertEqual(try parse(chart.render()).bars, 0, "an empty chart is still a valid document")
    }

    // MARK: report

    func measured(_ engine: String, _ seconds: Double, bench: Double? = nil) -> BenchRow {
        var m = BenchRow(engine: engine)
        m.wallSamples = [seconds, seconds * 1.1, seconds * 0.9]
        m.wall = Summary(m.wallSamples)
        if let bench { m.benchSamples = [bench]; m.bench = Summary([bench]) }
        m.output = "ok"
        return m
    }

    func sampleReport() -> BenchReport {
        var r = BenchReport(mode: "quick", started: "2026-11-25T00:00:00Z", command: "wasmaot-bench --quick --out x")
        r.machine = [KeyValue("CPU", "test cpu")]
        r.versions = [KeyValue("wasmaot", "wasmaot 0.1")]
        r.sections = [
            Section(id: "startup", title: "Start-up", cases: [
                BenchCase(name: "hello", measurements: [
                    measured(Engine.native, 0.001), measured(Engine.artifact, 0.00105), measured(Engine.runHit, 0.002),
                    measured(Engine.wasmtimeMin, 0.004),
                ]),
            ]),
            Section(id: "container", title: "Container start", cases: [
                BenchCase(name: "runc level", measurements: [measured(Engine.runcNative, 0.040), measured(Engine.ociWasm, 0.041),
                                                             measured(Engine.ociNative, 0.0415)]),
                BenchCase(name: "podman", measurements: [measured(Engine.podmanNative, 0.200), measured(Engine.podmanOCINative, 0.203),
                                                         measured(Engine.podmanOCIWasm, 0.209)]),
            ]),
            Section(id: "throughput", title: "Throughput", cases: [
                BenchCase(name: "a.c", measurements: [measured(Engine.nativeT, 1, bench: 0.9), measured(Engine.wasmaot, 1, bench: 0.9),
                                                     measured(Engine.wasmtimeT, 2, bench: 1.8)]),
                BenchCase(name: "sg", measurements: [measured(Engine.wasmaot, 1, bench: 0.5), measured(Engine.wasmtimeT, 1, bench: 1)]),
            ]),
            Section(id: "compile", title: "Compile", cases: [
                BenchCase(name: "m", measurements: [measured(Engine.aotBaseline, 0.1), measured(Engine.aotO2, 2.5), measured(Engine.wtCompile, 0.25)]),
            ]),
            Section(id: "coldstart", title: "Cold start", cases: [
                BenchCase(name: "short", measurements: [measured(Engine.coldAOT, 0.2), measured(Engine.coldWT, 0.1),
                                                        measured(Engine.warmAOT, 0.011), measured(Engine.o2Artifact, 0.010)]),
                BenchCase(name: "long", measurements: [measured(Engine.coldAOT, 1.0), measured(Engine.coldWT, 1.0),
                                                       measured(Engine.warmAOT, 0.5), measured(Engine.o2Artifact, 0.5)]),
            ]),
        ]
        return r
    }

    func testTargetsAreEvaluatedFromTheSameRun() throws {
        let targets = Targets.evaluate(sampleReport())
        XCTAssertEqual(targets.count, 19)
        func met(_ prefix: String) -> Bool? { targets.first { $0.name.hasPrefix(prefix) }?.met }
        XCTAssertEqual(met("Cached start (cached artifact) vs native"), true)          // 1.05×
        XCTAssertEqual(met("Cached start (`wasmaot run`, cache hit) vs native"), false) // 2×
        XCTAssertEqual(met("Cached start (cached artifact) speed-up"), true)            // 3.8×
        XCTAssertEqual(met("Cached start (`wasmaot run`, cache hit) speed-up"), false)  // 2×
        XCTAssertEqual(met("Throughput geomean, wasmaot ÷ wasmtime"), true)             // 0.5
        XCTAssertEqual(met("Throughput geomean, wasmaot ÷ native"), true)               // 1.0
        XCTAssertEqual(met("Compile time, optimized tier"), false)                      // 10×
        XCTAssertNil(met("Compile time, baseline tier"))                                // reported only
        XCTAssertEqual(met("Cold start, `wasmaot run`"), true)                          // geomean √2 ≈ 1.414
        XCTAssertEqual(met("Cold start, worst module"), true)                           // 2×
        XCTAssertEqual(met("Warm `wasmaot run` after tier-up"), true)                   // 1.1×
        XCTAssertEqual(met("Container start at runc level: \(Engine.ociWasm)"), true)     // +1 ms ≤ 2 ms
        XCTAssertEqual(met("Container start at runc level: \(Engine.ociNative)"), false)  // +1.5 ms > 1 ms
        XCTAssertEqual(met("\(Engine.podmanOCIWasm) ÷"), true)                           // 1.045×
        XCTAssertEqual(met("\(Engine.podmanOCINative) ÷"), true)                         // 1.015×
        XCTAssertNil(met("\(Engine.ctrOCIWasm) ÷"), "no ctr rows: not measured")
        let vsWT = try XCTUnwrap(Targets.throughputGeomean(sampleReport().section("throughput"), vs: Engine.wasmtimeT).value)
        XCTAssertEqual(vsWT, 0.5, accuracy: 1e-12)
    }

    func testWrongOutputIsExcludedFromTheGeomeanAndListed() throws {
        var r = sampleReport()
        r.sections[2].cases[1].measurements[0].output = "stdout differs"
        let g = Targets.throughputGeomean(r.section("throughput"), vs: Engine.wasmtimeT)
        XCTAssertEqual(g.cases, 1)
        XCTAssertEqual(g.excluded, ["sg"])
        r.targets = Targets.evaluate(r)
        XCTAssertTrue(ReportWriter.markdown(r).contains("WRONG OUTPUT — stdout differs"))
    }

    func testMissingRowsMakeTargetsUnmeasuredNotMet() {
        var r = sampleReport()
        r.sections[0].cases[0].measurements[3] = BenchRow(engine: Engine.wasmtimeMin, unavailable: "not installed")
        r.sections.remove(at: 3)
        let t = Targets.evaluate(r)
        XCTAssertNil(t.first { $0.name.hasPrefix("Cached start (cached artifact) speed-up") }?.met)
        XCTAssertNil(t.first { $0.name.hasPrefix("Compile time") }?.met)
        r.sections.removeAll { $0.id == "coldstart" }
        XCTAssertNil(Targets.evaluate(r).first { $0.name.hasPrefix("Cold start, worst") }?.met)
        XCTAssertTrue(ReportWriter.markdown(r).contains("not available — not installed"))
    }

    func testReportContainsTargetsTableAndEveryOutput() throws {
        var r = sampleReport()
        r.targets = Targets.evaluate(r)
        let md = ReportWriter.markdown(r)
        XCTAssertTrue(md.contains("## Targets\n\n| target | goal | measured | met? | how |\n|---|---|---|---|---|\n"))
        let targetRows = md.split(separator: "\n").drop { !$0.hasPrefix("## Targets") }.dropFirst(3).prefix { $0.hasPrefix("|") }  // heading, header, rule
        XCTAssertEqual(targetRows.count, 19)
        XCTAssertTrue(md.contains("**met**") && md.contains("**not met**"))
        for section in ["## Machine", "## Versions and anchors", "## Start-up", "## Container start", "## Cold start", "## Throughput", "## Compile", "| **geomean** |"] {
            XCTAssertTrue(md.contains(section), "report lacks \(section)")
        }

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bench-report-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try ReportWriter.write(r, to: dir.path)
        let files = Set(try FileManager.default.contentsOfDirectory(atPath: dir.path))
        XCTAssertEqual(files, ["report.md", "results.json", "startup.svg", "container.svg", "coldstart.svg", "throughput.svg", "throughput-ratio.svg", "compile.svg"])
        for svg in files where svg.hasSuffix(".svg") {
            _ = try parse(String(contentsOf: dir.appendingPathComponent(svg), encoding: .utf8))
        }
        let decoded = try JSONDecoder().decode(BenchReport.self, from: Data(contentsOf: dir.appendingPathComponent("results.json")))
        XCTAssertEqual(decoded.sections.map(\.id), ["startup", "container", "throughput", "compile", "coldstart"])
        XCTAssertEqual(decoded.targets.count, 19)
        XCTAssertEqual(decoded.sections[0].cases[0].measurements[0].wallSamples.count, 3)
    }
}
