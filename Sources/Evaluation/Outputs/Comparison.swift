import Foundation
import Reports

/// The comparison of several methods on one run's examples (`--methods`): one row per method with the
/// probability and accuracy after each removal step, AOPC and seconds per example, as Markdown
/// (comparison.md, also printed), CSV (comparison.csv) and one plot of every curve (comparison.svg).
public struct MethodComparison: Sendable {
    public var summaries: [Summary]
    /// Each method's compute seconds per evaluated example.
    public var secondsPerExample: [Double]

    public init(summaries: [Summary], secondsPerExample: [Double]) {
        self.summaries = summaries
        self.secondsPerExample = secondsPerExample
    }

    var steps: Int { summaries.map(\.degradationProb.count).max() ?? 0 }

    /// Column names after `method`: n, the original prediction, each step, AOPC, seconds.
    var columns: [String] {
        let fractions = (1...max(steps, 1)).map { "\(Int((100 * Double($0) / Double(max(steps, 1))).rounded()))%" }
        return ["n", "original_prob", "original_acc"] + fractions.map { "prob_" + $0 } + fractions.map { "acc_" + $0 }
            + ["aopc_comprehensiveness", "aopc_sufficiency", "seconds_per_example"]
    }

    func row(_ m: Int) -> [String] {
        let s = summaries[m]
        func format(_ value: Double?) -> String { value.map { String(format: "%.4f", $0) } ?? "" }
        let probs = (0..<steps).map { format(s.degradationProb.indices.contains($0) ? s.degradationProb[$0] : nil) }
        let accs = (0..<steps).map { format(s.degradationAccuracy.indices.contains($0) ? s.degradationAccuracy[$0] : nil) }
        return [s.method, "\(s.n)", format(s.originalProb), format(s.originalAccuracy)] + probs + accs
            + [format(s.aopcComprehensiveness), format(s.aopcSufficiency), String(format: "%.3f", secondsPerExample[m])]
    }

    public var csv: String {
        ((["method"] + columns).joined(separator: ",") + "\n") + summaries.indices.map { row($0).joined(separator: ",") + "\n" }.joined()
    }

    /// A Markdown table: methods as rows; step columns give the probability / accuracy after that removal.
    public var markdown: String {
        let fractions = (1...max(steps, 1)).map { "\(Int((100 * Double($0) / Double(max(steps, 1))).rounded()))%" }
        let header = ["method", "n", "original p / acc"] + fractions.map { "p / acc at \($0)" } + ["AOPC compr.", "AOPC suff.", "s / example"]
        var lines = ["| " + header.joined(separator: " | ") + " |", "|" + String(repeating: " --- |", count: header.count)]
        for m in summaries.indices {
            let cells = row(m)
            let pairs = (0..<steps).map { "\(cells[4 + $0]) / \(cells[4 + steps + $0])" }
            let line = [cells[0], cells[1], "\(cells[2]) / \(cells[3])"] + pairs + Array(cells.suffix(3))
            lines.append("| " + line.joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Every method's degradation curve on one plot; random's is the floor the others should beat.
    public var svg: String {
        var floorLabelled = summaries
        for i in floorLabelled.indices where floorLabelled[i].method == EvaluationMethod.random.rawValue {
            floorLabelled[i].method = "random (floor)"
        }
        return degradationPlotSVG(summaries: floorLabelled)
    }

    var files: [OutputFile] {
        [OutputFile(name: "comparison.md", data: Data(markdown.utf8)), OutputFile(name: "comparison.csv", data: Data(csv.utf8)),
         OutputFile(name: "comparison.svg", data: Data(svg.utf8))]
    }
}
