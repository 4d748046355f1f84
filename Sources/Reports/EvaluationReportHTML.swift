// report.html: the page a person opens after an evaluation. One self-contained file (inline CSS and SVG,
// no scripts, no network), built from plain values: this module knows no model or dataset.

/// A named value of the report's settings or architecture tables.
public struct ReportEntry: Sendable, Equatable {
    public var key: String
    public var value: String
    public init(_ key: String, _ value: String) { self.key = key; self.value = value }
}

/// One attribution method's results: a row of the summary table and a curve of the plot.
public struct ReportMethod: Sendable, Equatable {
    /// e.g. "iba (agnews, layer 3)".
    public var name: String
    /// Examples that entered the means, and those that failed.
    public var examples: Int
    public var failed: Int
    /// Accuracy of the unmodified inputs, in [0, 1].
    public var accuracy: Double
    public var originalProbability: Double
    /// Mean target-class probability after each removal step.
    public var degradationProbability: [Double]
    public var degradationAccuracy: [Double]
    /// Further columns (e.g. AOPC), shown in order; empty values show as "-".
    public var extraColumns: [ReportEntry]
    public var examplesPerSecond: Double?

    public init(name: String, examples: Int, failed: Int, accuracy: Double, originalProbability: Double,
                degradationProbability: [Double], degradationAccuracy: [Double], extraColumns: [ReportEntry] = [],
                examplesPerSecond: Double?) {
        self.name = name; self.examples = examples; self.failed = failed; self.accuracy = accuracy
        self.originalProbability = originalProbability; self.degradationProbability = degradationProbability
        self.degradationAccuracy = degradationAccuracy; self.extraColumns = extraColumns
        self.examplesPerSecond = examplesPerSecond
    }
}

/// One example's heatmap, with what happened to it at the first removal step.
public struct ReportExample: Sendable, Equatable {
    /// Row of the example in the dataset file.
    public var index: Int
    /// The explained class as shown, e.g. "Business (class 2)".
    public var target: String
    public var tokens: [String]
    public var attribution: [Float]
    public var originalProbability: Double
    public var firstStepProbability: Double

    public init(index: Int, target: String, tokens: [String], attribution: [Float],
                originalProbability: Double, firstStepProbability: Double) {
        self.index = index; self.target = target; self.tokens = tokens; self.attribution = attribution
        self.originalProbability = originalProbability; self.firstStepProbability = firstStepProbability
    }
}

/// An example that could not be evaluated, and why.
public struct ReportFailure: Sendable, Equatable {
    public var index: Int
    public var reason: String
    public init(index: Int, reason: String) { self.index = index; self.reason = reason }
}

/// A table of preformatted cells with a heading and a note (e.g. the methods' means with their intervals).
public struct ReportTable: Sendable, Equatable {
    /// The section's id in the page.
    public var id: String
    public var heading: String
    /// A sentence under the heading saying how the numbers were made.
    public var note: String
    public var header: [String]
    public var rows: [[String]]

    public init(id: String, heading: String, note: String, header: [String], rows: [[String]]) {
        self.id = id; self.heading = heading; self.note = note; self.header = header; self.rows = rows
    }
}

/// Everything report.html shows.
public struct EvaluationReport: Sendable, Equatable {
    public var title: String
    public var settings: [ReportEntry]
    public var architecture: [ReportEntry]
    public var methods: [ReportMethod]
    /// The examples whose probability dropped most, and least, at the first removal step.
    public var mostDropped: [ReportExample]
    public var leastDropped: [ReportExample]
    public var failures: [ReportFailure]
    /// Tables shown after the summary (several methods: their means with intervals, the paired tests).
    public var tables: [ReportTable]
    /// Shown at the top of the page (e.g. the methods explain different classes).
    public var warnings: [String] = []
    /// IBA per layer (layers.svg) when the job ran several layers; shown after the curves.
    public var layersFigure: String?

    public init(title: String, settings: [ReportEntry], architecture: [ReportEntry], methods: [ReportMethod],
                mostDropped: [ReportExample], leastDropped: [ReportExample], failures: [ReportFailure],
                tables: [ReportTable] = []) {
        self.title = title; self.settings = settings; self.architecture = architecture; self.methods = methods
        self.mostDropped = mostDropped; self.leastDropped = leastDropped; self.failures = failures
        self.tables = tables
    }
}

