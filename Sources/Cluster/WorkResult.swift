import Foundation

/// The outcome of one example: its result bytes, or why it was given up.
public enum WorkResult: Sendable, Equatable {
    case done(Data)
    case failed(String)
}

/// A snapshot for progress displays, taken by the coordinator loop.
public struct ClusterProgress: Sendable, Equatable {
    public var total: Int
    public var done: Int
    public var failed: Int
    /// Results found in the log on resume (included in `done`/`failed`).
    public var resumed: Int
    public var inFlight: Int
    public var pending: Int
    public var liveWorkers: Int
    /// Examples put back in the queue (lost worker, error, lease timeout).
    public var requeues: Int
    /// Messages dropped as malformed, stale, duplicate or unauthorised.
    public var dropped: Int
    public var elapsedSeconds: Double
    /// Results received per second in this session.
    public var examplesPerSecond: Double

    public var finished: Bool { done + failed == total }
}
