import Foundation
import XCTest

/// Options, output directories and failed examples, checked by `iba evaluate` and `iba-coordinator` alike
/// (issue 12, items 3 and 4): refused before any work, and never a silent success.
final class EvaluationChecksCommandTests: XCTestCase {
    func testOptionsThatFailEveryExampleAreRefusedBeforeAnyWork() throws {
        let iba = try Executables.url("iba"), coordinator = try Executables.url("iba-coordinator")
        let directory = try temporaryDirectory(self)
        let model = try makeFixtureModel(in: directory)
        let out = directory.appendingPathComponent("out")
        let bad: [(String, [String])] = [
            ("--degrad-steps", ["--degrad-steps", "0"]), ("--degrad-steps", ["--degrad-steps", "1"]),
            ("--degrad-steps", ["--degrad-steps", "100000"]), ("--batch", ["--batch", "0"]),
            ("--train-steps", ["--train-steps", "0"]), ("--train-steps", ["--steps", "0"]), ("--lr", ["--lr", "nan"]),
            ("--beta", ["--beta", "nan"]), ("--max-length", ["--max-length", "2"]), ("--layer", ["--layer", "5"]),
        ]
        for (executable, prefix) in [(iba, ["evaluate"]), (coordinator, ["--workers", "1"])] {
            for (flag, options) in bad {
                let run = try runCommand(executable, prefix + ["--model", model.path, "--test-sample", "2", "--output", out.path, "--quiet"] + options)
                XCTAssertNotEqual(run.status, 0, "\(prefix) \(options)")
                XCTAssertTrue(run.stderr.contains(flag), "\(options): \(run.stderr)")
                XCTAssertFalse(FileManager.default.fileExists(atPath: out.path), "\(options): nothing created")
            }
        }
    }

    /// Examples that fail for good make the run exit 1 naming them, unless --allow-failures covers them;
    /// the outputs are written either way.
    func testFailedExamplesAreAnErrorUnlessAllowed() throws {
        let iba = try Executables.url("iba"), coordinator = try Executables.url("iba-coordinator")
        let directory = try temporaryDirectory(self)
        let model = try makeFixtureModel(in: directory)
        let attributions = directory.appendingPathComponent("attributions.jsonl")
        try "{\"index\": 999999, \"attribution\": [1]}\n".write(to: attributions, atomically: true, encoding: .utf8)
        let options = ["--model", model.path, "--test-sample", "3", "--attributions", attributions.path, "--quiet"]
        for (name, executable, prefix) in [("evaluate", iba, ["evaluate"]), ("cluster", coordinator, ["--workers", "1"])] {
            let out = directory.appendingPathComponent(name)
            let failing = try runCommand(executable, prefix + options + ["--output", out.path])
            XCTAssertEqual(failing.status, 1, name)
            XCTAssertTrue(failing.stderr.contains("3 of 3 examples failed") && failing.stderr.contains("no entry for index"), failing.stderr)
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("summary.json").path))
            let allowed = try runCommand(executable, prefix + options + ["--output", out.path + "-allowed", "--allow-failures", "3"])
            XCTAssertEqual(allowed.status, 0, allowed.stderr)
            XCTAssertFalse(allowed.stdout.contains("inf%"), allowed.stdout)
        }
    }

    /// A file where the output directory should be, or a directory another run holds, stops the run at once.
    func testOutputDirectoryIsCheckedAndLockedFirst() throws {
        let iba = try Executables.url("iba"), coordinator = try Executables.url("iba-coordinator")
        let directory = try temporaryDirectory(self)
        let model = try makeFixtureModel(in: directory)
        let file = directory.appendingPathComponent("a-file")
        try Data("x".utf8).write(to: file)
        let held = directory.appendingPathComponent("held")
        try FileManager.default.createDirectory(at: held, withIntermediateDirectories: true)
        let descriptor = open(held.appendingPathComponent(".iba-run.lock").path, O_RDWR | O_CREAT, 0o644)
        XCTAssertGreaterThanOrEqual(descriptor, 0)
        XCTAssertEqual(flock(descriptor, LOCK_EX | LOCK_NB), 0)
        defer { close(descriptor) }
        for (executable, prefix) in [(iba, ["evaluate"]), (coordinator, ["--workers", "1"])] {
            let options = prefix + ["--model", model.path, "--test-sample", "2", "--quiet", "--output"]
            let onFile = try runCommand(executable, options + [file.path])
            XCTAssertNotEqual(onFile.status, 0)
            XCTAssertTrue(onFile.stderr.contains("not a directory"), onFile.stderr)
            let busy = try runCommand(executable, options + [held.path])
            XCTAssertNotEqual(busy.status, 0)
            XCTAssertTrue(busy.stderr.contains("in use by another run"), busy.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: held.appendingPathComponent("summary.json").path))
        }
    }
}
