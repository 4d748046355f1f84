import XCTest
@testable import Evaluation

final class PairedComparisonTests: XCTestCase {
    /// Three methods on 40 examples with failures and a zero difference: each row's n, mean difference,
    /// Wilcoxon p and Holm p over all rows as NumPy / SciPy / statsmodels give them, in the same row order.
    func testRowsMatchTheReference() throws {
        let reference = try StatisticsReference.load().pairs
        let metrics = [("prob_11%", false), ("aopc_comprehensiveness", true)].map { name, larger in
            PairedMetric(name: name, largerIsFaster: larger,
                         values: reference.methods.map { reference.values[name]?[$0] ?? [] })
        }
        let pairs = PairedComparison(methods: reference.methods, metrics: metrics,
                                     bootstrap: PairedBootstrap(exampleCount: reference.examples, seed: 1))
        XCTAssertEqual(pairs.rows.count, reference.rows.count)
        for (row, expected) in zip(pairs.rows, reference.rows) {
            let name = "\(expected.method_a) - \(expected.method_b), \(expected.metric)"
            XCTAssertEqual([row.methodA, row.methodB, row.metric],
                           [expected.method_a, expected.method_b, expected.metric])
            XCTAssertEqual(row.n, expected.n, name)
            assertClose(row.meanDifference, expected.mean_diff, tolerance: 1e-14, name)
            assertClose(row.pWilcoxon, expected.p_wilcoxon, tolerance: 1e-10, relative: true, name)
            assertClose(row.pHolm, expected.p_holm, tolerance: 1e-10, relative: true, name)
            let interval = try XCTUnwrap(row.interval, name)
            XCTAssertTrue(interval.contains(expected.mean_diff), "\(name): \(interval)")
        }
    }

    /// The verdict follows the interval: a lower probability or a higher comprehensiveness is faster.
    func testVerdicts() {
        func row(_ metric: String, _ lower: Double, _ upper: Double) -> PairedDifference {
            PairedDifference(methodA: "iba", methodB: "ig", metric: metric, n: 5, meanDifference: (lower + upper) / 2,
                             interval: ConfidenceInterval(lower: lower, upper: upper), pWilcoxon: 0.5, pHolm: 1,
                             verdict: "")
        }
        func verdict(_ metric: String, _ lower: Double, _ upper: Double, largerIsFaster: Bool) -> String {
            PairedComparison.verdict(row(metric, lower, upper), largerIsFaster: largerIsFaster)
        }
        XCTAssertEqual(verdict("prob_11%", -0.2, -0.1, largerIsFaster: false), "iba removes evidence faster")
        XCTAssertEqual(verdict("prob_11%", 0.1, 0.2, largerIsFaster: false), "ig removes evidence faster")
        XCTAssertEqual(verdict("aopc", 0.1, 0.2, largerIsFaster: true), "iba removes evidence faster")
        XCTAssertEqual(verdict("aopc", -0.1, 0.2, largerIsFaster: true), "no detectable difference")
        XCTAssertEqual(verdict("aopc", 0, 0, largerIsFaster: true), "no detectable difference")
    }

    /// A method against an identical copy: every difference is 0, so n counts them, the interval is [0, 0],
    /// p = 1 and nothing is detected; a metric nobody scored gives n = 0 and no interval.
    func testIdenticalMethodsAndUnscoredMetrics() throws {
        let values: [Double?] = [0.2, 0.4, nil, 0.9]
        let metrics = [PairedMetric(name: "prob_11%", largerIsFaster: false, values: [values, values]),
                       PairedMetric(name: "aopc_comprehensiveness", largerIsFaster: true, values: [[nil], [nil]])]
        let pairs = PairedComparison(methods: ["a", "a copy"], metrics: metrics,
                                     bootstrap: PairedBootstrap(exampleCount: 4, seed: 0))
        XCTAssertEqual(pairs.rows[0].n, 3)
        XCTAssertEqual(pairs.rows[0].interval, ConfidenceInterval(lower: 0, upper: 0))
        XCTAssertEqual(pairs.rows[0].pWilcoxon, 1)
        XCTAssertEqual(pairs.rows[0].verdict, "no detectable difference")
        XCTAssertEqual(pairs.rows[1].n, 0)
        XCTAssertNil(pairs.rows[1].interval)
        XCTAssertNil(pairs.rows[1].meanDifference)
        XCTAssertEqual(pairs.rows[1].verdict, "no examples scored by both")
        let csv = pairs.csv.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(csv[0], "method_a,method_b,metric,n,mean_diff,lo,hi,p_wilcoxon,p_holm,verdict")
        XCTAssertEqual(csv[2], "a,a copy,aopc_comprehensiveness,0,,,,1,1,no examples scored by both")
    }
}
