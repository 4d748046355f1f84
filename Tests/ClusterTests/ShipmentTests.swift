import Foundation
import XCTest
@testable import Cluster

/// Model shipping (--ship-model): FETCH/CHUNK with credit, the worker's cache, validation.
final class ShipmentTests: XCTestCase {
    let selection = Array(0..<12)

    /// Two files of awkward sizes (not multiples of the chunk) plus an empty one, and their shipment.
    func makeShipment(in directory: URL, chunkBytes: UInt32 = 1000) throws -> (FileShipment, [URL], [Data]) {
        var generator = SystemRandomNumberGenerator()
        let contents = [Data((0..<10_500).map { _ in UInt8.random(in: 0...255, using: &generator) }),
                        Data(), Data("config bytes".utf8)]
        let names = ["weights.bin", "empty.txt", "config.json"]
        var urls: [URL] = []
        for (name, data) in zip(names, contents) {
            let url = directory.appendingPathComponent("source-" + name)
            try data.write(to: url)
            urls.append(url)
        }
        let files = zip(names, contents).map { FileShipment.File(name: $0, size: UInt64($1.count), hash: "h-\($1.count)") }
        return (FileShipment(key: "model-key-1", files: files, chunkBytes: chunkBytes), urls, contents)
    }

    /// Setup as a command's would be: the files must be in the cache, else `modelUnavailable`.
    func setupNeedingCache(_ shipment: FileShipment, root: URL, expected: [Data]) -> @Sendable (JobManifest) throws -> Void {
        { manifest in
            XCTAssertEqual(manifest.shipment, shipment)
            guard let directory = ShipmentCache(root: root).directory(for: shipment) else {
                throw ClusterError.modelUnavailable("not in the cache yet")
            }
            for (file, data) in zip(shipment.files, expected) {
                guard try Data(contentsOf: directory.appendingPathComponent(file.name)) == data else {
                    throw ClusterError.modelUnavailable("cached \(file.name) differs")
                }
            }
        }
    }

    /// A coordinator offering `shipment` (its files at `urls`) and `workers` workers that cache under `cacheRoot`.
    func shippingRun(_ shipment: FileShipment, urls: [URL], cacheRoot: URL, log: LogCapture, workers: Int = 1, runID: String = "run-1",
                     adjustCoordinator: (inout CoordinatorOptions) -> Void = { _ in },
                     adjustWorker: (inout WorkerOptions) -> Void = { _ in }) throws -> (Coordinator, [WorkerThread]) {
        var options = testCoordinatorOptions(log)
        options.shippedFiles = urls
        adjustCoordinator(&options)
        var manifest = testManifest(runID: runID)
        manifest.shipment = shipment
        let coordinator = try Coordinator(manifest: manifest, indices: selection, options: options)
        let threads = try (0..<workers).map { k -> WorkerThread in
            var workerOptions = testWorkerOptions("w\(k)", log)
            workerOptions.shipmentCache = cacheRoot
            adjustWorker(&workerOptions)
            return try WorkerThread(endpoint: coordinator.endpoint, options: workerOptions)
        }
        return (coordinator, threads)
    }

    func testTwoWorkersShareOneDownloadAndTheNextRunUsesTheCache() throws {
        let directory = try temporaryDirectory("ship")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (shipment, urls, contents) = try makeShipment(in: directory)
        let cacheRoot = directory.appendingPathComponent("cache")

        for run in 1...2 {
            let log = LogCapture("coordinator")
            let (coordinator, workers) = try shippingRun(shipment, urls: urls, cacheRoot: cacheRoot, log: log, workers: 2, runID: "run-\(run)",
                                                         adjustWorker: { $0.fetchCredit = 3 })
            workers.forEach { $0.start(setupCheck: setupNeedingCache(shipment, root: cacheRoot, expected: contents)) }
            let results = try coordinator.run()
            XCTAssertEqual(results, expectedResults(selection), log.lines.joined(separator: "\n"))
            for worker in workers {
                guard case .success(.runFinished)? = worker.join() else { return XCTFail("worker did not finish") }
            }
            let fetches = log.lines.filter { $0.contains("is fetching the model") }.count
            // Run 1: one worker downloads, the other waits on the host lock. Run 2: the cache answers.
            XCTAssertEqual(fetches, run == 1 ? 1 : 0, log.lines.joined(separator: "\n"))
        }
        let cached = cacheRoot.appendingPathComponent(shipment.key)
        for (file, data) in zip(shipment.files, contents) {
            XCTAssertEqual(try Data(contentsOf: cached.appendingPathComponent(file.name)), data)
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: cacheRoot.path).filter { $0.contains("partial") }
        XCTAssertEqual(leftovers, [])
    }

