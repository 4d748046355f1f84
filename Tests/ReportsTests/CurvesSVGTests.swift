import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import Reports

final class CurvesSVGTests: XCTestCase {
    func testDegradationPlot() throws {
        let svg = renderCurvesSVG(title: "Degradation test (AG News)", xLabel: "fraction of tokens removed",
                                  yLabel: "probability of the original class", series: SampleData.curves)
        try writeSampleIfRequested(svg, name: "curves.svg")
        XCTAssertNil(xmlParseError(svg))
        XCTAssertEqual(occurrences(of: "class=\"series\"", in: svg), SampleData.curves.count)
        for s in SampleData.curves { XCTAssertTrue(svg.contains(">\(s.name)</text>"), "legend entry \(s.name)") }
        // Default axes: x and y in [0, 1], ticks every 0.2.
        for label in ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"] {
            XCTAssertEqual(occurrences(of: ">\(label)</text>", in: svg), 2, "tick \(label) on both axes")
        }
        let colours = Set(["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"].filter { svg.contains("stroke=\"\($0)\"") })
        XCTAssertEqual(colours.count, 4, "each series has its own colour")
    }

    func testNaNBreaksTheLine() {
        let svg = renderCurvesSVG(title: "t", xLabel: "x", yLabel: "y",
                                  series: [CurveSeries(name: "gap", x: [0, 0.5, 0.6, 1], y: [1, .nan, 0.5, 0.2])])
        XCTAssertNil(xmlParseError(svg))
        XCTAssertTrue(svg.contains("d=\"M70 44 M"), "a new subpath starts after the NaN: \(svg)")
        XCTAssertEqual(occurrences(of: "<circle cx", in: svg), 3 + 1, "three markers plus the legend's")
    }

    func testAutomaticRangesAndTicks() {
        let unitTicks = niceTicks(low: 0, high: 1)
        XCTAssertEqual(unitTicks.count, 6)
        XCTAssertEqual(unitTicks.last ?? 0, 1, accuracy: 1e-12)
        XCTAssertEqual(tickLabels(niceTicks(low: 0, high: 1)), ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"])
        XCTAssertEqual(niceStep(0.23), 0.25)
        XCTAssertEqual(niceRange(low: 3, high: 97), 0...100)
        let svg = renderCurvesSVG(title: "t", xLabel: "steps", yLabel: "loss",
                                  series: [CurveSeries(name: "s", x: [0, 9], y: [3, 97])], yRange: nil)
        XCTAssertTrue(svg.contains(">100</text>"), "y axis widened to a round 100")
        XCTAssertTrue(svg.contains(">10</text>"), "x axis covers the data, not [0, 1]")
    }

    /// Renderers without CSS or attribute inheritance (ImageMagick, LaTeX's svg pipelines) need every curve to
    /// carry its own stroke, fill and width, or they draw a filled shape or nothing.
    func testCurvesCarryTheirOwnPresentationAttributes() throws {
        let svg = renderCurvesSVG(title: "t", xLabel: "x", yLabel: "y", series: SampleData.curves)
        let collector = ElementCollector(name: "path")
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = collector
        XCTAssertTrue(parser.parse())
        XCTAssertEqual(collector.attributes.count, SampleData.curves.count)
        for attributes in collector.attributes {
            XCTAssertNotNil(attributes["stroke"], "\(attributes)")
            XCTAssertEqual(attributes["fill"], "none", "\(attributes)")
            XCTAssertEqual(attributes["stroke-width"], "2", "\(attributes)")
        }
        XCTAssertFalse(svg.contains("<style"), "no stylesheet")
    }
}

/// The attributes of every element named `name`.
final class ElementCollector: NSObject, XMLParserDelegate {
    let name: String
    var attributes: [[String: String]] = []
    init(name: String) { self.name = name }
    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
                attributes attributeDict: [String: String] = [:]) {
        if elementName == name { attributes.append(attributeDict) }
    }
}
