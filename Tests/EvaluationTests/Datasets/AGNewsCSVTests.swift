import Foundation
import XCTest
@testable import Evaluation

final class AGNewsCSVTests: XCTestCase {
    // Expected rows come from Python's csv.reader on the same bytes (opened in
    // text mode, as the original's process_agnews), printed by hand.
    func testQuotingEscapesEmbeddedNewlinesAndBackslashes() throws {
        let csv = "\"1\",\"Title, with comma\",\"Desc with \"\"quotes\"\" and a \\\\ backslash\"\n"
            + "\"2\",\"Multi\r\nline title\",\"desc\"\r\n"
            + "3,unquoted \"quote\" inside,plain\n"
            + "\"4\",\"a\"\"b\",\"\"\n"
            + "\n"
            + "\" 2 \",\"x\"y,z\n"
        let url = try writeFile(try temporaryDirectory(self), "t.csv", csv)
        let load = try loadDataset(.agnews, path: url, skipBadRows: false)
        XCTAssertEqual(load.examples, [
            LabeledExample(text: "Title, with comma Desc with \"quotes\" and a \\\\ backslash", label: 0),
            LabeledExample(text: "Multi\nline title desc", label: 1),
            LabeledExample(text: "unquoted \"quote\" inside plain", label: 2),
            LabeledExample(text: "a\"b ", label: 3),
            LabeledExample(text: "xy z", label: 1),
        ])
        XCTAssertTrue(load.skippedRows.isEmpty)
    }

    func testWrongColumnCountNamesFileAndLine() throws {
        let csv = "\"1\",\"a\",\"b\"\n\"2\",\"multi\nline\",\"c\"\n\"3\",\"only two\"\n\"4\",\"d\",\"e\"\n"
        let url = try writeFile(try temporaryDirectory(self), "bad.csv", csv)
        XCTAssertThrowsError(try loadDataset(.agnews, path: url, skipBadRows: false)) { error in
            XCTAssertEqual(error as? EvaluationError, .malformedRow(
                path: url.path, line: 4, reason: "expected 3 columns (label, title, description), found 2"))
            XCTAssertTrue("\(error)".contains("bad.csv:4:"), "\(error)")
        }
        let load = try loadDataset(.agnews, path: url, skipBadRows: true)
        XCTAssertEqual(load.examples.map(\.label), [0, 1, 3])
        XCTAssertEqual(load.skippedRows.map(\.line), [4])
    }

    func testBadLabelsAreNeverShifted() throws {
        let csv = "\"1\",\"a\",\"b\"\n\"5\",\"c\",\"d\"\n\"0\",\"e\",\"f\"\n\"x\",\"g\",\"h\"\n\"4\",\"i\",\"j\"\n"
        let url = try writeFile(try temporaryDirectory(self), "labels.csv", csv)
        XCTAssertThrowsError(try loadDataset(.agnews, path: url, skipBadRows: false)) { error in
            guard case let .malformedRow(_, line, reason)? = error as? EvaluationError else {
                return XCTFail("unexpected error \(error)")
            }
            XCTAssertEqual(line, 2)
            XCTAssertTrue(reason.contains("\"5\""), reason)
        }
        let load = try loadDataset(.agnews, path: url, skipBadRows: true)
        XCTAssertEqual(load.examples, [LabeledExample(text: "a b", label: 0), LabeledExample(text: "i j", label: 3)])
        XCTAssertEqual(load.skippedRows.map(\.line), [2, 3, 4])
    }

    func testUnterminatedQuoteIsAnErrorAtTheOpeningLine() throws {
        // The quote opened before "unclosed" swallows the unquoted row after it.
        let csv = "\"1\",\"a\",\"b\"\n\"2\",\"x\",\"unclosed\n3,d,e\n"
        let url = try writeFile(try temporaryDirectory(self), "open.csv", csv)
        for skip in [false, true] {
            XCTAssertThrowsError(try loadDataset(.agnews, path: url, skipBadRows: skip)) { error in
                guard case let .malformedRow(_, line, reason)? = error as? EvaluationError else {
                    return XCTFail("unexpected error \(error)")
                }
                XCTAssertEqual(line, 2)
                XCTAssertTrue(reason.contains("unterminated"), reason)
            }
        }
    }

    func testInvalidUTF8IsReportedPerRow() throws {
        var bytes = Array("\"1\",\"good\",\"row\"\n\"2\",\"bad ".utf8)
        bytes += [0xFF, 0xFE]
        bytes += Array("\",\"row\"\n\"3\",\"also\",\"good\"\n".utf8)
        let url = try writeFile(try temporaryDirectory(self), "utf8.csv", bytes)
        XCTAssertThrowsError(try loadDataset(.agnews, path: url, skipBadRows: false)) { error in
            XCTAssertEqual(error as? EvaluationError, .malformedRow(path: url.path, line: 2, reason: "invalid UTF-8 at byte offset 26 (line 2); pass --encoding latin-1 if the file is Latin-1"))
        }
        let load = try loadDataset(.agnews, path: url, skipBadRows: true)
        XCTAssertEqual(load.examples.map(\.text), ["good row", "also good"])
        XCTAssertEqual(load.skippedRows.map(\.line), [2])
    }

    func testLatin1EncodingDecodesEveryByte() throws {
        // "café" in Latin-1 is 63 61 66 E9: not UTF-8, so refused by default, never shortened to "caf".
        let bytes = Array("\"1\",\"title\",\"\n".utf8) + Array("caf".utf8) + [0xE9] + Array("\"\n".utf8)
        let url = try writeFile(try temporaryDirectory(self), "latin1.csv", bytes)
        XCTAssertThrowsError(try loadDataset(.agnews, path: url, skipBadRows: false)) { error in
            XCTAssertEqual(error as? EvaluationError,
                           .malformedRow(path: url.path, line: 1, reason: "invalid UTF-8 at byte offset 17 (line 2); pass --encoding latin-1 if the file is Latin-1"))
        }
        let load = try loadDataset(.agnews, path: url, skipBadRows: false, encoding: .latin1)
        XCTAssertEqual(load.examples, [LabeledExample(text: "title \ncafé", label: 0)])
    }

    func testMissingFileIsUnreadable() {
        let url = URL(fileURLWithPath: "/nonexistent/iba/test.csv")
        XCTAssertThrowsError(try loadDataset(.agnews, path: url, skipBadRows: true)) { error in
            guard case .unreadable(let path, _)? = error as? EvaluationError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, url.path)
        }
    }

    // Counts from Python: collections.Counter(row[0] for row in csv.reader(open(test.csv))).
    func testSharedAGNewsTestSet() throws {
        let url = try sharedDirectory().appendingPathComponent("data/agnews/test.csv")
        let load = try loadDataset(.agnews, path: url, skipBadRows: false)
        XCTAssertEqual(load.examples.count, 1900)
        XCTAssertEqual((0...3).map { label in load.examples.filter { $0.label == label }.count }, [498, 478, 472, 452])
        XCTAssertEqual(load.examples.first?.text,
                       "Fears for T N pension after talks Unions representing workers at Turner   Newall say they are 'disappointed' after talks with stricken parent firm Federal Mogul.")
        XCTAssertTrue(load.examples.allSatisfy { $0.textPair == nil })
    }
}
