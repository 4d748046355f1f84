import Foundation

// The coordinator/worker wire protocol, version 4. Everything a peer may send
// is written down here and nowhere else (as in zguide's ppqueue/MDP).
//
// Sockets: the coordinator binds a ROUTER, workers connect DEALERs. The
// ROUTER sees one extra leading frame (the worker's routing id, chosen by the
// worker and stable across reconnects); the frames below follow it.
//
//   frame 0   signature   "IBAC4"   protocol name + version digit (v2 added FETCH/CHUNK,
//                                   v3 the worker's status in HEARTBEAT, v4 examples in TASK)
//   frame 1   command     1 byte    see `Command`
//   frame 2…  arguments   one field per frame; integers fixed-width big-endian
//
// Worker -> coordinator
//   HELLO      name (utf8, 1...256 B) | capacity u32
//   READY      credit u32           "I can take this many more leases now" (sets, not adds)
//   REFUSE     reason (utf8 ≤ 4 KiB) setup(manifest) threw: give me no work
//   RESULT     lease u64 | index u64 | attempt u32 | payload (opaque, ≤ MAXMSGSIZE)
//   ERROR      lease u64 | index u64 | attempt u32 | message (utf8 ≤ 4 KiB)
//   HEARTBEAT  - | or: credit u32 | leases (n × u64, 0 ≤ n ≤ 64)   the worker's status: the credit
//                                   it has asked for and not received, the leases it holds (queued or
//                                   computing). The coordinator re-issues a lease issued to this worker
//                                   more than `liveness` intervals ago that it does not hold (a TASK or
//                                   RESULT lost on a reconnect), and restores a lost READY's credit.
//   BYE        -                    leaving cleanly: requeue my leases now
//   FETCH      file u32 | offset u64 | length u32   one chunk of a file the MANIFEST's shipment lists
// Coordinator -> worker
//   MANIFEST   heartbeat interval ms u32 | manifest (JSON `JobManifest`): the job's settings and model
//                                   identity only, so its size does not grow with the dataset (v4)
//   TASK       lease u64 | entries (n × [index u64, attempt u32, length u32, example (length B)],
//                                   1 ≤ n ≤ 4096, length ≤ 1 MiB, the frame ≤ 32 MiB): each entry carries
//                                   its example's encoded bytes (opaque here), so a worker holds only the
//                                   examples of its leases and the coordinator sends each worker only what
//                                   it computes (v4; before, the MANIFEST carried every example)
//   HEARTBEAT  -
//   RESET      -                    "I don't know you" (coordinator restart, expiry): HELLO again
//   DONE       -                    the run is finished
//   CHUNK      file u32 | offset u64 | bytes        the answer to a FETCH; no bytes = the file
//                                   changed on the coordinator's disk and cannot be served (v3)
//
// Session: HELLO -> MANIFEST -> READY(1) -> TASK -> RESULT/ERROR per entry
//          -> READY(1) -> TASK ... -> DONE.
// Liveness: each side sends HEARTBEAT when it has sent nothing else for one
// interval and declares the peer dead after `liveness` silent intervals.
// Stale traffic (a DEALER flushes its queue after a reconnect) is recognised
// by lease id + attempt and dropped; results are idempotent by index.
// Model shipping (--ship-model): a worker whose setup lacks the model pulls
// the shipment's files chunk by chunk, keeping at most `credit` FETCHes
// outstanding (credit-based flow control as zguide's fileio3): the coordinator
// keeps no transfer state and each worker's queue is bounded by its credit.
// A lost chunk is simply requested again.

enum Wire {
    static let signature = Data("IBAC4".utf8)
    static let version = 4

