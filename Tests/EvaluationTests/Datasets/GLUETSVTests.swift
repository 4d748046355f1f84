import Foundation
import XCTest
@testable import Evaluation

final class GLUETSVTests: XCTestCase {
    func testRTEMapsEntailmentToZeroAndAnythingElseToOne() throws {
        let tsv = "index\tsentence1\tsentence2\tlabel\n"
            + "0\tA man sleeps.\tSomeone sleeps.\tentailment\n"
            + "1\t\"Quoted\" text stays \"as is\".\tNo.\tnot_entailment\r\n"
            + "\n"
            + "2\t  padded  \tb\tcontradiction  \n"
        let url = try writeFile(try temporaryDirectory(self), "dev.tsv", tsv)
        let load = try loadDataset(.rte, path: url, skipBadRows: false)
        XCTAssertEqual(load.examples, [
            LabeledExample(text: "A man sleeps.", textPair: "Someone sleeps.", label: 0),
            LabeledExample(text: "\"Quoted\" text stays \"as is\".", textPair: "No.", label: 1),
            // line.strip() removes only the line's outer whitespace, not the fields'.
            LabeledExample(text: "  padded  ", textPair: "b", label: 1),
        ])
    }

    func testRTEWrongColumnCountNamesTheLine() throws {
        let tsv = "index\tsentence1\tsentence2\tlabel\n0\ta\tb\tentailment\n1\ta\tb\n2\ta\tb\tentailment\n"
        let url = try writeFile(try temporaryDirectory(self), "dev.tsv", tsv)
        XCTAssertThrowsError(try loadDataset(.rte, path: url, skipBadRows: false)) { error in
            guard case let .malformedRow(path, line, reason)? = error as? EvaluationError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, url.path)
            XCTAssertEqual(line, 3)
            XCTAssertTrue(reason.contains("found 3"), reason)
        }
        let load = try loadDataset(.rte, path: url, skipBadRows: true)
        XCTAssertEqual(load.examples.count, 2)
        XCTAssertEqual(load.skippedRows.map(\.line), [3])
    }

    func testMNLIColumnsEightNineAndLastLabel() throws {
        func row(_ i: Int, _ s1: String, _ s2: String, _ label: String) -> String {
            (["\(i)", "p", "q", "fiction", "(bp1)", "(bp2)", "(p1)", "(p2)", s1, s2, "l1", "l2"] + [label]).joined(separator: "\t")
        }
        let tsv = "header line\n" + [
            row(0, "He ran.", "He moved.", "entailment"),
            row(1, "It is red.", "It is blue.", "contradiction"),
            row(2, "She sang.", "She sang well.", "neutral"),
            row(3, "x", "y", "unknown"),
            "4\tonly\tthree",
        ].joined(separator: "\n") + "\n"
        let url = try writeFile(try temporaryDirectory(self), "dev_matched.tsv", tsv)
        XCTAssertThrowsError(try loadDataset(.mnli, path: url, skipBadRows: false)) { error in
            guard case let .malformedRow(_, line, reason)? = error as? EvaluationError else { return XCTFail("\(error)") }
            XCTAssertEqual(line, 5)
            XCTAssertTrue(reason.contains("\"unknown\""), reason)
        }
        let load = try loadDataset(.mnli, path: url, skipBadRows: true)
        XCTAssertEqual(load.examples, [
            LabeledExample(text: "He ran.", textPair: "He moved.", label: 1),
            LabeledExample(text: "It is red.", textPair: "It is blue.", label: 0),
            LabeledExample(text: "She sang.", textPair: "She sang well.", label: 2),
        ])
        XCTAssertEqual(load.skippedRows.map(\.line), [5, 6])
    }

    // 139 pairs: 70 entailment, 69 not_entailment (`cut -f4 dev.tsv | sort | uniq -c`).
    func testSharedRTEDevSet() throws {
        let url = try sharedDirectory().appendingPathComponent("data/rte/dev.tsv")
        let load = try loadDataset(.rte, path: url, skipBadRows: false)
        XCTAssertEqual(load.examples.count, 139)
        XCTAssertEqual(load.examples.filter { $0.label == 0 }.count, 70)
        XCTAssertEqual(load.examples.first?.textPair, "Lufthansa Technik Automotive fires 30 workers.")
        XCTAssertEqual(load.examples.first?.label, 1)
    }
}
