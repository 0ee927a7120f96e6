import Foundation

/// Throughput metric of one case: bench.start→end when every measured engine reported it, else
/// whole process; medians per engine in seconds.
public struct CaseMetric {
    public var kind: String   // "bench" or "process"
    public var median: [String: Double]

    public init(_ c: BenchCase, engines: [String] = [Engine.nativeT, Engine.wasmaot, Engine.wasmaotBaseline, Engine.wasmtimeT]) {
        let rows = engines.compactMap { c.row($0) }.filter { $0.wall != nil }
        let bench = !rows.isEmpty && rows.allSatisfy { $0.bench != nil }
        kind = bench ? "bench" : "process"
        median = [:]
        for r in rows { median[r.engine] = bench ? r.bench!.median : r.wall!.median }
    }

    public func ratio(_ a: String, _ b: String) -> Double? { Stats.ratio(median[a], median[b]) }
}

public enum Targets {
    static func median(_ s: Section?, _ c: String, _ e: String) -> Double? { s?.cases.first { $0.name == c }?.row(e)?.wall?.median }

    /// Geomean of wasmaot ÷ `other` over cases where both ran and every output was right.
    public static func throughputGeomean(_ s: Section?, vs other: String, of row: String = Engine.wasmaot) -> (value: Double?, cases: Int, excluded: [String]) {
        guard let s else { return (nil, 0, []) }
        var ratios: [Double] = [], excluded: [String] = []
        for c in s.cases {
            let m = CaseMetric(c)
            guard let r = m.ratio(row, other) else { continue }
            if c.measurements.contains(where: { !$0.outputOK }) { excluded.append(c.name); continue }
            ratios.append(r)
        }
        return (Stats.geomean(ratios), ratios.count, excluded)
    }

    public static func compileGeomean(_ s: Section?, row: String = Engine.aotO2) -> (value: Double?, cases: Int) {
        guard let s else { return (nil, 0) }
        let ratios = s.cases.compactMap { Stats.ratio($0.row(row)?.wall?.median, $0.row(Engine.wtCompile)?.wall?.median) }
        return (Stats.geomean(ratios), ratios.count)
    }

    /// Per case: `row` ÷ `other` (whole-process medians) where both ran with right output.
    public static func ratios(_ s: Section?, _ row: String, _ other: String) -> [(name: String, ratio: Double)] {
        guard let s else { return [] }
        return s.cases.compactMap { c in
            guard let a = c.row(row), let b = c.row(other), a.outputOK, b.outputOK,
                  let r = Stats.ratio(a.wall?.median, b.wall?.median) else { return nil }
            return (c.name, r)
        }
    }