    static let maxNameBytes = 256
    static let maxTextBytes = 4096
    static let maxTaskEntries = 4096
    /// index u64 + attempt u32 + length u32, before each entry's example bytes.
    static let taskEntryHeaderBytes = 16
    /// Largest encoded example a TASK entry may carry.
    static let maxExampleBytes = 1 << 20
    /// Largest TASK entries frame (a shard's examples together).
    static let maxTaskBytes = 32 << 20
    /// Cap on a worker's advertised capacity and credit; more is a bogus peer.
    static let maxCredit: UInt32 = 64
    /// Most leases a worker's HEARTBEAT may list (a worker holds at most its capped capacity).
    static let maxStatusLeases = 64
    /// Largest chunk a FETCH may ask for.
    static let maxChunkBytes: UInt32 = 16 << 20
}

enum Command: UInt8, Sendable {
    // worker -> coordinator
    case hello = 0x01
    case ready = 0x02
    case refuse = 0x03
    case result = 0x04
    case error = 0x05
    case bye = 0x07
    case fetch = 0x08
    // both directions
    case heartbeat = 0x06
    // coordinator -> worker
    case manifest = 0x11
    case task = 0x12
    case reset = 0x13
    case done = 0x14
    case chunk = 0x15
}

/// One example handed out under a lease: which index, which attempt this is, and (in a TASK) the
/// example's encoded bytes (empty inside the `LeaseBook`; the coordinator adds them when it sends).
struct LeaseEntry: Equatable, Sendable {
    var index: Int
    var attempt: UInt32
    var example = Data()
}

enum WorkerMessage: Equatable, Sendable {
    case hello(name: String, capacity: UInt32)
    case ready(credit: UInt32)
    case refuse(reason: String)
    case result(lease: UInt64, index: Int, attempt: UInt32, payload: Data)
    case error(lease: UInt64, index: Int, attempt: UInt32, message: String)
    case heartbeat
    /// HEARTBEAT with the worker's status (see the table above).
    case status(credit: UInt32, leases: [UInt64])
    case bye
    case fetch(file: UInt32, offset: UInt64, length: UInt32)
}

enum CoordinatorMessage: Equatable, Sendable {
    case manifest(heartbeatMilliseconds: UInt32, manifest: Data)
    case task(lease: UInt64, entries: [LeaseEntry])
    case heartbeat
    case reset
    case done
    case chunk(file: UInt32, offset: UInt64, bytes: Data)
}

// MARK: - Encoding

extension WorkerMessage {
    var frames: [Data] {
        switch self {
        case let .hello(name, capacity):
            return Wire.header(.hello) + [Data(name.utf8), Wire.encode(capacity)]
        case let .ready(credit):
            return Wire.header(.ready) + [Wire.encode(credit)]
        case let .refuse(reason):
            return Wire.header(.refuse) + [Wire.text(reason)]
        case let .result(lease, index, attempt, payload):
            return Wire.header(.result) + [
                Wire.encode(lease), Wire.encode(UInt64(index)), Wire.encode(attempt), payload
            ]
        case let .error(lease, index, attempt, message):
            return Wire.header(.error) + [
                Wire.encode(lease), Wire.encode(UInt64(index)), Wire.encode(attempt), Wire.text(message)
            ]
        case .heartbeat:
            return Wire.header(.heartbeat)
        case let .status(credit, leases):
            return Wire.header(.heartbeat) + [Wire.encode(credit), Data(leases.flatMap { Array(Wire.encode($0)) })]
        case .bye:
            return Wire.header(.bye)
        case let .fetch(file, offset, length):
            return Wire.header(.fetch) + [Wire.encode(file), Wire.encode(offset), Wire.encode(length)]
        }
    }
}

extension CoordinatorMessage {
    var frames: [Data] {
        switch self {
        case let .manifest(milliseconds, manifest):
            return Wire.header(.manifest) + [Wire.encode(milliseconds), manifest]
        case let .task(lease, entries):
            var packed = Data(capacity: entries.reduce(0) { $0 + Wire.taskEntryHeaderBytes + $1.example.count })
            for entry in entries {
                packed.append(Wire.encode(UInt64(entry.index)))
                packed.append(Wire.encode(entry.attempt))
                packed.append(Wire.encode(UInt32(entry.example.count)))
                packed.append(entry.example)
            }
            return Wire.header(.task) + [Wire.encode(lease), packed]
        case .heartbeat:
            return Wire.header(.heartbeat)
        case .reset:
            return Wire.header(.reset)
        case .done:
            return Wire.header(.done)
        case let .chunk(file, offset, bytes):
            return Wire.header(.chunk) + [Wire.encode(file), Wire.encode(offset), bytes]
        }
    }
}

