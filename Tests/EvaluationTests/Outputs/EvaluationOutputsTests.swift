import Foundation
import XCTest
@testable import Evaluation

final class EvaluationOutputsTests: XCTestCase {
    func sampleRecords() -> [ExampleRecord] {
        [
            ExampleRecord(index: 12, target: 2, tokens: ["[CLS]", "hi", "[SEP]"], attribution: [0.5, 1, 0],
                          originalProb: 0.75, originalCorrect: true, degradationProb: [0.5, 0.25], degradationCorrect: [true, false],
                          aopcComprehensiveness: 0.125, aopcSufficiency: 0.5),
            ExampleRecord.failure(index: 4, target: 1, reason: "no tokens"),
            ExampleRecord(index: 0, target: 0, tokens: ["[CLS]", "yo", "[SEP]"], attribution: [0, 1, 0.25],
                          originalProb: 0.25, originalCorrect: false, degradationProb: [0.5, 0.5], degradationCorrect: [false, true]),
        ]
    }

    func testWritesSummaryResultsAndTheOriginalsFourFiles() throws {
        let directory = try temporaryDirectory(self).appendingPathComponent("out")
        let records = sampleRecords()
        let summary = try summarize(records: records, method: .iba, dataset: .agnews, layer: 8, seconds: 1.5,
                                    options: ["steps": "10"])
        try writeEvaluationOutputs(directory: directory, records: records, summary: summary)

        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        XCTAssertEqual(names, ["degrad_prob_iba_agnews.npy", "degrade_acc_iba_agnews.npy", "original_acc_iba_agnews.npy",
                               "original_prob_iba_agnews.npy", "results.jsonl", "summary.json"])

        func npy(_ name: String) throws -> ParsedNPY {
            try ParsedNPY(Array(try Data(contentsOf: directory.appendingPathComponent(name))))
        }
        // Shapes and dtypes of the original's np.save calls (main.py): scalar means
        // and one value per degradation step.
        XCTAssertEqual(try npy("original_prob_iba_agnews.npy").dictionary, "{'descr': '<f8', 'fortran_order': False, 'shape': (), }")
        XCTAssertEqual(try npy("original_prob_iba_agnews.npy").payload, [0, 0, 0, 0, 0, 0, 0xe0, 0x3f])  // 0.5
        XCTAssertEqual(try npy("original_acc_iba_agnews.npy").payload, [0, 0, 0, 0, 0, 0, 0xe0, 0x3f])   // 0.5
        XCTAssertEqual(try npy("degrad_prob_iba_agnews.npy").dictionary, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }")
        XCTAssertEqual(try npy("degrad_prob_iba_agnews.npy").payload, [0, 0, 0, 0x3f, 0, 0, 0xc0, 0x3e])  // 0.5, 0.375
        XCTAssertEqual(try npy("degrade_acc_iba_agnews.npy").dictionary, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }")

        let summaryText = try String(contentsOf: directory.appendingPathComponent("summary.json"), encoding: .utf8)
        XCTAssertEqual(try JSONDecoder().decode(Summary.self, from: Data(summaryText.utf8)), summary)
        XCTAssertTrue(summaryText.contains("\n  \"aopc_comprehensiveness\" : 0.125,\n  \"aopc_sufficiency\" : 0.5,\n"), summaryText)

        let results = try readResultsJSONL(directory.appendingPathComponent("results.jsonl"), tolerateTornLastLine: false)
        XCTAssertEqual(results.records, records)
        XCTAssertFalse(results.droppedTornLastLine)
    }

    func testTornLastLineIsToleratedOnlyWhenAsked() throws {
        let directory = try temporaryDirectory(self)
        let url = directory.appendingPathComponent("results.jsonl")
        let records = sampleRecords()
        for record in records { try appendResult(record, to: url) }
        let complete = try Data(contentsOf: url)
        var torn = complete
        torn.append(contentsOf: Array("{\"index\": 5, \"tar".utf8))
        try torn.write(to: url)

        XCTAssertThrowsError(try readResultsJSONL(url, tolerateTornLastLine: false)) { error in
            guard case let .malformedRow(_, line, _)? = error as? EvaluationError else { return XCTFail("\(error)") }
            XCTAssertEqual(line, 4)
        }
        let resumed = try readResultsJSONL(url, tolerateTornLastLine: true)
        XCTAssertEqual(resumed.records, records)
        XCTAssertTrue(resumed.droppedTornLastLine)
        XCTAssertEqual(resumed.validByteCount, complete.count)

        // A bad line in the middle is never a torn write.
        var middle = Data("garbage\n".utf8)
        middle.append(complete)
        try middle.write(to: url)
        XCTAssertThrowsError(try readResultsJSONL(url, tolerateTornLastLine: true))
    }

    func testAttributionsFile() throws {
        let directory = try temporaryDirectory(self)
        let good = try writeFile(directory, "a.jsonl", "{\"index\": 3, \"attribution\": [0.5, 1, -2]}\n\n{\"index\": 0, \"attribution\": []}\n")
        XCTAssertEqual(try readAttributionsJSONL(good), [3: [0.5, 1, -2], 0: []])
        let repeated = try writeFile(directory, "b.jsonl", "{\"index\": 3, \"attribution\": [1]}\n{\"index\": 3, \"attribution\": [2]}\n")
        XCTAssertThrowsError(try readAttributionsJSONL(repeated)) { error in
            XCTAssertEqual(error as? EvaluationError, .malformedRow(path: repeated.path, line: 2, reason: "index 3 was already given on line 1"))
        }
        let bad = try writeFile(directory, "c.jsonl", "{\"index\": 1, \"attribution\": \"x\"}\n")
        XCTAssertThrowsError(try readAttributionsJSONL(bad)) { error in
            guard case let .malformedRow(_, line, _)? = error as? EvaluationError else { return XCTFail("\(error)") }
            XCTAssertEqual(line, 1)
        }
    }

    func testAttributionsOutsideFloat32AreNamedNotInvalidJSON() throws {
        let directory = try temporaryDirectory(self)
        let huge = try writeFile(directory, "huge.jsonl", "{\"index\": 0, \"attribution\": [1]}\n{\"index\": 4, \"attribution\": [0.5, -1e39]}\n")
        XCTAssertThrowsError(try readAttributionsJSONL(huge)) { error in
            XCTAssertEqual(error as? EvaluationError, .malformedRow(
                path: huge.path, line: 2,
                reason: "attribution value -1e+39 at position 1 (index 4) is outside the float32 range ±\(Float.greatestFiniteMagnitude)"))
        }
        // The largest float32 itself is accepted.
        let largest = try writeFile(directory, "largest.jsonl", "{\"index\": 0, \"attribution\": [\(Float.greatestFiniteMagnitude)]}\n")
        XCTAssertEqual(try readAttributionsJSONL(largest), [0: [Float.greatestFiniteMagnitude]])
    }

    func testAttributionsWithBytesThatAreNotUTF8NameTheOffset() throws {
        let bytes = Array("{\"index\": 0, \"attribution\": [1]}\n{\"index\": 1, \"x\": \"caf".utf8) + [0xE9] + Array("\", \"attribution\": [1]}\n".utf8)
        let url = try writeFile(try temporaryDirectory(self), "latin1.jsonl", bytes)
        XCTAssertThrowsError(try readAttributionsJSONL(url)) { error in
            XCTAssertEqual(error as? EvaluationError, .malformedRow(
                path: url.path, line: 2, reason: "invalid UTF-8 at byte offset 55 (line 2); pass --encoding latin-1 if the file is Latin-1"))
        }
    }
}
