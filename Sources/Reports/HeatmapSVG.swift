// A matplotlib-imshow-like figure: rows are layers (or methods), columns are tokens.
// Cells have a fixed width so a 130-token sentence stays legible; the figure grows instead.

/// How heatmap values are mapped to colours.
public enum HeatmapScale: Sendable, Equatable {
    /// Each row spans the whole colormap (compares tokens within a layer).
    case perRow
    /// One range for the whole figure (compares layers with each other).
    case global
}

/// An SVG heatmap with one row per `rowLabels` entry and one column per token, rotated token labels
/// below, raw values as cell tooltips, and a colour bar.
public func renderHeatmapSVG(
    rowLabels: [String], tokens: [String], values: [[Float]], title: String,
    scale: HeatmapScale = .perRow
) -> String {
    let cellWidth = 16.0, cellHeight = 18.0
    let tokenFont = 11.0, rowFont = 12.0, titleFont = 15.0
    let rowCount = max(rowLabels.count, values.count)
    let columnCount = tokens.count
    let labels = (0..<rowCount).map { $0 < rowLabels.count ? rowLabels[$0] : "row \($0)" }
    let tokenLabels = tokens.map { truncated($0, to: 18) }

    // Labels at -60 degrees hang down and to the left of their column by cos 60 of their length.
    let sin60 = 0.866, cos60 = 0.5
    let tokenLabelLengths = tokenLabels.map { estimatedTextWidth($0, fontSize: tokenFont) }
    let rowLabelWidth = labels.map { estimatedTextWidth($0, fontSize: rowFont) }.max() ?? 0
    var overhang = 0.0
    for (i, length) in tokenLabelLengths.enumerated() {
        overhang = max(overhang, length * cos60 - (Double(i) + 0.5) * cellWidth)
    }
    let left = max(rowLabelWidth + 16, overhang + 10, 40)
    let top = 48.0
    let gridWidth = Double(columnCount) * cellWidth
    let gridHeight = Double(rowCount) * cellHeight
    let labelDepth = (tokenLabelLengths.max() ?? 0) * sin60 + tokenFont + 4
    let barX = left + gridWidth + 20, barWidth = 14.0
    let barHeight = max(gridHeight, 100)
    let width = max(barX + barWidth + 70, left + 320)
    let height = top + max(gridHeight + labelDepth, barHeight + 30) + 12

    // Colour levels, per row or over the whole figure.
    let allFinite = values.flatMap { $0 }.filter { $0.isFinite }
    let globalLow = allFinite.min() ?? 0, globalHigh = allFinite.max() ?? 1
    let levels: [[Float]] = values.map { row in
        scale == .perRow ? normalizedForColor(row) : normalized(row, low: globalLow, high: globalHigh)
    }

    var svg = svgHeader(width: width, height: height, title: title)
    svg += viridisVerticalGradient(id: "viridis-bar")
    svg += "<text x=\"\(svgNumber(left + gridWidth / 2))\" y=\"28\" font-size=\"\(svgNumber(titleFont))\" "
    svg += "text-anchor=\"middle\" font-weight=\"bold\">\(xmlEscaped(title))</text>\n"

    // Cells, row labels.
    svg += "<g shape-rendering=\"crispEdges\">\n"
    for row in 0..<rowCount {
        let y = top + Double(row) * cellHeight
        for column in 0..<columnCount {
            let x = left + Double(column) * cellWidth
            let value: Float? = row < values.count && column < values[row].count ? values[row][column] : nil
            let fill = value.map { _ in viridisHex(levels[row][column]) } ?? "#dddddd"
            let tip = "\(labels[row]) · \(tokens[column]) (#\(column)): " + (value.map(formatValue) ?? "no value")
            svg += "<rect class=\"cell\" x=\"\(svgNumber(x))\" y=\"\(svgNumber(y))\" width=\"\(svgNumber(cellWidth))\" "
            svg += "height=\"\(svgNumber(cellHeight))\" fill=\"\(fill)\"><title>\(xmlEscaped(tip))</title></rect>\n"
        }
    }
    svg += "<rect class=\"frame\" x=\"\(svgNumber(left))\" y=\"\(svgNumber(top))\" width=\"\(svgNumber(gridWidth))\" "
    svg += "height=\"\(svgNumber(gridHeight))\" fill=\"none\" stroke=\"#333\" stroke-width=\"1\"/>\n</g>\n"
    for row in 0..<rowCount {
        let y = top + (Double(row) + 0.5) * cellHeight
        svg += "<text x=\"\(svgNumber(left - 8))\" y=\"\(svgNumber(y))\" font-size=\"\(svgNumber(rowFont))\" "
        svg += "text-anchor=\"end\" dy=\"0.35em\">\(xmlEscaped(labels[row]))</text>\n"
    }

    // Column ticks and token labels rotated by -60 degrees, anchored at their end below the tick.
    let gridBottom = top + gridHeight
    svg += "<g font-size=\"\(svgNumber(tokenFont))\" text-anchor=\"end\">\n"
    for (column, label) in tokenLabels.enumerated() {
        let x = left + (Double(column) + 0.5) * cellWidth
        let y = gridBottom + 9
        svg += "<line x1=\"\(svgNumber(x))\" y1=\"\(svgNumber(gridBottom))\" x2=\"\(svgNumber(x))\" "
        svg += "y2=\"\(svgNumber(gridBottom + 4))\" stroke=\"#333\"/>"
        svg += "<text x=\"\(svgNumber(x + 3))\" y=\"\(svgNumber(y))\" "
            + "transform=\"rotate(-60 \(svgNumber(x + 3)) \(svgNumber(y)))\" "
        svg += "dy=\"0.35em\">\(xmlEscaped(label))</text>\n"
    }
    svg += "</g>\n"

    svg += heatmapColorBar(
        x: barX, top: top, width: barWidth, height: barHeight, scale: scale, low: globalLow, high: globalHigh)
    svg += "</svg>\n"
    return svg
}

