import CZMQ
import Foundation

/// ZAP (RFC 27) handler admitting CURVE clients by public key.
///
/// libzmq 4.3.4 admits any client that knows the server key unless a handler
/// is bound to inproc://zeromq.zap.01 in the same context before the server
/// socket binds; so `init` binds synchronously, then serves on its own thread.
/// Admitted connections get the client's Z85 key as ZAP user id, which the
/// coordinator reads back as "User-Id" metadata to tie a routing id to a key.
final class ZAPAuthenticator: @unchecked Sendable {
    static let endpoint = "inproc://zeromq.zap.01"
    /// How often the serving thread checks for `stop()`.
    static let stopCheckSeconds = 0.1

    private let authorizedKeys: Set<String>
    private let log: @Sendable (String) -> Void
    private let lock = NSLock()
    private var stopRequested = false
    private var deniedCount = 0
    private var admittedCount = 0
    /// Denied keys already logged: a refused client reconnects every ~100 ms.
    private var loggedDenials = Set<String>()
    private let finished = DispatchSemaphore(value: 0)

    init(context: ZMQContext, authorizedKeys: Set<String>, log: @escaping @Sendable (String) -> Void) throws {
        self.authorizedKeys = authorizedKeys
        self.log = log
        let socket = try ZMQSocket(context, type: ZMQ_REP)
        try socket.bind(Self.endpoint)
        let box = SocketBox(socket)
        let thread = Thread { [self] in
            self.serve(box.socket)
            box.socket.close()
            self.finished.signal()
        }
        thread.name = "iba-zap"
        thread.start()
    }

    var denied: Int { lock.withLock { deniedCount } }
    var admitted: Int { lock.withLock { admittedCount } }

    /// Stops serving and closes the socket (must precede context termination).
    func stop() {
        lock.withLock { stopRequested = true }
        finished.wait()
    }

    private func serve(_ socket: ZMQSocket) {
        while !lock.withLock({ stopRequested }) {
            do {
                guard try pollReadable([socket], timeoutSeconds: Self.stopCheckSeconds)[0] else { continue }
                while let request = try socket.receive(maxFrames: 16) {
                    try socket.send(reply(to: request))
                }
            } catch {
                log("ZAP handler: \(error)")
            }
        }
    }

    /// Request: version, request id, domain, address, routing id, mechanism, credentials...
    /// Reply:   version, request id, status code, status text, user id, metadata.
    private func reply(to request: ReceivedMessage) -> [Data] {
        let frames = request.frames
        let version = Data("1.0".utf8)
        guard frames.count >= 6, !request.truncated, frames[0] == version else {
            log("ZAP: malformed request of \(frames.count) frame(s), denied")
            lock.withLock { deniedCount += 1 }
            let requestID = frames.count > 1 ? frames[1] : Data()
            return [version, requestID, Data("400".utf8), Data("malformed ZAP request".utf8), Data(), Data()]
        }
        let requestID = frames[1]
        let address = String(decoding: frames[3], as: UTF8.self)
        let mechanism = String(decoding: frames[5], as: UTF8.self)
        if mechanism == "CURVE", frames.count == 7, let key = z85Encode(frames[6]), authorizedKeys.contains(key) {
            lock.withLock { admittedCount += 1 }
            return [version, requestID, Data("200".utf8), Data("OK".utf8), Data(key.utf8), Data()]
        }
        let shown = frames.count == 7 ? (z85Encode(frames[6]) ?? "?") : "none"
        let firstTime = lock.withLock {
            deniedCount += 1
            return loggedDenials.insert(shown).inserted
        }
        if firstTime {
            log("ZAP: denied \(mechanism) client from \(address) with key \(shown) (not in authorized keys)")
        }
        return [version, requestID, Data("400".utf8), Data("key not authorised".utf8), Data(), Data()]
    }
}

/// Moves a socket into the one thread that will use it from then on.
struct SocketBox: @unchecked Sendable {
    let socket: ZMQSocket
    init(_ socket: ZMQSocket) { self.socket = socket }
}
