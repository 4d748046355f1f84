import Foundation
import XCTest
@testable import Cluster

/// Whole runs over loopback: a coordinator on the test thread, workers on threads.
final class ClusterRunTests: XCTestCase {
    let selection = Array(stride(from: 60, to: 0, by: -2))  // 30 indices, not in ascending order

    func testOneTwoAndThreeWorkersGiveIdenticalResults() throws {
        var runs: [[Int: WorkResult]] = []
        for workerCount in 1...3 {
            let log = LogCapture("coordinator")
            reportOnFailure([log])
            var options = testCoordinatorOptions(log)
            options.shardSize = 2
            let coordinator = try Coordinator(manifest: testManifest(), indices: selection, options: options)
            let workers = try (0..<workerCount).map { k in
                try WorkerThread(endpoint: coordinator.endpoint, options: testWorkerOptions("w\(k)", log))
            }
            workers.forEach { $0.start() }
            var reports: [ClusterProgress] = []
            let results = try coordinator.run { reports.append($0) }
            XCTAssertEqual(results, expectedResults(selection), "\(workerCount) worker(s)")
            for worker in workers {
                guard case .success(.runFinished)? = worker.join() else { return XCTFail("worker did not finish cleanly") }
                XCTAssertEqual(worker.setups, 1)
            }
            // Each index computed exactly once: nothing lost, nothing twice.
            XCTAssertEqual(workers.flatMap(\.computed).sorted(), selection.sorted())
            XCTAssertEqual(reports.last?.done, selection.count)
            XCTAssertEqual(reports.last?.requeues, 0)
            runs.append(results)
        }
        XCTAssertEqual(runs[0], runs[1])
        XCTAssertEqual(runs[1], runs[2])
    }

    func testVanishedWorkersLeasesAreRequeued() throws {
        let log = LogCapture("coordinator")
        reportOnFailure([log])
        let resultsLog = try temporaryDirectory("vanish").appendingPathComponent("results.jsonl")
        var options = testCoordinatorOptions(log)
        options.resultsLog = resultsLog
        let coordinator = try Coordinator(manifest: testManifest(), indices: selection, options: options)
        let doomed = try WorkerThread(endpoint: coordinator.endpoint, options: testWorkerOptions("doomed", log))
        // Vanishes in the middle of its second example: that result is never sent.
        doomed.start { index in
            if doomed.computed.count == 2 {
                doomed.worker.abandon()
                Thread.sleep(forTimeInterval: 0.3)
            } else {
                Thread.sleep(forTimeInterval: 0.005)
            }
            return fakeResult(index)
        }
        let survivor = try WorkerThread(endpoint: coordinator.endpoint, options: testWorkerOptions("survivor", log))
        survivor.start { index in
            Thread.sleep(forTimeInterval: 0.02)
            return fakeResult(index)
        }
        var last: ClusterProgress?
        let results = try coordinator.run { last = $0 }
        XCTAssertEqual(results, expectedResults(selection))
        XCTAssertEqual(doomed.join().flatMap { try? $0.get() }, .abandoned)
        let victim = try XCTUnwrap(doomed.computed.last)
        XCTAssertEqual(doomed.computed.count, 2)
        XCTAssertTrue(survivor.computed.contains(victim), "the lost example was recomputed elsewhere")
        XCTAssertGreaterThanOrEqual(last?.requeues ?? 0, 1)
        XCTAssertTrue(log.contains("silent for"))
        // The results log holds every index exactly once.
        let lines = try String(contentsOf: resultsLog, encoding: .utf8).split(separator: "\n").dropFirst()
        let logged = lines.compactMap { ResultsLog.parseRecord(Data($0.utf8))?.index }
        XCTAssertEqual(logged.sorted(), selection.sorted())
    }

