import CZMQ
import Foundation

public enum WorkerExit: Sendable, Equatable {
    /// The coordinator said DONE. `computed` counts results sent.
    case runFinished(computed: Int)
    /// Nothing heard from the coordinator for `idleExitSeconds`.
    case coordinatorSilent(seconds: Double)
    /// `abandon()` was called (tests: a worker vanishing without a word).
    case abandoned
}

/// A worker process's network side: a DEALER in a single poll loop (as
/// zguide's ppworker) that greets the coordinator, heartbeats, feeds leased
/// examples one at a time to the compute thread and returns their results.
public final class Worker: @unchecked Sendable {
    private let endpoint: String
    private let options: WorkerOptions
    private let lock = NSLock()
    private var abandonRequested = false

    public init(connect endpoint: String, options: WorkerOptions = WorkerOptions()) throws {
        try options.validate()
        ParentWatch.startIfLaunched()
        self.endpoint = endpoint
        self.options = options
    }

    /// Stop at once without telling the coordinator, as a killed process
    /// would (its leases are requeued when its heartbeats stop). Thread-safe.
    public func abandon() {
        lock.withLock { abandonRequested = true }
    }

    private var abandoned: Bool { lock.withLock { abandonRequested } }

    /// `setup` runs once per manifest on the compute thread (load the model,
    /// check hashes; throw to refuse the job) and returns the per-example
    /// computation, which gets the example's index and the bytes its TASK
    /// carried. Returns when the run is over; throws if setup refused.
    /// The protocol decisions are `WorkerSession`'s; this loop moves bytes.
    public func run(streaming setup: @escaping (JobManifest) throws -> ((Int, Data) throws -> Data))
        throws -> WorkerExit {
        let context = try ZMQContext()
        let computeEndpoint = "inproc://iba-compute-\(UUID().uuidString)"
        let monitorEndpoint = "inproc://iba-monitor-\(UUID().uuidString)"
        let pair: ZMQSocket
        let dealer: ZMQSocket
        let monitor: ZMQSocket
        do {
            pair = try ZMQSocket(context, type: ZMQ_PAIR)
            try pair.bind(computeEndpoint)
            (dealer, monitor) = try makeDealer(context, monitorEndpoint: monitorEndpoint)
        } catch {
            context.terminate()
            throw error
        }
        let compute = ComputeThread(context: context, endpoint: computeEndpoint, setup: setup)
        compute.start()
        farewellLingerMilliseconds = 0
        download = nil
        defer {
            download?.abandon()
            try? dealer.set(ZMQ_LINGER, farewellLingerMilliseconds)
            dealer.close()
            monitor.close()
            pair.close()
            compute.stop(graceSeconds: 1)
        }
        guard try pollReadable([pair], timeoutSeconds: ComputeThread.attachTimeoutSeconds)[0],
              try pair.receive(maxFrames: 1)?.frames == [ComputeWire.attached] else {
            throw ClusterError.internalError("the compute thread did not start")
        }

        var session = WorkerSession(name: options.name, heartbeatSeconds: options.heartbeatIntervalSeconds,
                                    liveness: options.heartbeatLiveness, idleExitSeconds: options.idleExitSeconds,
                                    exitWhenDone: options.exitWhenDone, now: monotonicSeconds())
        if let exit = try perform(dealer, pair, session.start(now: monotonicSeconds())) { return exit }
        while true {
            if abandoned { return .abandoned }
            let readable = try pollReadable([dealer, pair, monitor], timeoutSeconds: session.heartbeatSeconds / 2)

            if readable[2], let failure = try handshakeFailure(monitor) {
                options.log(failure)
                throw ClusterError.handshakeFailed(failure)
            }
            if readable[0] {
                for _ in 0..<1000 {
                    guard let received = try dealer.receive(maxFrames: 8) else { break }
                    let message: CoordinatorMessage
                    do {
                        guard !received.truncated else { throw ClusterError.malformedMessage("too many frames") }
                        message = try CoordinatorMessage.decode(received.frames)
                    } catch {
                        options.log("dropped coordinator message: \(error)")
                        continue
                    }
                    if case let .chunk(file, offset, bytes) = message {
                        if bytes.isEmpty, download != nil {
                            throw refuseJob(
                                dealer,
                                "the coordinator cannot serve file \(file) of the shipped model "
                                    + "(it changed on its disk)")
                        }
                        guard let download, try download.receive(file: file, offset: offset, bytes: bytes) else {
                            options.log(
                                "dropped CHUNK of file \(file) at \(offset): not requested (stale or duplicate)")
                            continue
                        }
                    }
                    if let exit = try perform(dealer, pair,
                                              session.handle(.message(message), now: monotonicSeconds())) {
                        return exit
                    }
                }
            }
            if readable[1] {
                while let reply = try pair.receive(maxFrames: 8) {
                    guard let decoded = ComputeWire.decodeReply(reply.frames) else { continue }
                    if let exit = try perform(dealer, pair,
                                              session.handle(.compute(decoded), now: monotonicSeconds())) {
                        return exit
                    }
                }
            }
            let now = monotonicSeconds()
            if let current = download {
                do {
                    for request in try current.nextRequests(now: now) {
                        send(request, dealer)
                        session.noteSent(now: now)
                    }
                } catch {
                    throw refuseJob(dealer, "\(error)")
                }
                if current.state == .complete {
                    options.log(Self.arrival(current, now: now))
                    download = nil
                    if let exit = try perform(dealer, pair, session.handle(.downloadComplete, now: now)) { return exit }
                }
            }
            if let exit = try perform(dealer, pair, session.handle(.tick, now: now)) { return exit }
        }
    }

