import Foundation
import XCTest
@testable import Evaluation

final class DatasetHashAndEmbeddedDataTests: XCTestCase {
    // FNV-1a 64 test vectors from the algorithm's published table:
    // "" -> cbf29ce484222325, "a" -> af63dc4c8601ec8c, "foobar" -> 85944171f73967e8.
    func testFNV1aKnownVectors() throws {
        let directory = try temporaryDirectory(self)
        for (text, expected) in [("", "cbf29ce484222325"), ("a", "af63dc4c8601ec8c"), ("foobar", "85944171f73967e8")] {
            let url = try writeFile(directory, "f\(text.count).jsonl", text)
            XCTAssertEqual(try datasetHash(.jsonl, path: url), "fnv1a64:" + expected)
        }
    }

    func testDirectoryHashChangesWithContentAndNames() throws {
        let root = try temporaryDirectory(self)
        _ = try writeFile(root, "pos/a.txt", "good")
        _ = try writeFile(root, "neg/b.txt", "bad")
        let first = try datasetHash(.imdb, path: root)
        XCTAssertEqual(first, try datasetHash(.imdb, path: root))
        _ = try writeFile(root, "neg/b.txt", "bad!")
        let second = try datasetHash(.imdb, path: root)
        XCTAssertNotEqual(first, second)
        try FileManager.default.moveItem(at: root.appendingPathComponent("neg/b.txt"), to: root.appendingPathComponent("neg/c.txt"))
        XCTAssertNotEqual(second, try datasetHash(.imdb, path: root))
    }

    // Resources/README.txt: 250 rows per class for train, 50 for test.
    func testEmbeddedDemoSamplesAreBalancedAGNews() throws {
        for (url, perClass) in [(try EmbeddedData.agnewsDemoTrain(), 250), (try EmbeddedData.agnewsDemoTest(), 50)] {
            let load = try loadDataset(.agnews, path: url, skipBadRows: false)
            XCTAssertEqual((0...3).map { label in load.examples.filter { $0.label == label }.count },
                           Array(repeating: perClass, count: 4), url.lastPathComponent)
        }
    }

    func testEmbeddedTestRowsAreRowsOfTheSharedTestSet() throws {
        let shared = try loadDataset(.agnews, path: try sharedDirectory().appendingPathComponent("data/agnews/test.csv"),
                                     skipBadRows: false).examples
        let demo = try loadDataset(.agnews, path: try EmbeddedData.agnewsDemoTest(), skipBadRows: false).examples
        XCTAssertEqual(demo.first, shared.first)
        // Demo rows keep their order: each appears in the shared file after the previous one.
        var cursor = shared.startIndex
        for example in demo {
            guard let found = shared[cursor...].firstIndex(of: example) else { return XCTFail("demo row not found in order: \(example.text)") }
            cursor = found + 1
        }
    }
}
