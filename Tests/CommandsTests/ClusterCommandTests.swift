import Foundation
import XCTest

/// iba-coordinator + iba-worker as users run them, against `iba evaluate` on the same examples.
final class ClusterCommandTests: XCTestCase {
    /// Common evaluation options: embedded AG News sample, IBA at layer 0 of the 2-layer fixture.
    /// `noiseBatch` makes each example slower (more noise copies per step) for the fault tests.
    func evaluation(_ model: URL, sample: Int, noiseBatch: Int = 10) -> [String] {
        ["--model", model.path, "--test-sample", "\(sample)", "--layer", "0", "--batch", "\(noiseBatch)", "--quiet"]
    }

    /// The fault tests' fixture: a model, slow-enough options (10 examples) and their `iba evaluate` reference output.
    func faultTestSetUp() throws -> (coordinator: URL, directory: URL, options: [String], reference: URL) {
        let iba = try Executables.url("iba"), coordinator = try Executables.url("iba-coordinator")
        let directory = try temporaryDirectory(self)
        let options = evaluation(try makeFixtureModel(in: directory), sample: 10, noiseBatch: 300)
        let reference = directory.appendingPathComponent("evaluate")
        let single = try runCommand(iba, ["evaluate"] + options + ["--output", reference.path])
        XCTAssertEqual(single.status, 0, single.stderr)
        return (coordinator, directory, options, reference)
    }

    /// Starts the coordinator in the background and waits until its results log has `lines` lines (header included).
    func startCoordinator(_ executable: URL, _ arguments: [String], untilLogHas lines: Int, log: URL) throws -> Process {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while lineCount(log) < lines, process.isRunning, Date() < deadline { usleep(20_000) }
        return process
    }

    func testOneTwoAndThreeWorkersMatchIbaEvaluate() throws {
        let iba = try Executables.url("iba"), coordinator = try Executables.url("iba-coordinator")
        _ = try Executables.url("iba-worker")
        let directory = try temporaryDirectory(self)
        let model = try makeFixtureModel(in: directory)
        let reference = directory.appendingPathComponent("evaluate")
        let single = try runCommand(iba, ["evaluate"] + evaluation(model, sample: 12) + ["--output", reference.path])
        XCTAssertEqual(single.status, 0, single.stderr)
        XCTAssertTrue(single.stdout.contains("degraded prob"), single.stdout)
        try assertFinishedProgress(reference, total: 12)
        for workers in [1, 2, 3] {
            let out = directory.appendingPathComponent("cluster-\(workers)")
            let run = try runCommand(coordinator, ["--workers", "\(workers)"] + evaluation(model, sample: 12) + ["--output", out.path])
            XCTAssertEqual(run.status, 0, run.stderr)
            try assertSameEvaluation(reference, out)
            try assertFinishedProgress(out, total: 12)
            // The egress is reported, also with --quiet: a 12-example job sends a few KB per worker.
            let egress = try XCTUnwrap(run.stderr.split(separator: "\n").first { $0.hasPrefix("sent ") && $0.contains("worker(s), at most") })
            XCTAssertTrue(egress.contains("to \(workers) worker(s)"), String(egress))
            let most = try XCTUnwrap(egress.components(separatedBy: "at most ").last?.split(separator: " ").first.flatMap { Int($0) })
            XCTAssertTrue((1_000..<100_000).contains(most), String(egress))
        }
    }

    /// kill -9 of a worker mid-run: its example is redone (relaunch or another worker), the output is unchanged.
    func testKilledWorkerLosesNothing() throws {
        let (coordinatorURL, directory, options, reference) = try faultTestSetUp()

        let out = directory.appendingPathComponent("cluster")
        let log = out.appendingPathComponent("results.log.jsonl")
        let process = try startCoordinator(coordinatorURL, ["--workers", "2", "--heartbeat", "0.2"] + options + ["--output", out.path],
                                           untilLogHas: 3, log: log)
        let workers = childProcessIDs(of: process.processIdentifier)
        XCTAssertEqual(workers.count, 2, "two local worker processes")
        if let victim = workers.first { kill(victim, SIGKILL) }
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        try assertSameEvaluation(reference, out)
        let resultLines = lineCount(log) - 1   // the first line is the manifest header
        XCTAssertEqual(resultLines, 10, "one logged result per example: nothing lost, nothing duplicated")
    }