// MARK: - Decoding (every field checked; a violation is a reason to drop, never to crash)

extension WorkerMessage {
    /// Frames after the routing id. Throws `ClusterError.malformedMessage`.
    static func decode(_ frames: [Data]) throws -> WorkerMessage {
        let (command, args) = try Wire.split(frames)
        switch command {
        case .hello:
            try Wire.expect(args, count: 2, command)
            guard (1...Wire.maxNameBytes).contains(args[0].count),
                  let name = String(data: args[0], encoding: .utf8) else {
                throw ClusterError.malformedMessage("HELLO name must be 1...\(Wire.maxNameBytes) bytes of UTF-8")
            }
            let capacity = try Wire.decodeUInt32(args[1], "HELLO capacity")
            guard (1...Wire.maxCredit).contains(capacity) else {
                throw ClusterError.malformedMessage("HELLO capacity \(capacity) outside 1...\(Wire.maxCredit)")
            }
            return .hello(name: name, capacity: capacity)
        case .ready:
            try Wire.expect(args, count: 1, command)
            let credit = try Wire.decodeUInt32(args[0], "READY credit")
            guard credit <= Wire.maxCredit else {
                throw ClusterError.malformedMessage("READY credit \(credit) above \(Wire.maxCredit)")
            }
            return .ready(credit: credit)
        case .refuse:
            try Wire.expect(args, count: 1, command)
            return .refuse(reason: try Wire.decodeText(args[0], "REFUSE reason"))
        case .result:
            try Wire.expect(args, count: 4, command)
            return .result(lease: try Wire.decodeUInt64(args[0], "RESULT lease"),
                           index: try Wire.decodeIndex(args[1], "RESULT index"),
                           attempt: try Wire.decodeUInt32(args[2], "RESULT attempt"),
                           payload: args[3])
        case .error:
            try Wire.expect(args, count: 4, command)
            return .error(lease: try Wire.decodeUInt64(args[0], "ERROR lease"),
                          index: try Wire.decodeIndex(args[1], "ERROR index"),
                          attempt: try Wire.decodeUInt32(args[2], "ERROR attempt"),
                          message: try Wire.decodeText(args[3], "ERROR message"))
        case .heartbeat:
            if args.isEmpty { return .heartbeat }
            try Wire.expect(args, count: 2, command)
            let credit = try Wire.decodeUInt32(args[0], "HEARTBEAT credit")
            let packed = [UInt8](args[1])
            guard credit <= Wire.maxCredit, packed.count % 8 == 0, packed.count / 8 <= Wire.maxStatusLeases else {
                throw ClusterError.malformedMessage("HEARTBEAT status: credit ≤ \(Wire.maxCredit) "
                    + "and ≤ \(Wire.maxStatusLeases) × 8 bytes of leases")
            }
            let leases = stride(from: 0, to: packed.count, by: 8).map { Wire.bigEndian(packed[$0..<$0 + 8]) }
            return .status(credit: credit, leases: leases)
        case .bye:
            try Wire.expect(args, count: 0, command)
            return .bye
        case .fetch:
            try Wire.expect(args, count: 3, command)
            let length = try Wire.decodeUInt32(args[2], "FETCH length")
            guard (1...Wire.maxChunkBytes).contains(length) else {
                throw ClusterError.malformedMessage("FETCH length \(length) outside 1...\(Wire.maxChunkBytes)")
            }
            return .fetch(file: try Wire.decodeUInt32(args[0], "FETCH file"),
                          offset: try Wire.decodeUInt64(args[1], "FETCH offset"), length: length)
        case .manifest, .task, .reset, .done, .chunk:
            throw ClusterError.malformedMessage("command \(command) is not sent by workers")
        }
    }
}

