import CZMQ
import Foundation

/// Hands out examples to workers over a ROUTER socket and collects their
/// results: one poll loop, one thread (the caller's), as zguide's ppqueue.
/// Protocol: see Protocol.swift. Scheduling rules: see LeaseBook.swift.
public final class Coordinator {
    /// The bound endpoint with the real port (e.g. "tcp://127.0.0.1:41234").
    public let endpoint: String
    /// Ask a running `run` to stop (from any thread, e.g. a SIGINT handler):
    /// it throws `ClusterError.stopped`; the results log stays resumable.
    public let stopSignal = StopSignal()

    struct Session {
        enum State { case awaitingReady, working, refused }
        var name: String
        var capacity: UInt32
        /// ZAP user id (client key) seen on HELLO; later messages must match it.
        var userID: String?
        var state: State
        var credit: UInt32 = 0
        var lastHeard: Double
        var lastSent: Double
        /// When the last MANIFEST went out: a repeated HELLO is answered at most once per liveness period.
        var manifestSentAt: Double
    }

    let options: CoordinatorOptions
    private let context: ZMQContext
    private var router: ZMQSocket?
    private var authenticator: ZAPAuthenticator?
    private let manifestBytes: Data
    /// Sent with the TASKs that lease them (empty: entries carry no bytes, the workers know the examples).
    let examples: ExampleStore
    var book: LeaseBook
    let resultsLog: (any ResultJournal)?
    private let resumedCount: Int
    var sessions: [Data: Session] = [:]
    private var resetSentAt: [Data: Double] = [:]
    private var dropped = 0
    var receivedThisSession = 0
    private var hasRun = false
    private let shipmentSource: ShipmentSource?
    private var shippedBytes: UInt64 = 0
    private var fetchingWorkers: Set<Data> = []
    private var shipmentChangedLogged = false
    /// `--verify` (CoordinatorVerification.swift).
    var verification: Verification
    /// What `--verify` found; complete once `run` returns.
    public internal(set) var verificationReport = VerificationReport()
    /// Bytes handed to the socket per worker (routing id), with the name it last said HELLO with.
    private var sentBytes: [Data: UInt64] = [:]
    private var workerNames: [Data: String] = [:]

