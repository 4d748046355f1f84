// Helpers shared by the SVG figures. Text width is estimated, not measured:
// with no font engine at hand, 0.6 em per character is close for sans-serif fonts.

let svgFontFamily = "DejaVu Sans, Helvetica, Arial, sans-serif"

/// Approximate rendered width in pixels of `text` at `fontSize`.
func estimatedTextWidth(_ text: String, fontSize: Double) -> Double {
    Double(text.count) * fontSize * 0.6
}

/// `text` shortened to at most `limit` characters, ending in an ellipsis when cut.
func truncated(_ text: String, to limit: Int) -> String {
    text.count <= limit ? text : String(text.prefix(max(0, limit - 1))) + "…"
}

/// A coordinate with at most two decimals, so SVG stays compact and diffable.
func svgNumber(_ v: Double) -> String {
    let rounded = (v * 100).rounded() / 100
    if rounded == rounded.rounded() { return String(Int(rounded)) }
    return String(rounded)
}

/// The opening of an SVG document of the given size, with a white background and a `<title>`.
func svgHeader(width: Double, height: Double, title: String) -> String {
    """
    <?xml version="1.0" encoding="UTF-8"?>
    <svg xmlns="http://www.w3.org/2000/svg" width="\(svgNumber(width))" height="\(svgNumber(height))" \
    viewBox="0 0 \(svgNumber(width)) \(svgNumber(height))" font-family="\(svgFontFamily)">
    <title>\(xmlEscaped(title))</title>
    <rect x="0" y="0" width="\(svgNumber(width))" height="\(svgNumber(height))" fill="#ffffff"/>

    """
}

/// An SVG `<linearGradient>` tracing viridis from bottom (0) to top (1), for colour bars.
func viridisVerticalGradient(id: String) -> String {
    var s = "<defs><linearGradient id=\"\(id)\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">"
    for step in 0...16 {
        let t = Float(step) / 16
        s += "<stop offset=\"\(svgNumber(Double(t)))\" stop-color=\"\(viridisHex(t))\"/>"
    }
    return s + "</linearGradient></defs>\n"
}
