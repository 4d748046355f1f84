import Foundation
import XCTest

/// Issue 12 (small items): file errors read "cannot ACTION PATH: REASON", bytes that are not UTF-8 are
/// refused with their offset (or read as Latin-1 with --encoding), attribution files are checked.
final class FileErrorsCommandTests: XCTestCase {
    func testFileErrorsNameThePathTheActionAndTheReason() throws {
        let iba = try Executables.url("iba")
        let directory = try temporaryDirectory(self)
        let missing = directory.appendingPathComponent("no-such-run")
        let plotMissing = try runCommand(iba, ["plot", missing.path, "--output", directory.appendingPathComponent("c.svg").path])
        XCTAssertEqual(plotMissing.status, 1)
        XCTAssertEqual(plotMissing.stderr, "error: cannot read \(missing.path): no such file or directory\n")

        let summary = directory.appendingPathComponent("run/summary.json")
        try FileManager.default.createDirectory(at: summary.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: summary)
        let notSummary = try runCommand(iba, ["plot", summary.deletingLastPathComponent().path])
        XCTAssertEqual(notSummary.status, 1)
        XCTAssertTrue(notSummary.stderr.hasPrefix("error: \(summary.path) is not a summary.json (missing key"), notSummary.stderr)
        XCTAssertFalse(notSummary.stderr.contains("Domain="), notSummary.stderr)

        let model = try makeFixtureModel(in: directory)
        let output = directory.appendingPathComponent("missing-dir/x.html")
        let explain = try runCommand(iba, ["explain", "--model", model.path, "--layer", "1", "--format", "html", "--output", output.path])
        XCTAssertEqual(explain.status, 1)
        XCTAssertTrue(explain.stderr.hasSuffix("error: cannot write \(output.path): no such file or directory\n"), explain.stderr)
    }

    func testDatasetBytesThatAreNotUTF8AreRefusedOrReadAsLatin1() throws {
        let iba = try Executables.url("iba")
        let directory = try temporaryDirectory(self)
        let model = try makeFixtureModel(in: directory)
        let data = directory.appendingPathComponent("latin1.csv")
        try Data(Array("\"1\",\"title\",\"caf".utf8) + [0xE9] + Array(" news\"\n\"2\",\"sports\",\"game\"\n".utf8)).write(to: data)
        let options = ["evaluate", "--model", model.path, "--data-path", data.path, "--method", "random", "--quiet"]
        let refused = try runCommand(iba, options + ["--output", directory.appendingPathComponent("utf8").path])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("\(data.path):1: invalid UTF-8 at byte offset 16 (line 1)"), refused.stderr)
        let latin1 = try runCommand(iba, options + ["--encoding", "latin-1", "--output", directory.appendingPathComponent("latin1").path])
        XCTAssertEqual(latin1.status, 0, latin1.stderr)
        XCTAssertTrue(latin1.stdout.contains("n 2"), latin1.stdout)
    }

    func testAttributionsOutOfRangeOrOfTheWrongLengthFailClearly() throws {
        let iba = try Executables.url("iba")
        let directory = try temporaryDirectory(self)
        let model = try makeFixtureModel(in: directory)
        let huge = directory.appendingPathComponent("huge.jsonl")
        try "{\"index\": 0, \"attribution\": [1e39]}\n".write(to: huge, atomically: true, encoding: .utf8)
        let options = ["evaluate", "--model", model.path, "--test-sample", "2", "--quiet"]
        let outOfRange = try runCommand(iba, options + ["--attributions", huge.path, "--output", directory.appendingPathComponent("a").path])
        XCTAssertEqual(outOfRange.status, 1)
        XCTAssertTrue(outOfRange.stderr.contains("\(huge.path):1: attribution value 1e+39 at position 0 (index 0) is outside the float32 range"),
                      outOfRange.stderr)
        XCTAssertFalse(outOfRange.stderr.contains("invalid JSON"), outOfRange.stderr)

        // One value per example for inputs of several tokens: every example fails, naming the lengths, and the run exits 1.
        let short = directory.appendingPathComponent("short.jsonl")
        try (0..<200).map { "{\"index\": \($0), \"attribution\": [1]}\n" }.joined().write(to: short, atomically: true, encoding: .utf8)
        let wrongLength = try runCommand(iba, options + ["--attributions", short.path, "--output", directory.appendingPathComponent("b").path])
        XCTAssertEqual(wrongLength.status, 1)
        XCTAssertTrue(wrongLength.stderr.contains("2 of 2 examples failed") && wrongLength.stderr.contains("1 attribution values for"),
                      wrongLength.stderr)
    }
}
