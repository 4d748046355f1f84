import Foundation

/// A number compared between methods example by example (pairs.csv), e.g. `prob_11%` or
/// `aopc_comprehensiveness`, with each method's values by selection position.
public struct PairedMetric: Sendable {
    /// The comparison column it comes from.
    public var name: String
    /// Which direction means "removes the evidence faster": a larger AOPC comprehensiveness, a smaller
    /// probability after a removal step.
    public var largerIsFaster: Bool
    /// values[m][p]: method m's value for the example at selection position p; nil where it was not scored.
    public var values: [[Double?]]

    public init(name: String, largerIsFaster: Bool, values: [[Double?]]) {
        self.name = name; self.largerIsFaster = largerIsFaster; self.values = values
    }
}

/// One row of pairs.csv: method a against method b on one metric, over the examples both scored.
public struct PairedDifference: Sendable, Equatable {
    public var methodA: String
    public var methodB: String
    public var metric: String
    /// Examples both methods scored.
    public var n: Int
    /// Mean of the per-example differences a - b; nil when n = 0.
    public var meanDifference: Double?
    /// Paired bootstrap 95% interval of that mean.
    public var interval: ConfidenceInterval?
    public var pWilcoxon: Double
    /// Holm-adjusted over every row of the table.
    public var pHolm: Double
    public var verdict: String
}

/// Every pair of methods on every metric: mean paired difference, its bootstrap interval, the Wilcoxon
/// signed-rank p-value and its Holm adjustment over all rows; pairs.csv and pairs.md.
public struct PairedComparison: Sendable {
    public var rows: [PairedDifference]

    public init(rows: [PairedDifference]) { self.rows = rows }

    /// Rows for each pair (a before b in the methods' order) and each metric, in that order. The intervals
    /// come from `bootstrap`'s resamples, the same example sets the comparison's intervals use.
    public init(methods: [String], metrics: [PairedMetric], bootstrap: PairedBootstrap) {
        var rows = [PairedDifference](), differences = [[Double?]]()
        for a in methods.indices {
            for b in methods.indices where b > a {
                for metric in metrics {
                    let d = (0..<bootstrap.exampleCount).map { p -> Double? in
                        guard let x = metric.values[a].element(p) ?? nil else { return nil }
                        guard let y = metric.values[b].element(p) ?? nil else { return nil }
                        return x - y
                    }
                    let scored = d.compactMap { $0 }
                    rows.append(PairedDifference(
                        methodA: methods[a], methodB: methods[b], metric: metric.name, n: scored.count,
                        meanDifference: scored.isEmpty ? nil : scored.reduce(0, +) / Double(scored.count),
                        interval: nil, pWilcoxon: WilcoxonSignedRank(scored).p, pHolm: 1, verdict: ""))
                    differences.append(d)
                }
            }
        }
        let intervals = bootstrap.intervals(differences)
        let adjusted = holmAdjusted(rows.map(\.pWilcoxon))
        let largerIsFaster = Dictionary(metrics.map { ($0.name, $0.largerIsFaster) }, uniquingKeysWith: { a, _ in a })
        for i in rows.indices {
            rows[i].interval = rows[i].n > 0 ? intervals[i] : nil
            rows[i].pHolm = adjusted[i]
            rows[i].verdict = PairedComparison.verdict(rows[i], largerIsFaster: largerIsFaster[rows[i].metric] ?? true)
        }
        self.rows = rows
    }

    /// Which method removes the evidence faster, when the interval of the difference excludes 0.
    static func verdict(_ row: PairedDifference, largerIsFaster: Bool) -> String {
        guard let interval = row.interval else { return "no examples scored by both" }
        guard !interval.contains(0) else { return "no detectable difference" }
        let aIsLarger = interval.lower > 0
        return (aIsLarger == largerIsFaster ? row.methodA : row.methodB) + " removes evidence faster"
    }

    public static let csvColumns = ["method_a", "method_b", "metric", "n", "mean_diff", "lo", "hi",
                                    "p_wilcoxon", "p_holm", "verdict"]

    public var csv: String {
        func number(_ value: Double?) -> String { value.map { String(format: "%.4f", $0) } ?? "" }
        let lines = rows.map { row in
            [csvField(row.methodA), csvField(row.methodB), csvField(row.metric), "\(row.n)", number(row.meanDifference),
             number(row.interval?.lower), number(row.interval?.upper), String(format: "%.4g", row.pWilcoxon),
             String(format: "%.4g", row.pHolm), csvField(row.verdict)].joined(separator: ",")
        }
        return ([PairedComparison.csvColumns.joined(separator: ",")] + lines).joined(separator: "\n") + "\n"
    }

    /// The Markdown header and each row's cells (also the table of report.html).
    public var displayHeader: [String] {
        ["method a", "method b", "metric", "n", "mean diff a - b [95% CI]", "p Wilcoxon", "p Holm", "verdict"]
    }

    public var displayRows: [[String]] {
        rows.map { row in
            let difference = row.meanDifference.map { formatWithInterval($0, row.interval) } ?? "-"
            return [row.methodA, row.methodB, row.metric, "\(row.n)", difference, String(format: "%.3g", row.pWilcoxon),
                    String(format: "%.3g", row.pHolm), row.verdict]
        }
    }

    public var markdown: String { markdownTable(header: displayHeader, rows: displayRows) }

    var files: [OutputFile] {
        [OutputFile(name: "pairs.csv", data: Data(csv.utf8)), OutputFile(name: "pairs.md", data: Data(markdown.utf8))]
    }
}

private extension Array {
    /// The element at `index`, nil when out of range.
    func element(_ index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