    /// Binds at once (so `endpoint` is known and early workers queue up);
    /// work starts with `run`. Each TASK carries its entries' bytes from `examples`. Final results go to
    /// `journal` when the caller opened one, else to `options.resultsLog` (opened here, last).
    public init(
        manifest: JobManifest, indices: [Int], examples: ExampleStore = ExampleStore(), options: CoordinatorOptions,
        journal: OpenedJournal? = nil
    ) throws {
        try options.validate()
        self.options = options
        if !examples.isEmpty { try examples.validate(indices: indices, shardSize: options.shardSize) }
        self.examples = examples
        self.manifestBytes = try manifest.encoded()
        self.verification = Verification(fraction: options.verifyFraction, seed: manifest.seed,
                                         sameResult: options.sameResult ?? { $0 == $1 })
        guard manifestBytes.count + 64 <= options.maxMessageBytes else {
            throw ClusterError.invalidOption("manifest (\(manifestBytes.count) B) exceeds the max message size")
        }
        // Selection, options and shipped files are checked before anything is bound or written.
        if let shipment = manifest.shipment {
            shipmentSource = try ShipmentSource(shipment: shipment, files: options.shippedFiles)
        } else {
            guard options.shippedFiles.isEmpty else {
                throw ClusterError.shipment("files to ship but no shipment in the manifest")
            }
            shipmentSource = nil
        }
        _ = try LeaseBook(indices: indices, alreadyDone: [:], maxAttempts: options.maxAttempts,
                          shardSize: options.shardSize, firstLeaseID: 1)

        // One connection per worker: the usual soft limit of 1,024 open files would turn the 1,000th away.
        let soft = FileDescriptorLimit.current().soft
        let raised = try FileDescriptorLimit.raise(toAtLeast: nil, purpose: "the coordinator")
        if raised > soft {
            options.log("open-files limit raised from \(soft) to \(raised) (one per worker connection)")
        }
        let context = try ZMQContext()
        var socket: ZMQSocket?
        var authenticator: ZAPAuthenticator?
        do {
            let router = try ZMQSocket(context, type: ZMQ_ROUTER)
            socket = router
            if let directory = options.curveKeysDirectory {
                let keys = try CurveZMQKeyFiles.loadKeyPair(name: CurveZMQKeyFiles.coordinatorName, from: directory)
                let authorized = try CurveZMQKeyFiles.loadAuthorizedKeys(
                    directory.appendingPathComponent(CurveZMQKeyFiles.authorizedDirectory))
                // Must be bound before the ROUTER binds, or libzmq admits everyone.
                authenticator = try ZAPAuthenticator(context: context, authorizedKeys: authorized, log: options.log)
                try router.set(ZMQ_CURVE_SERVER, 1)
                try router.set(ZMQ_CURVE_SECRETKEY, bytes: Data(keys.secretKey.utf8))
                try router.set(ZMQ_ZAP_DOMAIN, bytes: Data("iba".utf8))
            }
            try router.set(ZMQ_ROUTER_MANDATORY, 1)   // sends to vanished workers fail instead of vanishing
            try router.set(ZMQ_ROUTER_HANDOVER, 1)    // a reconnecting worker keeps its routing id
            try router.set(ZMQ_MAXMSGSIZE, int64: Int64(options.maxMessageBytes))
            try router.set(ZMQ_SNDHWM, options.sendHighWaterMark)
            try setTransportHeartbeats(router, intervalSeconds: options.heartbeatIntervalSeconds,
                                       liveness: options.heartbeatLiveness)
            try router.bind(options.bind)
            endpoint = try router.string(ZMQ_LAST_ENDPOINT)

            // The log is opened last, so a failed bind leaves no half-started log behind.
            var alreadyDone: [Int: Data] = [:]
            if let journal {
                resultsLog = journal.journal
                alreadyDone = journal.done
            } else if let url = options.resultsLog {
                let (log, done) = try ResultsLog.open(
                    url, fingerprint: manifest.fingerprint, details: options.resultsLogDetails,
                    optionDefaults: options.manifestOptionDefaults,
                    resume: options.resume, protection: options.resultsLogProtection,
                    log: options.log)
                resultsLog = log
                alreadyDone = done
            } else {
                resultsLog = nil
            }
            let selection = Set(indices)
            let resumed = alreadyDone.filter { selection.contains($0.key) }
            resumedCount = resumed.count
            if let accepted = options.resultAccepted {
                for (index, payload) in resumed.sorted(by: { $0.key < $1.key }) { accepted(index, payload, true) }
            }
            book = try LeaseBook(indices: indices, alreadyDone: alreadyDone, maxAttempts: options.maxAttempts,
                                 shardSize: options.shardSize, firstLeaseID: UInt64.random(in: 1...(UInt64.max / 2)),
                                 keepsPayloads: options.returnsPayloads)
        } catch {
            socket?.close()
            authenticator?.stop()
            context.terminate()
            throw error
        }
        self.context = context
        self.router = socket
        self.authenticator = authenticator
    }

    deinit { shutdown() }

    /// Bytes of messages sent to each worker so far (the frames after the routing id, before ZeroMQ's
    /// framing and any encryption), by the name the worker gave; a name used by several workers sums them.
    public var bytesSentPerWorker: [String: UInt64] {
        sentBytes.reduce(into: [:]) { totals, pair in
            totals[workerNames[pair.key] ?? Self.describe(pair.key), default: 0] += pair.value
        }
    }

    /// Number of CURVE clients the ZAP handler turned away (0 without CURVE).
    public var deniedClients: Int { authenticator?.denied ?? deniedAtShutdown }
    private var deniedAtShutdown = 0

