import Foundation
import XCTest
@testable import Evaluation

final class JSONLDatasetTests: XCTestCase {
    func testTextPairsLabelsAndErrors() throws {
        let jsonl = """
        {"text": "one", "label": 2}

        {"text": "a", "text_pair": "b", "label": 0}
        {"text": "no label"}
        {"text": "neg", "label": -1}
        not json
        {"text": "last", "label": 1}
        """
        let url = try writeFile(try temporaryDirectory(self), "data.jsonl", jsonl)
        XCTAssertThrowsError(try loadDataset(.jsonl, path: url, skipBadRows: false)) { error in
            guard case let .malformedRow(_, line, reason)? = error as? EvaluationError else { return XCTFail("\(error)") }
            XCTAssertEqual(line, 4)
            XCTAssertTrue(reason.contains("\"label\""), reason)
        }
        let load = try loadDataset(.jsonl, path: url, skipBadRows: true)
        XCTAssertEqual(load.examples, [
            LabeledExample(text: "one", label: 2),
            LabeledExample(text: "a", textPair: "b", label: 0),
            LabeledExample(text: "last", label: 1),
        ])
        XCTAssertEqual(load.skippedRows.map(\.line), [4, 5, 6])
    }

    func testBytesThatAreNotUTF8AreRefusedWithTheirOffsetOrReadAsLatin1() throws {
        let bytes = Array("{\"text\": \"ok\", \"label\": 0}\n{\"text\": \"caf".utf8) + [0xE9] + Array("\", \"label\": 1}\n".utf8)
        let url = try writeFile(try temporaryDirectory(self), "latin1.jsonl", bytes)
        XCTAssertThrowsError(try loadDataset(.jsonl, path: url, skipBadRows: false)) { error in
            XCTAssertEqual(error as? EvaluationError, .malformedRow(
                path: url.path, line: 2, reason: "invalid UTF-8 at byte offset 40 (line 2); pass --encoding latin-1 if the file is Latin-1"))
        }
        let load = try loadDataset(.jsonl, path: url, skipBadRows: false, encoding: .latin1)
        XCTAssertEqual(load.examples, [LabeledExample(text: "ok", label: 0), LabeledExample(text: "café", label: 1)])
    }
}
