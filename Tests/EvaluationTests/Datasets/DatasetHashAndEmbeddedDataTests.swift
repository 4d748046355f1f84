import Digest
import Foundation
import XCTest
@testable import Evaluation

final class DatasetHashAndEmbeddedDataTests: XCTestCase {
    // SHA-256 test vectors of FIPS 180-4 (and the NIST examples): "", "abc", the
    // two-block 448-bit message, and a million "a" (many blocks, streamed).
    func testSHA256KnownVectors() throws {
        let directory = try temporaryDirectory(self)
        let vectors = [
            ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
            (String(repeating: "a", count: 1_000_000), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
        ]
        for (text, expected) in vectors {
            let url = try writeFile(directory, "f\(text.count).jsonl", text)
            XCTAssertEqual(try datasetHash(.jsonl, path: url), "sha256:" + expected)
            XCTAssertEqual(try fileContentHash(url), "sha256:" + expected)
            XCTAssertEqual(contentHash(Data(text.utf8)), "sha256:" + expected)
        }
        // Streaming in odd pieces gives the same digest as one piece.
        var pieces = SHA256()
        let bytes = Array(vectors[2].0.utf8)
        for start in stride(from: 0, to: bytes.count, by: 7) { pieces.add(bytes[start..<min(start + 7, bytes.count)]) }
        XCTAssertEqual(pieces.finish(), vectors[2].1)
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