    /// Runs until every selected index is done or failed. Throws when no
    /// worker was alive for `workerTimeoutSeconds`, or on I/O failure.
    public func run(progress: (ClusterProgress) -> Void = { _ in }) throws -> [Int: WorkResult] {
        guard !hasRun else { throw ClusterError.alreadyRun }
        hasRun = true
        defer { shutdown() }
        guard let router else { throw ClusterError.alreadyRun }
        let signals = options.stopOnSignals ? SignalStop.register(stopSignal) : nil
        defer { signals.map(SignalStop.unregister) }

        let start = options.clock()
        let tick = options.heartbeatIntervalSeconds / 2
        let progressInterval = 1.0
        // Counts change with every result; a report costs the caller (its progress bar and file) more
        // than a result costs here, so changed counts are reported at most this often.
        let progressMinimumInterval = 0.2
        var lastReport = snapshot(start: start, now: start)
        var lastReportTime = start
        var lastTimers = -Double.infinity
        var lastCommit = start
        var noWorkersSince = start
        var lastStep = start
        progress(lastReport)
        options.log("coordinator on \(endpoint): \(book.total) examples, \(resumedCount) from the results log")

        while !book.isFinished {
            if stopSignal.isRequested {
                try resultsLog?.commit()
                options.log("stop requested: \(book.doneCount) of \(book.total) done")
                logEgress()
                throw ClusterError.stopped
            }
            if try pollReadable([router], timeoutSeconds: tick)[0] {
                // Bounded drain so a flood cannot starve the timers below.
                for _ in 0..<1000 {
                    guard let message = try router.receive(maxFrames: 8) else { break }
                    try handle(message, now: options.clock())
                }
            }
            let now = options.clock()
            // Group commit: one fsync per commit interval, not per drain (with many workers a drain is often
            // one result, and an fsync per result was the largest cost per result). Progress is reported
            // only after a commit, so what a report counts is durable.
            if now - lastCommit >= options.commitIntervalSeconds || book.isFinished {
                try resultsLog?.commit()
                lastCommit = now
            }
            if let gap = forgivePause(since: lastStep, now: now) { noWorkersSince = min(noWorkersSince + gap, now) }
            lastStep = now
            // The timers scan every session or lease: run each tick, not after every drain (with a
            // thousand workers a drain is often one message).
            let timersDue = now - lastTimers >= tick || book.isFinished
            if timersDue {
                lastTimers = now
                try expireSilentWorkers(now: now)
                if let timeout = options.leaseTimeoutSeconds {
                    for lease in book.leases(olderThan: timeout, now: now) {
                        options.log("lease \(lease.id) of \(sessions[lease.owner]?.name ?? Self.describe(lease.owner)) "
                                    + "timed out after \(Int(timeout)) s: re-issuing it")
                    }
                    try recordFailures(book.expire(olderThan: timeout, now: now))
                }
            }
            try dispatch(now: now)
            if timersDue {
                try settleBlockedVerifications()
                sendHeartbeats(now: now)
                if liveWorkerCount > 0 {
                    noWorkersSince = now
                } else if now - noWorkersSince > options.workerTimeoutSeconds, !book.isFinished {
                    throw ClusterError.noWorkers(seconds: options.workerTimeoutSeconds)
                }
            }
            if timersDue { try resultsLog?.commit() }  // failures recorded by the timers above
            let sinceReport = now - lastReportTime
            if sinceReport >= progressMinimumInterval {
                let current = snapshot(start: start, now: now)
                if !current.sameCounts(as: lastReport) || sinceReport >= progressInterval {
                    try resultsLog?.commit()
                    lastCommit = now
                    progress(current)
                    lastReport = current
                    lastReportTime = now
                }
            }
        }
        try resultsLog?.commit()
        for identity in sessions.keys where (try? router.send([identity] + CoordinatorMessage.done.frames)) == .sent {
            countSent(identity, CoordinatorMessage.done.frames)
        }
        let final = snapshot(start: start, now: options.clock())
        if !final.sameCounts(as: lastReport) { progress(final) }
        logEgress()
        options.log(
            "run finished: \(book.doneCount) done, \(book.failedCount) failed, \(book.requeues) requeued, "
                + "\(dropped) dropped"
                + (shipmentSource == nil
                    ? "" : ", \(shippedBytes >> 20) MiB of model shipped to \(fetchingWorkers.count) worker(s)")
                + verificationSummary())
        // Without payloads the done examples are in the journal; only the failed ones are news.
        return options.returnsPayloads ? book.results.dictionary : book.results.failures
    }

