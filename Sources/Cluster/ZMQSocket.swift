import CZMQ
import Foundation

// A thin, throwing layer over the libzmq C API: just what the coordinator,
// the worker and the ZAP handler need. Sockets are not thread-safe: each one
// is created, used and closed by a single thread.

func zmqError(_ call: String) -> ClusterError {
    let code = zmq_errno()
    return .zmq(call, code, String(cString: zmq_strerror(code)))
}

/// A libzmq context (thread-safe by design, hence Sendable).
public final class ZMQContext: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer

    public init() throws {
        guard let handle = zmq_ctx_new() else { throw zmqError("zmq_ctx_new") }
        self.handle = handle
    }

    /// A context option (ZMQ_MAX_SOCKETS: libzmq's default cap of 1,023 sockets is below a large swarm).
    public func set(_ option: Int32, _ value: Int32) throws {
        guard zmq_ctx_set(handle, option, value) == 0 else { throw zmqError("zmq_ctx_set") }
    }

    /// Blocks until every socket of the context is closed.
    public func terminate() {
        while zmq_ctx_term(handle) != 0 && zmq_errno() == EINTR {}
    }
}

/// One multipart message as received, plus connection metadata.
public struct ReceivedMessage {
    public var frames: [Data]
    /// More frames arrived than the caller accepts; they were read and discarded.
    public var truncated: Bool
    /// ZAP user id of the connection ("User-Id" metadata): the client's Z85
    /// public key under CURVE, nil without security.
    public var userID: String?
}

public enum SendOutcome: Equatable, Sendable {
    case sent
    /// ROUTER_MANDATORY: the peer is gone (EHOSTUNREACH).
    case unreachable
    /// High-water mark reached (EAGAIN): message not queued.
    case wouldBlock
}

/// Public for cluster-demo's hostile peer (chaos.sh); the protocol itself stays internal.
public final class ZMQSocket {
    private(set) var handle: UnsafeMutableRawPointer?

    public init(_ context: ZMQContext, type: Int32) throws {
        guard let handle = zmq_socket(context.handle, type) else { throw zmqError("zmq_socket") }
        self.handle = handle
        // Default linger is infinite: a close with unsent messages would hang shutdown.
        try set(ZMQ_LINGER, 0)
    }

    deinit { close() }

    public func close() {
        if let handle { zmq_close(handle) }
        handle = nil
    }

    public func set(_ option: Int32, _ value: Int32) throws {
        var value = value
        guard zmq_setsockopt(handle, option, &value, MemoryLayout<Int32>.size) == 0 else {
            throw zmqError("zmq_setsockopt(\(option))")
        }
    }

    public func set(_ option: Int32, int64 value: Int64) throws {
        var value = value
        guard zmq_setsockopt(handle, option, &value, MemoryLayout<Int64>.size) == 0 else {
            throw zmqError("zmq_setsockopt(\(option))")
        }
    }

    public func set(_ option: Int32, bytes: Data) throws {
        let status = bytes.withUnsafeBytes { zmq_setsockopt(handle, option, $0.baseAddress, $0.count) }
        guard status == 0 else { throw zmqError("zmq_setsockopt(\(option))") }
    }

    public func string(_ option: Int32) throws -> String {
        var buffer = [CChar](repeating: 0, count: 512)
        var size = buffer.count
        guard zmq_getsockopt(handle, option, &buffer, &size) == 0 else { throw zmqError("zmq_getsockopt(\(option))") }
        return cText(buffer)
    }

    public func bind(_ endpoint: String) throws {
        guard zmq_bind(handle, endpoint) == 0 else { throw zmqError("zmq_bind(\(endpoint))") }
    }

    public func connect(_ endpoint: String) throws {
        guard zmq_connect(handle, endpoint) == 0 else { throw zmqError("zmq_connect(\(endpoint))") }
    }

    /// Never blocks. Unreachable / full peers are reported, other errors thrown.
    @discardableResult
    public func send(_ frames: [Data]) throws -> SendOutcome {
        for (k, frame) in frames.enumerated() {
            let flags = ZMQ_DONTWAIT | (k + 1 < frames.count ? ZMQ_SNDMORE : 0)
            let status = frame.withUnsafeBytes { zmq_send(handle, $0.baseAddress, $0.count, flags) }
            if status >= 0 { continue }
            // libzmq sends multipart atomically: a failure can only hit the first frame.
            switch zmq_errno() {
            case EHOSTUNREACH: return .unreachable
            case EAGAIN: return .wouldBlock
            default: throw zmqError("zmq_send")
            }
        }
        return .sent
    }

    /// Next whole message, or nil if none is waiting. Always drains every
    /// frame of a message, keeping at most `maxFrames`.
    public func receive(maxFrames: Int) throws -> ReceivedMessage? {
        var message = ReceivedMessage(frames: [], truncated: false, userID: nil)
        var more = true
        while more {
            var part = zmq_msg_t()
            zmq_msg_init(&part)
            defer { zmq_msg_close(&part) }
            let flags = message.frames.isEmpty && !message.truncated ? ZMQ_DONTWAIT : 0
            guard zmq_msg_recv(&part, handle, flags) >= 0 else {
                let code = zmq_errno()
                if code == EAGAIN && message.frames.isEmpty { return nil }
                if code == EINTR && message.frames.isEmpty { return nil }
                throw zmqError("zmq_msg_recv")
            }
            if message.userID == nil, let property = zmq_msg_gets(&part, "User-Id") {
                let id = String(cString: property)
                if !id.isEmpty { message.userID = id }
            }
            if message.frames.count < maxFrames {
                let size = zmq_msg_size(&part)
                if let data = zmq_msg_data(&part) {
                    message.frames.append(Data(bytes: data, count: size))
                } else {
                    message.frames.append(Data())
                }
            } else {
                message.truncated = true
            }
            more = zmq_msg_more(&part) != 0
        }
        return message
    }
}

/// zmq_poll for input on `sockets`; returns which are readable. EINTR = none.
public func pollReadable(_ sockets: [ZMQSocket], timeoutSeconds: Double) throws -> [Bool] {
    var items = sockets.map { zmq_pollitem_t(socket: $0.handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0) }
    let milliseconds = max(0, Int(timeoutSeconds * 1000))
    let status = zmq_poll(&items, Int32(items.count), milliseconds)
    if status < 0 {
        if zmq_errno() == EINTR { return sockets.map { _ in false } }
        throw zmqError("zmq_poll")
    }
    return items.map { $0.revents & Int16(ZMQ_POLLIN) != 0 }
}

/// libzmq's own ZMTP heartbeats: run in its I/O thread, so they catch dead
/// hosts and partitions even while our loop is busy.
func setTransportHeartbeats(_ socket: ZMQSocket, intervalSeconds: Double, liveness: Int) throws {
    let interval = Int32(max(100, intervalSeconds * 1000))
    let timeout = Int32(min(6_553_500, Double(interval) * Double(liveness)))
    try socket.set(ZMQ_HEARTBEAT_IVL, interval)
    try socket.set(ZMQ_HEARTBEAT_TIMEOUT, timeout)
    try socket.set(ZMQ_HEARTBEAT_TTL, timeout)
}

/// Monotonic seconds, for timeouts (wall-clock jumps must not expire peers).
public func monotonicSeconds() -> Double {
    Double(DispatchTime.now().uptimeNanoseconds) / 1e9
}
