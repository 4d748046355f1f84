import Foundation
import XCTest
@testable import Cluster

final class ProtocolTests: XCTestCase {
    func testWorkerMessagesRoundTrip() throws {
        let messages: [WorkerMessage] = [
            .hello(name: "node-1", capacity: 2), .ready(credit: 1), .refuse(reason: "model hash differs"),
            .result(lease: 0xDEAD_BEEF_0102, index: 12345, attempt: 2, payload: fakeResult(7)),
            .error(lease: 9, index: 0, attempt: 3, message: "out of memory"), .heartbeat, .status(credit: 1, leases: []), .status(credit: 0, leases: [7, UInt64.max]), .bye,
            .fetch(file: 2, offset: 5 << 30, length: 1 << 20),
        ]
        for message in messages {
            XCTAssertEqual(try WorkerMessage.decode(message.frames), message)
        }
    }

    func testCoordinatorMessagesRoundTrip() throws {
        let messages: [CoordinatorMessage] = [
            .manifest(heartbeatMilliseconds: 1000, manifest: try testManifest().encoded()),
            .task(lease: 77, entries: [LeaseEntry(index: 3, attempt: 1), LeaseEntry(index: 1 << 40, attempt: 3)]),
            .task(lease: 78, entries: [LeaseEntry(index: 5, attempt: 1, example: Data("{\"text\":\"a\"}".utf8)),
                                       LeaseEntry(index: 6, attempt: 2, example: Data(repeating: 0xFF, count: Wire.maxExampleBytes))]),
            .heartbeat, .reset, .done, .chunk(file: 1, offset: 3 << 20, bytes: Data(repeating: 7, count: 999)),
        ]
        for message in messages {
            XCTAssertEqual(try CoordinatorMessage.decode(message.frames), message)
        }
    }

    func testMalformedWorkerMessagesAreRejected() {
        let header = Wire.header(.result)
        let cases: [(String, [Data])] = [
            ("no frames", []),
            ("one frame", [Wire.signature]),
            ("bad signature", [Data("IBAC9".utf8), Data([Command.heartbeat.rawValue])]),
            ("protocol version 1", [Data("IBAC1".utf8), Data([Command.heartbeat.rawValue])]),
            ("FETCH zero length", Wire.header(.fetch) + [Wire.encode(UInt32(0)), Wire.encode(UInt64(0)), Wire.encode(UInt32(0))]),
            ("FETCH over 16 MiB", Wire.header(.fetch) + [Wire.encode(UInt32(0)), Wire.encode(UInt64(0)), Wire.encode(UInt32((16 << 20) + 1))]),
            ("FETCH short offset", Wire.header(.fetch) + [Wire.encode(UInt32(0)), Wire.encode(UInt32(0)), Wire.encode(UInt32(1))]),
            ("CHUNK from worker", Wire.header(.chunk) + [Wire.encode(UInt32(0)), Wire.encode(UInt64(0)), Data([1])]),
            ("unknown command", [Wire.signature, Data([0x7F])]),
            ("two-byte command", [Wire.signature, Data([0x06, 0x06])]),
            ("coordinator command from worker", Wire.header(.task) + [Wire.encode(UInt64(1)), Data(count: 12)]),
            ("RESULT missing payload", header + [Wire.encode(UInt64(1)), Wire.encode(UInt64(2)), Wire.encode(UInt32(1))]),
            ("RESULT short lease", header + [Data([1, 2]), Wire.encode(UInt64(2)), Wire.encode(UInt32(1)), Data()]),
            ("RESULT negative index", header + [Wire.encode(UInt64(1)), Wire.encode(UInt64.max), Wire.encode(UInt32(1)), Data()]),
            ("HELLO capacity 0", Wire.header(.hello) + [Data("w".utf8), Wire.encode(UInt32(0))]),
            ("HELLO empty name", Wire.header(.hello) + [Data(), Wire.encode(UInt32(1))]),
            ("READY huge credit", Wire.header(.ready) + [Wire.encode(UInt32(1_000_000))]),
            ("HEARTBEAT with argument", Wire.header(.heartbeat) + [Data([0])]),
            ("REFUSE bad UTF-8", Wire.header(.refuse) + [Data([0xFF, 0xFE])]),
        ]
        for (name, frames) in cases {
            XCTAssertThrowsError(try WorkerMessage.decode(frames), name) { error in
                guard case ClusterError.malformedMessage = error else { return XCTFail("\(name): \(error)") }
            }
        }
    }