    /// `run(streaming:)` for a job whose examples the computation knows by index (the TASK's bytes unused).
    public func run(setup: @escaping (JobManifest) throws -> ((Int) throws -> Data)) throws -> WorkerExit {
        try run(streaming: { manifest in
            let compute = try setup(manifest)
            return { index, _ in try compute(index) }
        })
    }

    // Run state of the socket loop (one `run` at a time, on its thread).
    private var farewellLingerMilliseconds: Int32 = 0
    private var download: ShipmentDownload?

    private func send(_ message: WorkerMessage, _ dealer: ZMQSocket) {
        do {
            if try dealer.send(message.frames) != .sent {
                options.log("send queue full, dropped \(message.frames[1].first ?? 0)")
            }
        } catch {
            options.log("send failed: \(error)")
        }
    }

    /// Tell the coordinator this worker takes no part in the job (the REFUSE gets a moment to leave); throw the result.
    private func refuseJob(_ dealer: ZMQSocket, _ reason: String) -> ClusterError {
        send(.refuse(reason: reason), dealer)
        farewellLingerMilliseconds = 1000
        return ClusterError.setupRefused(reason)
    }

    /// Carries out the session's actions; returns the exit when the session ends the run.
    private func perform(_ dealer: ZMQSocket, _ pair: ZMQSocket,
                         _ actions: [WorkerSession.Action]) throws -> WorkerExit? {
        for action in actions {
            switch action {
            case let .send(message):
                send(message, dealer)
            case let .setUp(manifest):
                try toCompute(pair, [ComputeWire.setup, manifest])
            case let .compute(lease, entry):
                try toCompute(pair, [ComputeWire.work, Wire.encode(lease), Wire.encode(UInt64(entry.index)),
                                     Wire.encode(entry.attempt), entry.example])
            case let .download(shipment, reason, attempt):
                download?.abandon()
                do { download = try startDownload(shipment, reason: reason, attempt: attempt) } catch {
                    throw refuseJob(dealer, "\(error)")
                }
            case .abandonDownload:
                download?.abandon()
                download = nil
            case let .log(line):
                options.log(line)
            case let .refuse(reason):
                throw refuseJob(dealer, reason)
            case let .exit(exit):
                return exit
            }
        }
        return nil
    }

    private static func arrival(_ download: ShipmentDownload, now: Double) -> String {
        let seconds = now - download.startedAt
        return "model shipment \(download.shipment.key) is in the cache: " + (download.receivedBytes == 0
            ? "fetched by another worker on this host"
            : "\(download.receivedBytes >> 20) MiB fetched in "
                + String(format: "%.2f s (%.0f MiB/s)", seconds,
                         Double(download.receivedBytes) / 1_048_576 / max(seconds, 1e-6)))
            + "; setting up again"
    }

