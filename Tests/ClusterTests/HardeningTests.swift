import CZMQ
import Foundation
import XCTest
@testable import Cluster

/// A coordinator running on its own thread, so a test can play a peer by hand.
final class CoordinatorThread: @unchecked Sendable {
    let coordinator: Coordinator
    private let lock = NSLock()
    private var outcome: Result<[Int: WorkResult], Error>?
    private let finished = DispatchSemaphore(value: 0)

    init(_ coordinator: Coordinator) {
        self.coordinator = coordinator
        let thread = Thread { [self] in
            let result = Result { try self.coordinator.run() }
            lock.withLock { outcome = result }
            finished.signal()
        }
        thread.start()
    }

    var endpoint: String { coordinator.endpoint }

    /// Waits for the run to end; nil on timeout.
    func join(timeoutSeconds: Double = 20) -> Result<[Int: WorkResult], Error>? {
        guard finished.wait(timeout: .now() + timeoutSeconds) == .success else { return nil }
        finished.signal()
        return lock.withLock { outcome }
    }

    /// Stops the run and waits for it.
    func stop() {
        coordinator.stopSignal.request()
        _ = join()
    }
}

/// Red-team findings of issue 12 (cluster items), each replayed by a peer
/// that misbehaves on purpose.
final class HardeningTests: XCTestCase {
    private func start(_ indices: [Int], _ log: LogCapture, configure: (inout CoordinatorOptions) -> Void = { _ in }) throws -> CoordinatorThread {
        var options = testCoordinatorOptions(log)
        configure(&options)
        return CoordinatorThread(try Coordinator(manifest: testManifest(), indices: indices, options: options))
    }

    /// HELLO, wait for the MANIFEST.
    private func greet(_ peer: RawPeer, capacity: UInt32 = 1) throws {
        try peer.send(WorkerMessage.hello(name: "peer", capacity: capacity).frames)
        guard case .manifest? = try peer.receive() else { return XCTFail("no MANIFEST") }
    }

    private func nextTask(_ peer: RawPeer, sending status: WorkerMessage, timeoutSeconds: Double = 5) throws -> (UInt64, [LeaseEntry])? {
        let deadline = monotonicSeconds() + timeoutSeconds
        while monotonicSeconds() < deadline {
            try peer.send(status.frames)
            for message in try peer.receiveAll(forSeconds: 0.05) {
                if case let .task(lease, entries) = message { return (lease, entries) }
            }
        }
        return nil
    }

    // Item 1: the deadlock after SIGSTOP/SIGCONT. A TASK (or a RESULT) lost with a
    // connection left the coordinator believing the worker held a lease the worker
    // never saw, and the worker waiting for work: both heartbeating, forever.
    func testLeaseLostInTransitIsReissuedFromTheWorkersHeartbeat() throws {
        let log = LogCapture("coordinator")
        reportOnFailure([log])
        let run = try start([4], log)
        let peer = try RawPeer(endpoint: run.endpoint, identity: "lossy")
        defer { peer.close() }
        try greet(peer)
        try peer.send(WorkerMessage.ready(credit: 1).frames)
        let first = try XCTUnwrap(nextTask(peer, sending: .heartbeat))
        // The TASK "was lost": the worker's heartbeat says it holds nothing and waits for work.
        let second = try XCTUnwrap(nextTask(peer, sending: .status(credit: 1, leases: [])), "lost lease never re-issued")
        XCTAssertNotEqual(second.0, first.0)
        XCTAssertEqual(second.1, [LeaseEntry(index: 4, attempt: 2)])
        try peer.send(WorkerMessage.result(lease: second.0, index: 4, attempt: 2, payload: fakeResult(4)).frames)
        XCTAssertEqual(try run.join()?.get(), expectedResults([4]))
        XCTAssertTrue(log.contains("does not hold lease"))
    }

    func testLostReadyIsRestoredFromTheWorkersHeartbeat() throws {
        let log = LogCapture("coordinator")
        reportOnFailure([log])
        let run = try start([1], log)
        defer { run.stop() }
        let peer = try RawPeer(endpoint: run.endpoint, identity: "no-ready")
        defer { peer.close() }
        try greet(peer)
        // No READY ever arrives; the status heartbeat asks for work instead.
        XCTAssertNotNil(try nextTask(peer, sending: .status(credit: 1, leases: [])), "a lost READY stalls the worker")
    }