    func testMalformedChunksAreRejected() {
        let header = Wire.header(.chunk)
        // v3: an empty CHUNK says the file cannot be served (it changed on the coordinator's disk).
        XCTAssertEqual(try CoordinatorMessage.decode(header + [Wire.encode(UInt32(0)), Wire.encode(UInt64(0)), Data()]),
                       .chunk(file: 0, offset: 0, bytes: Data()))
        XCTAssertThrowsError(try CoordinatorMessage.decode(header + [Wire.encode(UInt32(0)), Wire.encode(UInt64(0))]))
        XCTAssertThrowsError(try CoordinatorMessage.decode(header + [Data([0]), Wire.encode(UInt64(0)), Data([1])]))
        XCTAssertThrowsError(try CoordinatorMessage.decode(Wire.header(.fetch) + [Wire.encode(UInt32(0)), Wire.encode(UInt64(0)), Wire.encode(UInt32(1))]))
    }

    /// v4: each entry is index u64 | attempt u32 | length u32 | example; every length is checked.
    func testTaskEntriesCarryTheirExamplesLengthPrefixed() throws {
        let frames = CoordinatorMessage.task(lease: 7, entries: [LeaseEntry(index: 2, attempt: 1, example: Data("hi".utf8))]).frames
        XCTAssertEqual(frames[0], Data("IBAC4".utf8))
        XCTAssertEqual([UInt8](frames[3]), [0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0x68, 0x69])
    }

    func testMalformedTasksAreRejected() {
        let header = Wire.header(.task)
        func entry(index: UInt64 = 1, length: UInt32, bytes: Int) -> Data {
            Wire.encode(index) + Wire.encode(UInt32(1)) + Wire.encode(length) + Data(count: bytes)
        }
        let cases: [(String, Data)] = [
            ("header cut short", Data(count: 13)),
            ("no entries", Data()),
            ("4097 entries", Data(count: Wire.taskEntryHeaderBytes * 4097)),
            ("length past the frame", entry(length: 10, bytes: 9)),
            ("second entry cut short", entry(length: 2, bytes: 2) + Data(count: 5)),
            ("example above 1 MiB", entry(length: UInt32(Wire.maxExampleBytes + 1), bytes: Wire.maxExampleBytes + 1)),
            ("length u32 max", entry(length: UInt32.max, bytes: 4)),
            ("negative index", entry(index: UInt64.max, length: 0, bytes: 0)),
            ("frame above 32 MiB", Data(count: Wire.maxTaskBytes + 1)),
        ]
        for (name, packed) in cases {
            XCTAssertThrowsError(try CoordinatorMessage.decode(header + [Wire.encode(UInt64(1)), packed]), name) { error in
                guard case ClusterError.malformedMessage = error else { return XCTFail("\(name): \(error)") }
            }
        }
        XCTAssertThrowsError(try CoordinatorMessage.decode([Data("IBAC3".utf8)] + header.dropFirst() + [Wire.encode(UInt64(1)), entry(length: 0, bytes: 0)]),
                             "a version 3 peer")
    }

    func testLongTextIsCutAtACharacterBoundary() throws {
        let text = String(repeating: "é", count: Wire.maxTextBytes)  // 2 bytes each
        let encoded = Wire.text(text)
        XCTAssertLessThanOrEqual(encoded.count, Wire.maxTextBytes)
        XCTAssertNotNil(String(data: encoded, encoding: .utf8))
        XCTAssertEqual(try WorkerMessage.decode(WorkerMessage.refuse(reason: text).frames),
                       .refuse(reason: String(repeating: "é", count: Wire.maxTextBytes / 2)))
    }
}