    /// The compute thread is attached and takes one request at a time, so this cannot block.
    private func toCompute(_ pair: ZMQSocket, _ frames: [Data]) throws {
        guard try pair.send(frames) == .sent else { throw ClusterError.internalError("the compute thread is gone") }
    }

    /// Setup found no usable model: fetch the manifest's shipment into the cache, if it has one.
    private func startDownload(_ shipment: FileShipment?, reason: String, attempt: Int) throws -> ShipmentDownload {
        guard let shipment else {
            throw ClusterError.modelUnavailable("\(reason) (the coordinator can send it: start it with --ship-model)")
        }
        guard let root = options.shipmentCache else {
            throw ClusterError.modelUnavailable(
                "\(reason) (this worker has no model cache, so it cannot take the shipped model)")
        }
        guard attempt <= options.maxDownloads else {
            throw ClusterError.modelUnavailable(
                "\(reason), after \(options.maxDownloads) download(s) of the shipped model")
        }
        let cache = ShipmentCache(root: root)
        // Setup rejected a complete cached copy (its check failed): replace it.
        if cache.directory(for: shipment) != nil { cache.remove(shipment) }
        options.log(
            "\(reason): fetching the model from the coordinator (\(shipment.totalBytes >> 20) MiB into \(root.path))")
        return try ShipmentDownload(
            shipment: shipment, cache: cache, credit: options.fetchCredit,
            retrySeconds: max(2, options.heartbeatIntervalSeconds * Double(options.heartbeatLiveness)),
            lockWaitSeconds: options.shipmentLockWaitSeconds, log: options.log)
    }

    /// The DEALER, and a PAIR receiving its handshake-failure events (a
    /// CURVE key the coordinator denies would otherwise look like silence).
    private func makeDealer(_ context: ZMQContext, monitorEndpoint: String) throws -> (ZMQSocket, ZMQSocket) {
        let dealer = try ZMQSocket(context, type: ZMQ_DEALER)
        // A routing id of our own, stable across reconnects (the coordinator
        // sets ROUTER_HANDOVER): name plus randomness, never starting with 0.
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        try dealer.set(ZMQ_ROUTING_ID, bytes: Data("\(options.name.prefix(200))-\(suffix)".utf8))
        if let curve = options.curve {
            try dealer.set(ZMQ_CURVE_SERVERKEY, bytes: Data(curve.serverPublicKey.utf8))
            try dealer.set(ZMQ_CURVE_PUBLICKEY, bytes: Data(curve.keyPair.publicKey.utf8))
            try dealer.set(ZMQ_CURVE_SECRETKEY, bytes: Data(curve.keyPair.secretKey.utf8))
        }
        try dealer.set(ZMQ_MAXMSGSIZE, int64: Int64(options.maxMessageBytes))
        try setTransportHeartbeats(dealer, intervalSeconds: options.heartbeatIntervalSeconds,
                                   liveness: options.heartbeatLiveness)
        guard zmq_socket_monitor(dealer.handle, monitorEndpoint, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) == 0 else {
            throw zmqError("zmq_socket_monitor")
        }
        let monitor = try ZMQSocket(context, type: ZMQ_PAIR)
        try monitor.connect(monitorEndpoint)
        try dealer.connect(endpoint)
        return (dealer, monitor)
    }

    /// A monitor event (frame 0: event u16 + value u32, native order): the reason, if the handshake was refused.
    private func handshakeFailure(_ monitor: ZMQSocket) throws -> String? {
        while let event = try monitor.receive(maxFrames: 2) {
            guard let frame = event.frames.first, frame.count >= 6 else { continue }
            let bytes = [UInt8](frame)
            let code = UInt16(bytes[0]) | UInt16(bytes[1]) << 8
            let value = UInt32(bytes[2]) | UInt32(bytes[3]) << 8 | UInt32(bytes[4]) << 16 | UInt32(bytes[5]) << 24
            if Int32(code) == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH {
                return "the coordinator refused this worker's CURVE key (ZAP status \(value)): "
                    + "is worker-NAME.pub in its authorized/ directory?"
            }
        }
        return nil
    }
}
