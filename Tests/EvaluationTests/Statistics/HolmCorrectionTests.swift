import XCTest
@testable import Evaluation

final class HolmCorrectionTests: XCTestCase {
    /// statsmodels' multipletests(p, method='holm')[1] on the fixture's vectors (ties, ones, values capped at 1).
    func testMatchesStatsmodels() throws {
        let reference = try StatisticsReference.load()
        XCTAssertFalse(reference.holm.isEmpty)
        for c in reference.holm {
            let adjusted = holmAdjusted(c.p)
            XCTAssertEqual(adjusted.count, c.expected.count, c.name)
            for (i, (actual, expected)) in zip(adjusted, c.expected).enumerated() {
                assertClose(actual, expected, tolerance: 1e-14, "\(c.name) [\(i)] (statsmodels "
                            + "\(reference.versions["statsmodels"] ?? "?"))")
            }
        }
    }

    func testAdjustedValuesAreMonotoneInThePValuesAndNeverBelowThem() {
        let p = [0.2, 0.001, 0.04, 0.04, 0.5, 0.011, 0.3]
        let adjusted = holmAdjusted(p)
        for i in p.indices {
            XCTAssertGreaterThanOrEqual(adjusted[i], p[i])
            XCTAssertLessThanOrEqual(adjusted[i], 1)
            for j in p.indices where p[i] < p[j] { XCTAssertLessThanOrEqual(adjusted[i], adjusted[j]) }
        }
        XCTAssertEqual(holmAdjusted([]), [])
    }
}