extension CoordinatorMessage {
    static func decode(_ frames: [Data]) throws -> CoordinatorMessage {
        let (command, args) = try Wire.split(frames)
        switch command {
        case .manifest:
            try Wire.expect(args, count: 2, command)
            return .manifest(heartbeatMilliseconds: try Wire.decodeUInt32(args[0], "MANIFEST heartbeat"),
                             manifest: args[1])
        case .task:
            try Wire.expect(args, count: 2, command)
            let lease = try Wire.decodeUInt64(args[0], "TASK lease")
            return .task(lease: lease, entries: try Wire.decodeTaskEntries(args[1]))
        case .heartbeat:
            try Wire.expect(args, count: 0, command)
            return .heartbeat
        case .reset:
            try Wire.expect(args, count: 0, command)
            return .reset
        case .done:
            try Wire.expect(args, count: 0, command)
            return .done
        case .chunk:
            try Wire.expect(args, count: 3, command)
            guard (0...Int(Wire.maxChunkBytes)).contains(args[2].count) else {
                throw ClusterError.malformedMessage("CHUNK of \(args[2].count) bytes above \(Wire.maxChunkBytes)")
            }
            return .chunk(file: try Wire.decodeUInt32(args[0], "CHUNK file"),
                          offset: try Wire.decodeUInt64(args[1], "CHUNK offset"), bytes: args[2])
        case .hello, .ready, .refuse, .result, .error, .bye, .fetch:
            throw ClusterError.malformedMessage("command \(command) is not sent by the coordinator")
        }
    }
}

extension Wire {
    static func header(_ command: Command) -> [Data] { [signature, Data([command.rawValue])] }

    static func encode(_ value: UInt64) -> Data { withUnsafeBytes(of: value.bigEndian) { Data($0) } }
    static func encode(_ value: UInt32) -> Data { withUnsafeBytes(of: value.bigEndian) { Data($0) } }
    /// UTF-8 cut at a character boundary to at most `maxTextBytes`.
    static func text(_ string: String) -> Data {
        var bytes = 0
        var end = string.startIndex
        while end < string.endIndex {
            let width = string[end].utf8.count
            guard bytes + width <= maxTextBytes else { break }
            bytes += width
            end = string.index(after: end)
        }
        return Data(string[..<end].utf8)
    }

    static func split(_ frames: [Data]) throws -> (Command, [Data]) {
        guard frames.count >= 2 else {
            throw ClusterError.malformedMessage("\(frames.count) frame(s), need at least 2")
        }
        guard frames[0] == signature else {
            throw ClusterError.malformedMessage("bad signature (not IBAC\(version): another protocol version?)")
        }
        guard frames[1].count == 1, let byte = frames[1].first, let command = Command(rawValue: byte) else {
            throw ClusterError.malformedMessage("unknown command frame of \(frames[1].count) byte(s)")
        }
        return (command, Array(frames.dropFirst(2)))  // re-based: args[0] is the first argument
    }

    static func expect(_ args: [Data], count: Int, _ command: Command) throws {
        guard args.count == count else {
            throw ClusterError.malformedMessage("\(command) needs \(count) argument frame(s), got \(args.count)")
        }
    }

    static func bigEndian<C: Collection>(_ bytes: C) -> UInt64 where C.Element == UInt8 {
        bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }

    static func decodeUInt64(_ frame: Data, _ what: String) throws -> UInt64 {
        guard frame.count == 8 else { throw ClusterError.malformedMessage("\(what): \(frame.count) bytes, need 8") }
        return bigEndian(frame)
    }

    static func decodeUInt32(_ frame: Data, _ what: String) throws -> UInt32 {
        guard frame.count == 4 else { throw ClusterError.malformedMessage("\(what): \(frame.count) bytes, need 4") }
        return UInt32(bigEndian(frame))
    }

    static func decodeIndex(_ frame: Data, _ what: String) throws -> Int {
        let value = try decodeUInt64(frame, what)
        guard value <= UInt64(Int.max) else { throw ClusterError.malformedMessage("\(what) out of range") }
        return Int(value)
    }