    /// A cached copy that the setup rejects is fetched again; one that stays bad ends in REFUSE, not a loop.
    func testRejectedCacheIsFetchedAgainThenRefused() throws {
        let directory = try temporaryDirectory("ship-bad")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (shipment, urls, contents) = try makeShipment(in: directory)
        let cacheRoot = directory.appendingPathComponent("cache")
        // A complete-looking but corrupt copy already in the cache.
        let stale = cacheRoot.appendingPathComponent(shipment.key)
        try FileManager.default.createDirectory(at: stale, withIntermediateDirectories: true)
        for (file, data) in zip(shipment.files, contents) {
            try Data(data.map { $0 ^ 0x5A }).write(to: stale.appendingPathComponent(file.name))
        }

        let log = LogCapture("coordinator")
        let (coordinator, workers) = try shippingRun(shipment, urls: urls, cacheRoot: cacheRoot, log: log)
        workers[0].start(setupCheck: setupNeedingCache(shipment, root: cacheRoot, expected: contents))
        XCTAssertEqual(try coordinator.run(), expectedResults(selection))
        XCTAssertTrue(log.contains("cached weights.bin differs"))
        XCTAssertEqual(try Data(contentsOf: stale.appendingPathComponent("weights.bin")), contents[0])

        // The source changes under a running coordinator's feet: every download fails the check.
        let log2 = LogCapture("coordinator")
        let other = FileShipment(key: "model-key-2", files: shipment.files, chunkBytes: shipment.chunkBytes)
        let (coordinator2, workers2) = try shippingRun(other, urls: urls, cacheRoot: cacheRoot, log: log2,
                                                       adjustCoordinator: { $0.workerTimeoutSeconds = 2 },
                                                       adjustWorker: { $0.maxDownloads = 2 })
        let worker2 = workers2[0]
        worker2.start(setupCheck: { _ in throw ClusterError.modelUnavailable("never good enough") })
        XCTAssertThrowsError(try coordinator2.run())
        guard case .failure(ClusterError.setupRefused(let reason))? = worker2.join() else { return XCTFail("worker must refuse") }
        XCTAssertTrue(reason.contains("after 2 download(s)"), reason)
        XCTAssertEqual(log2.lines.filter { $0.contains("fetching the model from the coordinator") }.count, 2)
    }

    /// A download lock held by a frozen worker (here: the test itself) delays the download, but not forever.
    func testFrozenLockHolderDoesNotBlockTheDownloadForever() throws {
        let directory = try temporaryDirectory("ship-lock")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (shipment, urls, contents) = try makeShipment(in: directory)
        let cacheRoot = directory.appendingPathComponent("cache")
        try FileManager.default.createDirectory(at: cacheRoot, withIntermediateDirectories: true)
        let lock = open(cacheRoot.appendingPathComponent("\(shipment.key).lock").path, O_CREAT | O_RDWR, 0o644)
        XCTAssertGreaterThanOrEqual(lock, 0)
        XCTAssertEqual(flock(lock, LOCK_EX | LOCK_NB), 0)  // held for the whole run, as by a SIGSTOPped process
        defer { close(lock) }

        let log = LogCapture("coordinator")
        let (coordinator, workers) = try shippingRun(shipment, urls: urls, cacheRoot: cacheRoot, log: log,
                                                     adjustWorker: { $0.shipmentLockWaitSeconds = 0.5 })
        workers[0].start(setupCheck: setupNeedingCache(shipment, root: cacheRoot, expected: contents))
        XCTAssertEqual(try coordinator.run(), expectedResults(selection))
        XCTAssertTrue(log.contains("held the download lock"), log.lines.joined(separator: "\n"))
    }

    /// Without a shipment the worker refuses with a hint; the coordinator never serves files it was not given.
    func testNoShipmentMeansRefusalWithAHint() throws {
        let log = LogCapture("coordinator")
        var options = testCoordinatorOptions(log)
        options.workerTimeoutSeconds = 1
        let coordinator = try Coordinator(manifest: testManifest(), indices: selection, options: options)
        let worker = try WorkerThread(endpoint: coordinator.endpoint, options: testWorkerOptions("w", log))
        worker.start(setupCheck: { _ in throw ClusterError.modelUnavailable("no model at /x") })
        XCTAssertThrowsError(try coordinator.run())
        guard case .failure(ClusterError.setupRefused(let reason))? = worker.join() else { return XCTFail("worker must refuse") }
        XCTAssertTrue(reason.contains("--ship-model"), reason)
    }

