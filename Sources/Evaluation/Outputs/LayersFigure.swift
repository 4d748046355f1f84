import Foundation
import Reports

/// layers.svg of a job with IBA at two or more layers (`iba@all`): per metric (the probability after the first
/// removal step, AOPC comprehensiveness), IBA's mean at each layer with its 95% interval, and every other
/// method's as a horizontal line with its interval shaded. nil when fewer than two IBA layers ran.
/// `layers[m]`: method m's bottleneck layer, nil for a method that is not IBA.
func layersFigure(comparison: MethodComparison, layers: [Int?], title: String) -> OutputFile? {
    guard layers.compactMap({ $0 }).count >= 2, comparison.summaries.count == layers.count else { return nil }
    let steps = comparison.summaries.map(\.degradationProb.count).max() ?? 0
    guard steps > 0 else { return nil }
    let firstStep = MethodComparison.stepLabels(steps: steps)[0]
    var metrics = [
        ("prob_" + firstStep, "p of the target after removing \(firstStep)", "lower = evidence removed faster")
    ]
    if comparison.summaries.contains(where: { $0.aopcComprehensiveness != nil }) {
        metrics.append(("aopc_comprehensiveness", "AOPC comprehensiveness", "higher = evidence removed faster"))
    }
    let values = comparison.summaries.indices.map { comparison.values($0) }
    func estimate(_ m: Int, _ column: String) -> IntervalEstimate? {
        values[m][column].map { IntervalEstimate($0, lo: values[m][column + "_lo"], hi: values[m][column + "_hi"]) }
    }
    let panels = metrics.map { column, heading, note -> LayersPanel in
        let ibaPoints = layers.indices.compactMap { m -> (layer: Int, estimate: IntervalEstimate)? in
            guard let layer = layers[m], let e = estimate(m, column) else { return nil }
            return (layer, e)
        }.sorted { $0.layer < $1.layer }
        let references = layers.indices.compactMap { m -> (name: String, estimate: IntervalEstimate)? in
            guard layers[m] == nil, let e = estimate(m, column) else { return nil }
            return (comparison.summaries[m].method.rawValue, e)
        }
        return LayersPanel(title: heading, note: note, layers: ibaPoints, references: references)
    }
    return OutputFile(name: "layers.svg", data: Data(renderLayersSVG(title: title, panels: panels).utf8))
}