    private func logEgress() {
        for (name, bytes) in bytesSentPerWorker.sorted(by: { $0.key < $1.key }) {
            options.log("sent \(bytes) bytes to worker \(name)")
        }
    }

    // MARK: - Messages

    private func handle(_ message: ReceivedMessage, now: Double) throws {
        guard let identity = message.frames.first, !message.truncated else {
            drop(nil, "\(message.frames.count)+ frames")
            return
        }
        let request: WorkerMessage
        do {
            request = try WorkerMessage.decode(Array(message.frames.dropFirst()))
        } catch {
            drop(identity, "\(error)")
            return
        }
        if case let .hello(name, capacity) = request {
            return try hello(identity, name: name, capacity: capacity, userID: message.userID, now: now)
        }
        guard var session = sessions[identity] else {
            if request == .bye { return }
            drop(identity, "message from unknown worker (expired or from a previous coordinator)")
            if now - (resetSentAt[identity] ?? -.infinity) >= options.heartbeatIntervalSeconds {
                resetSentAt[identity] = now
                send(identity, .reset, now: now)
            }
            return
        }
        guard session.userID == message.userID else {
            drop(identity, "CURVE key differs from the one that said HELLO")
            return
        }
        session.lastHeard = now
        sessions[identity] = session

        switch request {
        case .hello:
            break  // handled above
        case let .ready(credit):
            guard session.state != .refused else { return drop(identity, "READY after REFUSE") }
            sessions[identity]?.state = .working
            sessions[identity]?.credit = min(credit, session.capacity)
        case let .refuse(reason):
            options.log("worker \(session.name) refused the job: \(printable(reason))")
            sessions[identity]?.state = .refused
            try recordFailures(book.release(owner: identity))
        case let .result(lease, index, attempt, payload):
            try result(identity, from: session.name, lease: lease, index: index, attempt: attempt, payload: payload)
        case let .error(lease, index, attempt, rawText):
            let text = printable(rawText)
            let (outcome, final) = book.recordError(
                owner: identity, lease: lease, index: index, attempt: attempt, message: text)
            guard case .accepted = outcome else { return drop(identity, "ERROR \(index): \(outcome)") }
            options.log("example \(index) attempt \(attempt) failed on \(session.name): \(text)")
            if let final { try recordFailures([(index, final)]) }
        case .heartbeat:
            break
        case let .status(credit, held):
            try reconcile(identity, credit: credit, held: Set(held), now: now)
        case .bye:
            options.log("worker \(session.name) left")
            sessions[identity] = nil
            try recordFailures(book.release(owner: identity))
        case let .fetch(file, offset, length):
            guard session.state != .refused else { return drop(identity, "FETCH after REFUSE") }
            guard let shipmentSource else {
                return drop(identity, "FETCH but this run ships no files (start the coordinator with --ship-model)")
            }
            let bytes: Data
            switch shipmentSource.chunk(file: file, offset: offset, length: length) {
            case let .bytes(read): bytes = read
            case .invalid:
                return drop(
                    identity, "FETCH of file \(file) offset \(offset) length \(length) is not a chunk of the shipment")
            case let .changed(reason):
                // Never serve bytes that no longer match the manifest: an empty CHUNK tells the worker so.
                if !shipmentChangedLogged { options.log("cannot serve the shipped model: \(reason)") }
                shipmentChangedLogged = true
                send(identity, .chunk(file: file, offset: offset, bytes: Data()), now: now)
                return
            }
            if fetchingWorkers.insert(identity).inserted {
                options.log(
                    "worker \(session.name) is fetching the model (\(shipmentSource.shipment.totalBytes >> 20) MiB)")
            }
            // At HWM the chunk is not queued: the worker asks again after its retry interval.
            if send(identity, .chunk(file: file, offset: offset, bytes: bytes), now: now) == .sent {
                shippedBytes += UInt64(bytes.count)
            }
        }
    }

