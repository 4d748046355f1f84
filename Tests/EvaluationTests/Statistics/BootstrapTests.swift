import BERT
import XCTest
@testable import Evaluation

/// Bootstrap intervals cannot be compared with NumPy's (another random stream): they are tested by properties.
final class BootstrapTests: XCTestCase {
    /// 2n values symmetric about 0.5.
    func symmetric(_ n: Int) -> [Double?] {
        let half = (0..<n).map { 0.3 * sin(Double($0) * 1.7) }
        return half.map { 0.5 + $0 } + half.map { 0.5 - $0 }
    }

    func interval(_ values: [Double?], seed: UInt64 = 7) throws -> ConfidenceInterval {
        try XCTUnwrap(PairedBootstrap(exampleCount: values.count, seed: seed).intervals([values])[0])
    }

    func testAnIntervalOfSymmetricDataContainsItsMean() throws {
        let values = symmetric(20)
        let mean = values.compactMap { $0 }.reduce(0, +) / Double(values.count)
        let interval = try interval(values)
        XCTAssertLessThan(interval.lower, mean)
        XCTAssertGreaterThan(interval.upper, mean)
        // Symmetric data: the mean is near the middle of the interval.
        XCTAssertEqual((interval.lower + interval.upper) / 2, mean, accuracy: 0.1 * (interval.upper - interval.lower))
    }

    func testMoreDataGivesANarrowerInterval() throws {
        let small = try interval(symmetric(10)), large = try interval(symmetric(250))
        XCTAssertLessThan(large.upper - large.lower, 0.5 * (small.upper - small.lower), "\(small) vs \(large)")
    }

    func testDeterministicForASeedAndDifferentForAnother() throws {
        let values = symmetric(30)
        XCTAssertEqual(try interval(values, seed: 3), try interval(values, seed: 3))
        XCTAssertNotEqual(try interval(values, seed: 3), try interval(values, seed: 4))
    }

    /// Paired: every series sees the same resampled examples. Identical columns get identical intervals, a
    /// column shifted by a constant gets the shifted interval, and the differences of a column with itself
    /// (or with its shift) have a degenerate interval.
    func testSeriesArePairedOnTheSameResamples() throws {
        let a = symmetric(15), shifted = a.map { $0.map { $0 + 0.25 } }
        let zero = a.map { _ in Double?(0) }, shift = a.map { _ in Double?(0.25) }
        let intervals = PairedBootstrap(exampleCount: a.count, seed: 11).intervals([a, a, shifted, zero, shift])
        let ia = try XCTUnwrap(intervals[0]), ishifted = try XCTUnwrap(intervals[2])
        XCTAssertEqual(intervals[1], ia)
        XCTAssertEqual(ishifted.lower, ia.lower + 0.25, accuracy: 1e-12)
        XCTAssertEqual(ishifted.upper, ia.upper + 0.25, accuracy: 1e-12)
        XCTAssertEqual(intervals[3], ConfidenceInterval(lower: 0, upper: 0))
        XCTAssertEqual(try XCTUnwrap(intervals[4]).lower, 0.25, accuracy: 1e-15)
        XCTAssertEqual(try XCTUnwrap(intervals[4]).upper, 0.25, accuracy: 1e-15)
    }

    /// Unscored positions (failed examples) are left out of each resample's mean; a series nobody scored has
    /// no interval; a constant series with holes stays constant.
    func testUnscoredPositionsAreLeftOut() throws {
        let holes: [Double?] = [0.5, nil, 0.5, 0.5, nil, 0.5]
        let intervals = PairedBootstrap(exampleCount: 6, seed: 1).intervals([holes, [nil, nil, nil, nil, nil, nil]])
        XCTAssertEqual(intervals[0], ConfidenceInterval(lower: 0.5, upper: 0.5))
        XCTAssertNil(intervals[1])
        let means = PairedBootstrap(exampleCount: 2, resampleCount: 200, seed: 1).resampledMeans([[1, nil]])[0]
        XCTAssertTrue(means.contains { $0.isNaN }, "a resample drawing only the unscored example has no mean")
        XCTAssertTrue(means.allSatisfy { $0.isNaN || $0 == 1 })
    }

    /// Each position is drawn about equally often (the bounded draw is unbiased).
    func testPositionsAreDrawnUniformly() {
        var generator = SplitMix64(seed: 5)
        var counts = [Int](repeating: 0, count: 7)
        for _ in 0..<70_000 { counts[Int(generator.next(below: 7))] += 1 }
        for count in counts { XCTAssertEqual(Double(count), 10_000, accuracy: 400, "\(counts)") }
    }

    /// Coverage: 95% intervals of the mean of 40 draws from a skewed 0/1 variable (p = 0.3, like an accuracy)
    /// cover the true mean in about 95% of 300 simulated runs (the percentile bootstrap undercovers a little
    /// at this n; a broken resampler misses badly).
    func testCoverageIsNear95Percent() {
        var data = SplitMix64(seed: 2024)
        var covered = 0
        let runs = 300
        for run in 0..<runs {
            let values: [Double?] = (0..<40).map { _ in Double(data.next() >> 11) / Double(1 << 53) < 0.3 ? 1 : 0 }
            let bootstrap = PairedBootstrap(exampleCount: 40, resampleCount: 1_000, seed: UInt64(run))
            if let interval = bootstrap.intervals([values])[0], interval.contains(0.3) { covered += 1 }
        }
        let coverage = Double(covered) / Double(runs)
        XCTAssertGreaterThan(coverage, 0.88, "coverage \(coverage)")
        XCTAssertLessThan(coverage, 0.99, "coverage \(coverage)")
    }
}
