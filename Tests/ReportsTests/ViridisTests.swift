import XCTest
@testable import Reports

final class ViridisTests: XCTestCase {
    private func assertColour(_ c: (r: UInt8, g: UInt8, b: UInt8), _ expected: (Int, Int, Int), tolerance: Int = 2,
                              file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertLessThanOrEqual(abs(Int(c.r) - expected.0), tolerance, "red \(c)", file: file, line: line)
        XCTAssertLessThanOrEqual(abs(Int(c.g) - expected.1), tolerance, "green \(c)", file: file, line: line)
        XCTAssertLessThanOrEqual(abs(Int(c.b) - expected.2), tolerance, "blue \(c)", file: file, line: line)
    }

    func testEndpointsAndMiddleMatchMatplotlib() {
        assertColour(viridis(0), (68, 1, 84))      // dark purple
        assertColour(viridis(0.5), (33, 145, 140)) // teal
        assertColour(viridis(1), (253, 231, 37))   // yellow
        XCTAssertEqual(viridisHex(0), "#440154")
    }

    func testOutOfRangeAndNaNClamp() {
        XCTAssertTrue(viridis(-3) == viridis(0))
        XCTAssertTrue(viridis(7) == viridis(1))
        XCTAssertTrue(viridis(.nan) == viridis(0))
        XCTAssertTrue(viridis(.infinity) == viridis(1))
    }

    func testLuminanceIncreasesMonotonically() {
        var previous = -1.0
        for step in 0...200 {
            let l = relativeLuminance(viridis(Float(step) / 200))
            XCTAssertGreaterThanOrEqual(l, previous - 1e-3, "luminance dips at step \(step)")
            previous = l
        }
        XCTAssertGreaterThan(relativeLuminance(viridis(1)), 10 * relativeLuminance(viridis(0)))
    }

    func testTextContrastChoice() {
        XCTAssertFalse(prefersDarkText(on: viridis(0)), "white text on dark purple")
        XCTAssertTrue(prefersDarkText(on: viridis(1)), "black text on yellow")
    }

    func testNormalisationForColour() {
        XCTAssertEqual(normalizedForColor([2, 4, 3]), [0, 1, 0.5])
        XCTAssertEqual(normalizedForColor([5, 5]), [0, 0])
        XCTAssertEqual(normalizedForColor([1, .nan, 3]), [0, 0, 1])
    }
}
