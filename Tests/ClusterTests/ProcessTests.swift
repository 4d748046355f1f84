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
}
