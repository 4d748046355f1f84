import Foundation
import XCTest
@testable import Cluster

/// The worker's protocol decisions without sockets: events in, actions out.
final class WorkerSessionTests: XCTestCase {
    let manifest = (try? testManifest().encoded()) ?? Data()

    func session(now: Double = 0) -> WorkerSession {
        WorkerSession(name: "w", heartbeatSeconds: 1, liveness: 3, idleExitSeconds: 100, exitWhenDone: true, now: now)
    }

    /// A session that has greeted, set up the manifest and asked for work.
    func readySession() -> WorkerSession {
        var s = session()
        _ = s.start(now: 0)
        _ = s.handle(.message(.manifest(heartbeatMilliseconds: 1000, manifest: manifest)), now: 0.1)
        _ = s.handle(.compute(.setupSucceeded), now: 0.2)
        return s
    }

    func sent(_ actions: [WorkerSession.Action]) -> [WorkerMessage] {
        actions.compactMap { if case let .send(message) = $0 { return message } else { return nil } }
    }

    func testGreetsSetsUpAsksForWorkComputesInOrderAndAnswers() {
        var s = session()
        XCTAssertEqual(s.start(now: 0), [.send(.hello(name: "w", capacity: 1))])
        XCTAssertEqual(s.handle(.message(.manifest(heartbeatMilliseconds: 500, manifest: manifest)), now: 0.1),
                       [.setUp(manifest: manifest)])
        XCTAssertEqual(s.heartbeatSeconds, 0.5)
        XCTAssertEqual(s.handle(.compute(.setupSucceeded), now: 0.2), [.send(.ready(credit: 1))])
        let entries = [LeaseEntry(index: 7, attempt: 1), LeaseEntry(index: 3, attempt: 2)]
        XCTAssertEqual(s.handle(.message(.task(lease: 9, entries: entries)), now: 0.3), [.compute(lease: 9, entry: entries[0])])
        XCTAssertEqual(s.handle(.compute(.workDone(lease: 9, index: 7, attempt: 1, payload: Data("x".utf8))), now: 0.4),
                       [.send(.result(lease: 9, index: 7, attempt: 1, payload: Data("x".utf8))), .compute(lease: 9, entry: entries[1])])
        XCTAssertEqual(s.handle(.compute(.workFailed(lease: 9, index: 3, attempt: 2, message: "oom")), now: 0.45),
                       [.send(.error(lease: 9, index: 3, attempt: 2, message: "oom")), .send(.ready(credit: 1))])
        XCTAssertEqual(s.computed, 1)
        XCTAssertEqual(s.handle(.message(.done), now: 0.5), [.exit(.runFinished(computed: 1))])
        XCTAssertEqual(s.handle(.tick, now: 50), [], "a finished session does nothing more")
    }

    /// Issue 13: a TASK carries its examples; the computation gets each entry's bytes, and the worker holds
    /// no example outside the leases it has.
    func testEachComputationGetsTheExampleItsTaskCarried() {
        var s = readySession()
        let first = Data("{\"label\":1,\"text\":\"oil prices soared\"}".utf8), second = Data("{\"label\":0,\"text\":\"rain\"}".utf8)
        let entries = [LeaseEntry(index: 40_000, attempt: 1, example: first), LeaseEntry(index: 12, attempt: 1, example: second)]
        let actions = s.handle(.message(.task(lease: 3, entries: entries)), now: 0.3)
        guard case let .compute(lease, entry)? = actions.first else { return XCTFail("\(actions)") }
        XCTAssertEqual(lease, 3)
        XCTAssertEqual(entry.index, 40_000)
        XCTAssertEqual(String(decoding: entry.example, as: UTF8.self), "{\"label\":1,\"text\":\"oil prices soared\"}")
        let next = s.handle(.compute(.workDone(lease: 3, index: 40_000, attempt: 1, payload: Data("r".utf8))), now: 0.4)
        XCTAssertEqual(next.last, .compute(lease: 3, entry: entries[1]))
    }

    /// Item 1 of issue 12: a TASK (or the RESULT before a READY) lost on a
    /// reconnect leaves both sides waiting. The heartbeat says what the worker
    /// holds and that it still wants work, so the coordinator can re-issue.
    func testHeartbeatSaysWhichLeasesAreHeldAndThatWorkIsWanted() {
        var s = readySession()  // READY(1) sent at 0.2
        XCTAssertEqual(sent(s.handle(.tick, now: 1.3)), [.status(credit: 1, leases: [])], "asked for work, holds nothing")
        _ = s.handle(.message(.task(lease: 5, entries: [LeaseEntry(index: 1, attempt: 1)])), now: 1.4)
        _ = s.handle(.message(.task(lease: 4, entries: [LeaseEntry(index: 2, attempt: 1)])), now: 1.4)
        XCTAssertEqual(sent(s.handle(.tick, now: 2.5)), [.status(credit: 0, leases: [4, 5])])
        _ = s.handle(.compute(.workDone(lease: 5, index: 1, attempt: 1, payload: Data())), now: 2.6)
        XCTAssertEqual(sent(s.handle(.tick, now: 3.7)), [.status(credit: 0, leases: [4])])
    }

