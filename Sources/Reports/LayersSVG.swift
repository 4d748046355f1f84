// IBA at every layer against the other methods (layers.svg): one panel per metric, x = IBA's layer, IBA as
// points with 95% error bars, every other method as a horizontal line with its interval shaded.

/// A number and its 95% interval (lo = hi = value when none was computed).
public struct IntervalEstimate: Sendable, Equatable {
    public var value: Double
    public var lo: Double
    public var hi: Double

    public init(_ value: Double, lo: Double? = nil, hi: Double? = nil) {
        self.value = value
        self.lo = lo ?? value
        self.hi = hi ?? value
    }
}

/// One metric of the layers figure.
public struct LayersPanel: Sendable, Equatable {
    /// e.g. "p after removing 11%".
    public var title: String
    /// What a reader should look for, e.g. "lower = evidence removed faster".
    public var note: String
    /// IBA's estimate at each layer (0-based), in layer order.
    public var layers: [(layer: Int, estimate: IntervalEstimate)]
    /// The other methods: name and estimate, drawn as horizontal lines.
    public var references: [(name: String, estimate: IntervalEstimate)]

    public init(title: String, note: String, layers: [(layer: Int, estimate: IntervalEstimate)],
                references: [(name: String, estimate: IntervalEstimate)]) {
        self.title = title; self.note = note; self.layers = layers; self.references = references
    }

    public static func == (a: LayersPanel, b: LayersPanel) -> Bool {
        a.title == b.title && a.note == b.note && a.layers.map(\.layer) == b.layers.map(\.layer)
            && a.layers.map(\.estimate) == b.layers.map(\.estimate)
            && a.references.map(\.name) == b.references.map(\.name)
            && a.references.map(\.estimate) == b.references.map(\.estimate)
    }
}

/// tab10 after IBA's blue, so a reference line never shares IBA's colour.
private let referenceColours = [
    "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"
]
private let ibaColour = "#1f77b4"

/// The panels side by side with one legend (IBA, then the references in order). Each panel's y axis covers
/// every interval drawn in it.
public func renderLayersSVG(title: String, panels: [LayersPanel]) -> String {
    let panelWidth = 380.0, panelHeight = 300.0, left = 64.0, top = 64.0, gap = 84.0
    let names = panels.first?.references.map(\.name) ?? []
    let legendFont = 12.0
    let legendText =
        (["IBA at layer L (95% interval)"] + names).map { estimatedTextWidth($0, fontSize: legendFont) }.max() ?? 0
    let legendX = left + Double(panels.count) * (panelWidth + gap) - gap + 24
    let width = legendX + legendText + 60, height = top + panelHeight + 70
    var svg = svgHeader(width: width, height: height, title: title)
    svg += "<text x=\"\(svgNumber(width / 2))\" y=\"26\" font-size=\"15\" font-weight=\"bold\" text-anchor=\"middle\">"
    svg += "\(xmlEscaped(title))</text>\n"
    for (p, panel) in panels.enumerated() {
        svg += layersPanel(
            panel, x0: left + Double(p) * (panelWidth + gap), y0: top, width: panelWidth, height: panelHeight,
            id: p)
    }
    svg += layersLegend(names: names, x: legendX, y: top, textWidth: legendText, fontSize: legendFont)
    return svg + "</svg>\n"
}