    /// A TASK's entries: every length checked against the frame and the bounds above before it is used.
    static func decodeTaskEntries(_ frame: Data) throws -> [LeaseEntry] {
        guard frame.count <= maxTaskBytes else {
            throw ClusterError.malformedMessage("TASK entries of \(frame.count) bytes above \(maxTaskBytes)")
        }
        let packed = [UInt8](frame)
        var entries: [LeaseEntry] = []
        var offset = 0
        while offset < packed.count {
            guard entries.count < maxTaskEntries else {
                throw ClusterError.malformedMessage("TASK with more than \(maxTaskEntries) entries")
            }
            guard packed.count - offset >= taskEntryHeaderBytes else {
                throw ClusterError.malformedMessage("TASK entry \(entries.count) cut short at byte \(offset)")
            }
            let index = bigEndian(packed[offset..<offset + 8])
            let attempt = UInt32(bigEndian(packed[offset + 8..<offset + 12]))
            let length = Int(bigEndian(packed[offset + 12..<offset + 16]))
            offset += taskEntryHeaderBytes
            guard index <= UInt64(Int.max) else { throw ClusterError.malformedMessage("TASK index out of range") }
            guard length <= maxExampleBytes, length <= packed.count - offset else {
                throw ClusterError.malformedMessage("TASK entry \(entries.count) claims \(length) example bytes, "
                    + "\(packed.count - offset) left (at most \(maxExampleBytes))")
            }
            entries.append(
                LeaseEntry(index: Int(index), attempt: attempt, example: Data(packed[offset..<offset + length])))
            offset += length
        }
        guard !entries.isEmpty else { throw ClusterError.malformedMessage("TASK without entries") }
        return entries
    }

    static func decodeText(_ frame: Data, _ what: String) throws -> String {
        guard frame.count <= maxTextBytes, let text = String(data: frame, encoding: .utf8) else {
            throw ClusterError.malformedMessage("\(what) must be ≤ \(maxTextBytes) bytes of UTF-8")
        }
        return text
    }
}

// Inside a worker process: the socket thread and the compute thread talk over
// an inproc PAIR with these one-letter commands (never on the network).
enum ComputeWire {
    static let attached = Data("a".utf8)     // a          (compute thread connected; sent once)
    static let setup = Data("S".utf8)        // S | manifest JSON
    static let work = Data("W".utf8)         // W | lease u64 | index u64 | attempt u32 | example bytes
    static let setupOK = Data("s".utf8)      // s
    static let setupFailed = Data("r".utf8)  // r | reason
    static let setupNeedsFiles = Data("n".utf8)  // n | reason   (setup threw `modelUnavailable`: fetch the shipment)
    static let workDone = Data("d".utf8)     // d | lease | index | attempt | payload
    static let workFailed = Data("e".utf8)   // e | lease | index | attempt | message

    /// A reply of the compute thread; nil for anything else.
    static func decodeReply(_ frames: [Data]) -> WorkerSession.ComputeReply? {
        guard let kind = frames.first else { return nil }
        let text = frames.count > 1 ? String(decoding: frames[1], as: UTF8.self) : ""
        switch kind {
        case setupOK: return .setupSucceeded
        case setupFailed: return .setupFailed(frames.count > 1 ? text : "setup failed")
        case setupNeedsFiles: return .setupNeedsFiles(frames.count > 1 ? text : "no model")
        case workDone, workFailed:
            guard frames.count == 5, let lease = try? Wire.decodeUInt64(frames[1], "lease"),
                  let index = try? Wire.decodeIndex(frames[2], "index"),
                  let attempt = try? Wire.decodeUInt32(frames[3], "attempt") else { return nil }
            return kind == workDone
                ? .workDone(lease: lease, index: index, attempt: attempt, payload: frames[4])
                : .workFailed(
                    lease: lease, index: index, attempt: attempt, message: String(decoding: frames[4], as: UTF8.self))
        default: return nil
        }
    }
}
