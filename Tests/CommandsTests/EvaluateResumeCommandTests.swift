import Foundation
import XCTest

/// `iba evaluate --resume`: the results log the coordinator keeps, with the coordinator's rules.
final class EvaluateResumeCommandTests: XCTestCase {
    /// `iba evaluate` killed with SIGKILL mid-run, then `--resume`: the outputs equal an uninterrupted run's;
    /// a resume with other options is refused naming them; an existing log is never silently restarted.
    func testEvaluateKilledThenResumed() throws {
        let iba = try Executables.url("iba")
        let directory = try temporaryDirectory(self)
        let options = ["--model", try makeFixtureModel(in: directory).path, "--test-sample", "10", "--layer", "0",
                       "--batch", "300", "--threads", "1", "--quiet"]
        let reference = directory.appendingPathComponent("reference")
        let whole = try runCommand(iba, ["evaluate"] + options + ["--output", reference.path])
        XCTAssertEqual(whole.status, 0, whole.stderr)

        let out = directory.appendingPathComponent("killed")
        let log = out.appendingPathComponent("results.log.jsonl")
        let process = Process()
        process.executableURL = iba
        process.arguments = ["evaluate"] + options + ["--output", out.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while lineCount(log) < 4, process.isRunning, Date() < deadline { usleep(20_000) }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .uncaughtSignal, "killed before the end")
        XCTAssertLessThan(lineCount(log) - 1, 10)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("summary.json").path))

        let again = try runCommand(iba, ["evaluate"] + options + ["--output", out.path])
        XCTAssertNotEqual(again.status, 0, "an existing log needs --resume")
        XCTAssertTrue(again.stderr.contains("pass --resume"), again.stderr)
        let mismatch = try runCommand(iba, ["evaluate", "--resume", "--seed", "5"] + options + ["--output", out.path])
        XCTAssertNotEqual(mismatch.status, 0, "a resume with other options must be refused")
        XCTAssertTrue(mismatch.stderr.contains("seed: 0 in the log, 5 now"), mismatch.stderr)
        let resumed = try runCommand(iba, ["evaluate", "--resume"] + options + ["--output", out.path])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        try assertSameEvaluation(reference, out)
        XCTAssertEqual(lineCount(log) - 1, 10, "each example logged once")
    }
}
