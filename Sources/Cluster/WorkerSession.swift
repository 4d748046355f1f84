import Foundation

/// A worker's protocol state, free of sockets, threads and clocks (time is
/// passed in), as `LeaseBook` is for the coordinator: events in, actions out.
/// `Worker` runs the socket loop around it and carries out the actions.
///
/// Rules: greet (HELLO) until a MANIFEST arrives, set it up once, ask for
/// work with READY(1) when holding nothing, compute leased entries one at a
/// time in arrival order, answer each with RESULT or ERROR. Every heartbeat
/// says which leases this worker holds and whether it is waiting for work,
/// so the coordinator can re-issue a TASK, RESULT or READY lost on a
/// reconnect (see Protocol.swift).
struct WorkerSession {
    /// What the compute thread answered (`ComputeWire`, decoded).
    enum ComputeReply: Equatable {
        case setupSucceeded
        case setupFailed(String)
        /// Setup found no usable model: fetch the manifest's shipment.
        case setupNeedsFiles(String)
        case workDone(lease: UInt64, index: Int, attempt: UInt32, payload: Data)
        case workFailed(lease: UInt64, index: Int, attempt: UInt32, message: String)
    }

    enum Event: Equatable {
        case message(CoordinatorMessage)
        case compute(ComputeReply)
        /// The shipment download finished (the files are in the cache).
        case downloadComplete
        /// Timers only (heartbeat, re-greeting, silence).
        case tick
    }

    enum Action: Equatable {
        case send(WorkerMessage)
        /// Run `setup` on the compute thread with this manifest.
        case setUp(manifest: Data)
        case compute(lease: UInt64, entry: LeaseEntry)
        /// Fetch `shipment` (nil: the coordinator offers none), attempt `attempt`.
        case download(shipment: FileShipment?, reason: String, attempt: Int)
        case abandonDownload
        case log(String)
        /// Send REFUSE, then stop with `ClusterError.setupRefused(reason)`.
        case refuse(String)
        case exit(WorkerExit)
    }

    enum Phase: Equatable { case greeting, settingUp, ready }

    let name: String
    let liveness: Int
    let idleExitSeconds: Double
    let exitWhenDone: Bool

    private(set) var phase = Phase.greeting
    private(set) var heartbeatSeconds: Double
    private var acceptedManifest: Data?     // set up and ready to use
    private var pendingManifest: Data?      // being set up on the compute thread
    private var pendingShipment: FileShipment?
    private var downloading = false
    private var downloadsOfPending = 0
    /// Entries to compute, in arrival order, and open entries per live lease.
    private var queue: [(lease: UInt64, entry: LeaseEntry)] = []
    private(set) var remaining: [UInt64: Int] = [:]
    private var computing = false
    private var readyOutstanding = false
    private(set) var computed = 0
    private var lastHeard: Double
    private var lastSent: Double
    private var lastHello: Double
    /// When `handle` last ran: the network thread steps at least every half heartbeat.
    private var lastStep: Double
    private var finished = false

    init(
        name: String, heartbeatSeconds: Double, liveness: Int, idleExitSeconds: Double, exitWhenDone: Bool, now: Double
    ) {
        self.name = name
        self.heartbeatSeconds = heartbeatSeconds
        self.liveness = liveness
        self.idleExitSeconds = idleExitSeconds
        self.exitWhenDone = exitWhenDone
        lastHeard = now
        lastSent = now
        lastHello = now
        lastStep = now
    }

    /// The leases this worker holds (queued or computing), for its heartbeat.
    var heldLeases: [UInt64] { remaining.keys.sorted() }

    /// The first HELLO.
    mutating func start(now: Double) -> [Action] { greet(now: now) }

    /// Something other than the session sent a message (a FETCH of the download).
    mutating func noteSent(now: Double) { lastSent = now }

    mutating func handle(_ event: Event, now: Double) -> [Action] {
        guard !finished else { return [] }
        // No step for a liveness period means this process was stopped (SIGSTOP, a VM or laptop pause),
        // not that the coordinator went quiet: its silence over the gap does not count.
        let gap = now - lastStep
        if gap > heartbeatSeconds * Double(liveness) { lastHeard += gap }
        lastStep = now
        var actions: [Action]
        switch event {
        case let .message(message):
            lastHeard = now
            actions = receive(message, now: now)
        case let .compute(reply):
            actions = computeReplied(reply, now: now)
        case .downloadComplete:
            downloading = false
            actions = pendingManifest.map { [.setUp(manifest: $0)] } ?? []
        case .tick:
            actions = []
        }
        if actions.contains(where: Self.isFinal) { finished = true; return actions }
        actions += advance(now: now)
        if actions.contains(where: Self.isFinal) { finished = true }
        return actions
    }

