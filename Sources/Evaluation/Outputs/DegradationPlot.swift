import Foundation
import Reports

/// Probability against the fraction of tokens removed, one curve per summary (degradation.svg, `iba plot`).
public func degradationPlotSVG(summaries: [Summary]) -> String {
    let series = summaries.map { s -> CurveSeries in
        let steps = s.degradationProb.count
        let x = [0.0] + (1...max(steps, 1)).map { Double($0) / Double(steps) }
        return CurveSeries(name: "\(s.method) (\(s.dataset)\(s.layer.map { ", layer \($0)" } ?? ""))", x: x, y: [s.originalProb] + s.degradationProb)
    }
    return renderCurvesSVG(title: "Degradation test", xLabel: "fraction of tokens removed (most important first)",
                           yLabel: "probability of the target class", series: series)
}
