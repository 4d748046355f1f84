import Foundation
import XCTest

/// The `iba explain` command as the README shows it, on a small fixture model.
final class ExplainCommandTests: XCTestCase {
    func testExplainFormats() throws {
        let iba = try Executables.url("iba")
        let directory = try temporaryDirectory(self)
        let model = try makeFixtureModel(in: directory)
        let json = try runCommand(iba, ["explain", "--model", model.path, "--layer", "1", "--format", "json"])
        XCTAssertEqual(json.status, 0, json.stderr)
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let tokens = object?["tokens"] as? [String] ?? []
        let attribution = object?["attribution"] as? [Double] ?? []
        XCTAssertEqual(tokens.count, attribution.count)
        XCTAssertEqual(attribution.max(), 1)
        XCTAssertEqual((object?["losses"] as? [[Double]])?.count, 10)
        XCTAssertEqual(object?["layer"] as? Int, 1)

        let layers = try runCommand(iba, ["explain", "--model", model.path, "--layers", "all", "--format", "json"])
        let perLayer = (try JSONSerialization.jsonObject(with: Data(layers.stdout.utf8)) as? [String: Any])?["attribution"] as? [[Double]]
        XCTAssertEqual(perLayer?.count, 2, "one row per layer")

        for format in ["html", "svg", "text"] {
            let file = directory.appendingPathComponent("heatmap.\(format)")
            let run = try runCommand(iba, ["explain", "--model", model.path, "--layers", "all", "--format", format, "--output", file.path])
            XCTAssertEqual(run.status, 0, run.stderr)
            let text = try String(contentsOf: file, encoding: .utf8)
            XCTAssertTrue(text.contains("oil") || text.contains("[UNK]"), "\(format) shows the tokens")
        }
        for method in ["ig", "lime", "random"] {
            let run = try runCommand(iba, ["explain", "--model", model.path, "--method", method, "--format", "json"])
            XCTAssertEqual(run.status, 0, "\(method): \(run.stderr)")
        }
    }
}
