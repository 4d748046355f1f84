// cluster-demo hostile: a peer that abuses the protocol on purpose, for cluster/test/chaos-loopback.sh.
//
//   cluster-demo hostile --connect EP --mode flood-hello|flood-fetch|bad-record|takeover
//                        [--identity ID] [--keys DIR --name NAME] [--seconds S]
//
//   flood-hello  1,000 HELLOs on one connection; more than one MANIFEST back is a failure (exit 3)
//   flood-fetch  HELLO, then 1,000 FETCHes of 1 MiB (far beyond the credit of 4) without reading
//   bad-record   takes examples like a worker and answers each with a forged RESULT (cycling through
//                the forgeries below); the coordinator must reject and re-issue every one
//   takeover     HELLO under another worker's routing id (--identity) with a valid key of its own
//                (--keys, --name); a MANIFEST back means the session was taken over (exit 3)
//
// Frames are built by hand from the table in Sources/Cluster/Protocol.swift (version 3): this
// peer must be able to send what the library's own encoder never would.
import CZMQ
import Cluster
import Foundation

enum HostileWire {
    static let signature = Data("IBAC4".utf8)
    static let hello: UInt8 = 0x01, ready: UInt8 = 0x02, result: UInt8 = 0x04, heartbeat: UInt8 = 0x06,
        fetch: UInt8 = 0x08
    static let manifest: UInt8 = 0x11, task: UInt8 = 0x12, done: UInt8 = 0x14, chunk: UInt8 = 0x15

    static func bigEndian<T: FixedWidthInteger>(_ value: T) -> Data {
        withUnsafeBytes(of: value.bigEndian) { Data($0) }
    }
    static func frames(_ command: UInt8, _ arguments: [Data] = []) -> [Data] {
        [signature, Data([command])] + arguments
    }

    static func integer(_ frame: Data) -> UInt64 { frame.reduce(0) { $0 << 8 | UInt64($1) } }
}

/// Forged records of example `index`, each wrong in one way a validator must catch.
func forgedRecords(_ index: Int) -> [(String, Data)] {
    let honest = fakeResult(index)
    return [
        ("extra steps", Data("{\"index\":\(index),\"value\":0.25,\"steps\":[1,0.5,0.25]}".utf8)),
        ("UTF-16", String(decoding: honest, as: UTF8.self).data(using: .utf16LittleEndian) ?? Data()),
        ("non-finite", Data("{\"index\":\(index),\"value\":1e999}".utf8)),
        ("NaN", Data("{\"index\":\(index),\"value\":NaN}".utf8)),
        ("wrong length", honest.dropLast(5)),
        ("wrong index", fakeResult(index + 1)),
    ]
}

final class HostilePeer {
    let context: ZMQContext
    let socket: ZMQSocket

    init(_ arguments: Arguments, receiveHighWaterMark: Int32? = nil) throws {
        context = try ZMQContext()
        socket = try ZMQSocket(context, type: ZMQ_DEALER)
        let identity = arguments.string("identity", "hostile-\(getpid())")
        try socket.set(ZMQ_ROUTING_ID, bytes: Data(identity.utf8))
        if let keys = arguments.values["keys"] {
            let curve = try CurveZMQClientKeys.load(directory: URL(fileURLWithPath: keys, isDirectory: true),
                                                     workerName: arguments.string("name"))
            try socket.set(ZMQ_CURVE_SERVERKEY, bytes: Data(curve.serverPublicKey.utf8))
            try socket.set(ZMQ_CURVE_PUBLICKEY, bytes: Data(curve.keyPair.publicKey.utf8))
            try socket.set(ZMQ_CURVE_SECRETKEY, bytes: Data(curve.keyPair.secretKey.utf8))
        }
        if let receiveHighWaterMark { try socket.set(ZMQ_RCVHWM, receiveHighWaterMark) }
        try socket.connect(arguments.string("connect"))
    }

    deinit {
        socket.close()
        context.terminate()
    }

    func send(_ frames: [Data]) throws -> Bool { try socket.send(frames) == .sent }

    /// Commands of the messages arriving within `seconds` (with their frames).
    func receive(forSeconds seconds: Double, until stop: (([Data]) -> Bool)? = nil) throws -> [[Data]] {
        var messages: [[Data]] = []
        let deadline = monotonicSeconds() + seconds
        while monotonicSeconds() < deadline {
            guard try pollReadable([socket], timeoutSeconds: 0.02)[0] else { continue }
            while let message = try socket.receive(maxFrames: 8) {
                messages.append(message.frames)
                if let stop, stop(message.frames) { return messages }
            }
        }
        return messages
    }

    static func command(_ frames: [Data]) -> UInt8? { frames.count >= 2 ? frames[1].first : nil }
}

func report(_ line: String) {
    FileHandle.standardError.write(Data("hostile: \(line)\n".utf8))
}

