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
        self.endpoint = endpoint
        self.options = options
    }

    /// Stop at once without telling the coordinator, as a killed process
    /// would (its leases are requeued when its heartbeats stop). Thread-safe.
    public func abandon() {
        lock.withLock { abandonRequested = true }
    }

    private var abandoned: Bool { lock.withLock { abandonRequested } }

    private enum Phase { case greeting, settingUp, ready }

    /// `setup` runs once per manifest on the compute thread (load the model,
    /// check hashes; throw to refuse the job) and returns the per-example
    /// computation. Returns when the run is over; throws if setup refused.
    public func run(setup: @escaping (JobManifest) throws -> ((Int) throws -> Data)) throws -> WorkerExit {
        let context = try ZMQContext()
        let computeEndpoint = "inproc://iba-compute-\(UUID().uuidString)"
        let pair: ZMQSocket
        let dealer: ZMQSocket
        do {
            pair = try ZMQSocket(context, type: ZMQ_PAIR)
            try pair.bind(computeEndpoint)
            dealer = try makeDealer(context)
        } catch {
            context.terminate()
            throw error
        }
        let compute = ComputeThread(context: context, endpoint: computeEndpoint, setup: setup)
        compute.start()
        var farewellLingerMilliseconds: Int32 = 0
        defer {
            try? dealer.set(ZMQ_LINGER, farewellLingerMilliseconds)
            dealer.close()
            pair.close()
            compute.stop(graceSeconds: 1)
        }
        guard try pollReadable([pair], timeoutSeconds: ComputeThread.attachTimeoutSeconds)[0],
              try pair.receive(maxFrames: 1)?.frames == [ComputeWire.attached] else {
            throw ClusterError.internalError("the compute thread did not start")
        }
        /// The compute thread is attached and takes one request at a time, so this cannot block.
        func toCompute(_ frames: [Data]) throws {
            guard try pair.send(frames) == .sent else { throw ClusterError.internalError("the compute thread is gone") }
        }

        var phase = Phase.greeting
        var acceptedManifest: Data?     // set up and ready to use
        var pendingManifest: Data?      // being set up on the compute thread
        var queue: [(lease: UInt64, entry: LeaseEntry)] = []
        var remaining: [UInt64: Int] = [:]  // open entries per live lease
        var computing = false
        var pendingShipment: FileShipment?       // what the pending manifest offers to fetch
        var download: ShipmentDownload?          // fetching it
        var downloadsOfPending = 0
        defer { download?.abandon() }
        var readyOutstanding = false
        var computed = 0
        var heartbeat = options.heartbeatIntervalSeconds
        var lastHeard = monotonicSeconds()
        var lastSent = lastHeard
        var lastHello = lastHeard

        func send(_ message: WorkerMessage) {
            do {
                if try dealer.send(message.frames) != .sent { options.log("send queue full, dropped \(message.frames[1].first ?? 0)") }
                lastSent = monotonicSeconds()
            } catch {
                options.log("send failed: \(error)")
            }
        }
        func greet() {
            phase = .greeting
            queue.removeAll()
            remaining.removeAll()
            readyOutstanding = false
            lastHello = monotonicSeconds()
            send(.hello(name: options.name, capacity: 1))
        }
        /// Tell the coordinator this worker takes no part in the job (the REFUSE gets a moment to leave); throw the result.
        func refuseJob(_ reason: String) -> ClusterError {
            send(.refuse(reason: reason))
            farewellLingerMilliseconds = 1000
            return ClusterError.setupRefused(reason)
        }
        greet()

        while true {
            if abandoned { return .abandoned }
            let readable = try pollReadable([dealer, pair], timeoutSeconds: heartbeat / 2)
            var now = monotonicSeconds()

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
                    lastHeard = monotonicSeconds()
                    switch message {
                    case let .manifest(milliseconds, bytes):
                        heartbeat = min(600, max(0.01, Double(milliseconds) / 1000))
                        if bytes == acceptedManifest {
                            phase = .ready
                        } else if bytes == pendingManifest {
                            phase = .settingUp  // setup or its download already running (HELLO was resent)
                        } else {
                            download?.abandon()
                            download = nil
                            downloadsOfPending = 0
                            do { pendingShipment = try JobManifest.decode(bytes).shipment } catch {
                                throw refuseJob("\(error)")
                            }
                            pendingManifest = bytes
                            acceptedManifest = nil
                            phase = .settingUp
                            try toCompute([ComputeWire.setup, bytes])
                        }
                    case let .task(lease, entries):
                        guard phase == .ready, remaining[lease] == nil else {
                            options.log("dropped TASK \(lease): not ready or duplicate")
                            continue
                        }
                        readyOutstanding = false
                        queue.append(contentsOf: entries.map { (lease, $0) })
                        remaining[lease] = entries.count
                    case .heartbeat:
                        break
                    case .reset:
                        options.log("coordinator does not know this worker (restart or expiry): greeting again")
                        greet()
                    case .done:
                        if options.exitWhenDone { return .runFinished(computed: computed) }
                        options.log("run finished; waiting for the next coordinator")
                        greet()
                    case let .chunk(file, offset, bytes):
                        guard let download, try download.receive(file: file, offset: offset, bytes: bytes) else {
                            options.log("dropped CHUNK of file \(file) at \(offset): not requested (stale or duplicate)")
                            continue
                        }
                    }
                }
            }

            if readable[1] {
                while let reply = try pair.receive(maxFrames: 8) {
                    let frames = reply.frames
                    guard let kind = frames.first else { continue }
                    if kind == ComputeWire.setupOK {
                        acceptedManifest = pendingManifest
                        pendingManifest = nil
                        if phase == .settingUp { phase = .ready }
                    } else if kind == ComputeWire.setupFailed {
                        throw refuseJob(frames.count > 1 ? String(decoding: frames[1], as: UTF8.self) : "setup failed")
                    } else if kind == ComputeWire.setupNeedsFiles {
                        let reason = frames.count > 1 ? String(decoding: frames[1], as: UTF8.self) : "no model"
                        do {
                            download = try startDownload(pendingShipment, reason: reason, attempt: downloadsOfPending + 1)
                            downloadsOfPending += 1
                        } catch {
                            throw refuseJob("\(error)")
                        }
                    } else if (kind == ComputeWire.workDone || kind == ComputeWire.workFailed), frames.count == 5,
                              let lease = try? Wire.decodeUInt64(frames[1], "lease"),
                              let index = try? Wire.decodeIndex(frames[2], "index"),
                              let attempt = try? Wire.decodeUInt32(frames[3], "attempt") {
                        computing = false
                        guard let open = remaining[lease] else { continue }  // lease abandoned by a RESET
                        if kind == ComputeWire.workDone {
                            send(.result(lease: lease, index: index, attempt: attempt, payload: frames[4]))
                            computed += 1
                        } else {
                            send(.error(lease: lease, index: index, attempt: attempt,
                                        message: String(decoding: frames[4], as: UTF8.self)))
                        }
                        remaining[lease] = open > 1 ? open - 1 : nil
                    }
                }
            }

            now = monotonicSeconds()
            if let current = download, let manifest = pendingManifest {
                do {
                    for request in try current.nextRequests(now: now) { send(request) }
                } catch {
                    throw refuseJob("\(error)")
                }
                if current.state == .complete {
                    let seconds = now - current.startedAt
                    options.log("model shipment \(current.shipment.key) is in the cache: " + (current.receivedBytes == 0
                        ? "fetched by another worker on this host"
                        : "\(current.receivedBytes >> 20) MiB fetched in "
                            + String(format: "%.2f s (%.0f MiB/s)", seconds, Double(current.receivedBytes) / 1_048_576 / max(seconds, 1e-6)))
                        + "; setting up again")
                    download = nil
                    try toCompute([ComputeWire.setup, manifest])
                }
            }
            if phase == .ready, !computing, pendingManifest == nil, !queue.isEmpty {
                let (lease, entry) = queue.removeFirst()
                try toCompute([ComputeWire.work, Wire.encode(lease), Wire.encode(UInt64(entry.index)), Wire.encode(entry.attempt)])
                computing = true
            }
            if phase == .ready, queue.isEmpty, remaining.isEmpty, !computing, !readyOutstanding {
                send(.ready(credit: 1))
                readyOutstanding = true
            }
            if phase == .greeting, now - lastHello >= heartbeat * Double(options.heartbeatLiveness) {
                greet()
            }
            if now - lastSent >= heartbeat {
                send(.heartbeat)
            }
            if now - lastHeard > options.idleExitSeconds {
                options.log("nothing from the coordinator for \(Int(options.idleExitSeconds)) s: exiting")
                return .coordinatorSilent(seconds: options.idleExitSeconds)
            }
        }
    }

    /// Setup found no usable model: fetch the manifest's shipment into the cache, if it has one.
    private func startDownload(_ shipment: FileShipment?, reason: String, attempt: Int) throws -> ShipmentDownload {
        guard let shipment else {
            throw ClusterError.modelUnavailable("\(reason) (the coordinator can send it: start it with --ship-model)")
        }
        guard let root = options.shipmentCache else {
            throw ClusterError.modelUnavailable("\(reason) (this worker has no model cache, so it cannot take the shipped model)")
        }
        guard attempt <= options.maxDownloads else {
            throw ClusterError.modelUnavailable("\(reason), after \(options.maxDownloads) download(s) of the shipped model")
        }
        let cache = ShipmentCache(root: root)
        // Setup rejected a complete cached copy (its check failed): replace it.
        if cache.directory(for: shipment) != nil { cache.remove(shipment) }
        options.log("\(reason): fetching the model from the coordinator (\(shipment.totalBytes >> 20) MiB into \(root.path))")
        return try ShipmentDownload(shipment: shipment, cache: cache, credit: options.fetchCredit,
                                    retrySeconds: max(2, options.heartbeatIntervalSeconds * Double(options.heartbeatLiveness)),
                                    lockWaitSeconds: options.shipmentLockWaitSeconds, log: options.log)
    }

    private func makeDealer(_ context: ZMQContext) throws -> ZMQSocket {
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
        try dealer.connect(endpoint)
        return dealer
    }
}
