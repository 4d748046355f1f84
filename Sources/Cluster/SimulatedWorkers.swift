import CZMQ
import Foundation

/// Many workers in one process, for measuring a coordinator with a thousand peers without a thousand
/// processes (`cluster-demo swarm`). Each simulated worker is a real peer: its own DEALER socket and
/// routing id, and the real worker's protocol state machine (`WorkerSession`: HELLO, READY, heartbeats
/// with its status, RESET, DONE); only the computation is replaced by `result`, answered `delaySeconds`
/// after the task arrived. One poll loop serves every socket, as a worker's own loop serves its one.
/// Used by one thread at a time (the one in `run`), hence unchecked.
public final class SimulatedWorkers: @unchecked Sendable {
    public struct Options: Sendable {
        public var count: Int
        public var namePrefix = "sim"
        public var heartbeatIntervalSeconds = 1.0
        public var heartbeatLiveness = 3
        /// Time from a task's arrival to its result (the simulated computation).
        public var delaySeconds = 0.0
        /// Give up after this long even if the coordinator never says DONE.
        public var maxSeconds = 3600.0

        public init(count: Int) { self.count = count }
    }

    /// What the simulated workers saw and sent.
    public struct Report: Sendable, Equatable {
        public var workers = 0
        public var resultsSent = 0
        public var tasksReceived = 0
        /// RESETs: the coordinator had forgotten the worker (expired it).
        public var resets = 0
        /// Workers that ended on the coordinator's DONE.
        public var finished = 0
        public var refused = 0
    }

    /// File descriptors a swarm of `count` needs: each DEALER has a mailbox (eventfd) and a TCP connection.
    public static func descriptorsNeeded(count: Int) -> Int { 2 * count + 64 }

    private struct Peer {
        var socket: ZMQSocket
        var session: WorkerSession
        /// Tasks being "computed", with when each is due.
        var due: [(at: Double, lease: UInt64, entry: LeaseEntry)] = []
        var ended = false
    }

    private let options: Options
    private let context: ZMQContext
    private var peers: [Peer] = []
    private var report = Report()
    /// The computation of the last manifest set up (once for every simulated worker).
    private var computation: (manifest: Data, compute: (Int, Data) throws -> Data)?
    private let setUp: (JobManifest) throws -> (Int, Data) throws -> Data

    /// Connects `options.count` DEALERs to `endpoint`. Raises the open-files limit as far as the swarm
    /// needs (throws, naming both numbers, when the hard limit is lower) and libzmq's socket cap.
    public init(connect endpoint: String, options: Options,
                setUp: @escaping (JobManifest) throws -> (Int, Data) throws -> Data) throws {
        guard options.count >= 1 else { throw ClusterError.invalidOption("a swarm needs at least one worker") }
        try FileDescriptorLimit.raise(toAtLeast: Self.descriptorsNeeded(count: options.count),
                                      purpose: "\(options.count) simulated workers")
        self.options = options
        self.setUp = setUp
        context = try ZMQContext()
        try context.set(ZMQ_MAX_SOCKETS, Int32(options.count + 16))
        let now = monotonicSeconds()
        for k in 0..<options.count {
            let socket = try ZMQSocket(context, type: ZMQ_DEALER)
            let name = "\(options.namePrefix)-\(k)"
            try socket.set(ZMQ_ROUTING_ID, bytes: Data("\(name)-\(getpid())".utf8))
            try socket.connect(endpoint)
            let session = WorkerSession(name: name, heartbeatSeconds: options.heartbeatIntervalSeconds,
                                        liveness: options.heartbeatLiveness, idleExitSeconds: options.maxSeconds,
                                        exitWhenDone: true, now: now)
            peers.append(Peer(socket: socket, session: session))
        }
        report.workers = options.count
    }

    deinit {
        for peer in peers { peer.socket.close() }
        context.terminate()
    }