/// The colour bar beside the grid with its ticks: 0, 0.5, 1 per row, or round values over the figure's range.
private func heatmapColorBar(x barX: Double, top: Double, width barWidth: Double, height barHeight: Double,
                             scale: HeatmapScale, low globalLow: Float, high globalHigh: Float) -> String {
    var svg = ""
    svg += "<rect class=\"colorbar\" x=\"\(svgNumber(barX))\" y=\"\(svgNumber(top))\" width=\"\(svgNumber(barWidth))\" "
    svg += "height=\"\(svgNumber(barHeight))\" fill=\"url(#viridis-bar)\" stroke=\"#333\" stroke-width=\"1\"/>\n"
    let ticks: [(Double, String)]
    if scale == .perRow || !(globalHigh > globalLow) {
        ticks = [(0, "0"), (0.5, "0.5"), (1, "1")]
    } else {
        // Round values at their true positions, as matplotlib's colour bars have.
        let low = Double(globalLow), high = Double(globalHigh)
        let values = niceTicks(low: low, high: high, targetCount: 5)
        ticks = Array(zip(values.map { ($0 - low) / (high - low) }, tickLabels(values)))
    }
    for (t, text) in ticks {
        let y = top + barHeight * (1 - t)
        svg += "<line x1=\"\(svgNumber(barX + barWidth))\" y1=\"\(svgNumber(y))\" "
            + "x2=\"\(svgNumber(barX + barWidth + 4))\" "
        svg += "y2=\"\(svgNumber(y))\" stroke=\"#333\"/><text x=\"\(svgNumber(barX + barWidth + 7))\" "
            + "y=\"\(svgNumber(y))\" "
        svg += "font-size=\"10\" dy=\"0.35em\">\(xmlEscaped(text))</text>\n"
    }
    if scale == .perRow {
        let captionX = barX + barWidth + 40, captionY = top + barHeight / 2
        svg += "<text x=\"\(svgNumber(captionX))\" y=\"\(svgNumber(captionY))\" font-size=\"10\" fill=\"#555\" "
        svg += "text-anchor=\"middle\" transform=\"rotate(-90 \(svgNumber(captionX)) \(svgNumber(captionY)))\">"
        svg += "normalised per row</text>\n"
    }
    return svg
}
