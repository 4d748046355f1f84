import Foundation
import Reports

/// Where module diagnostics go unless the caller says otherwise.
public let standardErrorLog: @Sendable (String) -> Void = { line in
    // Lines quote workers (names, error text): one line each, with nothing a terminal would obey.
    FileHandle.standardError.write(Data("[cluster] \(terminalSafe(line))\n".utf8))
}

public struct CoordinatorOptions: Sendable {
    /// ZeroMQ endpoint to bind, e.g. "tcp://*:5555"; "tcp://127.0.0.1:0"
    /// picks a free port (read it back from `Coordinator.endpoint`).
    public var bind = "tcp://*:5555"
    /// Monotonic seconds; tests replace it to make time jump (a paused coordinator).
    public var clock: @Sendable () -> Double = { monotonicSeconds() }
    /// Give up (throw `noWorkers`) after this long with work left and no live worker.
    public var workerTimeoutSeconds = 600.0
    /// Sent to workers in MANIFEST, so both sides use the same interval.
    public var heartbeatIntervalSeconds = 1.0
    /// Silent intervals after which a peer is declared dead.
    public var heartbeatLiveness = 3
    /// Issues of one example (first run, requeues, speculation) before it is failed.
    public var maxAttempts = 3
    /// Examples per lease.
    public var shardSize = 1
    /// With the queue empty, re-issue the oldest in-flight examples to idle workers.
    public var speculate = false
    /// Without `speculate`: with the queue empty, idle workers re-run leases
    /// held longer than this (a slow or greedy peer cannot stall the end of a
    /// run). nil = never.
    public var speculateAfterSeconds: Double? = 120
    /// Requeue a lease (not its worker) held longer than this, counting a
    /// failed attempt: catches hung compute, which heartbeats cannot. On by
    /// default so progress never depends on a message arriving. nil = never.
    public var leaseTimeoutSeconds: Double? = 1800
    /// Leases one worker may hold at once: its declared capacity, capped by this.
    public var maxLeasesPerWorker = 4
    /// Messages queued per peer before sends to it fail (ZMQ_SNDHWM): a peer
    /// that reads slowly or floods requests cannot pile up replies.
    public var sendHighWaterMark: Int32 = 16
    /// Checks a RESULT's payload for an index (schema, lengths, finite
    /// numbers): a non-nil reason makes it an ERROR of that attempt (the
    /// example is re-issued, the payload never logged). nil = accept all.
    public var resultValidator: (@Sendable (_ index: Int, _ payload: Data) -> String?)?
    /// Fraction of the examples (drawn from the manifest's seed) computed by a
    /// second worker and compared byte for byte; see `Verification`. 0 = none.
    public var verifyFraction = 0.0
    /// Whether two workers' results of one example agree for `--verify`; nil = byte equality.
    public var sameResult: (@Sendable (Data, Data) -> Bool)?
    /// Called on the coordinator's thread with each result it accepts (valid, not stale or a
    /// duplicate), e.g. to keep a live summary; first, when resuming, with each result of the selection
    /// read from the results log (`resumed` true). nil = nothing.
    public var resultAccepted: (@Sendable (_ index: Int, _ payload: Data, _ resumed: Bool) -> Void)?
    /// Longest time an accepted result waits for its results-log commit (fsync). Results arriving within it
    /// share one fsync; a killed coordinator loses at most this long's results (computed again on resume).
    public var commitIntervalSeconds = 0.05
    /// Whether `run` returns the done results with their payloads. A caller that takes each one as it is
    /// accepted (`resultAccepted`, the journal) turns this off, so the coordinator's memory does not grow with
    /// them: `run` then returns the failed examples only.
    public var returnsPayloads = true
    /// SIGINT, SIGTERM and SIGHUP stop a running `run` (it throws
    /// `ClusterError.stopped`, the results log stays resumable), so callers
    /// can stop the workers they launched. Outside a run they act as usual.
    public var stopOnSignals = true
    /// Directory with coordinator.key/.pub and authorized/ (see `CurveZMQKeyFiles`);
    /// nil = no encryption or authentication (trusted networks only).
    public var curveKeysDirectory: URL?
    /// JSONL results log, appended and fsynced per result; nil = none.
    public var resultsLog: URL?
    /// Continue an existing results log (same fingerprint), skipping done examples.
    public var resume = false
    /// How the results log is chained and which older logs a resume accepts (`--log-key`,
    /// `--accept-unchained-log`).
    public var resultsLogProtection = ResultsLogProtection()
    /// The job's options in words (e.g. each setting behind a hash in the manifest's options): written
    /// in the log's header outside the fingerprint, so a refused resume can name what changed.
    public var resultsLogDetails: [String: String] = [:]
    /// What a manifest option the job leaves out stands for (e.g. the default GEMM library), so a refused
    /// resume names it instead of calling it unset.
    public var manifestOptionDefaults: [String: String] = [:]
    /// libzmq drops (and disconnects) peers sending larger messages.
    public var maxMessageBytes = 64 << 20
    /// The files of the manifest's `shipment`, in its order, served to workers that FETCH them.
    public var shippedFiles: [URL] = []
    public var log: @Sendable (String) -> Void = standardErrorLog

