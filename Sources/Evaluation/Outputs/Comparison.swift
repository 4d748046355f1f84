import Foundation
import Reports

/// The comparison of several methods on one run's examples (`--methods`): one row per method with the
/// probability and accuracy after each removal step, AOPC and seconds per example, each mean with its 95%
/// bootstrap interval over examples, as Markdown (comparison.md, also printed), CSV (comparison.csv) and one
/// plot of every curve (comparison.svg). Cells are addressed by column name (`prob_11%`, `aopc_sufficiency`).
public struct MethodComparison: Sendable {
    public var summaries: [Summary]
    /// Each method's compute seconds per evaluated example.
    public var secondsPerExample: [Double]
    /// intervals[m][column]: method m's interval of a column named in `intervalColumns`; empty without.
    public var intervals: [[String: ConfidenceInterval]]

    /// Per method, what its attributions explain ("gold label", "class 0": `EvaluationMethod.explains`); empty
    /// leaves the column out.
    public var explains: [String] = []
    /// Shown above the table (the methods explain different classes); nil for none.
    public var warning: String?

    public init(summaries: [Summary], secondsPerExample: [Double], intervals: [[String: ConfidenceInterval]] = []) {
        self.summaries = summaries
        self.secondsPerExample = secondsPerExample
        self.intervals = intervals
    }

    var steps: Int { summaries.map(\.degradationProb.count).max() ?? 0 }

    /// The removed fraction after each of `steps` steps, as column names say it: "11%" ... "100%" for 9.
    public static func stepLabels(steps: Int) -> [String] {
        (1...max(steps, 1)).map { "\(Int((100 * Double($0) / Double(max(steps, 1))).rounded()))%" }
    }

    /// The columns that are means over examples, so get bootstrap intervals: probability and accuracy after
    /// each step, AOPC. (The original prediction is the same for every method, so its interval compares nothing.)
    public static func intervalColumns(steps: Int) -> [String] {
        let labels = stepLabels(steps: steps)
        return labels.map { "prob_" + $0 } + labels.map { "acc_" + $0 } + ["aopc_comprehensiveness", "aopc_sufficiency"]
    }

    /// Column names of comparison.csv after `method`; each interval column is followed by its `_lo` and `_hi`.
    public var columns: [String] {
        let intervalColumns = Set(MethodComparison.intervalColumns(steps: steps))
        let named = ["n", "original_prob", "original_acc"] + MethodComparison.intervalColumns(steps: steps)
            + ["seconds_per_example"]
        return named.flatMap { intervalColumns.contains($0) ? [$0, $0 + "_lo", $0 + "_hi"] : [$0] }
    }

    /// Method m's numbers by column name, intervals as `<column>_lo` / `_hi`; a column without a value (AOPC
    /// when it was off, a missing interval) is absent.
    public func values(_ m: Int) -> [String: Double] {
        let s = summaries[m]
        var values = ["n": Double(s.n), "original_prob": s.originalProb, "original_acc": s.originalAccuracy,
                      "seconds_per_example": secondsPerExample[m]]
        for (k, label) in MethodComparison.stepLabels(steps: steps).enumerated() {
            if s.degradationProb.indices.contains(k) { values["prob_" + label] = s.degradationProb[k] }
            if s.degradationAccuracy.indices.contains(k) { values["acc_" + label] = s.degradationAccuracy[k] }
        }
        values["aopc_comprehensiveness"] = s.aopcComprehensiveness
        values["aopc_sufficiency"] = s.aopcSufficiency
        for (column, interval) in intervals.indices.contains(m) ? intervals[m] : [:] {
            values[column + "_lo"] = interval.lower
            values[column + "_hi"] = interval.upper
        }
        return values
    }

    public var csv: String {
        let header = (["method"] + (explains.isEmpty ? [] : ["explains"]) + columns).joined(separator: ",")
        let rows = summaries.indices.map { m -> String in
            let values = self.values(m)
            let cells = columns.map { column -> String in
                guard let value = values[column] else { return "" }
                switch column {
                case "n": return "\(Int(value))"
                case "seconds_per_example": return String(format: "%.3f", value)
                default: return String(format: "%.4f", value)
                }
            }
            let explained = explains.isEmpty ? [] : [csvField(explains.indices.contains(m) ? explains[m] : "")]
            return ([csvField(summaries[m].method.rawValue)] + explained + cells).joined(separator: ",")
        }
        return ([header] + rows).joined(separator: "\n") + "\n"
    }