    public static func evaluate(_ report: BenchReport) -> [Target] {
        var t: [Target] = []
        let startup = report.section("startup")
        func startupTarget(_ name: String, goal: String, row: String, compute: (BenchCase) -> Double?, limit: Double, atMost: Bool) -> Target {
            var parts: [String] = [], values: [Double] = []
            for c in startup?.cases ?? [] {
                if let v = compute(c) { parts.append("\(c.name): \(Fmt.targetRatio(v))"); values.append(v) }
                else { parts.append("\(c.name): not measured") }
            }
            let met: Bool? = values.isEmpty || values.count < (startup?.cases.count ?? 0) ? nil
                : values.allSatisfy { atMost ? $0 <= limit : $0 >= limit }
            return Target(name: name, goal: goal, value: parts.isEmpty ? "not measured" : parts.joined(separator: "; "), met: met,
                          detail: "row “\(row)”, medians from the same run")
        }
        for row in [Engine.artifact, Engine.runHit] {
            let label = row == Engine.artifact ? "cached artifact" : "`wasmaot run`, cache hit"
            t.append(startupTarget("Cached start (\(label)) vs native static", goal: "≤ 1.10×", row: row,
                                   compute: { Stats.ratio($0.row(row)?.wall?.median, $0.row(Engine.native)?.wall?.median) }, limit: 1.10, atMost: true))
        }
        for row in [Engine.artifact, Engine.runHit] {
            let label = row == Engine.artifact ? "cached artifact" : "`wasmaot run`, cache hit"
            t.append(startupTarget("Cached start (\(label)) speed-up over wasmtime-min", goal: "≥ 3×", row: row,
                                   compute: { Stats.ratio($0.row(Engine.wasmtimeMin)?.wall?.median, $0.row(row)?.wall?.median) }, limit: 3, atMost: false))
        }
        let tp = report.section("throughput")
        let vsWT = throughputGeomean(tp, vs: Engine.wasmtimeT)
        t.append(Target(name: "Throughput geomean, wasmaot ÷ wasmtime (time)", goal: "≤ 0.80×",
                        value: vsWT.value.map { "\(Fmt.targetRatio($0)) over \(vsWT.cases) cases" } ?? "not measured",
                        met: vsWT.value.map { $0 <= 0.80 },
                        detail: "C programs and sightglass" + (vsWT.excluded.isEmpty ? "" : "; excluded for wrong output: \(vsWT.excluded.joined(separator: ", "))")))
        let vsN = throughputGeomean(tp, vs: Engine.nativeT)
        t.append(Target(name: "Throughput geomean, wasmaot ÷ native (time)", goal: "≤ 1.10×",
                        value: vsN.value.map { "\(Fmt.targetRatio($0)) over \(vsN.cases) cases" } ?? "not measured",
                        met: vsN.value.map { $0 <= 1.10 },
                        detail: "the C programs (sightglass has no native build)" + (vsN.excluded.isEmpty ? "" : "; excluded for wrong output: \(vsN.excluded.joined(separator: ", "))")))
        let baseTP = throughputGeomean(tp, vs: Engine.wasmaot, of: Engine.wasmaotBaseline)
        t.append(Target(name: "Throughput geomean, baseline tier ÷ optimized tier (time)", goal: "reported",
                        value: baseTP.value.map { "\(Fmt.targetRatio($0)) over \(baseTP.cases) cases" } ?? "not measured",
                        met: nil, detail: "rows “wasmaot baseline tier” and “wasmaot”"))
        let comp = compileGeomean(report.section("compile"))
        t.append(Target(name: "Compile time, optimized tier (-O2) ÷ `wasmtime compile` (geomean, wall)", goal: "≤ 8×",
                        value: comp.value.map { "\(Fmt.targetRatio($0)) over \(comp.cases) modules" } ?? "not measured",
                        met: comp.value.map { $0 <= 8 }, detail: "wasmaot: whole pipeline to a linked executable"))
        let compBase = compileGeomean(report.section("compile"), row: Engine.aotBaseline)
        t.append(Target(name: "Compile time, baseline tier ÷ `wasmtime compile` (geomean, wall)", goal: "reported",
                        value: compBase.value.map { "\(Fmt.targetRatio($0)) over \(compBase.cases) modules" } ?? "not measured",
                        met: nil, detail: "wasmaot: whole pipeline to a linked executable"))
        let cold = ratios(report.section("coldstart"), Engine.coldAOT, Engine.coldWT)
        let coldGeo = Stats.geomean(cold.map(\.ratio))
        t.append(Target(name: "Cold start, `wasmaot run` ÷ `wasmtime run -C cache=n` (geomean, empty caches)", goal: "≤ 1.50×",
                        value: coldGeo.map { "\(Fmt.targetRatio($0)) over \(cold.count) modules" } ?? "not measured",
                        met: coldGeo.map { $0 <= 1.5 }, detail: "section Cold start, whole process"))
        let worst = cold.max { $0.ratio < $1.ratio }
        t.append(Target(name: "Cold start, worst module", goal: "≤ 3×",
                        value: worst.map { "\($0.name): \(Fmt.targetRatio($0.ratio))" } ?? "not measured",
                        met: worst.map { $0.ratio <= 3 }, detail: "section Cold start"))
        let warm = ratios(report.section("coldstart"), Engine.warmAOT, Engine.o2Artifact)
        let warmGeo = Stats.geomean(warm.map(\.ratio)), warmWorst = warm.max { $0.ratio < $1.ratio }
        t.append(Target(name: "Warm `wasmaot run` after tier-up ÷ the -O2 artifact", goal: "≤ 1.15×",
                        value: warmGeo.map { "geomean \(Fmt.targetRatio($0)) over \(warm.count) modules; worst \(warmWorst!.name) \(Fmt.targetRatio(warmWorst!.ratio))" } ?? "not measured",
                        met: warmWorst.map { $0.ratio <= 1.15 }, detail: "section Cold start, warm rows (whole process; worst module counts)"))
        let cont = report.section("container")
        func difference(_ caseName: String, _ row: String, _ base: String, goal: String, limit: Double) {
            let d: Double? = {
                guard let w = median(cont, caseName, row), let n = median(cont, caseName, base) else { return nil }
                return w - n
            }()
            t.append(Target(name: "Container start at runc level: \(row) − \(base)", goal: goal,
                            value: d.map { String(format: "%+.2f ms", $0 * 1e3) } ?? "not measured",
                            met: d.map { $0 <= limit }, detail: "difference of interleaved medians"))
        }
        difference("runc level", Engine.ociNative, Engine.runcNative, goal: "≤ +1 ms", limit: 0.001)
        difference("runc level", Engine.ociWasm, Engine.runcNative, goal: "≤ +2 ms", limit: 0.002)
        func ratio(_ caseName: String, _ row: String, _ base: String, limit: Double) {
            let r = Stats.ratio(median(cont, caseName, row), median(cont, caseName, base))
            t.append(Target(name: "\(row) ÷ \(base)", goal: String(format: "≤ %.2f×", limit),
                            value: r.map { Fmt.targetRatio($0) } ?? "not measured", met: r.map { $0 <= limit },
                            detail: "ratio of interleaved medians, case \(caseName)"))
        }
        ratio("podman", Engine.podmanOCIWasm, Engine.podmanNative, limit: 1.05)
        ratio("podman", Engine.podmanOCINative, Engine.podmanNative, limit: 1.02)
        ratio("containerd (ctr run)", Engine.ctrOCIWasm, Engine.ctrNative, limit: 1.05)
        ratio("containerd (ctr run)", Engine.ctrOCINative, Engine.ctrNative, limit: 1.02)
        ratio("containerd CRI (pod start)", Engine.criWasm, Engine.criNative, limit: 1.05)
        return t
    }
}

