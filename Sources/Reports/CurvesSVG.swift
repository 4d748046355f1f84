// A matplotlib-style line plot for degradation curves: one line per attribution method,
// x = fraction of tokens removed, y = target-class probability.

/// One line of a curve plot.
public struct CurveSeries: Sendable, Equatable {
    /// The legend entry, e.g. "IBA (layer 9)".
    public var name: String
    /// Horizontal coordinates.
    public var x: [Double]
    /// Vertical coordinates, one per `x`; NaN leaves a gap.
    public var y: [Double]

    /// A series named `name` through the points (x[i], y[i]).
    public init(name: String, x: [Double], y: [Double]) {
        self.name = name
        self.x = x
        self.y = y
    }
}

/// matplotlib's "tab10" palette: distinct hues that survive most colour-vision deficiencies.
private let seriesColours = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
]

/// An SVG line plot with axes, ticks, grid and legend. `yRange` defaults to [0, 1];
/// `xRange` nil means the data's extent (or [0, 1] when the data lies within it).
public func renderCurvesSVG(
    title: String, xLabel: String, yLabel: String, series: [CurveSeries],
    xRange: ClosedRange<Double>? = nil, yRange: ClosedRange<Double>? = 0...1
) -> String {
    let points = series.flatMap { s in zip(s.x, s.y).filter { $0.0.isFinite && $0.1.isFinite } }
    let xs = points.map { $0.0 }, ys = points.map { $0.1 }
    let xAxis = xRange ?? automaticRange(xs)
    let yAxis = yRange ?? automaticRange(ys)

    let plotLeft = 70.0, plotTop = 44.0, plotWidth = 520.0, plotHeight = 340.0
    let legendFont = 12.0
    let legendTextWidth = series.map { estimatedTextWidth($0.name, fontSize: legendFont) }.max() ?? 0
    let legendX = plotLeft + plotWidth + 20
    let width = legendX + (series.isEmpty ? 0 : legendTextWidth + 52) + 10
    let height = plotTop + plotHeight + 60
    let plotRight = plotLeft + plotWidth, plotBottom = plotTop + plotHeight

    func px(_ x: Double) -> Double { plotLeft + (x - xAxis.lowerBound) / span(xAxis) * plotWidth }
    func py(_ y: Double) -> Double { plotBottom - (y - yAxis.lowerBound) / span(yAxis) * plotHeight }

    var svg = svgHeader(width: width, height: height, title: title)
    svg += "<defs><clipPath id=\"plot-area\"><rect x=\"\(svgNumber(plotLeft))\" y=\"\(svgNumber(plotTop))\" "
    svg += "width=\"\(svgNumber(plotWidth))\" height=\"\(svgNumber(plotHeight))\"/></clipPath></defs>\n"
    svg += "<text x=\"\(svgNumber(plotLeft + plotWidth / 2))\" y=\"28\" font-size=\"15\" font-weight=\"bold\" "
    svg += "text-anchor=\"middle\">\(xmlEscaped(title))</text>\n"

    // Grid and ticks.
    let xTicks = niceTicks(low: xAxis.lowerBound, high: xAxis.upperBound)
    let yTicks = niceTicks(low: yAxis.lowerBound, high: yAxis.upperBound)
    svg += "<g font-size=\"11\" fill=\"#333\">\n"
    for (tick, label) in zip(xTicks, tickLabels(xTicks)) {
        let x = svgNumber(px(tick))
        svg += "<line x1=\"\(x)\" y1=\"\(svgNumber(plotTop))\" x2=\"\(x)\" y2=\"\(svgNumber(plotBottom))\" "
            + "stroke=\"#e6e6e6\"/>"
        svg += "<line x1=\"\(x)\" y1=\"\(svgNumber(plotBottom))\" x2=\"\(x)\" y2=\"\(svgNumber(plotBottom + 5))\" "
            + "stroke=\"#333\"/>"
        svg += "<text x=\"\(x)\" y=\"\(svgNumber(plotBottom + 18))\" text-anchor=\"middle\">\(label)</text>\n"
    }
    for (tick, label) in zip(yTicks, tickLabels(yTicks)) {
        let y = svgNumber(py(tick))
        svg += "<line x1=\"\(svgNumber(plotLeft))\" y1=\"\(y)\" x2=\"\(svgNumber(plotRight))\" y2=\"\(y)\" "
            + "stroke=\"#e6e6e6\"/>"
        svg += "<line x1=\"\(svgNumber(plotLeft - 5))\" y1=\"\(y)\" x2=\"\(svgNumber(plotLeft))\" y2=\"\(y)\" "
            + "stroke=\"#333\"/>"
        svg += "<text x=\"\(svgNumber(plotLeft - 8))\" y=\"\(y)\" text-anchor=\"end\" dy=\"0.35em\">\(label)</text>\n"
    }
    svg += "</g>\n"
    svg += "<rect class=\"frame\" x=\"\(svgNumber(plotLeft))\" y=\"\(svgNumber(plotTop))\" "
        + "width=\"\(svgNumber(plotWidth))\" "
    svg += "height=\"\(svgNumber(plotHeight))\" fill=\"none\" stroke=\"#333\"/>\n"

    // Axis labels.
    svg += "<text x=\"\(svgNumber(plotLeft + plotWidth / 2))\" y=\"\(svgNumber(plotBottom + 42))\" font-size=\"13\" "
    svg += "text-anchor=\"middle\">\(xmlEscaped(xLabel))</text>\n"
    let yLabelX = svgNumber(22), yLabelY = svgNumber(plotTop + plotHeight / 2)
    svg += "<text x=\"\(yLabelX)\" y=\"\(yLabelY)\" font-size=\"13\" text-anchor=\"middle\" "
    svg += "transform=\"rotate(-90 \(yLabelX) \(yLabelY))\">\(xmlEscaped(yLabel))</text>\n"

    // Lines and markers, clipped to the plot area; NaN breaks a line. Each element carries its own
    // presentation attributes: renderers without CSS or inheritance (ImageMagick, some LaTeX pipelines) draw them too.
    svg += "<g clip-path=\"url(#plot-area)\">\n"
    for (index, s) in series.enumerated() {
        let colour = seriesColours[index % seriesColours.count]
        let dash = lineDash(index)
        var path = "", penDown = false
        for (x, y) in zip(s.x, s.y) {
            guard x.isFinite, y.isFinite else { penDown = false; continue }
            path += (penDown ? " L" : " M") + "\(svgNumber(px(x))) \(svgNumber(py(y)))"
            penDown = true
        }
        svg += "<path class=\"series\" d=\"\(path.dropFirst())\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\" "
            + "stroke-linejoin=\"round\"\(dash)/>\n"
        for (x, y) in zip(s.x, s.y) where x.isFinite && y.isFinite {
            svg += "<circle cx=\"\(svgNumber(px(x)))\" cy=\"\(svgNumber(py(y)))\" r=\"3\" fill=\"\(colour)\" "
                + "stroke=\"none\">"
            svg += "<title>\(xmlEscaped(s.name)): (\(formatValue(x)), \(formatValue(y)))</title></circle>\n"
        }
    }
    svg += "</g>\n"

    // Legend beside the plot, where it can never hide a curve.
    if !series.isEmpty {
        let rowHeight = 20.0
        let boxHeight = Double(series.count) * rowHeight + 10
        svg += "<rect x=\"\(svgNumber(legendX))\" y=\"\(svgNumber(plotTop))\" "
            + "width=\"\(svgNumber(legendTextWidth + 44))\" "
        svg += "height=\"\(svgNumber(boxHeight))\" fill=\"#fff\" stroke=\"#ccc\" rx=\"3\"/>\n"
        for (index, s) in series.enumerated() {
            let colour = seriesColours[index % seriesColours.count]
            let y = plotTop + 5 + (Double(index) + 0.5) * rowHeight
            svg += "<line x1=\"\(svgNumber(legendX + 8))\" y1=\"\(svgNumber(y))\" x2=\"\(svgNumber(legendX + 32))\" "
            svg += "y2=\"\(svgNumber(y))\" stroke=\"\(colour)\" stroke-width=\"2\"\(lineDash(index))/>"
            svg += "<circle cx=\"\(svgNumber(legendX + 20))\" cy=\"\(svgNumber(y))\" r=\"3\" fill=\"\(colour)\"/>"
            svg += "<text x=\"\(svgNumber(legendX + 38))\" y=\"\(svgNumber(y))\" "
                + "font-size=\"\(svgNumber(legendFont))\" "
            svg += "dy=\"0.35em\">\(xmlEscaped(s.name))</text>\n"
        }
    }
    svg += "</svg>\n"
    return svg
}

/// Past ten series the colours repeat, so later ones are dashed to stay distinct.
private func lineDash(_ index: Int) -> String {
    switch index / seriesColours.count {
    case 0: return ""
    case 1: return " stroke-dasharray=\"6 3\""
    default: return " stroke-dasharray=\"2 3\""
    }
}

/// [0, 1] when every value lies inside it (the usual fraction axes), else a nicely rounded data extent.
private func automaticRange(_ values: [Double]) -> ClosedRange<Double> {
    guard let low = values.min(), let high = values.max() else { return 0...1 }
    if low >= 0 && high <= 1 { return 0...1 }
    return niceRange(low: low, high: high)
}

private func span(_ range: ClosedRange<Double>) -> Double {
    range.upperBound > range.lowerBound ? range.upperBound - range.lowerBound : 1
}
