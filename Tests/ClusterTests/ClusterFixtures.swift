import CZMQ
import Foundation
import XCTest
@testable import Cluster

/// Collects module log lines from any thread; printed when a test fails.
final class LogCapture: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [String] = []
    let prefix: String

    init(_ prefix: String) { self.prefix = prefix }

    /// CLUSTER_TEST_VERBOSE=1 prints lines as they come (for hangs).
    static let verbose = ProcessInfo.processInfo.environment["CLUSTER_TEST_VERBOSE"] != nil

    var sink: @Sendable (String) -> Void {
        { [self] line in
            if Self.verbose { FileHandle.standardError.write(Data("\(String(format: "%.3f", monotonicSeconds())) \(prefix): \(line)\n".utf8)) }
            lock.withLock { storage.append("\(prefix): \(line)") }
        }
    }
    var lines: [String] { lock.withLock { storage } }
    func contains(_ text: String) -> Bool { lines.contains { $0.contains(text) } }
}

extension XCTestCase {
    /// Prints the captured log lines if the test fails.
    func reportOnFailure(_ logs: [LogCapture]) {
        addTeardownBlock { [testRun] in
            if (testRun?.failureCount ?? 0) > 0 { for log in logs { print(log.lines.joined(separator: "\n")) } }
        }
    }
}

/// The fake example computation: deterministic JSON of the index.
func fakeResult(_ index: Int) -> Data {
    Data("{\"index\":\(index),\"value\":\(String(format: "%.17g", sin(Double(index))))}".utf8)
}

func testManifest(runID: String = "run-1", modelHash: String = "model-abc") -> JobManifest {
    JobManifest(runID: runID, modelHash: modelHash, dataHash: "data-123",
                options: ["method": "fake", "samples": "10"], seed: 42, payload: Data("{\"model\":\"/dev/null\"}".utf8))
}

/// Fast timings: a silent peer is declared dead after 0.3 s.
func testCoordinatorOptions(_ log: LogCapture) -> CoordinatorOptions {
    var options = CoordinatorOptions()
    options.bind = "tcp://127.0.0.1:0"
    options.heartbeatIntervalSeconds = 0.05
    options.heartbeatLiveness = 6
    options.workerTimeoutSeconds = 10
    options.log = log.sink
    return options
}

func testWorkerOptions(_ name: String, _ log: LogCapture) -> WorkerOptions {
    var options = WorkerOptions(name: name)
    options.heartbeatIntervalSeconds = 0.05
    options.heartbeatLiveness = 6
    options.idleExitSeconds = 5
    options.log = log.sink
    return options
}

/// A Worker running on its own thread, as a separate process would.
final class WorkerThread: @unchecked Sendable {
    let worker: Worker
    private let lock = NSLock()
    private var outcome: Result<WorkerExit, Error>?
    private var computedIndices: [Int] = []
    private var setupCalls = 0
    private let finished = DispatchSemaphore(value: 0)

    init(endpoint: String, options: WorkerOptions) throws {
        worker = try Worker(connect: endpoint, options: options)
    }

    /// `compute` is called on the compute thread; `setupCheck` may throw to refuse.
    func start(compute: @escaping @Sendable (Int) throws -> Data = { index in
                   Thread.sleep(forTimeInterval: 0.005)
                   return fakeResult(index)
               },
               setupCheck: @escaping @Sendable (JobManifest) throws -> Void = { _ in }) {
        let thread = Thread { [self] in
            let result = Result {
                try worker.run { manifest in
                    self.lock.withLock { self.setupCalls += 1 }
                    try setupCheck(manifest)
                    return { index in
                        self.lock.withLock { self.computedIndices.append(index) }
                        return try compute(index)
                    }
                }
            }
            lock.withLock { outcome = result }
            finished.signal()
        }
        thread.start()
    }

    /// Waits for `run` to return; nil on timeout.
    func join(timeoutSeconds: Double = 10) -> Result<WorkerExit, Error>? {
        guard finished.wait(timeout: .now() + timeoutSeconds) == .success else { return nil }
        finished.signal()  // later joins return at once
        return lock.withLock { outcome }
    }

    var computed: [Int] { lock.withLock { computedIndices } }
    var setups: Int { lock.withLock { setupCalls } }
}

func expectedResults(_ indices: [Int]) -> [Int: WorkResult] {
    Dictionary(uniqueKeysWithValues: indices.map { ($0, WorkResult.done(fakeResult($0))) })
}

func temporaryDirectory(_ name: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("iba-cluster-tests-\(name)-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// A raw DEALER speaking (or abusing) the protocol by hand.
final class RawPeer {
    let context: ZMQContext
    let socket: ZMQSocket

    /// `receiveHighWaterMark`: messages its libzmq buffers before it stops reading the connection (a slow reader).
    init(endpoint: String, identity: String, curve: CurveZMQClientKeys? = nil, receiveHighWaterMark: Int32? = nil) throws {
        context = try ZMQContext()
        socket = try ZMQSocket(context, type: ZMQ_DEALER)
        try socket.set(ZMQ_ROUTING_ID, bytes: Data(identity.utf8))
        if let curve {
            try socket.set(ZMQ_CURVE_SERVERKEY, bytes: Data(curve.serverPublicKey.utf8))
            try socket.set(ZMQ_CURVE_PUBLICKEY, bytes: Data(curve.keyPair.publicKey.utf8))
            try socket.set(ZMQ_CURVE_SECRETKEY, bytes: Data(curve.keyPair.secretKey.utf8))
        }
        if let receiveHighWaterMark { try socket.set(ZMQ_RCVHWM, receiveHighWaterMark) }
        try socket.connect(endpoint)
    }

    /// Every coordinator message arriving within `seconds` (heartbeats included).
    func receiveAll(forSeconds seconds: Double) throws -> [CoordinatorMessage] {
        var messages: [CoordinatorMessage] = []
        let deadline = monotonicSeconds() + seconds
        while monotonicSeconds() < deadline {
            guard try pollReadable([socket], timeoutSeconds: 0.02)[0] else { continue }
            while let message = try socket.receive(maxFrames: 8) {
                messages.append(try CoordinatorMessage.decode(message.frames))
            }
        }
        return messages
    }

    func send(_ frames: [Data]) throws {
        XCTAssertEqual(try socket.send(frames), .sent)
    }

    /// Next coordinator message within `timeoutSeconds`, skipping heartbeats.
    func receive(timeoutSeconds: Double = 5) throws -> CoordinatorMessage? {
        let deadline = monotonicSeconds() + timeoutSeconds
        while monotonicSeconds() < deadline {
            guard try pollReadable([socket], timeoutSeconds: 0.05)[0],
                  let message = try socket.receive(maxFrames: 8) else { continue }
            let decoded = try CoordinatorMessage.decode(message.frames)
            if decoded != .heartbeat { return decoded }
        }
        return nil
    }

    func close() {
        socket.close()
        context.terminate()
    }
}