    /// RESULT: checked by the caller's validator (an invalid one is this attempt's error), then recorded once.
    private func result(_ identity: Data, from name: String, lease: UInt64, index: Int, attempt: UInt32,
                        payload: Data) throws {
        if let validator = options.resultValidator, let problem = validator(index, payload) {
            // An invalid record is this attempt's error: re-issued elsewhere, never logged as a result.
            let (outcome, final) = book.recordError(owner: identity, lease: lease, index: index, attempt: attempt,
                                                    message: "invalid result: \(problem)")
            guard case .accepted = outcome else { return drop(identity, "RESULT \(index): \(outcome)") }
            options.log("example \(index) attempt \(attempt) from \(name) is invalid: \(printable(problem))")
            if let final { try recordFailures([(index, final)]) }
            return
        }
        try accept(identity, lease: lease, index: index, attempt: attempt, payload: payload)
    }

    /// HELLO: a new session, or a worker greeting again (at most once per liveness period, and only with its own key).
    private func hello(_ identity: Data, name rawName: String, capacity: UInt32, userID: String?, now: Double) throws {
        let name = printable(rawName, limit: 80)
        if let existing = sessions[identity] {
            // A session belongs to the key that opened it: another valid key reusing the routing id is not it.
            guard existing.userID == userID else {
                return drop(identity, "HELLO with another CURVE key than the session's (routing id reused)")
            }
            // A worker re-greets once per liveness period at most; more is a flood, answered by nothing.
            let period = livenessPeriod
            guard now - existing.manifestSentAt >= period else {
                sessions[identity]?.lastHeard = now
                return drop(identity, "repeated HELLO within \(String(format: "%.1f", period)) s")
            }
            // The worker restarted its session: whatever it held is lost.
            try recordFailures(book.release(owner: identity))
        }
        sessions[identity] = Session(name: name, capacity: capacity, userID: userID,
                                     state: .awaitingReady, lastHeard: now, lastSent: now, manifestSentAt: now)
        workerNames[identity] = name
        options.log("worker \(name) [\(Self.describe(identity))] joined")
        send(identity, .manifest(heartbeatMilliseconds: UInt32(options.heartbeatIntervalSeconds * 1000),
                                 manifest: manifestBytes), now: now)
    }

    // MARK: - Timers

    /// Silence after which a peer counts as dead (and the gap after which the coordinator counts itself paused).
    private var livenessPeriod: Double { options.heartbeatIntervalSeconds * Double(options.heartbeatLiveness) }

    /// The loop reaches its timers at least every half heartbeat (plus a bounded drain); a gap of a
    /// liveness period means the coordinator itself was stopped (SIGSTOP, a VM or laptop pause, often
    /// with its workers). The workers' silence over the gap is not theirs: each gets the gap back (never
    /// past now), so a worker that is really gone is still declared dead one liveness period later.
    /// Returns the gap when it was forgiven.
    private func forgivePause(since last: Double, now: Double) -> Double? {
        let gap = now - last
        guard gap > livenessPeriod else { return nil }
        options.log("coordinator was not running for \(String(format: "%.1f", gap)) s (stopped or paused): "
                    + "the workers' silence over that time is not held against them")
        for (identity, session) in sessions { sessions[identity]?.lastHeard = min(session.lastHeard + gap, now) }
        return gap
    }

    private func expireSilentWorkers(now: Double) throws {
        let limit = livenessPeriod
        for (identity, session) in sessions where now - session.lastHeard > limit {
            if session.state != .refused {
                options.log("worker \(session.name) silent for "
                    + "\(String(format: "%.1f", now - session.lastHeard)) s: requeueing its leases")
            }
            try lose(identity)
        }
        resetSentAt = resetSentAt.filter { now - $0.value < limit }
    }