    func testProgressDoesNotDependOnMessagesByDefault() {
        XCTAssertNotNil(CoordinatorOptions().leaseTimeoutSeconds, "a lease timeout must be on by default")
        XCTAssertNotNil(CoordinatorOptions().speculateAfterSeconds)
    }

    // Item 6: a greedy peer (capacity and credit 64, READY again and again) gets at most the lease cap.
    func testGreedyPeerHoldsAtMostTheLeaseCap() throws {
        let log = LogCapture("coordinator")
        reportOnFailure([log])
        let run = try start(Array(0..<30), log)
        defer { run.stop() }
        let peer = try RawPeer(endpoint: run.endpoint, identity: "greedy")
        defer { peer.close() }
        try greet(peer, capacity: 64)
        var tasks = 0
        for _ in 0..<5 {
            try peer.send(WorkerMessage.ready(credit: 64).frames)
            tasks += try peer.receiveAll(forSeconds: 0.1).filter { if case .task = $0 { return true } else { return false } }.count
        }
        XCTAssertEqual(tasks, CoordinatorOptions().maxLeasesPerWorker)
    }

    // Item 6: a peer that holds leases while heartbeating does not stall the run: idle workers re-run them.
    func testLeaseHeldTooLongIsSpeculatedToAnIdleWorker() throws {
        let log = LogCapture("coordinator")
        reportOnFailure([log])
        let indices = Array(0..<6)
        let run = try start(indices, log) { $0.speculateAfterSeconds = 0.5 }
        let peer = try RawPeer(endpoint: run.endpoint, identity: "hoarder")
        defer { peer.close() }
        try greet(peer, capacity: 4)
        try peer.send(WorkerMessage.ready(credit: 4).frames)
        guard let (lease, entries) = try nextTask(peer, sending: .heartbeat) else { return XCTFail("no TASK") }
        let worker = try WorkerThread(endpoint: run.endpoint, options: testWorkerOptions("honest", log))
        worker.start()
        // The hoarder keeps heartbeating and saying it holds its lease, and never answers.
        let deadline = monotonicSeconds() + 15
        var outcome: Result<[Int: WorkResult], Error>?
        while outcome == nil, monotonicSeconds() < deadline {
            try peer.send(WorkerMessage.status(credit: 0, leases: [lease]).frames)
            outcome = run.join(timeoutSeconds: 0.05)
        }
        XCTAssertEqual(try XCTUnwrap(outcome, "the run stalled behind the hoarder").get(), expectedResults(indices))
        XCTAssertFalse(entries.isEmpty)
        _ = worker.join()
    }

    // Item 7: a flood of HELLOs is answered once, not with one manifest each.
    func testRepeatedHelloFromALiveSessionIsAnsweredOnce() throws {
        let log = LogCapture("coordinator")
        reportOnFailure([log])
        let run = try start([1], log)
        defer { run.stop() }
        let peer = try RawPeer(endpoint: run.endpoint, identity: "flood")
        defer { peer.close() }
        for _ in 0..<1000 { try peer.send(WorkerMessage.hello(name: "flood", capacity: 1).frames) }
        let manifests = try peer.receiveAll(forSeconds: 0.25).filter { if case .manifest = $0 { return true } else { return false } }
        XCTAssertEqual(manifests.count, 1)
    }

    // Item 7: FETCHes beyond the credit from a peer that does not read are not queued without bound.
    func testFetchFloodFromASlowReaderIsBounded() throws {
        let log = LogCapture("coordinator")
        reportOnFailure([log])
        let directory = try temporaryDirectory("flood")
        let file = directory.appendingPathComponent("model.bin")
        try Data(repeating: 7, count: 2 << 20).write(to: file)
        var manifest = testManifest()
        manifest.shipment = FileShipment(key: "flood", files: [.init(name: "model.bin", size: 2 << 20, hash: "h")])
        var options = testCoordinatorOptions(log)
        options.shippedFiles = [file]
        let run = CoordinatorThread(try Coordinator(manifest: manifest, indices: [1], options: options))
        defer { run.stop() }
        let peer = try RawPeer(endpoint: run.endpoint, identity: "slow", receiveHighWaterMark: 2)
        defer { peer.close() }
        try greet(peer)
        for _ in 0..<400 {
            try peer.send(WorkerMessage.fetch(file: 0, offset: 0, length: FileShipment.defaultChunkBytes).frames)
        }
        Thread.sleep(forTimeInterval: 0.5)  // the coordinator answers while the peer reads nothing
        let chunks = try peer.receiveAll(forSeconds: 1).filter { if case .chunk = $0 { return true } else { return false } }.count
        XCTAssertGreaterThan(chunks, 0)
        XCTAssertLessThan(chunks, 100, "\(chunks) chunks of 1 MiB were queued for one peer")
    }

