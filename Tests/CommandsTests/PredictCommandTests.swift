import Foundation
import XCTest

/// The `iba predict` command as the README shows it, on a small fixture model.
final class PredictCommandTests: XCTestCase {
    func testPredictJSONAndStandardInput() throws {
        let iba = try Executables.url("iba")
        let model = try makeFixtureModel(in: try temporaryDirectory(self))
        let single = try runCommand(iba, ["predict", "--model", model.path, "--text", "Oil prices rise as supply falls", "--json"])
        XCTAssertEqual(single.status, 0, single.stderr)
        let object = try JSONSerialization.jsonObject(with: Data(single.stdout.utf8)) as? [String: Any]
        let probabilities = object?["probabilities"] as? [Double] ?? []
        XCTAssertEqual(probabilities.count, 4)
        XCTAssertEqual(probabilities.reduce(0, +), 1, accuracy: 1e-5)
        XCTAssertEqual((object?["tokens"] as? [String])?.first, "[CLS]")

        let input = try temporaryDirectory(self).appendingPathComponent("in.jsonl")
        try "{\"text\": \"Stocks fall\"}\n{\"text\": \"Team wins\", \"text_pair\": \"A cup final\"}\n".write(to: input, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = iba
        process.arguments = ["predict", "--model", model.path]
        process.standardInput = try FileHandle(forReadingFrom: input)
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let lines = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n")
        process.waitUntilExit()
        XCTAssertEqual(lines.count, 2, "one JSON line per input line")
    }
}
