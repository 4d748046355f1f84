import Foundation
import XCTest

/// `iba-coordinator --verify` as users run it.
final class VerifyCommandTests: XCTestCase {
    func testVerifyWithOneWorkerIsRefused() throws {
        let coordinator = try Executables.url("iba-coordinator")
        let directory = try temporaryDirectory(self)
        let run = try runCommand(coordinator, ["--workers", "1", "--verify", "0.5", "--test-sample", "2",
                                               "--output", directory.appendingPathComponent("out").path])
        XCTAssertNotEqual(run.status, 0)
        XCTAssertTrue(run.stderr.contains("--verify needs at least two workers"), run.stderr)
        let bad = try runCommand(coordinator, ["--workers", "2", "--verify", "1.5", "--test-sample", "2",
                                               "--output", directory.appendingPathComponent("out").path])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("between 0 and 1"), bad.stderr)
    }

    /// Every example computed by both workers: the same output as `iba evaluate`, and the check is reported.
    func testVerifiedRunMatchesIbaEvaluate() throws {
        let iba = try Executables.url("iba"), coordinator = try Executables.url("iba-coordinator")
        let directory = try temporaryDirectory(self)
        let model = try makeFixtureModel(in: directory)
        let options = ["--model", model.path, "--test-sample", "4", "--layer", "0", "--batch", "10", "--quiet"]
        let reference = directory.appendingPathComponent("evaluate")
        let single = try runCommand(iba, ["evaluate"] + options + ["--output", reference.path])
        XCTAssertEqual(single.status, 0, single.stderr)
        let out = directory.appendingPathComponent("cluster")
        let run = try runCommand(coordinator, ["--workers", "2", "--verify", "1"] + options + ["--output", out.path])
        XCTAssertEqual(run.status, 0, run.stderr)
        try assertSameEvaluation(reference, out)
        XCTAssertTrue(run.stderr.contains("verification: 4 example(s) agreed by two workers"), run.stderr)
    }
}