    func testGarbageAndForeignLeaseTrafficIsDroppedAndRunCompletes() throws {
        let log = LogCapture("coordinator")
        reportOnFailure([log])
        var options = testCoordinatorOptions(log)
        options.shardSize = 2
        options.maxMessageBytes = 64 << 10
        let coordinator = try Coordinator(manifest: testManifest(), indices: selection, options: options)

        // Plain garbage, queued before the run starts.
        let vandal = try RawPeer(endpoint: coordinator.endpoint, identity: "vandal")
        defer { vandal.close() }
        let garbage: [[Data]] = [
            [Data("x".utf8)],
            [Data("IBAC9".utf8), Data([Command.hello.rawValue])],
            [Wire.signature, Data([0x7F])],
            WorkerMessage.ready(credit: 1).frames,  // no HELLO: unknown worker
            Wire.header(.hello) + [Data("v".utf8), Wire.encode(UInt32(0))],
            Wire.header(.result) + [Wire.encode(UInt64(1)), Wire.encode(UInt64(2)), Wire.encode(UInt32(1))],
        ]
        for frames in garbage { try vandal.send(frames) }
        let giant = try RawPeer(endpoint: coordinator.endpoint, identity: "giant")
        defer { giant.close() }
        try giant.send(WorkerMessage.result(lease: 1, index: 2, attempt: 1, payload: Data(count: 100 << 10)).frames)

        // A peer that takes a real lease, abuses it, then goes silent; the
        // honest worker starts only once the thief holds its lease.
        let thief = try RawPeer(endpoint: coordinator.endpoint, identity: "thief")
        defer { thief.close() }
        let worker = try WorkerThread(endpoint: coordinator.endpoint, options: testWorkerOptions("honest", log))
        let thiefBox = UncheckedBox(thief)
        let errors = LogCapture("thief")
        let selection = self.selection
        Thread {
            defer { worker.start() }
            do {
                let peer = thiefBox.value
                try peer.send(WorkerMessage.hello(name: "thief", capacity: 1).frames)
                guard case .manifest? = try peer.receive() else { return errors.sink("no MANIFEST") }
                try peer.send(WorkerMessage.ready(credit: 1).frames)
                guard case let .task(lease, entries)? = try peer.receive(), entries.count == 2 else {
                    return errors.sink("no TASK of 2")
                }
                let (a, b) = (entries[0], entries[1])
                let other = selection.first { $0 != a.index && $0 != b.index } ?? 0
                let abuse: [WorkerMessage] = [
                    .result(lease: lease &+ 1000, index: a.index, attempt: a.attempt, payload: Data("bad".utf8)),
                    .result(lease: lease, index: a.index, attempt: a.attempt + 1, payload: Data("bad".utf8)),
                    .result(lease: lease, index: 1, attempt: 1, payload: Data("bad".utf8)),  // 1 is not in the selection
                    .result(lease: lease, index: other, attempt: 1, payload: Data("bad".utf8)),
                    .result(lease: lease, index: a.index, attempt: a.attempt, payload: fakeResult(a.index)),
                    .result(lease: lease, index: a.index, attempt: a.attempt, payload: Data("late duplicate".utf8)),
                ]
                for message in abuse { try peer.send(message.frames) }
            } catch {
                errors.sink("\(error)")
            }
        }.start()

        var last: ClusterProgress?
        let results = try coordinator.run { last = $0 }
        XCTAssertEqual(errors.lines, [])
        XCTAssertEqual(results, expectedResults(selection))
        // 6 garbage + 5 abusive RESULTs, at least (heartbeats of a dead session may add more).
        XCTAssertGreaterThanOrEqual(last?.dropped ?? 0, 11)
        XCTAssertGreaterThanOrEqual(last?.requeues ?? 0, 1, "the thief's unanswered entry was requeued")
        XCTAssertTrue(log.contains("belongs to another worker") || log.contains("not in lease"))
        XCTAssertTrue(log.contains("is not live"))
        _ = worker.join()
    }

