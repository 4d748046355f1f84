import XCTest
@testable import Reports

final class HeatmapSVGTests: XCTestCase {
    private func layerLabels(_ n: Int) -> [String] { (0..<n).map { "layer \($0 + 1)" } }

    func testSixLayersBySixtyTokens() throws {
        let tokens = SampleData.tokens
        let svg = renderHeatmapSVG(rowLabels: layerLabels(6), tokens: tokens,
                                   values: SampleData.layerValues(tokens: tokens, layers: 6), title: "IBA per layer")
        try writeSampleIfRequested(svg, name: "heatmap-6x60.svg")
        XCTAssertNil(xmlParseError(svg))
        XCTAssertEqual(occurrences(of: "<rect class=\"cell\"", in: svg), 6 * tokens.count)
        XCTAssertEqual(occurrences(of: "rotate(-60", in: svg), tokens.count, "one rotated label per token")
        XCTAssertEqual(occurrences(of: "class=\"colorbar\"", in: svg), 1)
        XCTAssertTrue(svg.contains("##yle"), "column labels keep WordPiece markers")
    }

    func testWideFigureGrowsWithTokensAndStaysWellFormed() throws {
        let tokens = SampleData.longTokens
        XCTAssertEqual(tokens.count, 130)
        let values = SampleData.layerValues(tokens: tokens, layers: 12)
        let wide = renderHeatmapSVG(rowLabels: layerLabels(12), tokens: tokens, values: values,
                                    title: "IBA per layer, 130 tokens", scale: .global)
        try writeSampleIfRequested(wide, name: "heatmap-12x130.svg")
        XCTAssertNil(xmlParseError(wide))
        XCTAssertEqual(occurrences(of: "<rect class=\"cell\"", in: wide), 12 * 130)

        let narrow = renderHeatmapSVG(rowLabels: ["a"], tokens: Array(tokens.prefix(10)),
                                      values: [Array(values[0].prefix(10))], title: "t")
        XCTAssertGreaterThan(try svgWidth(wide), try svgWidth(narrow) + 100 * 15, "fixed cell width, growing figure")
    }

    func testMissingValuesStillDrawEveryCell() {
        let svg = renderHeatmapSVG(rowLabels: ["a", "b"], tokens: ["x", "y", "z"], values: [[1, 2, 3], [1]], title: "ragged")
        XCTAssertNil(xmlParseError(svg))
        XCTAssertEqual(occurrences(of: "<rect class=\"cell\"", in: svg), 6)
        XCTAssertEqual(occurrences(of: "no value", in: svg), 2)
    }

    func testPerRowScaleColoursEachRowFully() {
        // A row far below the other still reaches yellow when scaled per row, but not globally.
        let values: [[Float]] = [[0, 100], [0, 1]]
        let perRow = renderHeatmapSVG(rowLabels: ["a", "b"], tokens: ["x", "y"], values: values, title: "t")
        let global = renderHeatmapSVG(rowLabels: ["a", "b"], tokens: ["x", "y"], values: values, title: "t", scale: .global)
        let yellow = "fill=\"\(viridisHex(1))\""
        XCTAssertEqual(occurrences(of: yellow, in: perRow), 2)
        XCTAssertEqual(occurrences(of: yellow, in: global), 1)
    }

    private func svgWidth(_ svg: String) throws -> Double {
        let start = try XCTUnwrap(svg.range(of: "width=\""))
        let rest = svg[start.upperBound...]
        let end = try XCTUnwrap(rest.firstIndex(of: "\""))
        return try XCTUnwrap(Double(rest[..<end]))
    }
}
