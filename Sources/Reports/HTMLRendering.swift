// A self-contained HTML page of highlighted sentences: inline CSS, no scripts, no external
// resources, so it can be mailed around or opened from a results folder years later.
// The markup is also well-formed XML, which lets tests check the escaping with a parser.

/// One highlighted line of a heatmap page, e.g. one method or one layer.
public struct HeatmapRow: Sendable, Equatable {
    /// The row's caption, e.g. "IBA, layer 9".
    public var label: String
    /// The tokens, WordPiece "##" continuations included.
    public var tokens: [String]
    /// One attribution value per token.
    public var values: [Float]

    /// A row of `tokens` coloured by `values`.
    public init(label: String, tokens: [String], values: [Float]) {
        self.label = label
        self.tokens = tokens
        self.values = values
    }
}

/// A standalone HTML page with one viridis-highlighted line per row, raw values on hover, and a legend.
public func renderHTML(title: String, rows: [HeatmapRow], note: String?) -> String {
    var html = """
    <!DOCTYPE html>
    <html lang="en">
    <head>
    <meta charset="utf-8"/>
    <title>\(xmlEscaped(title))</title>
    <style>
    body { font-family: -apple-system, "Segoe UI", "DejaVu Sans", Helvetica, Arial, sans-serif;
           margin: 24px; color: #222; background: #fff; }
    h1 { font-size: 20px; margin: 0 0 8px; }
    p.note { color: #555; margin: 0 0 16px; max-width: 60em; }
    .row { margin: 14px 0; }
    .label { font-size: 13px; font-weight: 600; color: #444; margin-bottom: 4px; }
    .text { line-height: 2.0; font-size: 15px; }
    .legend { margin: 8px 0 20px; }
    \(tokenSpanCSS)
    </style>
    </head>
    <body>
    <h1>\(xmlEscaped(title))</h1>

    """
    if let note, !note.isEmpty {
        html += "<p class=\"note\">\(xmlEscaped(note))</p>\n"
    }
    html += colourLegend("colour relative to each row's range; hover a token for its value")
    for row in rows {
        html += "<div class=\"row\">\n<div class=\"label\">\(xmlEscaped(row.label))</div>\n<div class=\"text\">"
        html += highlightedTokens(row)
        html += "</div>\n</div>\n"
    }
    html += "</body>\n</html>\n"
    return html
}

/// The rules for highlighted token spans and the colour legend, shared by every page that shows them.
let tokenSpanCSS = """
    .t { padding: 2px 3px; border-radius: 3px; white-space: pre; }
    .t.cont { border-top-left-radius: 0; border-bottom-left-radius: 0; padding-left: 0; }
    .t.head { border-top-right-radius: 0; border-bottom-right-radius: 0; padding-right: 0; }
    .t:hover { outline: 2px solid #e4572e; }
    .legend { display: flex; align-items: center; gap: 8px; font-size: 12px; color: #555; }
    .bar { width: 240px; height: 12px; border: 1px solid #999;
           background: linear-gradient(to right, \(legendGradientStops())); }
    """

/// The low-to-high colour bar with a caption.
func colourLegend(_ caption: String) -> String {
    "<div class=\"legend\"><span>low</span><div class=\"bar\"></div><span>high</span>"
        + "<span>(\(xmlEscaped(caption)))</span></div>\n"
}

/// The spans of one row; "##" pieces are glued to the previous span with no space.
func highlightedTokens(_ row: HeatmapRow) -> String {
    let count = min(row.tokens.count, row.values.count)
    let tokens = Array(row.tokens.prefix(count))
    let values = Array(row.values.prefix(count))
    let levels = normalizedForColor(values)
    let pieces = displayPieces(tokens)
    var out = ""
    for index in 0..<count {
        let piece = pieces[index]
        let background = viridis(levels[index])
        let textColour = prefersDarkText(on: background) ? "#000" : "#fff"
        var classes = "t"
        if !piece.spaceBefore && index > 0 { classes += " cont" }
        if index + 1 < count && !pieces[index + 1].spaceBefore { classes += " head" }
        if piece.spaceBefore { out += " " }
        let hover = "\(tokens[index]) (#\(index)): \(formatValue(values[index]))"
        out += "<span class=\"\(classes)\" style=\"background:\(hexColor(background));color:\(textColour)\""
        out += " title=\"\(xmlEscaped(hover))\">\(xmlEscaped(piece.text))</span>"
    }
    if row.tokens.count != row.values.count {
        out += " <em>(\(row.tokens.count) tokens, \(row.values.count) values)</em>"
    }
    return out
}

/// CSS gradient stops tracing viridis in 11 steps.
func legendGradientStops() -> String {
    (0...10).map { viridisHex(Float($0) / 10) + " \($0 * 10)%" }.joined(separator: ", ")
}