    func testWorkerWithUnlistedKeyGetsNoWork() throws {
        let log = LogCapture("coordinator")
        reportOnFailure([log])
        let keys = try temporaryDirectory("curve")
        try CurveZMQKeyFiles.generateCluster(directory: keys, workerNames: ["good"])
        let strangerKeys = try temporaryDirectory("stranger")
        try CurveZMQKeyFiles.generateCluster(directory: strangerKeys, workerNames: ["bad"])
        var options = testCoordinatorOptions(log)
        options.curveKeysDirectory = keys
        let coordinator = try Coordinator(manifest: testManifest(), indices: selection, options: options)

        var strangerOptions = testWorkerOptions("stranger", log)
        let strangerPair = try CurveZMQKeyFiles.loadKeyPair(name: "worker-bad", from: strangerKeys)
        strangerOptions.curve = try CurveZMQClientKeys(
            serverPublicKey: try CurveZMQKeyFiles.readKey(keys.appendingPathComponent("coordinator.pub")), keyPair: strangerPair)
        strangerOptions.idleExitSeconds = 1
        let stranger = try WorkerThread(endpoint: coordinator.endpoint, options: strangerOptions)
        stranger.start()
        Thread.sleep(forTimeInterval: 0.3)  // the stranger tries first

        var goodOptions = testWorkerOptions("good", log)
        goodOptions.curve = try CurveZMQClientKeys.load(directory: keys, workerName: "good")
        let good = try WorkerThread(endpoint: coordinator.endpoint, options: goodOptions)
        good.start()
        let results = try coordinator.run()
        XCTAssertEqual(results, expectedResults(selection))
        XCTAssertGreaterThanOrEqual(coordinator.deniedClients, 1)
        XCTAssertEqual(good.computed.count, selection.count)
        guard case .failure(ClusterError.handshakeFailed)? = stranger.join() else { return XCTFail("the stranger did not stop at the handshake") }
        XCTAssertEqual(stranger.setups, 0, "the stranger never even saw the manifest")
        XCTAssertTrue(stranger.computed.isEmpty)
        XCTAssertTrue(log.contains("ZAP: denied CURVE client"))
    }

    func testResumeAfterCoordinatorStopGivesIdenticalResults() throws {
        let log = LogCapture("coordinator")
        reportOnFailure([log])
        let url = try temporaryDirectory("resume").appendingPathComponent("results.jsonl")
        var options = testCoordinatorOptions(log)
        options.resultsLog = url
        options.workerTimeoutSeconds = 0.4

        // First run: the only worker vanishes after half the examples; the
        // coordinator gives up (as a stopped or killed coordinator would).
        let first = try Coordinator(manifest: testManifest(), indices: selection, options: options)
        let quitter = try WorkerThread(endpoint: first.endpoint, options: testWorkerOptions("quitter", log))
        let half = selection[selection.count / 2]
        quitter.start { index in
            if index == half { quitter.worker.abandon() }
            return fakeResult(index)
        }
        XCTAssertThrowsError(try first.run()) { error in
            XCTAssertEqual(error as? ClusterError, .noWorkers(seconds: 0.4))
        }
        _ = quitter.join()
        var bytes = try Data(contentsOf: url)
        bytes.removeLast(7)  // torn in the middle of the last record
        try bytes.write(to: url)
        let survivingRecords = String(decoding: bytes, as: UTF8.self).split(separator: "\n").count - 2  // header, torn line
        XCTAssertGreaterThan(survivingRecords, 0)

        // A different job may not continue this log.
        options.resume = true
        XCTAssertThrowsError(try Coordinator(manifest: testManifest(modelHash: "retrained"), indices: selection, options: options)) { error in
            guard case ClusterError.manifestMismatch = error else { return XCTFail("\(error)") }
        }

        // Same job, new run id: picks up where the log ends. Every example reaches `resultAccepted` once,
        // the logged ones first and marked resumed (progress.json counts them).
        options.workerTimeoutSeconds = 10
        let accepted = AcceptedResults()
        options.resultAccepted = { index, _, resumed in accepted.add(index, resumed) }
        let second = try Coordinator(manifest: testManifest(runID: "run-2"), indices: selection, options: options)
        let finisher = try WorkerThread(endpoint: second.endpoint, options: testWorkerOptions("finisher", log))
        finisher.start()
        var last: ClusterProgress?
        let results = try second.run { last = $0 }
        XCTAssertEqual(results, expectedResults(selection))
        XCTAssertEqual(last?.resumed, survivingRecords)
        XCTAssertEqual(finisher.computed.count, selection.count - survivingRecords)
        _ = finisher.join()
        let calls = accepted.calls
        XCTAssertEqual(calls.map(\.index).sorted(), selection.sorted(), "each example once")
        XCTAssertEqual(calls.prefix(survivingRecords).filter(\.resumed).count, survivingRecords, "the log's results first")
        XCTAssertEqual(calls.filter(\.resumed).count, survivingRecords)
    }

