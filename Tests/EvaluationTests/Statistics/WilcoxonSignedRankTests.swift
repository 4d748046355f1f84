import XCTest
@testable import Evaluation

final class WilcoxonSignedRankTests: XCTestCase {
    /// scipy.stats.wilcoxon(d, zero_method='wilcox', correction=False, method='asymptotic') on the fixture's
    /// vectors: ties, zeros, all zero, n = 1 and 3, one-signed, n ~ 200.
    func testMatchesSciPy() throws {
        let reference = try StatisticsReference.load()
        XCTAssertGreaterThanOrEqual(reference.wilcoxon.count, 8)
        let scipy = "scipy \(reference.versions["scipy"] ?? "?")"
        for c in reference.wilcoxon {
            let test = WilcoxonSignedRank(c.differences)
            XCTAssertEqual(test.n, c.n, "\(c.name): nonzero differences")
            XCTAssertEqual(test.statistic, c.statistic, "\(c.name): min(T+, T-) as \(scipy)")
            assertClose(test.z.map { -abs($0) }, c.z, "\(c.name): z as \(scipy)")
            if let p = c.p {
                assertClose(test.p, p, tolerance: 1e-10, relative: true, "\(c.name): p as \(scipy)")
            } else {
                XCTAssertEqual(test.p, 1, "\(c.name): no nonzero difference is p = 1 (SciPy: NaN)")
            }
        }
    }

    /// Swapping a and b flips every sign: the same two-sided p, T+ and T- exchanged.
    func testTheTwoSidedPIgnoresTheDirection() {
        let d = [0.3, -0.1, 0.25, 0.25, 0, 0.4, -0.05, 0.6]
        let forward = WilcoxonSignedRank(d), backward = WilcoxonSignedRank(d.map { -$0 })
        XCTAssertEqual(forward.p, backward.p)
        XCTAssertEqual(forward.positiveRankSum + backward.positiveRankSum, Double(forward.n * (forward.n + 1)) / 2)
        XCTAssertLessThan(forward.p, 1)
    }
}
