import Foundation
import XCTest
@testable import Cluster

/// Issue 24: no worker outlives its coordinator, and the number of workers is bounded.
final class WorkerLifetimeTests: XCTestCase {
    func testWorkerCountIsBoundedByCoresAndFileDescriptors() {
        XCTAssertNoThrow(try WorkerLauncher.checkCount(8, allowMany: false, cores: 2, fileDescriptors: 1024))
        XCTAssertThrowsError(try WorkerLauncher.checkCount(9, allowMany: false, cores: 2, fileDescriptors: 1024)) {
            XCTAssertTrue("\($0)".contains("--allow-many-workers"), "\($0)")
        }
        XCTAssertNoThrow(try WorkerLauncher.checkCount(150, allowMany: true, cores: 2, fileDescriptors: 1024))
        XCTAssertThrowsError(try WorkerLauncher.checkCount(100_000, allowMany: true, cores: 2, fileDescriptors: 20_000)) {
            XCTAssertTrue("\($0)".contains("ulimit -n"), "\($0)")
        }
        XCTAssertThrowsError(try WorkerLauncher.checkCount(-1, allowMany: true))
    }

    private func demoExecutable() throws -> URL {
        let directory = Bundle.main.bundleURL.deletingLastPathComponent()
        let candidates = [directory.appendingPathComponent("cluster-demo"), Bundle.main.bundleURL.appendingPathComponent("cluster-demo")]
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw XCTSkip("cluster-demo is not built (target `cluster-demo`)")
        }
        return found
    }

    /// Live (not zombie) processes whose environment holds `mark`.
    private func processes(marked mark: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard let environ = FileManager.default.contents(atPath: "/proc/\(pid)/environ"),
                  environ.range(of: Data(mark.utf8)) != nil,
                  let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return false }
            return !status.contains("State:\tZ")
        }
    }

    /// A coordinator with `workers` local workers on a long job, its environment marked; returns it started.
    private func startCoordinator(workers: Int, mark: String) throws -> Process {
        let process = Process()
        process.executableURL = try demoExecutable()
        process.arguments = ["coordinator", "--bind", "tcp://127.0.0.1:0", "--count", "100000", "--workers", "\(workers)",
                             "--delay-ms", "200", "--allow-many-workers"]
        var environment = ProcessInfo.processInfo.environment
        environment["IBA_TEST_MARK"] = mark
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        addTeardownBlock { [weak self] in
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            for pid in self?.processes(marked: mark) ?? [] { kill(pid, SIGKILL) }
        }
        return process
    }

    private func waitUntil(seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(100_000)
        }
        return condition()
    }

    func testLocalWorkersDieWithAKilledCoordinator() throws {
        let mark = "IBA_TEST_MARK=kill9-\(UUID().uuidString)"
        let coordinator = try startCoordinator(workers: 3, mark: mark)
        XCTAssertTrue(waitUntil(seconds: 20) { processes(marked: mark).count == 4 }, "coordinator and 3 workers start")
        kill(coordinator.processIdentifier, SIGKILL)
        XCTAssertTrue(waitUntil(seconds: 5) { processes(marked: mark).isEmpty },
                      "workers left behind after kill -9 of their coordinator: \(processes(marked: mark))")
    }

    /// A signal while the workers are still being started: nothing started stays behind.
    func testSignalDuringStartUpLeavesNoWorkers() throws {
        let mark = "IBA_TEST_MARK=startup-\(UUID().uuidString)"
        let coordinator = try startCoordinator(workers: 40, mark: mark)
        XCTAssertTrue(waitUntil(seconds: 20) { processes(marked: mark).count >= 3 }, "some workers start")
        kill(coordinator.processIdentifier, SIGTERM)
        coordinator.waitUntilExit()
        XCTAssertTrue(waitUntil(seconds: 5) { processes(marked: mark).isEmpty },
                      "workers left behind after SIGTERM in start-up: \(processes(marked: mark).count)")
    }

    /// The bug an SSH launch hit: a slot whose process closes its inherited descriptors at start and lives on
    /// (as OpenSSH's client does) must not hide another slot's exit. Foundation.Process, which learns of exits
    /// through an inherited socket, blocked on the first slot here and never relaunched the second.
    func testAnExitIsSeenWhileAnotherChildThatClosedItsDescriptorsLivesOn() throws {
        let closesAndStays = "for fd in $(ls /proc/$$/fd); do [ $fd -gt 2 ] && eval \"exec $fd>&-\"; done; exec sleep 30"
        let launcher = WorkerLauncher(slots: [
            .init(name: "like-ssh", arguments: ["bash", "-c", closesAndStays], local: false),
            .init(name: "quits", arguments: ["bash", "-c", "sleep 0.3; exit 7"], local: false),
        ])
        launcher.initialBackoffSeconds = 0.1
        let lines = LogLines()
        launcher.log = { line in lines.append(line) }
        try launcher.start()
        defer { launcher.stop() }
        let relaunched = waitUntil(seconds: 10) {
            launcher.launches >= 3 && lines.all.contains { $0.contains("worker quits exited (status 7)") }
        }
        XCTAssertTrue(relaunched, "launches \(launcher.launches), log \(lines.all)")
        XCTAssertEqual(launcher.liveProcessIDs.count, 2, "the ssh-like child and the relaunched one run")
        launcher.stop(graceSeconds: 0)
        XCTAssertTrue(waitUntil(seconds: 5) { launcher.liveProcessIDs.isEmpty }, "stop terminates both")
    }

    /// A child gets exactly stdin, stdout and stderr: no descriptor of the launcher's (sockets, logs) leaks in,
    /// and signals the coordinator ignores (it takes SIGTERM from a dispatch source) are default again.
    func testChildrenInheritNoDescriptorsAndDefaultSignals() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("launch-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let previous = signal(SIGTERM, SIG_IGN)
        defer { signal(SIGTERM, previous) }
        let launcher = WorkerLauncher(slots: [
            .init(name: "probe", arguments: ["bash", "-c", "cd /proc/$$/fd && echo *; grep SigIgn /proc/$$/status; sleep 30"]),
        ])
        launcher.logDirectory = directory
        try launcher.start()
        defer { launcher.stop() }
        let logURL = directory.appendingPathComponent("probe.log")
        XCTAssertTrue(waitUntil(seconds: 10) {
            ((try? String(contentsOf: logURL, encoding: .utf8)) ?? "").contains("SigIgn")
        })
        let text = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
        let descriptors = text.split(separator: "\n").first.map { $0.split(separator: " ").compactMap { Int($0) } } ?? []
        // bash lists its own descriptors with a glob (no pipeline, whose pipe bash may still hold while `ls`
        // runs); the directory it reads (3) is the only one allowed above 2.
        XCTAssertEqual(descriptors.filter { $0 > 3 }, [], "inherited descriptors: \(text)")
        let ignored = text.split(separator: "\n").first { $0.hasPrefix("SigIgn") }.flatMap {
            UInt64($0.split(separator: "\t").last ?? "", radix: 16)
        }
        XCTAssertNotNil(ignored, text)
        XCTAssertEqual((ignored ?? 0) & (1 << (UInt64(SIGTERM) - 1)), 0, "SIGTERM ignored in the child: \(text)")
        let pid = launcher.liveProcessIDs.first ?? -1
        launcher.stop()
        XCTAssertTrue(waitUntil(seconds: 5) { kill(pid, 0) != 0 }, "SIGTERM ends the child")
    }
}

private final class LogLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ line: String) { lock.withLock { lines.append(line) } }
    var all: [String] { lock.withLock { lines } }
}