/// The report as one standalone HTML page (well-formed XML as well, so tests can parse it).
/// Sections carry ids (settings, architecture, summary, each table's own, curves, most-dropped, least-dropped, failed).
public func renderEvaluationReportHTML(_ report: EvaluationReport) -> String {
    var html = """
    <!DOCTYPE html>
    <html lang="en">
    <head>
    <meta charset="utf-8"/>
    <title>\(xmlEscaped(report.title))</title>
    <style>
    body { font-family: -apple-system, "Segoe UI", "DejaVu Sans", Helvetica, Arial, sans-serif;
           margin: 24px auto; max-width: 1100px; padding: 0 16px; color: #222; background: #fff; }
    h1 { font-size: 22px; margin: 0 0 16px; }
    h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
    table { border-collapse: collapse; font-size: 13px; }
    th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }
    th { background: #f3f3f3; }
    td.num { text-align: right; font-variant-numeric: tabular-nums; }
    .pair { display: flex; gap: 32px; flex-wrap: wrap; align-items: flex-start; }
    .example { margin: 12px 0; }
    .caption { font-size: 13px; font-weight: 600; color: #444; margin-bottom: 4px; }
    .text { line-height: 2.0; font-size: 14px; }
    .legend { margin: 4px 0 8px; }
    \(tokenSpanCSS)
    p.none { color: #777; font-style: italic; }
    p.warning { background: #fff4e5; border-left: 4px solid #e67e00; padding: 8px 12px; }
    p.note { font-size: 13px; color: #444; margin: 4px 0 8px; }
    .wide { overflow-x: auto; }
    .wide td { white-space: nowrap; }
    </style>
    </head>
    <body>
    <h1>\(xmlEscaped(report.title))</h1>

    """
    for warning in report.warnings {
        html += "<p class=\"warning\"><strong>Warning:</strong> \(xmlEscaped(warning))</p>\n"
    }
    html += "<div class=\"pair\">\n"
    html += "<section id=\"settings\">\n<h2>Settings</h2>\n" + entryTable(report.settings) + "</section>\n"
    html += "<section id=\"architecture\">\n<h2>Model architecture</h2>\n" + entryTable(report.architecture)
        + "</section>\n"
    html += "</div>\n"

    html += "<section id=\"summary\">\n<h2>Summary</h2>\n" + summaryTable(report.methods) + "</section>\n"
    for table in report.tables { html += tableSection(table) }

    html += "<section id=\"curves\">\n<h2>Degradation curves</h2>\n"
    let series = report.methods.map { method -> CurveSeries in
        let steps = method.degradationProbability.count
        let x = [0.0] + (0..<steps).map { Double($0 + 1) / Double(steps) }
        return CurveSeries(name: method.name, x: x, y: [method.originalProbability] + method.degradationProbability)
    }
    html += inlineSVG(renderCurvesSVG(title: "Degradation test", xLabel: "fraction of tokens removed",
                                      yLabel: "probability of the target class", series: series))
    html += "</section>\n"

    if let figure = report.layersFigure {
        html += "<section id=\"layers\">\n<h2>IBA per layer</h2>\n" + inlineSVG(figure) + "</section>\n"
    }
    html += colourLegend("attribution; colour relative to each example's range; hover a token for its value")
    html += exampleSection(
        id: "most-dropped", heading: "Largest probability drop at the first removal step", report.mostDropped)
    html += exampleSection(
        id: "least-dropped", heading: "Smallest probability drop at the first removal step", report.leastDropped,
        none: report.mostDropped.isEmpty ? "no evaluated examples" : "the one evaluated example is shown above")

    html += "<section id=\"failed\">\n<h2>Failed examples (\(report.failures.count))</h2>\n"
    if report.failures.isEmpty {
        html += "<p class=\"none\">none</p>\n"
    } else {
        html += "<table>\n<tr><th>example</th><th>reason</th></tr>\n"
        for failure in report.failures {
            html += "<tr><td class=\"num\">\(failure.index)</td><td>\(xmlEscaped(failure.reason))</td></tr>\n"
        }
        html += "</table>\n"
    }
    html += "</section>\n</body>\n</html>\n"
    return html
}

