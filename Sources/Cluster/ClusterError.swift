import Foundation

/// Every failure the Cluster module reports. Messages say what to do next.
public enum ClusterError: Error, CustomStringConvertible, Equatable {
    /// A libzmq call failed: function, errno, zmq_strerror text.
    case zmq(String, Int32, String)
    case invalidOption(String)
    case invalidSelection(String)
    /// A peer's message broke the protocol; it is dropped and logged.
    case malformedMessage(String)
    case invalidKey(String)
    case keyFile(String)
    case resultsLogExists(String)
    case resultsLog(String)
    case manifestMismatch(String)
    case noWorkers(seconds: Double)
    case setupRefused(String)
    /// Thrown by a worker's setup when it has no usable copy of the model: the
    /// worker then fetches the manifest's shipment if the coordinator offers one.
    case modelUnavailable(String)
    /// Shipping files to workers failed (bad shipment, unreadable file, cache I/O).
    case shipment(String)
    /// The coordinator refused this worker during the CURVE/ZAP handshake.
    case handshakeFailed(String)
    case alreadyRun
    case stopped
    case internalError(String)

    public var description: String {
        switch self {
        case let .zmq(call, errno, text): return "ZeroMQ \(call) failed: \(text) (errno \(errno))"
        case let .invalidOption(text): return "invalid cluster option: \(text)"
        case let .invalidSelection(text): return "invalid example selection: \(text)"
        case let .malformedMessage(text): return "malformed message: \(text)"
        case let .invalidKey(text): return "invalid CURVE key: \(text)"
        case let .keyFile(text): return "key file problem: \(text)"
        case let .resultsLogExists(path):
            return "results log \(path) already exists: pass --resume to continue it, or remove it"
        case let .resultsLog(text): return "results log: \(text)"
        case let .manifestMismatch(text):
            return "cannot resume: the results log was written for a different job (\(text)); use a new results log"
        case let .noWorkers(seconds):
            return "no live workers for \(Int(seconds)) s with work remaining; "
                + "start workers or raise the worker timeout"
        case let .setupRefused(reason): return "worker refused the job: \(reason)"
        case let .modelUnavailable(reason): return "no usable model on this worker: \(reason)"
        case let .shipment(text): return "model shipping: \(text)"
        case let .handshakeFailed(text): return "connection refused: \(text)"
        case .alreadyRun: return "a Coordinator runs once; create a new one (with resume) for another run"
        case .stopped: return "stopped on request; continue with --resume"
        case let .internalError(text): return "internal error: \(text)"
        }
    }
}