    func testRefusingWorkerGetsNoWorkAndErrorsAreRetriedThenFailed() throws {
        let log = LogCapture("coordinator")
        reportOnFailure([log])
        var options = testCoordinatorOptions(log)
        options.maxAttempts = 2
        let coordinator = try Coordinator(manifest: testManifest(), indices: selection, options: options)
        let refuser = try WorkerThread(endpoint: coordinator.endpoint, options: testWorkerOptions("refuser", log))
        refuser.start(setupCheck: { manifest in
            struct HashMismatch: Error, CustomStringConvertible {
                let found: String
                var description: String { "model hash \(found) is not mine" }
            }
            throw HashMismatch(found: manifest.modelHash)
        })
        let poisoned = selection[5]
        let workers = try (0..<2).map { try WorkerThread(endpoint: coordinator.endpoint, options: testWorkerOptions("w\($0)", log)) }
        for worker in workers {
            worker.start { index in
                struct Poison: Error {}
                if index == poisoned { throw Poison() }
                return fakeResult(index)
            }
        }
        let results = try coordinator.run()
        var expected = expectedResults(selection)
        expected[poisoned] = nil
        XCTAssertEqual(results.filter { $0.key != poisoned }, expected)
        guard case let .failed(reason)? = results[poisoned] else { return XCTFail("poisoned example not failed") }
        XCTAssertTrue(reason.contains("Poison"), reason)
        XCTAssertEqual(workers.flatMap(\.computed).filter { $0 == poisoned }.count, 2, "maxAttempts = 2")
        guard case let .failure(error)? = refuser.join() else { return XCTFail("refuser did not throw") }
        XCTAssertEqual(error as? ClusterError, .setupRefused("model hash model-abc is not mine"))
        XCTAssertTrue(refuser.computed.isEmpty)
        XCTAssertTrue(log.contains("refused the job: model hash model-abc is not mine"))
    }

    func testSpeculationFinishesDespiteAHungWorker() throws {
        let log = LogCapture("coordinator")
        reportOnFailure([log])
        var options = testCoordinatorOptions(log)
        options.speculate = true
        let indices = Array(0..<10)
        let coordinator = try Coordinator(manifest: testManifest(), indices: indices, options: options)
        let hung = try WorkerThread(endpoint: coordinator.endpoint, options: testWorkerOptions("hung", log))
        hung.start { index in
            Thread.sleep(forTimeInterval: 3)  // heartbeats go on: only speculation saves the run
            return fakeResult(index)
        }
        Thread.sleep(forTimeInterval: 0.2)  // let the hung worker take the first example
        let fast = try WorkerThread(endpoint: coordinator.endpoint, options: testWorkerOptions("fast", log))
        fast.start()
        let start = Date()
        let results = try coordinator.run()
        XCTAssertEqual(results, expectedResults(indices))
        XCTAssertLessThan(Date().timeIntervalSince(start), 2.5)
        XCTAssertEqual(fast.computed.sorted(), indices)
        XCTAssertEqual(hung.computed.count, 1, "the hung worker held an example")
        _ = fast.join()
        _ = hung.join()
    }

