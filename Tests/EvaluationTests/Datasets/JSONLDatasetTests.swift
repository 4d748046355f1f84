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

/// A JSONL dataset as an offset index (`DatasetRows`): the rows `loadDataset` reads, read back one at a time.
final class IndexedJSONLTests: XCTestCase {
    func testTheIndexHoldsTheRowsTheLoaderReadsAcrossChunksBOMBlankAndBadLines() throws {
        let directory = try temporaryDirectory(self)
        let url = directory.appendingPathComponent("rows.jsonl")
        var text = "\u{FEFF}{\"text\":\"first\",\"label\":1}\r\n\n  \n{\"text\":\"bad\"}\n"
        // Enough rows that lines cross the 1 MiB chunks the indexer reads.
        for i in 0..<30_000 {
            text += "{\"text\":\"row \(i) café \(String(repeating: "w", count: i % 50))\",\"label\":\(i % 3)}\n"
        }
        text += "{\"text\":\"a\",\"text_pair\":\"b\",\"label\":2}"  // no final newline
        try Data(text.utf8).write(to: url)
        let loaded = try loadDataset(.jsonl, path: url, skipBadRows: true)
        let (rows, skipped) = try indexJSONLDataset(url, skipBadRows: true, encoding: .utf8)
        XCTAssertEqual(rows.count, loaded.examples.count)
        XCTAssertEqual(skipped, loaded.skippedRows)
        XCTAssertEqual(skipped.map(\.line), [4])
        for index in [0, 1, 2, 17_000, 29_999, rows.count - 1] {
            XCTAssertEqual(try rows.example(index), loaded.examples[index], "row \(index)")
            XCTAssertEqual(rows.label(index), loaded.examples[index].label)
        }
        XCTAssertEqual(rows.largestLabel, 2)
        XCTAssertThrowsError(try indexJSONLDataset(url, skipBadRows: false, encoding: .utf8)) { error in
            XCTAssertTrue("\(error)".contains("4"), "\(error)")
        }
    }

    /// A row read back after the file changed under the run is refused, not silently another example.
    func testARowChangedUnderTheRunIsRefused() throws {
        let url = try temporaryDirectory(self).appendingPathComponent("rows.jsonl")
        try Data("{\"text\":\"one\",\"label\":0}\n{\"text\":\"two\",\"label\":1}\n".utf8).write(to: url)
        let (rows, _) = try indexJSONLDataset(url, skipBadRows: false, encoding: .utf8)
        XCTAssertEqual(try rows.example(1), LabeledExample(text: "two", label: 1))
        try Data("{\"text\":\"one\",\"label\":0}\n{\"text\":\"TWO\",\"label\":0}\n".utf8).write(to: url)
        XCTAssertThrowsError(try rows.example(1)) { error in
            XCTAssertTrue("\(error)".contains("changed"), "\(error)")
        }
    }
}
