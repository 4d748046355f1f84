import Foundation
import XCTest

/// Tests/EvaluationTests/Fixtures/statistics-reference.json, written by
/// scripts/reference/statistics_reference.py with NumPy, SciPy and statsmodels (versions inside).
struct StatisticsReference: Decodable {
    struct PercentileCase: Decodable {
        var name: String
        var values: [Double]
        var q: [Double]
        var expected: [Double]
    }
    struct WilcoxonCase: Decodable {
        var name: String
        var differences: [Double]
        var n: Int
        var statistic: Double
        /// SciPy's z (-|z| for a two-sided test); nil where SciPy gives NaN.
        var z: Double?
        var p: Double?
    }
    struct HolmCase: Decodable {
        var name: String
        var p: [Double]
        var expected: [Double]
    }
    struct PairRow: Decodable {
        var method_a: String
        var method_b: String
        var metric: String
        var n: Int
        var mean_diff: Double
        var p_wilcoxon: Double
        var p_holm: Double
    }
    struct Pairs: Decodable {
        var methods: [String]
        var examples: Int
        /// values[metric][method][position], null for a failed example.
        var values: [String: [String: [Double?]]]
        var rows: [PairRow]
    }

    var versions: [String: String]
    var percentile: [PercentileCase]
    var wilcoxon: [WilcoxonCase]
    var holm: [HolmCase]
    var pairs: Pairs

    static func load() throws -> StatisticsReference {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../Fixtures/statistics-reference.json").standardized
        return try JSONDecoder().decode(StatisticsReference.self, from: Data(contentsOf: url))
    }
}

/// |actual - expected| <= tolerance * max(1, |expected|) (or * |expected| when `relative`, for p-values far
/// below 1), with the case named on failure.
func assertClose(_ actual: Double?, _ expected: Double?, tolerance: Double = 1e-12, relative: Bool = false,
                 _ what: String, file: StaticString = #filePath, line: UInt = #line) {
    guard let actual, let expected else {
        return XCTAssertTrue(actual == nil && expected == nil, "\(what): \(String(describing: actual)) vs "
                             + "\(String(describing: expected))", file: file, line: line)
    }
    let scale = relative ? abs(expected) : max(1, abs(expected))
    XCTAssertLessThanOrEqual(abs(actual - expected), tolerance * scale,
                             "\(what): \(actual) vs reference \(expected)", file: file, line: line)
}