    public init() {}

    func validate() throws {
        guard heartbeatIntervalSeconds >= 0.01, heartbeatIntervalSeconds <= 600 else {
            throw ClusterError.invalidOption("heartbeat interval must be 0.01...600 s")
        }
        guard heartbeatLiveness >= 1 else { throw ClusterError.invalidOption("heartbeat liveness must be at least 1") }
        guard workerTimeoutSeconds > 0 else { throw ClusterError.invalidOption("worker timeout must be positive") }
        guard maxMessageBytes >= 1024 else {
            throw ClusterError.invalidOption("max message size must be at least 1 KiB")
        }
        if let leaseTimeoutSeconds, !(leaseTimeoutSeconds > 0) {
            throw ClusterError.invalidOption("lease timeout must be positive")
        }
        if let speculateAfterSeconds, !(speculateAfterSeconds >= 0) {
            throw ClusterError.invalidOption("speculation age must not be negative")
        }
        guard (1...Int(Wire.maxCredit)).contains(maxLeasesPerWorker) else {
            throw ClusterError.invalidOption("max leases per worker must be 1...\(Wire.maxCredit)")
        }
        guard verifyFraction >= 0, verifyFraction <= 1 else {
            throw ClusterError.invalidOption("verify fraction must be 0...1")
        }
        guard sendHighWaterMark >= 4 else {
            throw ClusterError.invalidOption("send high-water mark must be at least 4")
        }
    }
}

public struct WorkerOptions: Sendable {
    /// Shown in coordinator logs; also the prefix of the routing id.
    public var name: String
    /// CURVE keys; nil when the coordinator runs without security.
    public var curve: CurveZMQClientKeys?
    /// Used until the coordinator's MANIFEST sets its own.
    public var heartbeatIntervalSeconds = 1.0
    public var heartbeatLiveness = 3
    /// Exit after this long without any message from the coordinator.
    public var idleExitSeconds = 300.0
    /// Return from `run` on DONE; false = wait for the next run's coordinator.
    public var exitWhenDone = true
    public var maxMessageBytes = 1 << 30
    /// Where shipped models are cached (`ShipmentCache`); nil = never fetch, refuse instead.
    public var shipmentCache: URL? = ShipmentCache.defaultRoot
    /// FETCH requests kept in flight while downloading a shipment.
    public var fetchCredit = 4
    /// Downloads of one shipment before the worker gives up (a copy that fails the setup's check is fetched again).
    public var maxDownloads = 2
    /// How long to wait for another worker on this host that holds the download lock before downloading too.
    public var shipmentLockWaitSeconds = 120.0
    public var log: @Sendable (String) -> Void = standardErrorLog

    public init(name: String = WorkerOptions.defaultName()) {
        self.name = name
    }

    public static func defaultName() -> String {
        "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)"
    }

    func validate() throws {
        guard (1...200).contains(name.utf8.count) else {
            throw ClusterError.invalidOption("worker name must be 1...200 bytes")
        }
        guard heartbeatIntervalSeconds >= 0.01, heartbeatIntervalSeconds <= 600 else {
            throw ClusterError.invalidOption("heartbeat interval must be 0.01...600 s")
        }
        guard heartbeatLiveness >= 1 else { throw ClusterError.invalidOption("heartbeat liveness must be at least 1") }
        guard idleExitSeconds > 0 else { throw ClusterError.invalidOption("idle exit must be positive") }
        guard (1...64).contains(fetchCredit) else { throw ClusterError.invalidOption("fetch credit must be 1...64") }
        guard maxDownloads >= 1 else { throw ClusterError.invalidOption("max downloads must be at least 1") }
    }
}

/// The results log's chain: SHA-256 (catches edits, removed or reordered lines, but anyone can recompute
/// it after a forgery), or with a secret key an HMAC-SHA-256 chain that nobody without the key can redo.
public struct ResultsLogProtection: Sendable, Equatable {
    /// The HMAC key (`--log-key FILE`); nil: a plain SHA-256 chain.
    public var key: [UInt8]?
    /// Resume a log of format 1 (no chain at all), whose lines cannot be checked (`--accept-unchained-log`).
    public var acceptUnchained = false
    /// Shorter keys are refused: a guessable key protects nothing.
    public static let minimumKeyBytes = 16

    public init(key: [UInt8]? = nil, acceptUnchained: Bool = false) {
        self.key = key
        self.acceptUnchained = acceptUnchained
    }

    /// The key in a file (its bytes as they are), e.g. made by `head -c 32 /dev/urandom > log.key`.
    public static func readKey(_ path: String) throws -> [UInt8] {
        guard let bytes = FileManager.default.contents(atPath: path) else {
            throw ClusterError.keyFile("cannot read the results log key \(path)")
        }
        guard bytes.count >= minimumKeyBytes else {
            throw ClusterError.keyFile(
                "the results log key \(path) has \(bytes.count) bytes, fewer than \(minimumKeyBytes): "
                    + "make one with `head -c 32 /dev/urandom > \(path)`")
        }
        return [UInt8](bytes)
    }
}
