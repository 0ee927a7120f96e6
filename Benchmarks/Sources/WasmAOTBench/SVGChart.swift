import Foundation

/// A horizontal grouped bar chart written as plain SVG (no scripts, no external fonts): one
/// group per case, one bar per row, the value printed at the end of each bar, an axis with
/// ticks, and a logarithmic scale when the values span more than `logThreshold`×.
public struct BarChart: Sendable {
    public struct Bar: Sendable {
        public var label: String
        public var value: Double?      // nil: no bar, `missing` is printed instead
        public var missing: String
        public init(_ label: String, _ value: Double?, missing: String = "n/a") {
            self.label = label
            self.value = value
            self.missing = missing
        }
    }

    public struct Group: Sendable {
        public var label: String
        public var bars: [Bar]
        public init(_ label: String, _ bars: [Bar]) { self.label = label; self.bars = bars }
    }

    public var title: String
    public var subtitle: String
    public var unit: String                // the axis label, e.g. "ms"
    /// Printed after each bar's value; default: `unit`.
    public var valueUnit: String?
    public var groups: [Group]
    public var logThreshold: Double = 30
    /// Draw a dashed reference line at this value (e.g. 1.0 for ratios).
    public var reference: Double?
    public var valueFormat: @Sendable (Double) -> String = { BarChart.format($0) }

    public init(title: String, subtitle: String = "", unit: String, groups: [Group]) {
        self.title = title
        self.subtitle = subtitle
        self.unit = unit
        self.groups = groups
    }

    /// Series colours: fixed per label so the same engine has the same colour in every chart.
    static let palette = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"]

    public var values: [Double] { groups.flatMap { $0.bars.compactMap(\.value) }.filter { $0 > 0 && $0.isFinite } }

    public var usesLogScale: Bool {
        guard let lo = values.min(), let hi = values.max() else { return false }
        return hi / lo > logThreshold
    }

    public static func format(_ v: Double) -> String {
        if v >= 100 { return String(format: "%.0f", v) }
        if v >= 10 { return String(format: "%.1f", v) }
        if v >= 1 { return String(format: "%.2f", v) }
        if v >= 0.01 { return String(format: "%.3f", v) }
        return String(format: "%.2g", v)
    }

