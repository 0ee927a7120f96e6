import Foundation

/// Statistics over one row's samples. Times are in seconds everywhere in the data model.
public struct Summary: Codable, Sendable, Equatable {
    public var n: Int
    public var median: Double
    public var min: Double
    public var max: Double
    public var mean: Double

    public init?(_ samples: [Double]) {
        guard let m = Stats.median(samples) else { return nil }
        n = samples.count
        median = m
        min = samples.min()!
        max = samples.max()!
        mean = samples.reduce(0, +) / Double(samples.count)
    }
}

public enum Stats {
    /// The middle value; the mean of the two middle values for an even count. Nil when empty.
    public static func median(_ xs: [Double]) -> Double? {
        guard !xs.isEmpty else { return nil }
        let s = xs.sorted()
        let mid = s.count / 2
        return s.count % 2 == 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2
    }

    /// exp(mean(log x)); nil when empty or when any value is not positive (a ratio of 0 or a
    /// negative time means a broken measurement, not something to average away).
    public static func geomean(_ xs: [Double]) -> Double? {
        guard !xs.isEmpty, xs.allSatisfy({ $0 > 0 && $0.isFinite }) else { return nil }
        return exp(xs.map { log($0) }.reduce(0, +) / Double(xs.count))
    }

    /// a / b, nil unless both are positive.
    public static func ratio(_ a: Double?, _ b: Double?) -> Double? {
        guard let a, let b, a > 0, b > 0 else { return nil }
        return a / b
    }
}

/// One row of a section: one engine/configuration on one case.
public struct BenchRow: Codable, Sendable {
    public var engine: String
    public var command: [String] = []
    /// Whole process, spawn → exit.
    public var wall: Summary?
    public var wallSamples: [Double] = []
    /// bench.start → bench.end as reported by the engine (summed over the program's regions).
    public var bench: Summary?
    public var benchSamples: [Double] = []
    /// user + system CPU time of the process (compile rows).
    public var cpu: Summary?
    /// Output file size in bytes (compile rows: the artifact).
    public var bytes: Int?
    /// "ok", or what was wrong with the output; nil when there was nothing to check against.
    public var output: String?
    /// Why this row has no numbers (anchor missing, compile failed, …).
    public var unavailable: String?
    public var note: String?

    public init(engine: String, command: [String] = [], unavailable: String? = nil) {
        self.engine = engine
        self.command = command
        self.unavailable = unavailable
    }

    /// Nothing to check, or checked and right ("ok", "ok (engines agree…)").
    public var outputOK: Bool { output.map { $0.hasPrefix("ok") } ?? true }
}

/// One program/module measured under several engines.
public struct BenchCase: Codable, Sendable {
    public var name: String
    public var detail: String?
    public var measurements: [BenchRow]

    public init(name: String, detail: String? = nil, measurements: [BenchRow] = []) {
        self.name = name
        self.detail = detail
        self.measurements = measurements
    }

    public func row(_ engine: String) -> BenchRow? { measurements.first { $0.engine == engine } }
}

public struct Section: Codable, Sendable {
    public var id: String          // startup, container, throughput, compile
    public var title: String
    public var cases: [BenchCase]
    public var notes: [String]

    public init(id: String, title: String, cases: [BenchCase] = [], notes: [String] = []) {
        self.id = id
        self.title = title
        self.cases = cases
        self.notes = notes
    }
}

public struct KeyValue: Codable, Sendable, Equatable {
    public var key: String
    public var value: String
    public init(_ key: String, _ value: String) { self.key = key; self.value = value }
}

/// One of the targets, evaluated honestly: `met` is nil when it could not be measured.
public struct Target: Codable, Sendable {
    public var name: String
    public var goal: String
    public var value: String
    public var met: Bool?
    public var detail: String

    public init(name: String, goal: String, value: String, met: Bool?, detail: String) {
        self.name = name
        self.goal = goal
        self.value = value
        self.met = met
        self.detail = detail
    }
}

public struct BenchReport: Codable, Sendable {
    public var tool = "wasmaot-bench"
    public var mode: String
    public var started: String
    public var durationSeconds: Double = 0
    public var command: String
    public var machine: [KeyValue] = []
    public var versions: [KeyValue] = []
    public var anchors: [KeyValue] = []
    public var sections: [Section] = []
    public var targets: [Target] = []
    public var warnings: [String] = []

    public init(mode: String, started: String, command: String) {
        self.mode = mode
        self.started = started
        self.command = command
    }

    public func section(_ id: String) -> Section? { sections.first { $0.id == id } }
}