    func testResetForgetsLeasesGreetsAgainAndDropsTheStaleResult() {
        var s = readySession()
        _ = s.handle(.message(.task(lease: 5, entries: [LeaseEntry(index: 1, attempt: 1)])), now: 0.3)
        let actions = s.handle(.message(.reset), now: 0.4)
        XCTAssertEqual(sent(actions), [.hello(name: "w", capacity: 1)])
        XCTAssertEqual(s.phase, .greeting)
        XCTAssertTrue(s.heldLeases.isEmpty)
        XCTAssertEqual(s.handle(.compute(.workDone(lease: 5, index: 1, attempt: 1, payload: Data())), now: 0.5), [])
        // The same manifest again: no second setup, straight back to asking for work.
        XCTAssertEqual(s.handle(.message(.manifest(heartbeatMilliseconds: 1000, manifest: manifest)), now: 0.6),
                       [.send(.ready(credit: 1))])
    }

    func testGreetsAgainWhenNoManifestComesAndIgnoresTasksBeforeSetup() {
        var s = session()
        _ = s.start(now: 0)
        XCTAssertEqual(s.handle(.message(.task(lease: 1, entries: [LeaseEntry(index: 0, attempt: 1)])), now: 0.5).count, 1)
        XCTAssertTrue(s.heldLeases.isEmpty)
        XCTAssertTrue(sent(s.handle(.tick, now: 2.9)).contains(.heartbeat))
        XCTAssertEqual(sent(s.handle(.tick, now: 3.1)), [.hello(name: "w", capacity: 1)])
    }

    func testSetupFailureRefusesAndMissingModelIsDownloadedThenSetUpAgain() throws {
        var s = session()
        _ = s.start(now: 0)
        let shipped = JobManifest(runID: "r", modelHash: "m", dataHash: "d", seed: 1,
                                  shipment: FileShipment(key: "k", files: [.init(name: "model.bin", size: 3, hash: "h")]))
        let bytes = try shipped.encoded()
        _ = s.handle(.message(.manifest(heartbeatMilliseconds: 1000, manifest: bytes)), now: 0.1)
        XCTAssertEqual(s.handle(.compute(.setupNeedsFiles("no model")), now: 0.2),
                       [.download(shipment: shipped.shipment, reason: "no model", attempt: 1)])
        XCTAssertEqual(s.handle(.downloadComplete, now: 0.3), [.setUp(manifest: bytes)])
        XCTAssertEqual(s.handle(.compute(.setupNeedsFiles("bad copy")), now: 0.4),
                       [.download(shipment: shipped.shipment, reason: "bad copy", attempt: 2)])
        XCTAssertEqual(s.handle(.compute(.setupFailed("wrong model")), now: 0.5), [.refuse("wrong model")])
        XCTAssertEqual(s.handle(.tick, now: 0.6), [])
    }

    func testUndecodableManifestIsRefusedAndSilenceEndsTheRun() {
        var s = session()
        _ = s.start(now: 0)
        guard case .refuse? = s.handle(.message(.manifest(heartbeatMilliseconds: 1000, manifest: Data("{".utf8))), now: 0.1).last else {
            return XCTFail("a manifest that does not decode must be refused")
        }
        var quiet = session()
        _ = quiet.start(now: 0)
        var exits = [Double]()
        for step in 1...210 where quiet.handle(.tick, now: Double(step) * 0.5).contains(.exit(.coordinatorSilent(seconds: 100))) {
            exits.append(Double(step) * 0.5)   // ticks every half heartbeat
        }
        XCTAssertEqual(exits, [100.5], "silence ends the run once, after 100 s")
    }

    /// A gap between the session's own steps is this process being stopped (SIGSTOP, a VM pause), not the
    /// coordinator's silence: no exit for it; real silence afterwards still ends the run.
    func testOwnPauseIsNotTheCoordinatorsSilence() {
        var s = session()
        _ = s.start(now: 0)
        XCTAssertFalse(s.handle(.tick, now: 1000).contains(.exit(.coordinatorSilent(seconds: 100))), "a 1,000 s pause")
        var exited = false
        for step in 1...210 where !exited { exited = s.handle(.tick, now: 1000 + Double(step) * 0.5).contains(.exit(.coordinatorSilent(seconds: 100))) }
        XCTAssertTrue(exited, "silence after the pause still counts")
    }
}