private func entryTable(_ entries: [ReportEntry]) -> String {
    guard !entries.isEmpty else { return "<p class=\"none\">not recorded</p>\n" }
    var html = "<table>\n"
    for entry in entries {
        html += "<tr><th>\(xmlEscaped(entry.key))</th><td>\(xmlEscaped(entry.value))</td></tr>\n"
    }
    return html + "</table>\n"
}

private func summaryTable(_ methods: [ReportMethod]) -> String {
    guard !methods.isEmpty else { return "<p class=\"none\">no results</p>\n" }
    let extraKeys = methods.flatMap { $0.extraColumns.map(\.key) }.reduce(into: [String]()) { keys, key in
        if !keys.contains(key) { keys.append(key) }
    }
    var html = "<table>\n<tr><th>method</th><th>examples</th><th>failed</th><th>accuracy</th><th>examples/s</th>"
    html += "<th>original probability</th><th>probability after the first step</th><th>after the last step</th>"
    html += "<th>accuracy after the last step</th>"
    for key in extraKeys { html += "<th>\(xmlEscaped(key))</th>" }
    html += "</tr>\n"
    func cell(_ value: Double?) -> String { "<td class=\"num\">\(value.map { formatValue($0) } ?? "-")</td>" }
    for method in methods {
        html += "<tr><td>\(xmlEscaped(method.name))</td><td class=\"num\">\(method.examples)</td>"
        html += "<td class=\"num\">\(method.failed)</td>" + cell(method.accuracy) + cell(method.examplesPerSecond)
        html += cell(method.originalProbability) + cell(method.degradationProbability.first)
        html += cell(method.degradationProbability.last) + cell(method.degradationAccuracy.last)
        for key in extraKeys {
            let value = method.extraColumns.first { $0.key == key }?.value ?? "-"
            html += "<td class=\"num\">\(xmlEscaped(value.isEmpty ? "-" : value))</td>"
        }
        html += "</tr>\n"
    }
    return html + "</table>\n"
}

/// A `ReportTable` as a section; the table scrolls sideways when wider than the page.
private func tableSection(_ table: ReportTable) -> String {
    var html = "<section id=\"\(xmlEscaped(table.id))\">\n<h2>\(xmlEscaped(table.heading))</h2>\n"
    if !table.note.isEmpty { html += "<p class=\"note\">\(xmlEscaped(table.note))</p>\n" }
    guard !table.rows.isEmpty else { return html + "<p class=\"none\">no rows</p>\n</section>\n" }
    html += "<div class=\"wide\">\n<table>\n<tr>"
    html += table.header.map { "<th>\(xmlEscaped($0))</th>" }.joined() + "</tr>\n"
    for row in table.rows {
        html += "<tr>" + row.map { "<td>\(xmlEscaped($0))</td>" }.joined() + "</tr>\n"
    }
    return html + "</table>\n</div>\n</section>\n"
}

/// `none`: what an empty list says (the least-dropped list of a one-example run is empty while one was evaluated).
private func exampleSection(id: String, heading: String, _ examples: [ReportExample],
                            none: String = "no evaluated examples") -> String {
    var html = "<section id=\"\(id)\">\n<h2>\(xmlEscaped(heading))</h2>\n"
    if examples.isEmpty { html += "<p class=\"none\">\(xmlEscaped(none))</p>\n" }
    for example in examples {
        let drop = example.originalProbability - example.firstStepProbability
        html += "<div class=\"example\">\n<div class=\"caption\">example \(example.index): "
            + "\(xmlEscaped(example.target)), "
        html += "p = \(formatValue(example.originalProbability)) then \(formatValue(example.firstStepProbability)) "
        html += "(drop \(formatValue(drop)))</div>\n<div class=\"text\">"
        html += highlightedTokens(HeatmapRow(label: "", tokens: example.tokens, values: example.attribution))
        html += "</div>\n</div>\n"
    }
    return html + "</section>\n"
}

/// An SVG document as an element inside HTML: without its XML declaration.
private func inlineSVG(_ svg: String) -> String {
    guard svg.hasPrefix("<?xml"), let end = svg.range(of: "?>") else { return svg }
    return String(svg[end.upperBound...]).trimmingLeadingNewlines() + "\n"
}

private extension String {
    func trimmingLeadingNewlines() -> String { String(drop { $0 == "\n" }) }
}