private func layersPanel(_ panel: LayersPanel, x0: Double, y0: Double, width: Double, height: Double,
                         id: Int) -> String {
    let estimates = panel.layers.map(\.estimate) + panel.references.map(\.estimate)
    let values = estimates.flatMap { [$0.lo, $0.hi, $0.value] }.filter(\.isFinite)
    let yAxis = niceRange(low: values.min() ?? 0, high: values.max() ?? 1)
    let firstLayer = Double(panel.layers.map(\.layer).min() ?? 0),
        lastLayer = Double(panel.layers.map(\.layer).max() ?? 1)
    let xAxis = (firstLayer - 0.5)...(max(lastLayer, firstLayer) + 0.5)
    func px(_ x: Double) -> Double { x0 + (x - xAxis.lowerBound) / (xAxis.upperBound - xAxis.lowerBound) * width }
    func py(_ y: Double) -> Double {
        let span = yAxis.upperBound > yAxis.lowerBound ? yAxis.upperBound - yAxis.lowerBound : 1
        return y0 + height - (y - yAxis.lowerBound) / span * height
    }
    var svg = "<g class=\"panel\">\n"
    svg += "<text x=\"\(svgNumber(x0 + width / 2))\" y=\"\(svgNumber(y0 - 22))\" font-size=\"13\" font-weight=\"bold\" "
    svg += "text-anchor=\"middle\">\(xmlEscaped(panel.title))</text>\n"
    svg += "<text x=\"\(svgNumber(x0 + width / 2))\" y=\"\(svgNumber(y0 - 7))\" font-size=\"11\" fill=\"#555\" "
    svg += "text-anchor=\"middle\">\(xmlEscaped(panel.note))</text>\n"
    svg += "<g font-size=\"11\" fill=\"#333\">\n"
    for tick in niceTicks(low: yAxis.lowerBound, high: yAxis.upperBound) {
        let y = svgNumber(py(tick))
        svg += "<line x1=\"\(svgNumber(x0))\" y1=\"\(y)\" x2=\"\(svgNumber(x0 + width))\" y2=\"\(y)\" "
            + "stroke=\"#e6e6e6\"/>"
        svg += "<text x=\"\(svgNumber(x0 - 8))\" y=\"\(y)\" text-anchor=\"end\" "
            + "dy=\"0.35em\">\(tickLabels([tick])[0])</text>\n"
    }
    for layer in panel.layers.map(\.layer) {
        svg += "<text x=\"\(svgNumber(px(Double(layer))))\" y=\"\(svgNumber(y0 + height + 18))\" "
        svg += "text-anchor=\"middle\">\(layer)</text>\n"
    }
    svg += "</g>\n<text x=\"\(svgNumber(x0 + width / 2))\" y=\"\(svgNumber(y0 + height + 40))\" font-size=\"13\" "
    svg += "text-anchor=\"middle\">IBA's layer</text>\n"
    svg += "<rect x=\"\(svgNumber(x0))\" y=\"\(svgNumber(y0))\" width=\"\(svgNumber(width))\" "
        + "height=\"\(svgNumber(height))\" "
    svg += "fill=\"none\" stroke=\"#333\"/>\n"
    // References first, so IBA's points sit on top.
    for (r, reference) in panel.references.enumerated() {
        let colour = referenceColours[r % referenceColours.count], e = reference.estimate
        let band = "x=\"\(svgNumber(x0))\" width=\"\(svgNumber(width))\" y=\"\(svgNumber(py(e.hi)))\" "
            + "height=\"\(svgNumber(max(0, py(e.lo) - py(e.hi))))\""
        svg += "<rect class=\"reference-band\" \(band) fill=\"\(colour)\" fill-opacity=\"0.15\" stroke=\"none\"/>\n"
        svg += "<line class=\"reference\" x1=\"\(svgNumber(x0))\" x2=\"\(svgNumber(x0 + width))\" "
            + "y1=\"\(svgNumber(py(e.value)))\" "
        svg += "y2=\"\(svgNumber(py(e.value)))\" stroke=\"\(colour)\" "
            + "stroke-width=\"1.5\"><title>\(xmlEscaped(reference.name)): "
        svg += "\(formatValue(e.value)) [\(formatValue(e.lo)), \(formatValue(e.hi))]</title></line>\n"
    }
    let path = panel.layers.enumerated().map { i, point in
        (i == 0 ? "M" : "L") + "\(svgNumber(px(Double(point.layer)))) \(svgNumber(py(point.estimate.value)))"
    }.joined(separator: " ")
    svg += "<path d=\"\(path)\" fill=\"none\" stroke=\"\(ibaColour)\" stroke-width=\"1.5\"/>\n"
    for point in panel.layers {
        let x = svgNumber(px(Double(point.layer))), e = point.estimate
        svg += "<line class=\"error-bar\" x1=\"\(x)\" x2=\"\(x)\" y1=\"\(svgNumber(py(e.lo)))\" "
            + "y2=\"\(svgNumber(py(e.hi)))\" "
        svg += "stroke=\"\(ibaColour)\" stroke-width=\"1.5\"/>\n"
        svg += "<circle class=\"layer-point\" cx=\"\(x)\" cy=\"\(svgNumber(py(e.value)))\" r=\"4\" "
            + "fill=\"\(ibaColour)\">"
        svg += "<title>IBA at layer \(point.layer): \(formatValue(e.value)) "
            + "[\(formatValue(e.lo)), \(formatValue(e.hi))]</title>"
        svg += "</circle>\n"
    }
    return svg + "</g>\n"
}

private func layersLegend(names: [String], x: Double, y: Double, textWidth: Double, fontSize: Double) -> String {
    let rowHeight = 20.0
    var svg = "<rect x=\"\(svgNumber(x))\" y=\"\(svgNumber(y))\" width=\"\(svgNumber(textWidth + 48))\" "
    svg += "height=\"\(svgNumber(Double(names.count + 1) * rowHeight + 10))\" fill=\"#fff\" stroke=\"#ccc\" "
        + "rx=\"3\"/>\n"
    let rows = [("IBA at layer L (95% interval)", ibaColour)]
        + names.enumerated().map { ($1, referenceColours[$0 % referenceColours.count]) }
    for (i, row) in rows.enumerated() {
        let cy = y + 5 + (Double(i) + 0.5) * rowHeight
        if i == 0 {
            svg += "<circle cx=\"\(svgNumber(x + 20))\" cy=\"\(svgNumber(cy))\" r=\"4\" fill=\"\(row.1)\"/>"
        } else {
            svg += "<rect x=\"\(svgNumber(x + 8))\" y=\"\(svgNumber(cy - 6))\" width=\"24\" height=\"12\" "
                + "fill=\"\(row.1)\" "
            svg += "fill-opacity=\"0.15\"/><line x1=\"\(svgNumber(x + 8))\" x2=\"\(svgNumber(x + 32))\" "
                + "y1=\"\(svgNumber(cy))\" "
            svg += "y2=\"\(svgNumber(cy))\" stroke=\"\(row.1)\" stroke-width=\"1.5\"/>"
        }
        svg += "<text x=\"\(svgNumber(x + 40))\" y=\"\(svgNumber(cy))\" font-size=\"\(svgNumber(fontSize))\" "
            + "dy=\"0.35em\">"
        svg += "\(xmlEscaped(row.0))</text>\n"
    }
    return svg
}