func runHostile(_ arguments: Arguments) throws {
    let mode = arguments.string("mode")
    let seconds = arguments.double("seconds", 2)
    switch mode {
    case "flood-hello":
        let peer = try HostilePeer(arguments)
        let hello = HostileWire.frames(HostileWire.hello, [Data("flood".utf8), HostileWire.bigEndian(UInt32(1))])
        var sent = 0
        for _ in 0..<1000 { sent += try peer.send(hello) ? 1 : 0 }
        let manifests = try peer.receive(forSeconds: seconds).filter { HostilePeer.command($0) == HostileWire.manifest }
            .count
        report("flood-hello: \(sent) HELLOs sent, \(manifests) MANIFEST(s) back")
        if manifests > 1 { exit(3) }
    case "flood-fetch":
        let peer = try HostilePeer(arguments, receiveHighWaterMark: 2)
        _ = try peer.send(
            HostileWire.frames(HostileWire.hello, [Data("fetcher".utf8), HostileWire.bigEndian(UInt32(1))]))
        guard try !peer.receive(forSeconds: 5,
                                until: { HostilePeer.command($0) == HostileWire.manifest }).isEmpty else {
            report("flood-fetch: no MANIFEST")
            exit(4)
        }
        let fetch = HostileWire.frames(HostileWire.fetch, [HostileWire.bigEndian(UInt32(0)),
                                                           HostileWire.bigEndian(UInt64(0)),
                                                           HostileWire.bigEndian(UInt32(1 << 20))])
        var sent = 0
        for _ in 0..<1000 { sent += try peer.send(fetch) ? 1 : 0 }
        Thread.sleep(forTimeInterval: seconds)  // not reading: the coordinator must not queue 1,000 MiB for us
        let chunks = try peer.receive(forSeconds: 1).filter { HostilePeer.command($0) == HostileWire.chunk }.count
        report("flood-fetch: \(sent) FETCHes of 1 MiB sent, \(chunks) CHUNK(s) read back")
    case "bad-record": try forgeRecords(arguments, seconds: seconds)
    case "takeover":
        let peer = try HostilePeer(arguments)
        _ = try peer.send(
            HostileWire.frames(
                HostileWire.hello, [Data(arguments.string("name").utf8), HostileWire.bigEndian(UInt32(1))]))
        let manifests = try peer.receive(forSeconds: seconds).filter { HostilePeer.command($0) == HostileWire.manifest }
            .count
        report("takeover: HELLO as \(arguments.string("identity")) with key \(arguments.string("name")): "
               + (manifests > 0 ? "TAKEN OVER (got a MANIFEST)" : "refused"))
        if manifests > 0 { exit(3) }
    default:
        fail("unknown hostile mode \(mode)")
    }
}

/// bad-record: behaves as a worker of capacity 1 until DONE or `seconds`, answering every entry with a forgery.
func forgeRecords(_ arguments: Arguments, seconds: Double) throws {
    let peer = try HostilePeer(arguments)
    _ = try peer.send(HostileWire.frames(HostileWire.hello, [Data("forger".utf8), HostileWire.bigEndian(UInt32(1))]))
    let readyFrames = HostileWire.frames(HostileWire.ready, [HostileWire.bigEndian(UInt32(1))])
    var forged = 0, kinds: [String: Int] = [:]
    var lastSent = monotonicSeconds()
    func send(_ frames: [Data]) throws {
        _ = try peer.send(frames)
        lastSent = monotonicSeconds()
    }
    let deadline = monotonicSeconds() + seconds
    loop: while monotonicSeconds() < deadline {
        for message in try peer.receive(forSeconds: 0.1) {
            switch HostilePeer.command(message) {
            case HostileWire.manifest?: try send(readyFrames)
            case HostileWire.done?: break loop
            case HostileWire.task? where message.count >= 4:
                // v4 entries: index u64 | attempt u32 | length u32 | example (length bytes).
                let lease = message[2], entries = [UInt8](message[3])
                var start = 0
                while start + 16 <= entries.count {
                    let index = Int(HostileWire.integer(Data(entries[start..<start + 8])))
                    let attempt = Data(entries[start + 8..<start + 12])
                    start += 16 + Int(HostileWire.integer(Data(entries[start + 12..<start + 16])))
                    let records = forgedRecords(index)
                    let (kind, payload) = records[forged % records.count]
                    try send(
                        HostileWire.frames(
                            HostileWire.result, [lease, HostileWire.bigEndian(UInt64(index)), attempt, payload]))
                    forged += 1
                    kinds[kind, default: 0] += 1
                }
                try send(readyFrames)
            default: break
            }
        }
        if monotonicSeconds() - lastSent > 0.2 { try send(HostileWire.frames(HostileWire.heartbeat)) }
    }
    report(
        "bad-record: \(forged) forged RESULT(s): "
            + kinds.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
}
