import Foundation
import XCTest
@testable import Checkpoint

final class SafetensorsTests: XCTestCase {
    private let tensors: [String: (shape: [Int], values: [Float])] = [
        "bert.embeddings.word_embeddings.weight": ([3, 4], (0..<12).map { Float($0) * 0.37 - 2 }),
        "name with \"quotes\" and ünïcode": ([2], [1e-8, -65519]),
        "scalar": ([], [3.5]),
        "empty": ([0, 5], []),
    ]

    func testFloat32RoundTripThroughAMappedFile() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("roundtrip-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try SafetensorsWriter.write(tensors, to: url, metadata: ["format": "pt", "note": "line\nbreak"])
        let archive = try CheckpointArchive.open(url)
        XCTAssertEqual(archive.format, .safetensors)
        XCTAssertEqual(archive.tensorNames, tensors.keys.sorted())
        XCTAssertEqual(archive.metadata, ["format": "pt", "note": "line\nbreak"])
        for (name, tensor) in tensors {
            XCTAssertEqual(archive.info(name), TensorInfo(name: name, dtype: .float32, shape: tensor.shape))
            XCTAssertEqual(try archive.float32(name), tensor.values, name)
            let view = try XCTUnwrap(archive.float32Storage(name), "aligned float32 must be zero-copy: \(name)")
            XCTAssertEqual(Array(view), tensor.values)
        }
    }

    func testHeaderIsPaddedSoDataIsAligned() throws {
        let bytes = try SafetensorsWriter.serialize(tensors)
        let headerLength = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        XCTAssertEqual((8 + headerLength) % 8, 0)
        XCTAssertEqual(bytes[8], UInt8(ascii: "{"))
    }

    func testHalfPrecisionFilesHoldRoundedValues() throws {
        for dtype in [DType.float16, .bfloat16] {
            let archive = try CheckpointArchive.parse(try SafetensorsWriter.serialize(tensors, dtype: dtype))
            for (name, tensor) in tensors {
                XCTAssertEqual(archive.info(name)?.dtype, dtype)
                let rounded = tensor.values.map {
                    dtype == .float16 ? HalfPrecision.roundedToFloat16($0) : HalfPrecision.roundedToBFloat16($0)
                }
                XCTAssertEqual(try archive.float32(name), rounded, "\(dtype) \(name)")
                XCTAssertNil(archive.float32Storage(name), "half precision cannot be viewed as float32")
            }
        }
    }

    func testCopyIntoCallerBuffer() throws {
        let archive = try CheckpointArchive.parse(try SafetensorsWriter.serialize(tensors))
        var destination = [Float](repeating: .nan, count: 12)
        try destination.withUnsafeMutableBufferPointer {
            try archive.copyFloat32("bert.embeddings.word_embeddings.weight", into: $0)
        }
        XCTAssertEqual(destination, tensors["bert.embeddings.word_embeddings.weight"]?.values)
        var wrongSize = [Float](repeating: 0, count: 11)
        XCTAssertThrowsError(try wrongSize.withUnsafeMutableBufferPointer {
            try archive.copyFloat32("bert.embeddings.word_embeddings.weight", into: $0)
        }) { error in
            guard case .sizeMismatch(_, 12, 11)? = error as? CheckpointError else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try archive.float32("missing")) { error in
            guard case .tensorNotFound("missing")? = error as? CheckpointError else { return XCTFail("\(error)") }
        }
    }

    func testWriterRejectsInconsistentInput() {
        XCTAssertThrowsError(try SafetensorsWriter.serialize(["w": ([2, 2], [1, 2, 3])]))
        XCTAssertThrowsError(try SafetensorsWriter.serialize(["__metadata__": ([1], [1])]))
        XCTAssertThrowsError(try SafetensorsWriter.serialize(["w": ([-1], [])]))
        XCTAssertThrowsError(try SafetensorsWriter.serialize(["w": ([1], [1])], dtype: .int64))
    }

    /// A file built from a header string, with `dataBytes` zero bytes of data.
    private func file(header: String, dataBytes: Int) -> [UInt8] {
        littleEndianBytes(UInt64(header.utf8.count)) + Array(header.utf8) + [UInt8](repeating: 0, count: dataBytes)
    }

    private func assertMalformed(_ bytes: [UInt8], _ fragment: String, file: StaticString = #filePath,
                                 line: UInt = #line) {
        XCTAssertThrowsError(try CheckpointArchive.parse(bytes), file: file, line: line) { error in
            guard let error = error as? CheckpointError else { return XCTFail("not a CheckpointError: \(error)") }
            XCTAssertTrue(error.description.contains(fragment), "'\(error)' lacks '\(fragment)'", file: file, line: line)
        }
    }

    func testReaderRejectsInconsistentHeaders() {
        assertMalformed(file(header: #"{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}}"#, dataBytes: 16),
                        "needs 4 float32 elements")
        assertMalformed(file(header: #"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, dataBytes: 8),
                        "outside the 8 data bytes")
        assertMalformed(file(header: #"{"w":{"dtype":"F32","shape":[4],"data_offsets":[8,4]}}"#, dataBytes: 16),
                        "data_offsets")
        assertMalformed(file(header: #"{"w":{"dtype":"F8_E4M3","shape":[4],"data_offsets":[0,4]}}"#, dataBytes: 4),
                        "F8_E4M3")
        assertMalformed(file(header: #"{"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,4]}}"#,
                             dataBytes: 4), "overflowing")
        assertMalformed(file(header: #"{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}"#, dataBytes: 0),
                        "negative")
        assertMalformed(file(header: #"{"w":{"dtype":"F32","shape":[1]}}"#, dataBytes: 4), "data_offsets")
        assertMalformed(file(header: #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"#, dataBytes: 4),
                        "JSON header")
        var tooLong = file(header: #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, dataBytes: 4)
        tooLong[0] = 0xFF
        tooLong[1] = 0xFF
        assertMalformed(tooLong, "not a checkpoint")
    }

    func testPythonStyleHeaderWithMetadataAndIntegers() throws {
        // As written by the Python library: metadata first, tensors in any order, no padding.
        let header = #"{"__metadata__":{"format":"pt"},"ids":{"dtype":"I64","shape":[1,2],"data_offsets":[4,20]},"#
            + #""b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#
        let bytes = littleEndianBytes(UInt64(header.utf8.count)) + Array(header.utf8)
            + float32Bytes([2.5]) + littleEndianBytes(Int64(7)) + littleEndianBytes(Int64(-9))
        let archive = try CheckpointArchive.parse(bytes)
        XCTAssertEqual(archive.info("ids")?.dtype, .int64)
        XCTAssertEqual(try archive.float32("ids"), [7, -9])
        XCTAssertEqual(try archive.float32("b"), [2.5])
        XCTAssertEqual(archive.metadata, ["format": "pt"])
    }
}
