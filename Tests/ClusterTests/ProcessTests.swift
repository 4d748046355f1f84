import Foundation
import XCTest
@testable import Cluster

/// Real worker processes (the cluster-demo executable, built next to the test
/// bundle) against an in-process coordinator: kill -9 and SIGSTOP/SIGCONT.
final class ProcessTests: XCTestCase {
    private func demoExecutable() throws -> URL {
        let directory = Bundle.main.bundleURL.deletingLastPathComponent()
        let candidates = [directory.appendingPathComponent("cluster-demo"),
                          Bundle.main.bundleURL.appendingPathComponent("cluster-demo")]
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw XCTSkip("cluster-demo is not built (target `cluster-demo`)")
        }
        return found
    }

    private func startWorker(_ executable: URL, endpoint: String, name: String) throws -> Process {
        let process = Process()
        process.executableURL = executable
        process.arguments = ["worker", "--connect", endpoint, "--name", name, "--delay-ms", "30",
                             "--heartbeat", "0.05", "--idle-exit", "5"]
        process.standardError = FileHandle.nullDevice
        try process.run()
        addTeardownBlock { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        return process
    }

    private func coordinator(_ log: LogCapture, count: Int) throws -> Coordinator {
        // Same manifest fields as cluster-demo's own coordinator (its workers check the model hash).
        let manifest = JobManifest(runID: "test", modelHash: "demo-model", dataHash: "demo-data",
                                   options: ["count": "\(count)"], seed: 1)
        return try Coordinator(manifest: manifest, indices: Array(0..<count), options: testCoordinatorOptions(log))
    }

    func testKilledWorkerProcessIsReplacedByTheOthers() throws {
        let executable = try demoExecutable()
        let log = LogCapture("coordinator")
        let coordinator = try coordinator(log, count: 60)
        let victim = try startWorker(executable, endpoint: coordinator.endpoint, name: "victim")
        let survivor = try startWorker(executable, endpoint: coordinator.endpoint, name: "survivor")
        var killed = false
        let results = try coordinator.run { progress in
            if !killed, progress.done >= 10 {
                kill(victim.processIdentifier, SIGKILL)
                killed = true
            }
        }
        XCTAssertTrue(killed)
        XCTAssertEqual(results, expectedResults(Array(0..<60)), log.lines.joined(separator: "\n"))
        XCTAssertTrue(log.contains("worker victim silent for"))
        survivor.waitUntilExit()
        XCTAssertEqual(survivor.terminationStatus, 0)
    }

    func testFrozenWorkerIsRequeuedAndRejoinsAfterThaw() throws {
        let executable = try demoExecutable()
        let log = LogCapture("coordinator")
        let coordinator = try coordinator(log, count: 80)
        let frozen = try startWorker(executable, endpoint: coordinator.endpoint, name: "frozen")
        let steady = try startWorker(executable, endpoint: coordinator.endpoint, name: "steady")
        var frozeAt: Double?
        var thawed = false
        let results = try coordinator.run { progress in
            let now = monotonicSeconds()
            if frozeAt == nil, progress.done >= 10 {
                kill(frozen.processIdentifier, SIGSTOP)
                frozeAt = now
            } else if let frozeAt, !thawed, now - frozeAt > 0.6 {
                kill(frozen.processIdentifier, SIGCONT)
                thawed = true
            }
        }
        XCTAssertTrue(thawed, "run ended before the thaw; make it longer")
        XCTAssertEqual(results, expectedResults(Array(0..<80)), log.lines.joined(separator: "\n"))
        XCTAssertTrue(log.contains("worker frozen silent for"))
        XCTAssertEqual(log.lines.filter { $0.contains("worker frozen [") && $0.contains("joined") }.count, 2,
                       "the thawed worker was RESET and greeted again")
        frozen.waitUntilExit()
        steady.waitUntilExit()
        XCTAssertEqual(frozen.terminationStatus, 0)
    }

    /// cluster-demo's coordinator as a process; its stderr goes to a file read by `waitForLine`.
    private func startCoordinatorProcess(_ executable: URL, _ arguments: [String], stderr: URL) throws -> Process {
        _ = FileManager.default.createFile(atPath: stderr.path, contents: nil)
        let process = Process()
        process.executableURL = executable
        process.arguments = ["coordinator", "--bind", "tcp://127.0.0.1:0"] + arguments
        process.standardError = try FileHandle(forWritingTo: stderr)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        addTeardownBlock { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        return process
    }

    /// The first line of `file` containing `marker`, waiting up to `seconds`.
    private func waitForLine(_ file: URL, containing marker: String, seconds: Double = 20) -> String? {
        let deadline = monotonicSeconds() + seconds
        while monotonicSeconds() < deadline {
            if let text = try? String(contentsOf: file, encoding: .utf8),
               let line = text.split(separator: "\n").first(where: { $0.contains(marker) }) { return String(line) }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return nil
    }

    private func waitForExit(_ process: Process, seconds: Double) -> Bool {
        let deadline = monotonicSeconds() + seconds
        while process.isRunning, monotonicSeconds() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        return !process.isRunning
    }

    /// Gone, or a zombie waiting for its new parent.
    private func isGone(_ pid: Int32) -> Bool {
        guard kill(pid, 0) == 0 else { return true }
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        return stat.split(separator: ")").last?.split(separator: " ").first == "Z"
    }

    // Issue 12 (small): SIGTERM to a coordinator orphaned its local workers for up to 300 s.
    func testSignalStopsLocalWorkersAndTheResultsLogResumes() throws {
        let executable = try demoExecutable()
        let directory = try temporaryDirectory("signal")
        let log = directory.appendingPathComponent("results.jsonl")
        let out = directory.appendingPathComponent("out.txt")
        let common = ["--count", "150", "--log", log.path, "--out", out.path, "--workers", "2", "--delay-ms", "20", "--heartbeat", "0.1"]
        let first = try startCoordinatorProcess(executable, common, stderr: directory.appendingPathComponent("first.err"))
        let pids = try XCTUnwrap(waitForLine(directory.appendingPathComponent("first.err"), containing: "worker pids"))
            .split(separator: " ").compactMap { Int32($0) }
        XCTAssertEqual(pids.count, 2)
        let deadline = monotonicSeconds() + 20
        while monotonicSeconds() < deadline,
              ((try? String(contentsOf: log, encoding: .utf8))?.split(separator: "\n").count ?? 0) < 20 {
            Thread.sleep(forTimeInterval: 0.05)
        }
        kill(first.processIdentifier, SIGTERM)
        XCTAssertTrue(waitForExit(first, seconds: 15), "the coordinator ignored SIGTERM")
        XCTAssertNotEqual(first.terminationStatus, 0, "a stopped run is not a finished one")
        let gone = monotonicSeconds() + 10
        while monotonicSeconds() < gone, !pids.allSatisfy(isGone) { Thread.sleep(forTimeInterval: 0.05) }
        XCTAssertTrue(pids.allSatisfy(isGone), "local workers outlived their coordinator")
        pids.filter { !isGone($0) }.forEach { kill($0, SIGKILL) }

        let second = try startCoordinatorProcess(executable, common + ["--resume"], stderr: directory.appendingPathComponent("second.err"))
        XCTAssertTrue(waitForExit(second, seconds: 60))
        XCTAssertEqual(second.terminationStatus, 0, (try? String(contentsOf: directory.appendingPathComponent("second.err"), encoding: .utf8)) ?? "")
        let lines = try String(contentsOf: out, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.map(String.init), (0..<150).map { String(decoding: fakeResult($0), as: UTF8.self) })
    }

    /// VmHWM (peak resident set) of a process, in MiB.
    private func peakRSS(_ pid: Int32) -> Double? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
        return kb / 1024
    }

    // Issue 12 item 7: 1,000 HELLOs on one connection, 5 × 400 on five more, and 400
    // FETCHes beyond the credit from a peer that reads nothing took the coordinator
    // from 168 MB to 804, 1,439 and 607 MB. What it queues per peer is now bounded.
    func testCoordinatorMemoryUnderFloodsIsBounded() throws {
        let executable = try demoExecutable()
        let directory = try temporaryDirectory("rss")
        let model = directory.appendingPathComponent("model.bin")
        try Data(repeating: 3, count: 4 << 20).write(to: model)
        let stderr = directory.appendingPathComponent("coordinator.err")
        let coordinator = try startCoordinatorProcess(executable, ["--count", "1900", "--payload-bytes", "700000", "--ship", model.path,
                                                                   "--heartbeat", "0.2", "--worker-timeout", "60"], stderr: stderr)
        let line = try XCTUnwrap(waitForLine(stderr, containing: "coordinator on "))
        let endpoint = String(try XCTUnwrap(line.split(separator: " ").last))
        Thread.sleep(forTimeInterval: 0.3)
        let before = try XCTUnwrap(peakRSS(coordinator.processIdentifier))

        var peers: [RawPeer] = []
        defer { peers.forEach { $0.close() } }
        let hello = WorkerMessage.hello(name: "flood", capacity: 1).frames
        let big = try RawPeer(endpoint: endpoint, identity: "flood-big", receiveHighWaterMark: 2)
        peers.append(big)
        for _ in 0..<1000 { try big.send(hello) }
        for k in 0..<5 {
            let peer = try RawPeer(endpoint: endpoint, identity: "flood-\(k)", receiveHighWaterMark: 2)
            peers.append(peer)
            for _ in 0..<400 { try peer.send(hello) }
        }
        let fetcher = try RawPeer(endpoint: endpoint, identity: "fetcher", receiveHighWaterMark: 2)
        peers.append(fetcher)
        try fetcher.send(hello)
        Thread.sleep(forTimeInterval: 0.3)
        for _ in 0..<400 { try fetcher.send(WorkerMessage.fetch(file: 0, offset: 0, length: FileShipment.defaultChunkBytes).frames) }
        Thread.sleep(forTimeInterval: 2)  // the coordinator handles the floods while no peer reads
        let after = try XCTUnwrap(peakRSS(coordinator.processIdentifier))
        print("coordinator peak RSS: \(String(format: "%.0f", before)) MiB before the floods, \(String(format: "%.0f", after)) MiB after")
        XCTAssertLessThan(after - before, 100, "peak RSS grew from \(before) to \(after) MiB")
        kill(coordinator.processIdentifier, SIGTERM)
        XCTAssertTrue(waitForExit(coordinator, seconds: 10))
    }
}
