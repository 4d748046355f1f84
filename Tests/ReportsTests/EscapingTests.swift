import XCTest
@testable import Reports

final class EscapingTests: XCTestCase {
    private let nasty = "<script>&\""

    func testEscaper() {
        XCTAssertEqual(xmlEscaped("<script>&\"'"), "&lt;script&gt;&amp;&quot;&#39;")
        XCTAssertEqual(xmlEscaped("a\u{1}b"), "a\u{FFFD}b", "control characters are not allowed in XML")
        XCTAssertEqual(xmlEscaped("café ##ing"), "café ##ing")
    }

    func testHTMLEscapesTokensLabelsAndNote() {
        let html = renderHTML(title: "T \(nasty)", rows: [
            HeatmapRow(label: "L \(nasty)", tokens: ["ok", nasty, "##x"], values: [0.1, 0.9, 0.5]),
        ], note: "N \(nasty)")
        XCTAssertFalse(html.contains("<script"))
        XCTAssertFalse(html.contains(nasty))
        XCTAssertTrue(html.contains("&lt;script&gt;&amp;&quot;"))
        XCTAssertNil(xmlParseError(html))
    }

    func testHeatmapSVGEscapesTokensAndLabels() {
        let svg = renderHeatmapSVG(rowLabels: ["layer \(nasty)"], tokens: ["a", nasty], values: [[0, 1]], title: nasty)
        XCTAssertFalse(svg.contains("<script"))
        XCTAssertTrue(svg.contains("&lt;script&gt;&amp;&quot;"))
        XCTAssertNil(xmlParseError(svg))
    }

    func testCurvesSVGEscapesNamesAndLabels() {
        let svg = renderCurvesSVG(title: nasty, xLabel: nasty, yLabel: nasty,
                                  series: [CurveSeries(name: nasty, x: [0, 1], y: [1, 0])])
        XCTAssertFalse(svg.contains("<script"))
        XCTAssertGreaterThanOrEqual(occurrences(of: "&lt;script&gt;&amp;&quot;", in: svg), 4)
        XCTAssertNil(xmlParseError(svg))
    }
}

/// Text for a terminal: C0, DEL and C1 controls shown as U+FFFD; a line layout keeps its newlines and tabs.
final class TerminalTextTests: XCTestCase {
    func testControlCharactersAreReplaced() {
        XCTAssertEqual(terminalSafe("\u{1B}]0;title\u{07}a\u{0}b\u{7F}c\u{9B}d\ne\tf"),
                       "\u{FFFD}]0;title\u{FFFD}a\u{FFFD}b\u{FFFD}c\u{FFFD}d\u{FFFD}e\u{FFFD}f")
        XCTAssertEqual(terminalSafe("line 1\n\tline 2\r", keepingLayout: true), "line 1\n\tline 2\u{FFFD}")
        XCTAssertEqual(terminalSafe("Café Sci/Tech ü"), "Café Sci/Tech ü")
    }
}