    private static func isFinal(_ action: Action) -> Bool {
        switch action {
        case .exit, .refuse: return true
        default: return false
        }
    }

    private mutating func send(_ message: WorkerMessage, now: Double) -> Action {
        lastSent = now
        return .send(message)
    }

    private mutating func greet(now: Double) -> [Action] {
        phase = .greeting
        queue.removeAll()
        remaining.removeAll()
        readyOutstanding = false
        lastHello = now
        return [send(.hello(name: name, capacity: 1), now: now)]
    }

    private mutating func receive(_ message: CoordinatorMessage, now: Double) -> [Action] {
        switch message {
        case let .manifest(milliseconds, bytes):
            heartbeatSeconds = min(600, max(0.01, Double(milliseconds) / 1000))
            if bytes == acceptedManifest {
                phase = .ready
                return []
            }
            if bytes == pendingManifest {
                phase = .settingUp  // setup or its download already running (HELLO was resent)
                return []
            }
            var actions: [Action] = downloading ? [.abandonDownload] : []
            downloading = false
            downloadsOfPending = 0
            do { pendingShipment = try JobManifest.decode(bytes).shipment } catch {
                return actions + [.refuse("\(error)")]
            }
            pendingManifest = bytes
            acceptedManifest = nil
            phase = .settingUp
            actions.append(.setUp(manifest: bytes))
            return actions
        case let .task(lease, entries):
            guard phase == .ready, remaining[lease] == nil else {
                return [.log("dropped TASK \(lease): not ready or duplicate")]
            }
            readyOutstanding = false
            queue.append(contentsOf: entries.map { (lease, $0) })
            remaining[lease] = entries.count
            return []
        case .heartbeat:
            return []
        case .reset:
            return [.log("coordinator does not know this worker (restart or expiry): greeting again")] + greet(now: now)
        case .done:
            if exitWhenDone { return [.exit(.runFinished(computed: computed))] }
            return [.log("run finished; waiting for the next coordinator")] + greet(now: now)
        case .chunk:
            return []  // the download's business (`Worker` hands CHUNKs to it directly)
        }
    }

    private mutating func computeReplied(_ reply: ComputeReply, now: Double) -> [Action] {
        switch reply {
        case .setupSucceeded:
            acceptedManifest = pendingManifest
            pendingManifest = nil
            if phase == .settingUp { phase = .ready }
            return []
        case let .setupFailed(reason):
            return [.refuse(reason)]
        case let .setupNeedsFiles(reason):
            downloadsOfPending += 1
            downloading = true
            return [.download(shipment: pendingShipment, reason: reason, attempt: downloadsOfPending)]
        case let .workDone(lease, index, attempt, payload):
            computing = false
            guard let open = remaining[lease] else { return [] }  // lease abandoned by a RESET
            remaining[lease] = open > 1 ? open - 1 : nil
            computed += 1
            return [send(.result(lease: lease, index: index, attempt: attempt, payload: payload), now: now)]
        case let .workFailed(lease, index, attempt, message):
            computing = false
            guard let open = remaining[lease] else { return [] }
            remaining[lease] = open > 1 ? open - 1 : nil
            return [send(.error(lease: lease, index: index, attempt: attempt, message: message), now: now)]
        }
    }

    /// Start the next computation, ask for work, and run the timers.
    private mutating func advance(now: Double) -> [Action] {
        var actions: [Action] = []
        if phase == .ready, !computing, pendingManifest == nil, !queue.isEmpty {
            let (lease, entry) = queue.removeFirst()
            actions.append(.compute(lease: lease, entry: entry))
            computing = true
        }
        if phase == .ready, queue.isEmpty, remaining.isEmpty, !computing, !readyOutstanding {
            actions.append(send(.ready(credit: 1), now: now))
            readyOutstanding = true
        }
        if phase == .greeting, now - lastHello >= heartbeatSeconds * Double(liveness) {
            actions += greet(now: now)
        }
        if now - lastSent >= heartbeatSeconds {
            let status: WorkerMessage = phase == .ready
                ? .status(credit: readyOutstanding ? 1 : 0, leases: heldLeases)
                : .heartbeat
            actions.append(send(status, now: now))
        }
        if now - lastHeard > idleExitSeconds {
            actions.append(.log("nothing from the coordinator for \(Int(idleExitSeconds)) s: exiting"))
            actions.append(.exit(.coordinatorSilent(seconds: idleExitSeconds)))
        }
        return actions
    }
}
