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