    // Item 8: a shipped file truncated in place is refused, not read through a stale mapping (SIGBUS).
    func testTruncatedShippedFileIsRefusedNotServed() throws {
        let directory = try temporaryDirectory("truncate")
        let file = directory.appendingPathComponent("model.bin")
        try Data(repeating: 1, count: 3 << 20).write(to: file)
        let shipment = FileShipment(key: "t", files: [.init(name: "model.bin", size: 3 << 20, hash: "h")])
        let source = try ShipmentSource(shipment: shipment, files: [file])
        XCTAssertEqual(source.chunk(file: 0, offset: 1 << 20, length: 1 << 20), .bytes(Data(repeating: 1, count: 1 << 20)))
        let handle = try FileHandle(forWritingTo: file)
        try handle.truncate(atOffset: 1 << 20)
        try handle.close()
        guard case .changed = source.chunk(file: 0, offset: 2 << 20, length: 1 << 20) else { return XCTFail("served a truncated file") }
        guard case .changed = source.chunk(file: 0, offset: 0, length: 1 << 20) else { return XCTFail("served a file that changed size") }
    }

    // Item 9: another valid key reusing a worker's routing id cannot take over its session.
    func testAnotherKeyCannotTakeOverASessionByItsRoutingId() throws {
        let log = LogCapture("coordinator")
        reportOnFailure([log])
        let keys = try temporaryDirectory("takeover")
        try CurveZMQKeyFiles.generateCluster(directory: keys, workerNames: ["good", "evil"])
        let indices = Array(0..<40)
        let run = try start(indices, log) { $0.curveKeysDirectory = keys }
        var goodOptions = testWorkerOptions("good", log)
        goodOptions.curve = try CurveZMQClientKeys.load(directory: keys, workerName: "good")
        let good = try WorkerThread(endpoint: run.endpoint, options: goodOptions)
        good.start { index in
            Thread.sleep(forTimeInterval: 0.02)
            return fakeResult(index)
        }
        var identity: String?
        let deadline = monotonicSeconds() + 5
        while identity == nil, monotonicSeconds() < deadline {
            Thread.sleep(forTimeInterval: 0.02)
            identity = log.lines.compactMap { line -> String? in
                guard let open = line.range(of: "worker good ["), let close = line[open.upperBound...].firstIndex(of: "]") else { return nil }
                return String(line[open.upperBound..<close])
            }.first
        }
        let evil = try RawPeer(endpoint: run.endpoint, identity: try XCTUnwrap(identity),
                               curve: try CurveZMQClientKeys.load(directory: keys, workerName: "evil"))
        defer { evil.close() }
        try evil.send(WorkerMessage.hello(name: "good", capacity: 1).frames)
        let received = try evil.receiveAll(forSeconds: 0.3)
        XCTAssertFalse(received.contains { if case .manifest = $0 { return true } else { return false } }, "the session was taken over")
        evil.close()
        XCTAssertEqual(try run.join()?.get(), expectedResults(indices))
        XCTAssertTrue(log.contains("HELLO with another CURVE key"))
        _ = good.join()
    }

    // Item 10: what a peer sends is escaped and cut before it reaches the log.
    func testPeerTextIsEscapedAndCutBeforeLogging() throws {
        XCTAssertEqual(printable("ok\n[cluster] x\u{1b}[2J\u{202e}"), "ok\\u{a}[cluster] x\\u{1b}[2J\\u{202e}")
        XCTAssertEqual(printable(String(repeating: "é", count: 500), limit: 10), String(repeating: "é", count: 10) + "…")
        let log = LogCapture("coordinator")
        reportOnFailure([log])
        let run = try start([1], log)
        let peer = try RawPeer(endpoint: run.endpoint, identity: "forger")
        defer { peer.close() }
        try peer.send(WorkerMessage.hello(name: "x\n[cluster] run finished: 8 done\u{1b}[2J", capacity: 1).frames)
        _ = try peer.receive()
        try peer.send(WorkerMessage.refuse(reason: "no\r\n[cluster] forged\u{7}").frames)
        Thread.sleep(forTimeInterval: 0.2)
        run.stop()
        let joined = log.lines.joined(separator: "\u{0}")
        XCTAssertTrue(joined.contains("refused the job"))
        for bad in ["\n", "\r", "\u{1b}", "\u{7}"] { XCTAssertFalse(joined.contains(bad), "raw \(bad.unicodeScalars.first?.value ?? 0) in the log") }
    }