    /// Runs every simulated worker until each has been told DONE (or refused, or `maxSeconds` passed).
    public func run() throws -> Report {
        let start = monotonicSeconds()
        for k in peers.indices { try perform(k, peers[k].session.start(now: start)) }
        let tick = options.heartbeatIntervalSeconds / 4
        while peers.contains(where: { !$0.ended }), monotonicSeconds() - start < options.maxSeconds {
            let open = peers.indices.filter { !peers[$0].ended }
            let nextDue = open.compactMap { peers[$0].due.first?.at }.min()
            let wait = max(0, min(tick, (nextDue ?? .infinity) - monotonicSeconds()))
            let readable = try pollReadable(open.map { peers[$0].socket }, timeoutSeconds: wait)
            for (k, isReadable) in zip(open, readable) where isReadable {
                while !peers[k].ended, let message = try peers[k].socket.receive(maxFrames: 8) {
                    guard let decoded = try? CoordinatorMessage.decode(message.frames) else { continue }
                    switch decoded {
                    case .task(_, let entries):
                        report.tasksReceived += 1
                        schedule(k, entries: entries, decoded)
                    case .reset: report.resets += 1
                    case .done: report.finished += 1
                    default: break
                    }
                    try perform(k, peers[k].session.handle(.message(decoded), now: monotonicSeconds()))
                }
            }
            let now = monotonicSeconds()
            for k in open where !peers[k].ended {
                while let first = peers[k].due.first, first.at <= now {
                    peers[k].due.removeFirst()
                    let reply = compute(first.lease, first.entry)
                    try perform(k, peers[k].session.handle(.compute(reply), now: now))
                }
                try perform(k, peers[k].session.handle(.tick, now: now))
            }
        }
        return report
    }

    /// A TASK's entries are computed one after another, each `delaySeconds` after the previous (or arrival).
    private func schedule(_ k: Int, entries: [LeaseEntry], _ task: CoordinatorMessage) {
        guard case .task(let lease, _) = task else { return }
        var at = max(monotonicSeconds(), peers[k].due.last?.at ?? 0)
        for entry in entries {
            at += options.delaySeconds
            peers[k].due.append((at, lease, entry))
        }
    }

    private func compute(_ lease: UInt64, _ entry: LeaseEntry) -> WorkerSession.ComputeReply {
        guard let computation = computation?.compute else {
            return .workFailed(lease: lease, index: entry.index, attempt: entry.attempt, message: "no job set up")
        }
        do {
            let payload = try computation(entry.index, entry.example)
            return .workDone(lease: lease, index: entry.index, attempt: entry.attempt, payload: payload)
        } catch {
            return .workFailed(lease: lease, index: entry.index, attempt: entry.attempt, message: "\(error)")
        }
    }

    private func perform(_ k: Int, _ actions: [WorkerSession.Action]) throws {
        for action in actions {
            switch action {
            case .send(let message):
                if case .result = message { report.resultsSent += 1 }
                _ = try peers[k].socket.send(message.frames)
                peers[k].session.noteSent(now: monotonicSeconds())
            case .setUp(let bytes):
                let reply: WorkerSession.ComputeReply
                do {
                    if computation?.manifest != bytes {
                        computation = (bytes, try setUp(try JobManifest.decode(bytes)))
                    }
                    reply = .setupSucceeded
                } catch {
                    reply = .setupFailed("\(error)")
                }
                try perform(k, peers[k].session.handle(.compute(reply), now: monotonicSeconds()))
            case .compute:
                break  // scheduled when its TASK arrived
            case .download, .abandonDownload, .log:
                break
            case .refuse(let reason):
                report.refused += 1
                _ = try peers[k].socket.send(WorkerMessage.refuse(reason: reason).frames)
                peers[k].ended = true
            case .exit:
                peers[k].ended = true
            }
        }
    }
}

/// The process's open-files limit (RLIMIT_NOFILE): a coordinator with a thousand workers holds a
/// connection each, and the usual soft limit of 1,024 would turn the next ones away.
public enum FileDescriptorLimit {
    /// The soft and hard limits now.
    public static func current() -> (soft: Int, hard: Int) {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return (0, 0) }
        return (Int(clamping: limit.rlim_cur), Int(clamping: limit.rlim_max))
    }

    /// Raises the soft limit to at least `needed` (to the hard limit when `needed` is nil); throws naming
    /// both numbers when the hard limit is lower. Returns the soft limit now in force.
    @discardableResult
    public static func raise(toAtLeast needed: Int?, purpose: String) throws -> Int {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else {
            throw ClusterError.invalidOption("cannot read the open-files limit (errno \(errno))")
        }
        let hard = Int(clamping: limit.rlim_max)
        if let needed, needed > hard {
            throw ClusterError.invalidOption("\(purpose) need about \(needed) open files, but this process may open at "
                + "most \(hard) (the hard limit, ulimit -Hn): raise it (limits.conf nofile, systemd LimitNOFILE, "
                + "or ulimit -Hn as root) or use fewer")
        }
        let wanted = needed ?? hard
        guard Int(clamping: limit.rlim_cur) < wanted else { return Int(clamping: limit.rlim_cur) }
        limit.rlim_cur = rlim_t(wanted)
        guard setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else {
            throw ClusterError.invalidOption("cannot raise the open-files limit to \(wanted) (errno \(errno))")
        }
        return wanted
    }
}
