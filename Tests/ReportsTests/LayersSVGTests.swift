import Foundation
import XCTest
@testable import Reports

final class LayersSVGTests: XCTestCase {
    func panel(_ title: String) -> LayersPanel {
        LayersPanel(title: title, note: "lower = evidence removed faster",
                    layers: (0..<6).map { ($0, IntervalEstimate(0.4 + 0.01 * Double($0), lo: 0.38 + 0.01 * Double($0),
                                                                  hi: 0.43 + 0.01 * Double($0))) },
                    references: [("ig", IntervalEstimate(0.27, lo: 0.25, hi: 0.29)),
                                 ("random <floor>", IntervalEstimate(0.5, lo: 0.49, hi: 0.52))])
    }

    func testEveryLayerHasAPointAndABarAndEveryMethodALineAndABand() throws {
        let svg = renderLayersSVG(title: "IBA per layer", panels: [panel("p after 11%"), panel("AOPC")])
        try writeSampleIfRequested(svg, name: "layers.svg")
        XCTAssertNil(xmlParseError(svg), "well-formed, names escaped")
        XCTAssertEqual(occurrences(of: "class=\"layer-point\"", in: svg), 12)
        XCTAssertEqual(occurrences(of: "class=\"error-bar\"", in: svg), 12)
        XCTAssertEqual(occurrences(of: "class=\"reference\"", in: svg), 4)
        XCTAssertEqual(occurrences(of: "class=\"reference-band\"", in: svg), 4)
        XCTAssertTrue(svg.contains("random &lt;floor&gt;"))
        XCTAssertTrue(svg.contains("IBA at layer 5: 0.45 [0.43, 0.48]"), "hover text gives the interval")
    }

    func testBarsSpanTheirIntervalsOnTheSameScaleAsTheLines() throws {
        let svg = renderLayersSVG(title: "t", panels: [panel("p")])
        // The interval [0.38, 0.43] of layer 0 must be drawn between the y of 0.38 and of 0.43, which lie on
        // the same axis as ig's line at 0.27 and random's at 0.5: lower values further down.
        func attribute(_ name: String, after marker: String) -> Double? {
            guard let start = svg.range(of: marker) else { return nil }
            let rest = svg[start.upperBound...]
            guard let a = rest.range(of: "\(name)=\"") else { return nil }
            return Double(rest[a.upperBound...].prefix { $0 != "\"" })
        }
        let barLow = try XCTUnwrap(attribute("y1", after: "class=\"error-bar\""))
        let barHigh = try XCTUnwrap(attribute("y2", after: "class=\"error-bar\""))
        let igLine = try XCTUnwrap(attribute("y1", after: "class=\"reference\""))
        XCTAssertGreaterThan(barLow, barHigh, "lo is drawn below hi")
        XCTAssertGreaterThan(igLine, barLow, "ig's 0.27 lies below IBA's interval at layer 0")
    }
}
