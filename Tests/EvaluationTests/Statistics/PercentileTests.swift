import XCTest
@testable import Evaluation

final class PercentileTests: XCTestCase {
    /// numpy.percentile(values, q) (method='linear') on the fixture's vectors, 2,000 values among them.
    func testMatchesNumPy() throws {
        let reference = try StatisticsReference.load()
        XCTAssertFalse(reference.percentile.isEmpty)
        for c in reference.percentile {
            for (q, expected) in zip(c.q, c.expected) {
                assertClose(percentile(sorted: c.values.sorted(), q), expected, tolerance: 1e-15,
                            "\(c.name), q = \(q) (numpy \(reference.versions["numpy"] ?? "?"))")
            }
        }
    }

    /// The rule for 2,000 resamples, from numpy's definition h = (n - 1) q / 100 with value v[i] = i: the
    /// interval's ends are the order statistics at h = 49.975 and 1949.025 (0-based), linearly interpolated.
    func testTheOrderStatisticsOfA95IntervalOf2000() throws {
        let values = (0..<2000).map(Double.init)
        let interval = try XCTUnwrap(percentileInterval(values.reversed(), level: 95))
        XCTAssertEqual(interval.lower, 49.975, accuracy: 1e-12)
        XCTAssertEqual(interval.upper, 1949.025, accuracy: 1e-12)
    }

    func testNaNsAreLeftOutAndNoValuesGiveNoInterval() {
        XCTAssertNil(percentileInterval([]))
        XCTAssertNil(percentileInterval([.nan, .nan]))
        XCTAssertEqual(percentileInterval([.nan, 2, .nan]), ConfidenceInterval(lower: 2, upper: 2))
        XCTAssertEqual(percentileInterval([1, .nan, 3]), percentileInterval([1, 3]))
    }
}
