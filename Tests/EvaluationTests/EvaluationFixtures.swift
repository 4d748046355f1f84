import Foundation
import XCTest
import TestSupport

/// The shared folder (see TestSupport's `Shared`), or a skip.
func sharedDirectory() throws -> URL { try Shared.root() }

/// A fresh temporary directory, removed when the test ends.
func temporaryDirectory(_ test: XCTestCase) throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("iba-evaluation-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

/// Writes `bytes` to `name` inside `directory` and returns its URL.
func writeFile(_ directory: URL, _ name: String, _ bytes: [UInt8]) throws -> URL {
    let url = directory.appendingPathComponent(name)
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(bytes).write(to: url)
    return url
}

func writeFile(_ directory: URL, _ name: String, _ text: String) throws -> URL {
    try writeFile(directory, name, Array(text.utf8))
}

/// One reference file under shared/reference (decoded with JSONDecoder, whose
/// number parsing is exact; JSONSerialization's is not on every platform).
struct ReferenceRun: Decodable {
    struct Summary: Decodable {
        var n: Int
        var originalAccuracy: Double
        var originalProb: Double
        var degradationProb: [Double]
        var degradationAccuracy: [Double]
    }
    struct Example: Decodable {
        var index: Int
        var target: Int
        var tokens: [String]
        var attribution: [Double]
        var originalProb: Double
        var originalCorrect: Bool
        var degradationProb: [Double]
        var degradationCorrect: [Bool]
    }
    var summary: Summary
    var examples: [Example]
}

func loadReference(_ name: String) throws -> ReferenceRun {
    let url = try sharedDirectory().appendingPathComponent("reference/\(name)")
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    return try decoder.decode(ReferenceRun.self, from: Data(contentsOf: url))
}
