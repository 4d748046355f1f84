import Foundation
import XCTest
import Evaluation

/// Every command that writes outputs ends by naming the one file (or directory) to open.
final class MainOutputLineTests: XCTestCase {
    func lastLine(_ text: String) -> String {
        text.split(separator: "\n").last.map(String.init) ?? ""
    }

    func assertEndsNaming(_ path: URL, _ run: CommandResult, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(run.status, 0, run.stderr, file: file, line: line)
        XCTAssertEqual(lastLine(run.stderr), "open: \(path.path)", run.stderr.suffix(2000).description, file: file, line: line)
        XCTAssertTrue(FileManager.default.fileExists(atPath: path.path), "\(path.path) was not written", file: file, line: line)
    }

    func testEvaluatePlotAndCoordinatorEndWithTheFileToOpen() throws {
        let iba = try Executables.url("iba"), coordinator = try Executables.url("iba-coordinator")
        _ = try Executables.url("iba-worker")
        let directory = try temporaryDirectory(self)
        let model = try makeFixtureModel(in: directory)
        let options = ["--model", model.path, "--test-sample", "3", "--layer", "0", "--batch", "5", "--quiet"]

        let evaluated = directory.appendingPathComponent("evaluate")
        assertEndsNaming(evaluated.appendingPathComponent("report.html"),
                         try runCommand(iba, ["evaluate"] + options + ["--output", evaluated.path]))
        let several = directory.appendingPathComponent("methods")
        assertEndsNaming(several.appendingPathComponent("report.html"),
                         try runCommand(iba, ["evaluate"] + options + ["--methods", "iba,random", "--output", several.path]))

        let clustered = directory.appendingPathComponent("cluster")
        assertEndsNaming(clustered.appendingPathComponent("report.html"),
                         try runCommand(coordinator, ["--workers", "1"] + options + ["--output", clustered.path]))

        let svg = directory.appendingPathComponent("curves.svg")
        assertEndsNaming(svg, try runCommand(iba, ["plot", evaluated.path, clustered.appendingPathComponent("summary.json").path,
                                                   "--output", svg.path]))
    }

    func testExplainWithOutputAndFinetuneEndWithWhatTheyWrote() throws {
        let iba = try Executables.url("iba")
        let directory = try temporaryDirectory(self)
        let model = try makeFixtureModel(in: directory)
        for format in ["html", "svg", "json", "text"] {
            let output = directory.appendingPathComponent("explain.\(format)")
            assertEndsNaming(output, try runCommand(iba, ["explain", "--model", model.path, "--layer", "0", "--format", format,
                                                          "--output", output.path]))
        }
        // Without --output the heatmap goes to standard output and no file is named.
        let shown = try runCommand(iba, ["explain", "--model", model.path, "--layer", "0"])
        XCTAssertEqual(shown.status, 0, shown.stderr)
        XCTAssertFalse(shown.stderr.contains("open: "), shown.stderr)

        let rows = try String(contentsOf: EmbeddedData.agnewsDemoTrain(), encoding: .utf8).split(separator: "\n").prefix(16)
        let data = directory.appendingPathComponent("train.csv")
        try (rows.joined(separator: "\n") + "\n").write(to: data, atomically: true, encoding: .utf8)
        let tuned = directory.appendingPathComponent("tuned")
        assertEndsNaming(tuned, try runCommand(iba, ["finetune", "--model", model.path, "--train", data.path, "--eval", data.path,
                                                     "--epochs", "1", "--batch-size", "8", "--quiet", "--output", tuned.path]))
    }
}