    public func render() -> String {
        let font = 12.0, charWidth = 6.8
        let barHeight = 16.0, barGap = 4.0, groupGap = 14.0, groupHeader = 18.0
        let labels = groups.flatMap { $0.bars.map(\.label) }
        let labelWidth = max(120, Double(labels.map(\.count).max() ?? 0) * charWidth + 24)
        let plotWidth = 520.0, valueWidth = 200.0
        let left = labelWidth, top = subtitle.isEmpty ? 44.0 : 62.0
        var seriesColour: [String: String] = [:]
        for l in labels where seriesColour[l] == nil { seriesColour[l] = Self.palette[seriesColour.count % Self.palette.count] }

        // Scale.
        let log = usesLogScale
        let vals = values
        var lo = vals.min() ?? 1, hi = vals.max() ?? 1
        if let r = reference { lo = min(lo, r); hi = max(hi, r) }
        let ticks: [Double]
        let scale: (Double) -> Double
        if log {
            let e0 = floor(log10(lo)), e1 = ceil(log10(hi))
            let d0 = pow(10, e0), d1 = pow(10, max(e1, e0 + 1))
            scale = { v in plotWidth * (log10(max(v, d0)) - log10(d0)) / (log10(d1) - log10(d0)) }
            ticks = stride(from: e0, through: log10(d1), by: 1).map { pow(10, $0) }
        } else {
            let step = Self.niceStep(max(hi, 1e-12) / 5)
            let top = (hi / step).rounded(.up) * step
            scale = { v in plotWidth * max(v, 0) / top }
            ticks = stride(from: 0, through: top + step / 2, by: step).map { $0 }
        }

        var plotHeight = 0.0
        for g in groups { plotHeight += groupHeader + Double(g.bars.count) * (barHeight + barGap) + groupGap }
        let width = left + plotWidth + valueWidth
        let height = top + plotHeight + 40

        var s = """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="\(Int(font))">
            <rect x="0" y="0" width="\(Int(width))" height="\(Int(height))" fill="#ffffff"/>
            <text x="12" y="22" font-size="15" font-weight="bold">\(Self.escape(title))</text>

            """
        if !subtitle.isEmpty { s += "<text x=\"12\" y=\"42\" fill=\"#555555\">\(Self.escape(subtitle))</text>\n" }

        // Grid and ticks.
        let axisY = top + plotHeight
        for t in ticks {
            let x = left + scale(t)
            s += "<line class=\"grid\" x1=\"\(f(x))\" y1=\"\(f(top - 4))\" x2=\"\(f(x))\" y2=\"\(f(axisY))\" stroke=\"#e0e0e0\"/>\n"
            s += "<text x=\"\(f(x))\" y=\"\(f(axisY + 16))\" text-anchor=\"middle\" fill=\"#555555\">\(Self.escape(String(format: "%g", t)))</text>\n"
        }
        s += "<text x=\"\(f(left + plotWidth / 2))\" y=\"\(f(axisY + 34))\" text-anchor=\"middle\" fill=\"#333333\">\(Self.escape(unit + (log ? " (log scale)" : "")))</text>\n"
        if let r = reference {
            let x = left + scale(r)
            s += "<line class=\"reference\" x1=\"\(f(x))\" y1=\"\(f(top - 4))\" x2=\"\(f(x))\" y2=\"\(f(axisY))\" stroke=\"#333333\" stroke-dasharray=\"4,3\"/>\n"
        }

        // Groups and bars.
        var y = top
        for g in groups {
            s += "<text class=\"group\" x=\"12\" y=\"\(f(y + 13))\" font-weight=\"bold\">\(Self.escape(g.label))</text>\n"
            y += groupHeader
            for b in g.bars {
                let mid = y + barHeight / 2 + 4
                s += "<text x=\"\(f(left - 8))\" y=\"\(f(mid))\" text-anchor=\"end\">\(Self.escape(b.label))</text>\n"
                if let v = b.value, v.isFinite, v > 0 {
                    let w = max(1, scale(v))
                    s += "<rect class=\"bar\" x=\"\(f(left))\" y=\"\(f(y))\" width=\"\(f(w))\" height=\"\(f(barHeight))\" fill=\"\(seriesColour[b.label]!)\"><title>\(Self.escape("\(g.label) — \(b.label): \(valueFormat(v)) \(valueUnit ?? unit)"))</title></rect>\n"
                    s += "<text x=\"\(f(left + w + 6))\" y=\"\(f(mid))\" fill=\"#222222\">\(Self.escape(valueFormat(v) + " " + (valueUnit ?? unit)))</text>\n"
                } else {
                    s += "<text class=\"missing\" x=\"\(f(left + 6))\" y=\"\(f(mid))\" fill=\"#999999\" font-style=\"italic\">\(Self.escape(b.missing))</text>\n"
                }
                y += barHeight + barGap
            }
            y += groupGap
        }
        s += "<line x1=\"\(f(left))\" y1=\"\(f(top - 4))\" x2=\"\(f(left))\" y2=\"\(f(axisY))\" stroke=\"#333333\"/>\n"
        s += "</svg>\n"
        return s
    }

    private func f(_ v: Double) -> String { String(format: "%.1f", v) }

    static func niceStep(_ raw: Double) -> Double {
        let e = pow(10, floor(log10(raw)))
        for m in [1.0, 2.0, 2.5, 5.0, 10.0] where raw <= m * e { return m * e }
        return 10 * e
    }

    public static func escape(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default:
                // XML 1.0 forbids most control characters even when escaped.
                if let a = ch.asciiValue, a < 0x20, a != 0x09, a != 0x0a, a != 0x0d { out += "?" } else { out.append(ch) }
            }
        }
        return out
    }
}
