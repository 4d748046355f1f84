import Foundation
import XCTest
@testable import Evaluation

final class IMDBDirectoryTests: XCTestCase {
    func testPosThenNegSortedByNameAndStripped() throws {
        let root = try temporaryDirectory(self)
        _ = try writeFile(root, "neg/2_1.txt", "  awful \n")
        _ = try writeFile(root, "neg/10_3.txt", "bad")
        _ = try writeFile(root, "pos/b.txt", "\u{00A0}great\t")
        _ = try writeFile(root, "pos/a.txt", "fine")
        _ = try writeFile(root, "pos/notes.md", "ignored")
        _ = try writeFile(root, "pos/Z.txt", "upper first")
        let load = try loadDataset(.imdb, path: root, skipBadRows: false)
        // Code point order: "Z" < "a" < "b"; "10_3" < "2_1".
        XCTAssertEqual(load.examples, [
            LabeledExample(text: "upper first", label: 0),
            LabeledExample(text: "fine", label: 0),
            LabeledExample(text: "great", label: 0),
            LabeledExample(text: "bad", label: 1),
            LabeledExample(text: "awful", label: 1),
        ])
    }

    func testMissingSubdirectoryAndBadFile() throws {
        let root = try temporaryDirectory(self)
        _ = try writeFile(root, "pos/a.txt", "ok")
        XCTAssertThrowsError(try loadDataset(.imdb, path: root, skipBadRows: true)) { error in
            guard case let .unreadable(path, _)? = error as? EvaluationError else { return XCTFail("\(error)") }
            XCTAssertTrue(path.hasSuffix("/neg"), path)
        }
        let bad = try writeFile(root, "neg/x.txt", [0x62, 0xC3])
        XCTAssertThrowsError(try loadDataset(.imdb, path: root, skipBadRows: false)) { error in
            XCTAssertEqual(error as? EvaluationError, .malformedRow(path: bad.path, line: 0, reason: InvalidText(offset: 1, line: 1).reason))
        }
        let load = try loadDataset(.imdb, path: root, skipBadRows: true)
        XCTAssertEqual(load.examples, [LabeledExample(text: "ok", label: 0)])
        XCTAssertEqual(load.skippedRows.count, 1)
    }
}