    /// The coordinator killed mid-run, then `--resume`: the finished output equals an uninterrupted run.
    func testCoordinatorKilledThenResumed() throws {
        let (coordinatorURL, directory, options, reference) = try faultTestSetUp()

        let out = directory.appendingPathComponent("cluster")
        let log = out.appendingPathComponent("results.log.jsonl")
        let process = try startCoordinator(coordinatorURL, ["--workers", "1"] + options + ["--output", out.path], untilLogHas: 4, log: log)
        let workers = childProcessIDs(of: process.processIdentifier)
        kill(process.processIdentifier, SIGKILL)
        for worker in workers { kill(worker, SIGKILL) }
        process.waitUntilExit()
        XCTAssertLessThan(lineCount(log) - 1, 10, "killed before the end")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("summary.json").path))

        // A different seed is a different run: refused.
        let mismatch = try runCommand(coordinatorURL, ["--workers", "1", "--resume", "--seed", "5"] + options + ["--output", out.path])
        XCTAssertNotEqual(mismatch.status, 0, "a resume with other options must be refused")
        XCTAssertTrue(mismatch.stderr.contains("seed: 0 in the log, 5 now"), "the refusal names the changed option: \(mismatch.stderr)")
        let resumed = try runCommand(coordinatorURL, ["--workers", "1", "--resume"] + options + ["--output", out.path])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        try assertSameEvaluation(reference, out)
    }

    /// With CURVE keys, a worker whose key is not authorised never gets work; the authorised one finishes.
    func testUnauthorisedWorkerIsRefused() throws {
        let iba = try Executables.url("iba"), coordinatorURL = try Executables.url("iba-coordinator")
        let workerURL = try Executables.url("iba-worker")
        let directory = try temporaryDirectory(self)
        let model = try makeFixtureModel(in: directory)
        let keys = directory.appendingPathComponent("keys"), intruderKeys = directory.appendingPathComponent("intruder")
        XCTAssertEqual(try runCommand(coordinatorURL, ["keygen", "--dir", keys.path, "--workers", "local-0-0"]).status, 0)
        XCTAssertEqual(try runCommand(coordinatorURL, ["keygen", "--dir", intruderKeys.path, "--workers", "intruder"]).status, 0)
        // The intruder knows the coordinator's public key but has its own, unlisted key pair.
        try FileManager.default.removeItem(at: intruderKeys.appendingPathComponent("coordinator.pub"))
        try FileManager.default.copyItem(at: keys.appendingPathComponent("coordinator.pub"), to: intruderKeys.appendingPathComponent("coordinator.pub"))
        let options = evaluation(model, sample: 6, noiseBatch: 100)
        let reference = directory.appendingPathComponent("evaluate")
        let single = try runCommand(iba, ["evaluate"] + options + ["--output", reference.path])
        XCTAssertEqual(single.status, 0, single.stderr)

        let port = 20000 + Int(getpid() % 20000)
        let intruder = Process()
        intruder.executableURL = workerURL
        intruder.arguments = ["--connect", "tcp://127.0.0.1:\(port)", "--curve-keys", intruderKeys.path, "--name", "intruder", "--idle-exit", "20"]
        let intruderLog = Pipe()
        intruder.standardError = intruderLog
        intruder.standardOutput = FileHandle.nullDevice
        try intruder.run()
        addTeardownBlock { if intruder.isRunning { kill(intruder.processIdentifier, SIGKILL) } }
        let out = directory.appendingPathComponent("cluster")
        // Not quiet: the coordinator's log must show the refusal.
        let run = try runCommand(coordinatorURL, ["--workers", "1", "--bind", "tcp://127.0.0.1:\(port)", "--curve-keys", keys.path]
                                 + options.filter { $0 != "--quiet" } + ["--output", out.path])
        XCTAssertEqual(run.status, 0, run.stderr)
        try assertSameEvaluation(reference, out)
        kill(intruder.processIdentifier, SIGKILL)
        intruder.waitUntilExit()
        XCTAssertTrue(run.stderr.contains("denied") || run.stderr.contains("unauthori"), "the coordinator logs the refused key:\n\(run.stderr.suffix(2000))")
    }

    /// Workers without the model (--worker-model points nowhere) take it from a --ship-model coordinator:
    /// output identical to `iba evaluate`; the next run uses the cache; a corrupted cache is fetched again.
    func testShippedModelMatchesIbaEvaluateAndIsCached() throws {
        let iba = try Executables.url("iba"), coordinator = try Executables.url("iba-coordinator")
        _ = try Executables.url("iba-worker")
        let directory = try temporaryDirectory(self)
        let model = try makeFixtureModel(in: directory)
        let options = evaluation(model, sample: 6)
        let reference = directory.appendingPathComponent("evaluate")
        let single = try runCommand(iba, ["evaluate"] + options + ["--output", reference.path])
        XCTAssertEqual(single.status, 0, single.stderr)
        let cache = directory.appendingPathComponent("xdg-cache")
        let environment = ["XDG_CACHE_HOME": cache.path]
        let nowhere = directory.appendingPathComponent("not-here").path
        func cluster(_ name: String, _ extra: [String]) throws -> (CommandResult, URL) {
            let out = directory.appendingPathComponent(name)
            let run = try runCommand(coordinator, ["--workers", "2", "--worker-model", nowhere, "--worker-timeout", "20"] + extra
                                     + options.filter { $0 != "--quiet" } + ["--output", out.path], environment: environment)
            let workerLogs = (try? FileManager.default.contentsOfDirectory(at: out.appendingPathComponent("workers"), includingPropertiesForKeys: nil)) ?? []
            let logs = workerLogs.compactMap { try? String(contentsOf: $0, encoding: .utf8) }.joined(separator: "\n")
            return (CommandResult(status: run.status, stdout: run.stdout, stderr: run.stderr + "\n" + logs), out)
        }

        // Without --ship-model the workers refuse, saying how to fix it.
        let (refused, _) = try cluster("refused", ["--worker-timeout", "3"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("--ship-model"), refused.stderr.suffix(3000).description)

        let (first, out1) = try cluster("shipped-1", ["--ship-model"])
        XCTAssertEqual(first.status, 0, first.stderr)
        try assertSameEvaluation(reference, out1)
        XCTAssertEqual(first.stderr.components(separatedBy: "is fetching the model").count - 1, 1, "one download for two workers on a host")
        let models = cache.appendingPathComponent("iba-swift/models")
        let key = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: models.path).first { !$0.contains(".") })
        let cachedWeights = models.appendingPathComponent(key).appendingPathComponent("checkpoint-model.safetensors")
        XCTAssertEqual(try Data(contentsOf: cachedWeights), try Data(contentsOf: model.appendingPathComponent("model.safetensors")))

        let (second, out2) = try cluster("shipped-2", ["--ship-model"])
        XCTAssertEqual(second.status, 0, second.stderr)
        try assertSameEvaluation(reference, out2)
        XCTAssertFalse(second.stderr.contains("is fetching the model"), "the cache answers the second run")
        XCTAssertTrue(second.stderr.contains("using the shipped model"))

        // One flipped byte in the cached weights: caught by the hash check, fetched again.
        var weights = try Data(contentsOf: cachedWeights)
        weights[weights.count / 2] ^= 0xFF
        try weights.write(to: cachedWeights)
        let (third, out3) = try cluster("shipped-3", ["--ship-model"])
        XCTAssertEqual(third.status, 0, third.stderr)
        try assertSameEvaluation(reference, out3)
        XCTAssertTrue(third.stderr.contains("hashes to"), third.stderr.suffix(3000).description)
        XCTAssertEqual(try Data(contentsOf: cachedWeights), try Data(contentsOf: model.appendingPathComponent("model.safetensors")))
    }
}
