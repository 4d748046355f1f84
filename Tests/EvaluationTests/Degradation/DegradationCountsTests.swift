import XCTest
@testable import Evaluation

final class DegradationCountsTests: XCTestCase {
    // [int(g) for g in np.round(np.linspace(0, 1, steps) * n)] printed by NumPy 2.4,
    // then deduplicated, padded and the first entry dropped by hand (contract §3).
    func testTenStepsMatchNumPy() {
        let cases: [(Int, [Int])] = [
            (1, [1, 1, 1, 1, 1, 1, 1, 1, 1]),        // np.round: 0 0 0 0 0 1 1 1 1 1
            (2, [1, 2, 2, 2, 2, 2, 2, 2, 2]),        // 0 0 0 1 1 1 1 2 2 2
            (3, [1, 2, 3, 3, 3, 3, 3, 3, 3]),        // 0 0 1 1 1 2 2 2 3 3
            (5, [1, 2, 3, 4, 5, 5, 5, 5, 5]),        // 0 1 1 2 2 3 3 4 4 5
            (7, [1, 2, 3, 4, 5, 6, 7, 7, 7]),        // 0 1 2 2 3 4 5 5 6 7
            (13, [1, 3, 4, 6, 7, 9, 10, 12, 13]),
            (15, [2, 3, 5, 7, 8, 10, 12, 13, 15]),
            (25, [3, 6, 8, 11, 14, 17, 19, 22, 25]),
            (50, [6, 11, 17, 22, 28, 33, 39, 44, 50]),
            (512, [57, 114, 171, 228, 284, 341, 398, 455, 512]),
        ]
        for (n, expected) in cases {
            XCTAssertEqual(degradationCounts(tokenCount: n), expected, "n = \(n)")
        }
    }

    // Exact .5 ties (round half to even), from np.round(np.linspace(0, 1, s) * n):
    // s=5: n=2 -> 0 0 1 2 2; n=6 -> 0 2 3 4 6; n=10 -> 0 2 5 8 10; n=14 -> 0 4 7 10 14
    // s=7: n=3 -> 0 0 1 2 2 2 3; n=9 -> 0 2 3 4 6 7 9
    func testHalfwayCasesRoundToEven() {
        XCTAssertEqual(degradationCounts(tokenCount: 2, steps: 5), [1, 2, 2, 2])
        XCTAssertEqual(degradationCounts(tokenCount: 6, steps: 5), [2, 3, 4, 6])
        XCTAssertEqual(degradationCounts(tokenCount: 10, steps: 5), [2, 5, 8, 10])
        XCTAssertEqual(degradationCounts(tokenCount: 14, steps: 5), [4, 7, 10, 14])
        XCTAssertEqual(degradationCounts(tokenCount: 3, steps: 7), [1, 2, 3, 3, 3, 3])
        XCTAssertEqual(degradationCounts(tokenCount: 9, steps: 7), [2, 3, 4, 6, 7, 9])
    }

    // np.linspace(0, 1, 10).tolist()
    func testLinspaceIsBitExact() {
        XCTAssertEqual(linspaceUnit(10), [0.0, 0.1111111111111111, 0.2222222222222222, 0.3333333333333333, 0.4444444444444444,
                                          0.5555555555555556, 0.6666666666666666, 0.7777777777777777, 0.8888888888888888, 1.0])
    }

    func testCountsOfTheReferenceExamplesAreDistinct() throws {
        // Every reference example is long enough (>= 10 tokens) for 9 distinct counts,
        // the last removing every token, as its 9 recorded steps imply.
        for name in ["iba-agnews-layer3.json", "iba-rte-layer3.json"] {
            for entry in try loadReference(name).examples {
                let counts = degradationCounts(tokenCount: entry.tokens.count)
                XCTAssertEqual(counts.count, entry.degradationProb.count)
                XCTAssertEqual(Set(counts).count, 9)
                XCTAssertEqual(counts.last, entry.tokens.count)
            }
        }
    }
}
