import Foundation
import XCTest
@testable import Evaluation

final class AggregationTests: XCTestCase {
    func record(_ index: Int, _ prob: Float, _ correct: Bool, _ steps: [Float], _ stepsCorrect: [Bool],
                aopc: (Float, Float)? = nil) -> ExampleRecord {
        ExampleRecord(index: index, target: 1, tokens: ["[CLS]", "x", "[SEP]"], attribution: [0, 1, 0.5],
                      originalProb: prob, originalCorrect: correct, degradationProb: steps, degradationCorrect: stepsCorrect,
                      aopcComprehensiveness: aopc?.0, aopcSufficiency: aopc?.1)
    }

    func testMeansExcludeFailedRecords() throws {
        let records = [
            record(7, 0.75, true, [0.5, 0.25], [true, false], aopc: (0.5, 0.25)),
            .failure(index: 9, target: 0, reason: "too long"),
            record(3, 0.25, false, [0.25, 0.5], [true, true]),
        ]
        let summary = try summarize(records: records, method: .iba, dataset: .agnews, layer: 3, seconds: 2, options: ["beta": "1e-05"])
        XCTAssertEqual(summary.n, 2)
        XCTAssertEqual(summary.originalAccuracy, 0.5)
        XCTAssertEqual(summary.originalProb, 0.5)
        XCTAssertEqual(summary.degradationProb, [0.375, 0.375])
        XCTAssertEqual(summary.degradationAccuracy, [1, 0.5])
        XCTAssertEqual(summary.aopcComprehensiveness, 0.5)
        XCTAssertEqual(summary.aopcSufficiency, 0.25)
        XCTAssertEqual(summary.failed, [9])
        XCTAssertThrowsError(try summarize(records: records + [record(4, 1, true, [1], [true])], method: .iba,
                                           dataset: .agnews, layer: 3, seconds: 0, options: [:]))
    }

    func testRecordJSONKeys() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let plain = try JSONSerialization.jsonObject(with: encoder.encode(record(1, 0.5, true, [0.25], [false]))) as? [String: Any]
        XCTAssertEqual(plain.map { Set($0.keys) }, ["index", "target", "tokens", "attribution", "original_prob", "original_correct",
                                                    "degradation_prob", "degradation_correct"])
        let failed = try JSONSerialization.jsonObject(with: encoder.encode(ExampleRecord.failure(index: 2, target: 0, reason: "boom"))) as? [String: Any]
        XCTAssertEqual(failed?["error"] as? String, "boom")
        let scored = try JSONSerialization.jsonObject(with: encoder.encode(record(1, 0.5, true, [0.25], [false], aopc: (0.1, 0.2)))) as? [String: Any]
        XCTAssertEqual((scored?["aopc_sufficiency"] as? Double).map { Float($0) }, 0.2)
    }

    func testSummaryJSONHasEveryKey() throws {
        let summary = try summarize(records: [], method: .random, dataset: .rte, layer: nil, seconds: 0, options: [:])
        let object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(summary)) as? [String: Any]
        XCTAssertEqual(object.map { Set($0.keys) }, ["method", "dataset", "layer", "n", "original_accuracy", "original_prob",
                                                     "degradation_prob", "degradation_accuracy", "aopc_comprehensiveness",
                                                     "aopc_sufficiency", "failed", "seconds", "options"])
        XCTAssertTrue(object?["layer"] is NSNull)
        XCTAssertEqual(try JSONDecoder().decode(Summary.self, from: JSONEncoder().encode(summary)), summary)
        // method and dataset are typed: a summary naming neither a known method nor dataset does not load.
        for (key, value) in [("method", "nonsense"), ("dataset", "cifar")] {
            var edited = try XCTUnwrap(object)
            edited[key] = value
            let data = try JSONSerialization.data(withJSONObject: edited)
            XCTAssertThrowsError(try JSONDecoder().decode(Summary.self, from: data), key)
        }
    }

    // The reference summary was computed from its own examples with float64 sums
    // (checked in Python); ours must reproduce it to the last bit.
    func testReferenceSummariesAreReproducedExactly() throws {
        for name in ["iba-agnews-layer3.json", "iba-rte-layer3.json"] {
            let reference = try loadReference(name)
            let records = reference.examples.map { entry in
                ExampleRecord(index: entry.index, target: entry.target, tokens: entry.tokens,
                              attribution: entry.attribution.map(Float.init), originalProb: Float(entry.originalProb),
                              originalCorrect: entry.originalCorrect, degradationProb: entry.degradationProb.map(Float.init),
                              degradationCorrect: entry.degradationCorrect)
            }
            let summary = try summarize(records: records, method: .iba, dataset: .agnews, layer: 3, seconds: 0, options: [:])
            XCTAssertEqual(summary.n, reference.summary.n, name)
            XCTAssertEqual(summary.originalAccuracy, reference.summary.originalAccuracy, name)
            XCTAssertEqual(summary.originalProb, reference.summary.originalProb, name)
            XCTAssertEqual(summary.degradationProb, reference.summary.degradationProb, name)
            XCTAssertEqual(summary.degradationAccuracy, reference.summary.degradationAccuracy, name)
        }
    }
}