    /// The Markdown header and each method's cells (also report.html's table): step columns give the
    /// probability / accuracy after that removal, each mean with its interval, e.g. `0.455 [0.449, 0.461]`.
    public var displayHeader: [String] {
        ["method"] + (explains.isEmpty ? [] : ["explains"]) + ["n", "original p / acc"]
            + MethodComparison.stepLabels(steps: steps).map { "p / acc at \($0)" }
            + ["AOPC compr.", "AOPC suff.", "s / example"]
    }

    public var displayRows: [[String]] {
        summaries.indices.map { m in
            let values = self.values(m)
            func cell(_ column: String) -> String { MethodComparison.cell(values, column) }
            let labels = MethodComparison.stepLabels(steps: steps)
            let stepCells = labels.map { "\(cell("prob_" + $0)) / \(cell("acc_" + $0))" }
            let original = "\(cell("original_prob")) / \(cell("original_acc"))"
            let explained = explains.isEmpty ? [] : [explains.indices.contains(m) ? explains[m] : ""]
            return [summaries[m].method.rawValue] + explained + ["\(summaries[m].n)", original] + stepCells
                + [cell("aopc_comprehensiveness"), cell("aopc_sufficiency"),
                   String(format: "%.3f", secondsPerExample[m])]
        }
    }

    /// A mean of `values` as the tables show it, with its interval when `<column>_lo`/`_hi` are there; "" if absent.
    static func cell(_ values: [String: Double], _ column: String) -> String {
        guard let value = values[column] else { return "" }
        let interval = values[column + "_lo"].flatMap { lo in
            values[column + "_hi"].map { ConfidenceInterval(lower: lo, upper: $0) }
        }
        return formatWithInterval(value, interval)
    }

    /// A row per method with the numbers a verdict rests on (report.html's first table): what it explains, n, the
    /// probability and accuracy after the first step, both AOPCs, seconds per example.
    public var headlineHeader: [String] {
        let first = MethodComparison.stepLabels(steps: steps)[0]
        return ["method"] + (explains.isEmpty ? [] : ["explains"])
            + ["n", "p at \(first)", "acc at \(first)", "AOPC compr.", "AOPC suff.", "s / example"]
    }

    public var headlineRows: [[String]] {
        let first = MethodComparison.stepLabels(steps: steps)[0]
        return summaries.indices.map { m in
            let values = self.values(m)
            func cell(_ column: String) -> String { MethodComparison.cell(values, column) }
            let explained = explains.isEmpty ? [] : [explains.indices.contains(m) ? explains[m] : ""]
            return [summaries[m].method.rawValue] + explained
                + ["\(summaries[m].n)", cell("prob_" + first), cell("acc_" + first), cell("aopc_comprehensiveness"),
                   cell("aopc_sufficiency"), String(format: "%.3f", secondsPerExample[m])]
        }
    }

    /// The table, under the warning when there is one (it is printed at the end of a run too).
    public var markdown: String {
        (warning.map { "> **Warning:** \($0)\n\n" } ?? "") + markdownTable(header: displayHeader, rows: displayRows)
    }

    /// Every method's degradation curve on one plot; random's is the floor the others should beat.
    public var svg: String {
        degradationPlotSVG(summaries: summaries,
                           names: summaries.map { $0.method == .random ? "random (floor)" : $0.method.rawValue })
    }

    var files: [OutputFile] {
        [
            OutputFile(name: "comparison.md", data: Data(markdown.utf8)),
            OutputFile(name: "comparison.csv", data: Data(csv.utf8)),
            OutputFile(name: "comparison.svg", data: Data(svg.utf8))
        ]
    }
}

/// A mean as the tables show it: three decimals, then its interval when there is one (`0.455 [0.449, 0.461]`).
func formatWithInterval(_ value: Double, _ interval: ConfidenceInterval?) -> String {
    let shown = String(format: "%.3f", value)
    guard let interval else { return shown }
    return shown + String(format: " [%.3f, %.3f]", interval.lower, interval.upper)
}

/// A GitHub-style Markdown table; `|` inside a cell is escaped.
func markdownTable(header: [String], rows: [[String]]) -> String {
    func line(_ cells: [String]) -> String {
        "| " + cells.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |"
    }
    let lines = [line(header), "|" + String(repeating: " --- |", count: header.count)] + rows.map(line)
    return lines.joined(separator: "\n") + "\n"
}

/// A CSV field, quoted (RFC 4180) only when it holds a comma, a quote or a line break.
func csvField(_ text: String) -> String {
    guard text.unicodeScalars.contains(where: { ",\"\n\r".unicodeScalars.contains($0) }) else { return text }
    return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}