    // Item 1 at length: the coordinator and its workers stopped together (a SIGSTOP of the whole job, a VM
    // pause, a laptop lid) for longer than a worker's liveness and the no-worker timeout. Played by hand: the
    // peer holds its task in silence while the coordinator's clock jumps 1,000 s, then answers within a
    // liveness period of real time. Nobody may be declared silent for the pause, and the run must finish.
    func testAPausedCoordinatorForgivesItsWorkersTheSilence() throws {
        let log = LogCapture("coordinator")
        reportOnFailure([log])
        let clock = PauseClock()
        let run = try start([0], log) { options in
            options.workerTimeoutSeconds = 30
            options.clock = { clock.now() }
        }
        let peer = try RawPeer(endpoint: run.endpoint, identity: "paused")
        defer { peer.close() }
        try greet(peer)
        let (lease, entries) = try XCTUnwrap(nextTask(peer, sending: .ready(credit: 1)))
        clock.jump(by: 1000)
        Thread.sleep(forTimeInterval: 0.1)   // the coordinator steps a few times; the peer's liveness is 0.3 s
        try peer.send(WorkerMessage.result(lease: lease, index: entries[0].index, attempt: entries[0].attempt,
                                           payload: fakeResult(entries[0].index)).frames)
        guard case .success(let results)? = run.join() else { return XCTFail("the run did not finish") }
        XCTAssertEqual(results, expectedResults([0]))
        XCTAssertTrue(log.contains("coordinator was not running for"), "the pause is named")
        XCTAssertFalse(log.contains("silent for"), "no worker is blamed for the coordinator's pause")
    }

    // Item 2's hook: an invalid RESULT is an error of that attempt (re-issued), never a result in the log.
    func testInvalidResultIsReissuedAndNeverLogged() throws {
        let log = LogCapture("coordinator")
        reportOnFailure([log])
        let url = try temporaryDirectory("validate").appendingPathComponent("results.jsonl")
        var options = testCoordinatorOptions(log)
        options.resultsLog = url
        // Not hex-like: the log's chain hashes are hex and would contain a short hex word by chance.
        let invalid = Data("INVALID!".utf8)
        options.resultValidator = { _, payload in payload == invalid ? "not a record" : nil }
        let indices = Array(0..<8)
        let coordinator = try Coordinator(manifest: testManifest(), indices: indices, options: options)
        let worker = try WorkerThread(endpoint: coordinator.endpoint, options: testWorkerOptions("w", log))
        let firstTry = FirstTime()
        worker.start { index in index == 3 && firstTry.take() ? invalid : fakeResult(index) }
        XCTAssertEqual(try coordinator.run(), expectedResults(indices))
        XCTAssertTrue(log.contains("example 3 attempt 1 from w is invalid: not a record"))
        let text = try String(contentsOf: url, encoding: .utf8)
        for form in ["INVALID!", invalid.base64EncodedString()] {
            XCTAssertFalse(text.contains(form), "an invalid result reached the results log")
        }
    }
    // Small (CURVE handshake failure -> the worker stops with the reason): ClusterRunTests.testWorkerWithUnlistedKeyGetsNoWork.
}

/// Monotonic time that a test moves forward at once: the coordinator stopped between two steps (thread-safe).
final class PauseClock: @unchecked Sendable {
    private let lock = NSLock()
    private var offset = 0.0
    func jump(by seconds: Double) { lock.withLock { offset += seconds } }
    func now() -> Double { lock.withLock { monotonicSeconds() + offset } }
}

/// True once, then false (thread-safe).
final class FirstTime: @unchecked Sendable {
    private let lock = NSLock()
    private var used = false
    func take() -> Bool { lock.withLock { defer { used = true }; return !used } }
}
