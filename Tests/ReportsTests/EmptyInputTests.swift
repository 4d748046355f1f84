import XCTest
@testable import Reports

/// Degenerate inputs (nothing attributed yet, a failed run) must still give valid documents.
final class EmptyInputTests: XCTestCase {
    func testEmptyFiguresAreWellFormed() {
        let heatmap = renderHeatmapSVG(rowLabels: [], tokens: [], values: [], title: "empty")
        XCTAssertNil(xmlParseError(heatmap))
        XCTAssertEqual(occurrences(of: "<rect class=\"cell\"", in: heatmap), 0)

        let curves = renderCurvesSVG(title: "empty", xLabel: "x", yLabel: "y", series: [])
        XCTAssertNil(xmlParseError(curves))
        XCTAssertEqual(occurrences(of: "class=\"series\"", in: curves), 0)

        let html = renderHTML(title: "empty", rows: [], note: nil)
        XCTAssertNil(xmlParseError(html))
        XCTAssertEqual(occurrences(of: "<div class=\"row\">", in: html), 0)
    }

    func testTerminalWithMismatchedLengthsSaysSo() {
        let out = renderTerminal(tokens: ["a", "b", "c"], attribution: [1, 2], colorMode: .plain)
        XCTAssertTrue(out.hasPrefix("(3 tokens but 2 attribution values: showing the first 2)\n"), out)
        XCTAssertFalse(out.contains("c["))
        XCTAssertEqual(renderTerminal(tokens: [], attribution: [], colorMode: .trueColor, topK: 3).contains("top"), false)
    }

    func testValueFormatting() {
        XCTAssertEqual(formatValue(0.83), "0.83")
        XCTAssertEqual(formatValue(123.456), "123")
        XCTAssertEqual(formatValue(0.00012345), "1.23e-04")
        XCTAssertEqual(formatValue(Double.nan), "nan")
        XCTAssertEqual(formatValue(-2.5), "-2.5")
    }
}
