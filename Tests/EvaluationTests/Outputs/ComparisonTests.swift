import XCTest
@testable import Evaluation

final class ComparisonTests: XCTestCase {
    /// Two methods' records over 12 examples, 9 steps; method 1 fails on example 4.
    func records() -> [[ExampleRecord]] {
        (0..<2).map { m in
            (0..<12).map { i -> ExampleRecord in
                if m == 1 && i == 4 { return .failure(index: 100 + i, target: 0, reason: "too long") }
                let p = Float(0.3 + 0.05 * Double((i * 7 + m * 3) % 10))
                return ExampleRecord(index: 100 + i, target: 0, tokens: [], attribution: [], originalProb: 0.9,
                                     originalCorrect: true, degradationProb: (0..<9).map { p - Float($0) * 0.02 },
                                     degradationCorrect: (0..<9).map { ($0 + i + m) % 3 != 0 },
                                     aopcComprehensiveness: 0.9 - p, aopcSufficiency: p / 3)
            }
        }
    }

    func compared() throws -> (MethodComparison, PairedComparison) {
        let records = self.records()
        let summaries = try records.enumerated().map { m, r in
            try summarize(records: r, method: [.ig, .lime][m], dataset: .agnews, layer: nil, seconds: 1,
                          options: [:])
        }
        return try compareMethods(summaries: summaries, records: records, secondsPerExample: [0.5, 0.25], seed: 3)
    }

    func testStepColumnsAreNamedAfterTheRemovedFraction() {
        XCTAssertEqual(MethodComparison.stepLabels(steps: 9).first, "11%")
        XCTAssertEqual(MethodComparison.stepLabels(steps: 10).first, "10%")
        XCTAssertEqual(MethodComparison.stepLabels(steps: 9).last, "100%")
    }

    /// comparison.csv by column name: every interval column has `_lo` <= value <= `_hi`, the values are the
    /// summaries', and the intervals are those of a bootstrap over the examples' values (failed left out).
    func testCSVHasAnIntervalBesideEveryMean() throws {
        let (comparison, _) = try compared()
        let lines = comparison.csv.split(separator: "\n")
            .map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        let header = lines[0].map(String.init)
        XCTAssertEqual(Array(header.prefix(7)),
                       ["method", "n", "original_prob", "original_acc", "prob_11%", "prob_11%_lo", "prob_11%_hi"])
        XCTAssertEqual(header.last, "seconds_per_example")
        for column in MethodComparison.intervalColumns(steps: 9) {
            XCTAssertTrue(header.contains(column + "_lo") && header.contains(column + "_hi"), column)
        }
        let records = self.records()
        for (m, line) in lines.dropFirst().enumerated() {
            let cells = Dictionary(uniqueKeysWithValues: zip(header, line.map(String.init)))
            for column in MethodComparison.intervalColumns(steps: 9) {
                let value = try XCTUnwrap(cells[column].flatMap(Double.init), column)
                let lo = try XCTUnwrap(cells[column + "_lo"].flatMap(Double.init))
                let hi = try XCTUnwrap(cells[column + "_hi"].flatMap(Double.init))
                XCTAssertTrue(lo <= value + 5e-5 && value <= hi + 5e-5, "\(column): \(lo) \(value) \(hi)")
                XCTAssertLessThan(lo, hi, column)
            }
            XCTAssertEqual(cells["n"], m == 0 ? "12" : "11")
            let values = exampleValues(records[m], steps: 9)["acc_22%"] ?? []
            XCTAssertEqual(values.compactMap { $0 }.count, m == 0 ? 12 : 11, "the failed example has no value")
            let expected = try XCTUnwrap(PairedBootstrap(exampleCount: 12, seed: 3).intervals([values])[0])
            XCTAssertEqual(cells["acc_22%_lo"], String(format: "%.4f", expected.lower))
            XCTAssertEqual(cells["acc_22%_hi"], String(format: "%.4f", expected.upper))
        }
    }

    func testMarkdownShowsEachMeanWithItsInterval() throws {
        let (comparison, pairs) = try compared()
        let row = comparison.displayRows[0]
        let header = comparison.displayHeader
        let cell = try XCTUnwrap(header.firstIndex(of: "AOPC compr.").map { row[$0] })
        let s = comparison.summaries[0]
        let interval = try XCTUnwrap(comparison.intervals[0]["aopc_comprehensiveness"])
        let mean = try XCTUnwrap(s.aopcComprehensiveness)
        XCTAssertEqual(cell, String(format: "%.3f [%.3f, %.3f]", mean, interval.lower, interval.upper))
        XCTAssertTrue(comparison.markdown.contains("| ig | 12 |"), comparison.markdown)
        XCTAssertEqual(pairs.rows.map(\.metric), ["prob_11%", "aopc_comprehensiveness"])
        XCTAssertEqual(pairs.rows[0].n, 11, "over the examples both methods scored")
        XCTAssertTrue(pairs.markdown.hasPrefix("| method a | method b | metric | n |"), pairs.markdown)
    }

    func testRecordsOfDifferentExamplesAreRefused() throws {
        var records = self.records()
        records[1][2].index = 999
        let summaries = try records.map {
            try summarize(records: $0, method: .ig, dataset: .agnews, layer: nil, seconds: 1, options: [:])
        }
        XCTAssertThrowsError(try compareMethods(summaries: summaries, records: records, secondsPerExample: [1, 1],
                                                seed: 0))
    }
}
