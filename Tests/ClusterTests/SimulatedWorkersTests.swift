import Foundation
import XCTest
@testable import Cluster

/// Many workers in one process (`SimulatedWorkers`, cluster-demo swarm) against a real coordinator.
final class SimulatedWorkersTests: XCTestCase {
    func testFiftySimulatedWorkersComputeEveryExampleOnceWithoutExpiry() throws {
        let log = LogCapture("coordinator")
        reportOnFailure([log])
        let selection = Array(0..<400)
        let coordinator = try Coordinator(manifest: testManifest(), indices: selection,
            options: testCoordinatorOptions(log))
        var options = SimulatedWorkers.Options(count: 50)
        options.heartbeatIntervalSeconds = 0.05
        options.heartbeatLiveness = 6
        options.delaySeconds = 0.002
        options.maxSeconds = 60
        let swarm = try SimulatedWorkers(connect: coordinator.endpoint,
            options: options) { _ in { index, _ in fakeResult(index) } }
        let report = LockedBox<SimulatedWorkers.Report?>(nil)
        let thread = Thread { report.value = try? swarm.run() }
        thread.start()
        let results = try coordinator.run()
        let deadline = Date().addingTimeInterval(30)
        while report.value == nil, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        XCTAssertEqual(results, expectedResults(selection))
        let seen = try XCTUnwrap(report.value)
        XCTAssertEqual(seen.workers, 50)
        XCTAssertEqual(seen.resultsSent, selection.count, "every example computed once")
        XCTAssertEqual(seen.resets, 0, "no worker was forgotten by the coordinator")
        XCTAssertEqual(seen.finished, 50, "every worker ended on DONE")
        XCTAssertFalse(log.contains("silent for"), "no spurious expiry")
    }

    /// A swarm larger than the hard open-files limit is refused before any socket opens, naming both numbers.
    func testASwarmBeyondTheHardOpenFilesLimitIsRefusedNamingIt() throws {
        let hard = FileDescriptorLimit.current().hard
        guard hard < 1 << 30 else { throw XCTSkip("no finite hard limit on open files") }
        let count = hard / 2 + 1
        XCTAssertThrowsError(try SimulatedWorkers(connect: "tcp://127.0.0.1:1", options: .init(count: count)) { _ in
            { _, _ in Data() }
        }) { error in
            let text = "\(error)"
            let needed = SimulatedWorkers.descriptorsNeeded(count: count)
            XCTAssertTrue(text.contains("\(needed)") && text.contains("\(hard)"), text)
        }
    }
}

final class LockedBox<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    var value: Value {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
