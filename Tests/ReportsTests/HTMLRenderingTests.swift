import XCTest
@testable import Reports

final class HTMLRenderingTests: XCTestCase {
    func testPageWithOneRowPerLayer() throws {
        let tokens = SampleData.tokens
        let rows = SampleData.layerValues(tokens: tokens, layers: 6).enumerated().map { layer, values in
            HeatmapRow(label: "IBA, layer \(layer + 1)", tokens: tokens, values: values)
        }
        let html = renderHTML(title: "AG News #17: Business", rows: rows, note: "Target class: Business (p = 0.97).")
        try writeSampleIfRequested(html, name: "heatmap.html")
        XCTAssertNil(xmlParseError(html), "the page is well-formed, so every token was escaped")
        XCTAssertEqual(occurrences(of: "<span class=\"t", in: html), 6 * tokens.count)
        XCTAssertEqual(occurrences(of: "<div class=\"row\">", in: html), 6)
        XCTAssertTrue(html.contains("Target class: Business"))
        XCTAssertFalse(html.contains("<script"), "no JavaScript")
        XCTAssertFalse(html.contains("http://") || html.contains("https://") || html.contains("src="), "no external resources")
        XCTAssertTrue(html.contains("linear-gradient"), "colour bar legend")
    }

    func testWordPiecesAreGluedAndValuesOnHover() {
        let html = renderHTML(title: "t", rows: [HeatmapRow(label: "r", tokens: ["the", "carl", "##yle"], values: [0, 0.25, 1])],
                              note: nil)
        // "##yle" follows "carl" with no space and without its marker; the raw token and value are in the tooltip.
        XCTAssertTrue(html.contains(">carl</span><span class=\"t cont\""))
        XCTAssertTrue(html.contains("title=\"##yle (#2): 1\">yle</span>"))
        XCTAssertTrue(html.contains("title=\"carl (#1): 0.25\""))
        XCTAssertTrue(html.contains(">the</span> <span"), "words are separated by a space")
        XCTAssertFalse(html.contains("class=\"note\""), "no note paragraph when note is nil")
    }
}