    /// A worker's HEARTBEAT says what it holds: leases issued to it more than
    /// a liveness period ago that it does not hold were lost in transit (a TASK
    /// or RESULT dropped with a connection) and are re-issued; a worker holding
    /// nothing and still asking for work gets its credit back (a lost READY).
    private func reconcile(_ identity: Data, credit: UInt32, held: Set<UInt64>, now: Double) throws {
        guard let session = sessions[identity], session.state != .refused else { return }
        let period = livenessPeriod
        let lost = book.leases(of: identity).filter { !held.contains($0.id) && now - $0.issuedAt > period }.map(\.id)
        if !lost.isEmpty {
            options.log("worker \(session.name) does not hold lease(s) "
                + "\(lost.map(String.init).joined(separator: ", ")): re-issuing them")
            try recordFailures(book.release(leases: lost))
        }
        if credit > 0, held.isEmpty, session.credit == 0, book.leases(of: identity).isEmpty {
            sessions[identity]?.state = .working
            sessions[identity]?.credit = min(credit, session.capacity)
        }
    }

    private func dispatch(now: Double) throws {
        // Only workers asking for work are sorted (in routing-id order, so a run hands out work the same way
        // whatever the dictionary's order); the live set is needed only once an example avoids a worker.
        let asking = sessions.filter { $0.value.state == .working && $0.value.credit > 0 }.keys
        guard !asking.isEmpty else { return }
        let speculationAge = options.speculate ? 0 : options.speculateAfterSeconds
        let live = book.avoidsWorkers
            ? Set(sessions.filter { $0.value.state == .working && !isUntrusted($0.key) }.keys) : []
        for identity in asking.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            guard let session = sessions[identity], session.state == .working, session.credit > 0,
                  !isUntrusted(identity) else { continue }
            // A worker holds at most its declared capacity, capped: a greedy peer cannot take the queue.
            guard book.leaseCount(of: identity) < min(Int(session.capacity),
                options.maxLeasesPerWorker) else { continue }
            guard let (lease, entries) = book.issue(to: identity, now: now, live: live)
                    ?? speculationAge.flatMap({ book.speculate(to: identity, now: now, minimumAgeSeconds: $0) }) else {
                continue
            }
            let carried = examples.isEmpty ? entries : try entries.map { entry in
                LeaseEntry(index: entry.index, attempt: entry.attempt, example: try examples.bytes(for: entry.index))
            }
            switch send(identity, .task(lease: lease, entries: carried), now: now) {
            case .sent:
                sessions[identity]?.credit -= 1
            case .unreachable, .wouldBlock:
                options.log("worker \(session.name) unreachable: requeueing its leases")
                try lose(identity)
            }
        }
    }

    private func sendHeartbeats(now: Double) {
        for (identity, session) in sessions where now - session.lastSent >= options.heartbeatIntervalSeconds {
            send(identity, .heartbeat, now: now)
        }
    }

    // MARK: - Helpers

    @discardableResult
    private func send(_ identity: Data, _ message: CoordinatorMessage, now: Double) -> SendOutcome {
        guard let router else { return .unreachable }
        let outcome: SendOutcome
        let frames = message.frames
        do { outcome = try router.send([identity] + frames) } catch {
            options.log("send to \(Self.describe(identity)) failed: \(error)")
            return .unreachable
        }
        if outcome == .sent {
            sessions[identity]?.lastSent = now
            countSent(identity, frames)
        }
        return outcome
    }

    /// Only workers that said HELLO are counted: a peer inventing routing ids cannot grow the table.
    private func countSent(_ identity: Data, _ frames: [Data]) {
        guard workerNames[identity] != nil else { return }
        sentBytes[identity, default: 0] += UInt64(frames.reduce(0) { $0 + $1.count })
    }

    /// Forget a worker and requeue what it held.
    private func lose(_ identity: Data) throws {
        sessions[identity] = nil
        try recordFailures(book.release(owner: identity))
    }

    func recordFailures(_ failures: [(Int, WorkResult)]) throws {
        for (index, result) in failures {
            if case let .failed(reason) = result { options.log("example \(index) failed for good: \(reason)") }
            try resultsLog?.append(index: index, attempt: UInt32(options.maxAttempts), result: result)
        }
    }

    func drop(_ identity: Data?, _ reason: String) {
        dropped += 1
        // The first drops are worth reading; a flood is summarised.
        if dropped <= 50 || dropped % 1000 == 0 {
            options.log("dropped message #\(dropped) from \(identity.map(Self.describe) ?? "?"): \(reason)")
        }
    }

    private var liveWorkerCount: Int { sessions.filter { $0.value.state != .refused && !isUntrusted($0.key) }.count }

    private func snapshot(start: Double, now: Double) -> ClusterProgress {
        let elapsed = now - start
        return ClusterProgress(
            total: book.total, done: book.doneCount, failed: book.failedCount, resumed: resumedCount,
            inFlight: book.inFlightCount, pending: book.pendingCount, liveWorkers: liveWorkerCount,
            requeues: book.requeues, dropped: dropped, elapsedSeconds: elapsed,
            examplesPerSecond: elapsed > 0 ? Double(receivedThisSession) / elapsed : 0)
    }

    /// Routing ids are "name-random" from our workers; anything else as hex.
    static func describe(_ identity: Data) -> String {
        if let text = String(data: identity, encoding: .utf8), text.utf8.count <= 64,
           text.unicodeScalars.allSatisfy({ (0x21...0x7E).contains($0.value) }) {
            return text
        }
        return identity.prefix(16).map { String(format: "%02x", $0) }.joined()
    }

    private func shutdown() {
        if let router {
            // Give DONE messages a moment to leave; linger 0 would discard them.
            try? router.set(ZMQ_LINGER, Int32(min(1000, options.heartbeatIntervalSeconds * 1000)))
            router.close()
        }
        router = nil
        authenticator?.stop()
        deniedAtShutdown = authenticator?.denied ?? deniedAtShutdown
        authenticator = nil
        if !terminated {
            terminated = true
            context.terminate()
        }
    }
    private var terminated = false
}