    func testNoWorkersTimesOut() throws {
        let log = LogCapture("coordinator")
        var options = testCoordinatorOptions(log)
        options.workerTimeoutSeconds = 0.3
        let coordinator = try Coordinator(manifest: testManifest(), indices: [1, 2], options: options)
        XCTAssertThrowsError(try coordinator.run()) { error in
            XCTAssertEqual(error as? ClusterError, .noWorkers(seconds: 0.3))
        }
        XCTAssertThrowsError(try coordinator.run()) { XCTAssertEqual($0 as? ClusterError, .alreadyRun) }
    }

    func testFailedBindWritesNoResultsLog() throws {
        let log = LogCapture("c")
        let first = try Coordinator(manifest: testManifest(), indices: [1], options: testCoordinatorOptions(log))
        var options = testCoordinatorOptions(log)
        options.bind = first.endpoint  // taken
        options.resultsLog = try temporaryDirectory("bind").appendingPathComponent("results.jsonl")
        XCTAssertThrowsError(try Coordinator(manifest: testManifest(), indices: [1], options: options)) { error in
            guard case ClusterError.zmq = error else { return XCTFail("\(error)") }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: options.resultsLog?.path ?? ""))
    }

    func testEmptySelectionReturnsAtOnce() throws {
        let coordinator = try Coordinator(manifest: testManifest(), indices: [], options: testCoordinatorOptions(LogCapture("c")))
        XCTAssertEqual(try coordinator.run(), [:])
    }
}

struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// A coordinator restarting on the same endpoint: the surviving worker is
/// told RESET, greets again, sets up the new manifest and finishes the run.
final class CoordinatorRestartTests: XCTestCase {
    func testWorkerSurvivesCoordinatorRestart() throws {
        let log = LogCapture("restart")
        let url = try temporaryDirectory("restart").appendingPathComponent("results.jsonl")
        let indices = Array(0..<40)
        var options = testCoordinatorOptions(log)
        options.resultsLog = url
        let first = try Coordinator(manifest: testManifest(), indices: indices, options: options)
        let endpoint = first.endpoint
        var workerOptions = testWorkerOptions("stayer", log)
        workerOptions.idleExitSeconds = 3
        let worker = try WorkerThread(endpoint: endpoint, options: workerOptions)
        let stop = first.stopSignal
        worker.start { index in
            if index == 10 { stop.request() }
            Thread.sleep(forTimeInterval: 0.01)
            return fakeResult(index)
        }
        XCTAssertThrowsError(try first.run()) { XCTAssertEqual($0 as? ClusterError, .stopped) }

        options.bind = endpoint  // same port: the worker's DEALER reconnects by itself
        options.resume = true
        let second = try Coordinator(manifest: testManifest(runID: "run-2"), indices: indices, options: options)
        var last: ClusterProgress?
        let results = try second.run { last = $0 }
        XCTAssertEqual(results, expectedResults(indices))
        XCTAssertGreaterThanOrEqual(last?.resumed ?? 0, 10)
        guard case .success(.runFinished)? = worker.join() else { return XCTFail("worker did not finish: \(log.lines)") }
        XCTAssertEqual(worker.setups, 2, "the new run's manifest (new run id) is set up again")
        XCTAssertTrue(log.contains("greeting again"), "worker was RESET by the new coordinator")
    }
}

/// `resultAccepted`'s calls in order (it is called on the coordinator's thread).
final class AcceptedResults: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [(index: Int, resumed: Bool)] = []
    func add(_ index: Int, _ resumed: Bool) { lock.withLock { list.append((index, resumed)) } }
    var calls: [(index: Int, resumed: Bool)] { lock.withLock { list } }
}
