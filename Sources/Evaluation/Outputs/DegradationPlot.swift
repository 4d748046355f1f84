import Foundation
import Reports

/// Probability against the fraction of tokens removed, one curve per summary (degradation.svg, `iba plot`).
/// `names[i]` replaces summary i's method name in its legend entry (a comparison's "random (floor)").
public func degradationPlotSVG(summaries: [Summary], names: [String]? = nil) -> String {
    let series = summaries.enumerated().map { i, s -> CurveSeries in
        let steps = s.degradationProb.count
        let x = [0.0] + (1...max(steps, 1)).map { Double($0) / Double(steps) }
        let name = names.flatMap { $0.indices.contains(i) ? $0[i] : nil } ?? s.method.rawValue
        let context = s.dataset.rawValue + (s.layer.map { ", layer \($0)" } ?? "")
        return CurveSeries(name: "\(name) (\(context))", x: x, y: [s.originalProb] + s.degradationProb)
    }
    return renderCurvesSVG(title: "Degradation test", xLabel: "fraction of tokens removed (most important first)",
                           yLabel: "probability of the target class", series: series)
}