    /// The coordinator answers exactly the chunks of the shipment and drops every other FETCH.
    func testCoordinatorServesOnlyValidChunks() throws {
        let directory = try temporaryDirectory("ship-raw")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (shipment, urls, contents) = try makeShipment(in: directory)
        let log = LogCapture("coordinator")
        var options = testCoordinatorOptions(log)
        options.shippedFiles = urls
        options.workerTimeoutSeconds = 3
        var manifest = testManifest()
        manifest.shipment = shipment
        let coordinator = try Coordinator(manifest: manifest, indices: [1], options: options)
        let peer = try RawPeer(endpoint: coordinator.endpoint, identity: "raw")
        let box = UncheckedBox(peer)
        let outcome = LogCapture("raw")
        Thread {
            let peer = box.value
            do {
                // Before HELLO: unknown worker.
                try peer.send(WorkerMessage.fetch(file: 0, offset: 0, length: 1000).frames)
                try peer.send(WorkerMessage.hello(name: "raw", capacity: 1).frames)
                var message = try peer.receive()
                if case .reset? = message { message = try peer.receive() }
                guard case .manifest? = message else { return outcome.sink("no MANIFEST: \(String(describing: message))") }
                let bogus: [WorkerMessage] = [
                    .fetch(file: 3, offset: 0, length: 1000),        // no such file
                    .fetch(file: 0, offset: 10_500, length: 1),      // past the end
                    .fetch(file: 0, offset: 500, length: 1000),      // not chunk-aligned
                    .fetch(file: 0, offset: 10_000, length: 1000),   // the last chunk has 500 bytes
                    .fetch(file: 1, offset: 0, length: 1),           // empty file: nothing to fetch
                ]
                for request in bogus { try peer.send(request.frames) }
                try peer.send(WorkerMessage.fetch(file: 0, offset: 10_000, length: 500).frames)
                try peer.send(WorkerMessage.fetch(file: 2, offset: 0, length: UInt32(contents[2].count)).frames)
                var chunks: [CoordinatorMessage] = []
                while chunks.count < 2, let next = try peer.receive(timeoutSeconds: 2) {
                    if case .chunk = next { chunks.append(next) } else if case .reset = next { continue } else { chunks.append(next) }
                }
                let expected: [CoordinatorMessage] = [.chunk(file: 0, offset: 10_000, bytes: contents[0].suffix(500)),
                                                      .chunk(file: 2, offset: 0, bytes: contents[2])]
                if chunks != expected { outcome.sink("chunks differ: \(chunks.count) received") }
                try peer.send(WorkerMessage.refuse(reason: "test over").frames)
            } catch {
                outcome.sink("\(error)")
            }
        }.start()
        XCTAssertThrowsError(try coordinator.run())  // the only worker refused: no workers
        peer.close()
        XCTAssertEqual(outcome.lines, [])
        XCTAssertEqual(log.lines.filter { $0.contains("is not a chunk of the shipment") }.count, 5, log.lines.joined(separator: "\n"))
    }

    func testShipmentNamesMustBePlain() {
        let file = FileShipment.File(name: "ok.bin", size: 1, hash: "h")
        let bad = [
            FileShipment(key: "../up", files: [file]),
            FileShipment(key: "k", files: [FileShipment.File(name: "a/b", size: 1, hash: "h")]),
            FileShipment(key: "k", files: [FileShipment.File(name: ".hidden", size: 1, hash: "h")]),
            FileShipment(key: "k", files: [FileShipment.File(name: "..", size: 1, hash: "h")]),
            FileShipment(key: "k", files: [file, file]),
            FileShipment(key: "k", files: []),
            FileShipment(key: "k", files: [file], chunkBytes: 0),
        ]
        for shipment in bad {
            XCTAssertThrowsError(try shipment.validate(), "\(shipment)")
            // A manifest carrying it is malformed for the worker.
            var manifest = testManifest()
            manifest.shipment = shipment
            XCTAssertThrowsError(try JobManifest.decode(try manifest.encoded()))
        }
        XCTAssertNoThrow(try FileShipment(key: "fnv1a64-0123abcd", files: [file]).validate())
    }
}