/// A thread-safe flag asking a loop to stop.
public final class StopSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var requested = false

    public init() {}

    public func request() { lock.withLock { requested = true } }
    public var isRequested: Bool { lock.withLock { requested } }
}

extension ClusterProgress {
    func sameCounts(as other: ClusterProgress) -> Bool {
        [done, failed, inFlight, pending, liveWorkers, requeues, dropped]
            == [
                other.done, other.failed, other.inFlight, other.pending, other.liveWorkers, other.requeues,
                other.dropped
            ]
    }
}

/// SIGINT, SIGTERM and SIGHUP while a coordinator runs: request its stop, so
/// its caller stops the workers it launched and the results log stays
/// resumable. With no run registered a signal does what it would by default.
enum SignalStop {
    static let handled = [SIGINT, SIGTERM, SIGHUP]
    nonisolated(unsafe) private static var registered: [ObjectIdentifier: StopSignal] = [:]
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []
    private static let lock = NSLock()
    private static let queue = DispatchQueue(label: "iba-cluster-signals")

    static func register(_ stop: StopSignal) -> StopSignal {
        lock.withLock {
            if sources.isEmpty {
                for number in handled {
                    signal(number, SIG_IGN)  // delivered to the source below instead
                    let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
                    source.setEventHandler { deliver(number) }
                    source.resume()
                    sources.append(source)
                }
            }
            registered[ObjectIdentifier(stop)] = stop
        }
        return stop
    }

    static func unregister(_ stop: StopSignal) {
        lock.withLock { _ = registered.removeValue(forKey: ObjectIdentifier(stop)) }
    }

    private static func deliver(_ number: Int32) {
        let stops = lock.withLock { Array(registered.values) }
        if stops.isEmpty {
            signal(number, SIG_DFL)
            raise(number)
        }
        for stop in stops { stop.request() }
    }
}