public enum ReportWriter {
    /// A few words for table cells and chart labels (the full message is in the problems list
    /// and results.json): known causes by name, otherwise the message without file paths.
    public static func shortReason(_ message: String) -> String {
        // A module of a proposal wasmaot does not compile ("unsupported: GC (struct and array types)").
        if let r = message.range(of: #"unsupported: [^(]+"#, options: .regularExpression) {
            return "wasmaot: no \(message[r].dropFirst("unsupported: ".count).trimmingCharacters(in: .whitespaces)) support"
        }
        if message.contains("timed out") { return "timed out" }
        var m = message
        if let r = m.range(of: #"^run \d+ failed: "#, options: .regularExpression) { m.removeSubrange(r) }
        m = m.replacingOccurrences(of: #"/[^\s:]+"#, with: "…", options: .regularExpression)
        return m.count > 70 ? String(m.prefix(69)) + "…" : m
    }

    public static func write(_ report: BenchReport, to dir: String) throws {
        var r = report
        r.targets = Targets.evaluate(report)
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try enc.encode(r).write(to: URL(fileURLWithPath: dir + "/results.json"))
        for (name, chart) in charts(r) {
            try chart.render().write(toFile: "\(dir)/\(name).svg", atomically: true, encoding: .utf8)
        }
        try markdown(r).write(toFile: dir + "/report.md", atomically: true, encoding: .utf8)
    }

    // MARK: charts

    public static func charts(_ r: BenchReport) -> [(String, BarChart)] {
        var out: [(String, BarChart)] = []
        func ms(_ m: BenchRow) -> BarChart.Bar { BarChart.Bar(m.engine, m.wall.map { $0.median * 1e3 }, missing: m.unavailable.map { "n/a: " + shortReason($0) } ?? "n/a") }
        if let s = r.section("startup") {
            out.append(("startup", BarChart(title: "Start-up: median wall time per run", subtitle: "lower is better; \(r.mode) mode",
                                            unit: "ms", groups: s.cases.map { BarChart.Group($0.name, $0.measurements.map(ms)) })))
        }
        if let s = r.section("container") {
            out.append(("container", BarChart(title: "Container start: median wall time of `run`", subtitle: "lower is better; \(r.mode) mode",
                                              unit: "ms", groups: s.cases.map { BarChart.Group($0.name, $0.measurements.map(ms)) })))
        }
        if let s = r.section("throughput") {
            let groups = s.cases.map { c -> BarChart.Group in
                let m = CaseMetric(c)
                return BarChart.Group("\(c.name) (\(m.kind))", c.measurements.map { row in
                    BarChart.Bar(row.engine, m.median[row.engine].map { $0 * 1e3 }, missing: row.unavailable.map { "n/a: " + shortReason($0) } ?? "n/a")
                })
            }
            out.append(("throughput", BarChart(title: "Throughput: median time per case", subtitle: "bench.start→end where all engines report it, else whole process; lower is better",
                                               unit: "ms", groups: groups)))
            var ratios = BarChart(title: "Throughput: wasmaot time relative to wasmtime and native", subtitle: "1.0 = same speed; below 1 wasmaot is faster",
                                  unit: "wasmaot time ÷ other engine's time (dashed line: same speed)", groups: s.cases.map { c in
                                      let m = CaseMetric(c)
                                      var bars = [BarChart.Bar("÷ wasmtime", m.ratio(Engine.wasmaot, Engine.wasmtimeT))]
                                      if c.row(Engine.nativeT) != nil { bars.append(BarChart.Bar("÷ native", m.ratio(Engine.wasmaot, Engine.nativeT))) }
                                      return BarChart.Group(c.name, bars)
                                  })
            ratios.reference = 1
            ratios.valueUnit = "×"
            ratios.valueFormat = { String(format: "%.2f", $0) }
            out.append(("throughput-ratio", ratios))
        }
        if let s = r.section("coldstart") {
            var chart = BarChart(title: "Cold start: wasmaot run ÷ wasmtime run -C cache=n", subtitle: "compile + run with empty caches, whole process; 1.0 = same time, lower is better",
                                 unit: "wasmaot time ÷ wasmtime time (dashed line: same time)", groups: s.cases.map { c in
                                     BarChart.Group(c.name, [BarChart.Bar("cold", Stats.ratio(c.row(Engine.coldAOT)?.wall?.median, c.row(Engine.coldWT)?.wall?.median)),
                                                             BarChart.Bar("warm ÷ -O2 artifact", Stats.ratio(c.row(Engine.warmAOT)?.wall?.median, c.row(Engine.o2Artifact)?.wall?.median))])
                                 })
            chart.reference = 1
            chart.valueUnit = "×"
            chart.valueFormat = { String(format: "%.2f", $0) }
            out.append(("coldstart", chart))
        }
        if let s = r.section("compile") {
            out.append(("compile", BarChart(title: "Compile: median wall time", subtitle: "wasmaot baseline tier / -O2 (to a linked executable) vs wasmtime compile; lower is better",
                                            unit: "s", groups: s.cases.map { c in
                                                BarChart.Group(c.name, c.measurements.map { m in
                                                    BarChart.Bar(m.engine, m.wall?.median, missing: m.unavailable.map { "n/a: " + shortReason($0) } ?? "n/a")
                                                })
                                            })))
        }
        return out
    }

    // MARK: markdown

    static func cell(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ") }

    public static func markdown(_ r: BenchReport) -> String {
        var md = "# wasmaot benchmarks — \(r.mode) mode\n\n"
        md += "Started \(r.started), took \(Fmt.time(r.durationSeconds)). Command: `\(r.command)`.\n\n"
        if r.mode == "quick" {
            md += "> Quick mode: few runs and a subset of the cases — a smoke test, indicative only. Final figures come from the full mode on a quiet machine.\n\n"
        }
        for w in r.warnings { md += "> **Warning:** \(w)\n\n" }
        md += "## Targets\n\n| target | goal | measured | met? | how |\n|---|---|---|---|---|\n"
        for t in r.targets {
            let met = t.met.map { $0 ? "**met**" : "**not met**" } ?? "not measured"
            md += "| \(cell(t.name)) | \(cell(t.goal)) | \(cell(t.value)) | \(met) | \(cell(t.detail)) |\n"
        }
        md += "\n## Machine\n\n| | |\n|---|---|\n"
        for kv in r.machine { md += "| \(cell(kv.key)) | \(cell(kv.value)) |\n" }
        md += "\n## Versions and anchors\n\n| | |\n|---|---|\n"
        for kv in r.versions + r.anchors { md += "| \(cell(kv.key)) | \(cell(kv.value)) |\n" }
        for s in r.sections {
            md += "\n## \(s.title)\n\n"
            for n in s.notes { md += "- \(n)\n" }
            md += "\n"
            switch s.id {
            case "startup": md += startupTables(s)
            case "container": md += containerTables(s)
            case "coldstart": md += coldStartTables(s)
            case "throughput": md += throughputTables(s)
            case "compile": md += compileTables(s)
            default: break
            }
        }
        // Unavailable rows grouped by cause (a full run had dozens of "no SIMD support" rows);
        // wrong outputs listed one by one.
        var unavailable: [(reason: String, full: String, rows: [String])] = []
        var wrong: [String] = []
        for s in r.sections {
            for c in s.cases {
                for m in c.measurements {
                    let place = "\(s.title) / \(c.name) / \(m.engine)"
                    if let u = m.unavailable {
                        let reason = shortReason(u)
                        if let i = unavailable.firstIndex(where: { $0.reason == reason }) { unavailable[i].rows.append(place) }
                        else { unavailable.append((reason, u, [place])) }
                    } else if !m.outputOK {
                        wrong.append("\(place): WRONG OUTPUT — \(m.output!)")
                    }
                }
            }
        }
        md += "\n## Rows without numbers, and output mismatches\n\n"
        if unavailable.isEmpty && wrong.isEmpty { md += "None.\n" }
        for w in wrong { md += "- \(cell(w))\n" }
        for u in unavailable {
            if u.rows.count == 1 { md += "- \(cell(u.rows[0])): not available — \(cell(u.full))\n" }
            else { md += "- not available, \(u.rows.count) rows — \(cell(u.reason)) (first: \(cell(u.full))): \(cell(u.rows.joined(separator: "; ")))\n" }
        }
        md += "\nRaw data: `results.json` (every sample, in seconds). Charts: "
        md += charts(r).map { "`\($0.0).svg`" }.joined(separator: ", ") + ".\n"
        return md
    }

    static func summaryCells(_ m: BenchRow) -> String {
        guard let w = m.wall else { return "n/a | | " }
        return "\(Fmt.time(w.median)) | \(Fmt.time(w.min)) | \(Fmt.time(w.max))"
    }

    static func startupTables(_ s: Section) -> String {
        var md = "![start-up](startup.svg)\n\n"
        for c in s.cases {
            md += "### \(c.name)\n\n" + (c.detail.map { "\($0)\n\n" } ?? "")
            md += "| row | median | min | max | × native | wasmtime-min ÷ row | output |\n|---|---|---|---|---|---|---|\n"
            let native = c.row(Engine.native)?.wall?.median, wmin = c.row(Engine.wasmtimeMin)?.wall?.median
            for m in c.measurements {
                let out = m.unavailable.map { "n/a: \(shortReason($0))" } ?? (m.output ?? "–")
                md += "| \(cell(m.engine)) | \(summaryCells(m)) | \(Fmt.ratio(Stats.ratio(m.wall?.median, native))) | \(Fmt.ratio(Stats.ratio(wmin, m.wall?.median))) | \(cell(out)) |\n"
            }
            md += "\n"
        }
        return md
    }

    static func containerTables(_ s: Section) -> String {
        var md = "![container start](container.svg)\n\n| case | row | median | min | max | − native (same engine) | output |\n|---|---|---|---|---|---|---|\n"
        for c in s.cases {
            let base = c.measurements.first?.wall?.median
            for m in c.measurements {
                let delta = (m.wall?.median).flatMap { v in base.map { String(format: "%+.2f ms", (v - $0) * 1e3) } } ?? "–"
                let out = m.unavailable.map { "n/a: \(shortReason($0))" } ?? (m.output ?? "–")
                md += "| \(cell(c.name)) | \(cell(m.engine)) | \(summaryCells(m)) | \(delta) | \(cell(out)) |\n"
            }
        }
        return md + "\n"
    }

    static func throughputTables(_ s: Section) -> String {
        var md = "![throughput](throughput.svg)\n\n![throughput ratios](throughput-ratio.svg)\n\n"
        md += "Medians of the case's metric (min–max in results.json).\n\n"
        md += "| case | metric | native | wasmaot | wasmaot baseline tier | wasmtime | wasmaot ÷ wasmtime | wasmaot ÷ native | baseline ÷ wasmaot | output |\n|---|---|---|---|---|---|---|---|---|---|\n"
        for c in s.cases {
            let m = CaseMetric(c)
            func v(_ e: String) -> String {
                if let x = m.median[e] { return Fmt.time(x) }
                if let row = c.row(e), let u = row.unavailable { return "n/a (\(cell(shortReason(u))))" }
                return "–"
            }
            let values = c.measurements.compactMap(\.output)
            let out = values.isEmpty ? "unchecked" : Set(values).count == 1 ? values[0]
                : c.measurements.compactMap { r in r.output.map { "\(r.engine): \($0)" } }.joined(separator: "; ")
            md += "| \(cell(c.name)) | \(m.kind) | \(v(Engine.nativeT)) | \(v(Engine.wasmaot)) | \(v(Engine.wasmaotBaseline)) | \(v(Engine.wasmtimeT)) | \(Fmt.ratio(m.ratio(Engine.wasmaot, Engine.wasmtimeT))) | \(Fmt.ratio(m.ratio(Engine.wasmaot, Engine.nativeT))) | \(Fmt.ratio(m.ratio(Engine.wasmaotBaseline, Engine.wasmaot))) | \(cell(String(out.prefix(200)))) |\n"
        }
        let g1 = Targets.throughputGeomean(s, vs: Engine.wasmtimeT), g2 = Targets.throughputGeomean(s, vs: Engine.nativeT)
        let g3 = Targets.throughputGeomean(s, vs: Engine.wasmaot, of: Engine.wasmaotBaseline)
        md += "| **geomean** | | | | | | **\(Fmt.ratio(g1.value))** (\(g1.cases)) | **\(Fmt.ratio(g2.value))** (\(g2.cases)) | **\(Fmt.ratio(g3.value))** (\(g3.cases)) | |\n\n"
        md += "Whole-process medians (including start-up and, for wasmaot, the `wasmaot run` front-end):\n\n"
        md += "| case | native | wasmaot | wasmaot baseline tier | wasmtime |\n|---|---|---|---|---|\n"
        for c in s.cases {
            func w(_ e: String) -> String { c.row(e)?.wall.map { Fmt.time($0.median) } ?? "–" }
            md += "| \(cell(c.name)) | \(w(Engine.nativeT)) | \(w(Engine.wasmaot)) | \(w(Engine.wasmaotBaseline)) | \(w(Engine.wasmtimeT)) |\n"
        }
        return md + "\n"
    }

    static func coldStartTables(_ s: Section) -> String {
        var md = "![cold start](coldstart.svg)\n\n"
        md += "| module | input | wasmaot run, cold | wasmtime run -C cache=n | cold ratio | wasmaot run, warm | -O2 artifact | warm ÷ artifact | output |\n|---|---|---|---|---|---|---|---|---|\n"
        for c in s.cases {
            func t(_ e: String) -> String {
                guard let m = c.row(e) else { return "–" }
                return m.wall.map { Fmt.time($0.median) } ?? "n/a (\(cell(shortReason(m.unavailable ?? ""))))"
            }
            func r(_ a: String, _ b: String) -> String { Fmt.ratio(Stats.ratio(c.row(a)?.wall?.median, c.row(b)?.wall?.median)) }
            let outs = Set(c.measurements.compactMap(\.output))
            let out = outs.isEmpty ? "unchecked" : outs.count == 1 ? outs.first! : c.measurements.compactMap { m in m.output.map { "\(m.engine): \($0)" } }.joined(separator: "; ")
            md += "| \(cell(c.name)) | \(cell(c.detail ?? "")) | \(t(Engine.coldAOT)) | \(t(Engine.coldWT)) | \(r(Engine.coldAOT, Engine.coldWT)) | \(t(Engine.warmAOT)) | \(t(Engine.o2Artifact)) | \(r(Engine.warmAOT, Engine.o2Artifact)) | \(cell(String(out.prefix(160)))) |\n"
        }
        let cold = Targets.ratios(s, Engine.coldAOT, Engine.coldWT).map(\.ratio), warm = Targets.ratios(s, Engine.warmAOT, Engine.o2Artifact).map(\.ratio)
        md += "| **geomean** | | | | **\(Fmt.ratio(Stats.geomean(cold)))** (\(cold.count)) | | | **\(Fmt.ratio(Stats.geomean(warm)))** (\(warm.count)) | |\n"
        return md + "\n"
    }

    static func compileTables(_ s: Section) -> String {
        var md = "![compile](compile.svg)\n\n"
        md += "| module | input | baseline time (CPU) | baseline size | -O2 time (CPU) | -O2 size | wasmtime time (CPU) | .cwasm size | baseline ÷ wasmtime | -O2 ÷ wasmtime |\n|---|---|---|---|---|---|---|---|---|---|\n"
        for c in s.cases {
            let o0 = c.row(Engine.aotBaseline), o2 = c.row(Engine.aotO2), wt = c.row(Engine.wtCompile)
            func t(_ m: BenchRow?, cpu: Bool = false) -> String {
                guard let m else { return "–" }
                guard let w = m.wall else { return "n/a (\(cell(shortReason(m.unavailable ?? ""))))" }
                return Fmt.time(w.median) + (cpu ? m.cpu.map { " (\(Fmt.time($0.median)))" } ?? "" : "")
            }
            md += "| \(cell(c.name)) | \(cell(c.detail ?? "")) | \(t(o0, cpu: true)) | \(Fmt.bytes(o0?.bytes)) | \(t(o2, cpu: true)) | \(Fmt.bytes(o2?.bytes)) | \(t(wt, cpu: true)) | \(Fmt.bytes(wt?.bytes)) | \(Fmt.ratio(Stats.ratio(o0?.wall?.median, wt?.wall?.median))) | \(Fmt.ratio(Stats.ratio(o2?.wall?.median, wt?.wall?.median))) |\n"
        }
        let g = Targets.compileGeomean(s), gb = Targets.compileGeomean(s, row: Engine.aotBaseline)
        md += "| **geomean** | | | | | | | | **\(Fmt.ratio(gb.value))** (\(gb.cases)) | **\(Fmt.ratio(g.value))** (\(g.cases)) |\n"
        return md + "\n"
    }
}
