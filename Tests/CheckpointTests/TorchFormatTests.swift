import Foundation
import XCTest
@testable import Checkpoint

/// Torch zip and legacy files built byte by byte by the test (see TorchFileBuilder).
final class TorchFormatTests: XCTestCase {
    private func assertSampleContents(_ archive: CheckpointArchive, file: StaticString = #filePath,
                                      line: UInt = #line) throws {
        XCTAssertEqual(archive.tensorNames, SampleCheckpoints.expected.keys.sorted(), file: file, line: line)
        for (name, expected) in SampleCheckpoints.expected {
            XCTAssertEqual(archive.info(name)?.dtype, expected.dtype, name, file: file, line: line)
            XCTAssertEqual(archive.info(name)?.shape, expected.shape, name, file: file, line: line)
            XCTAssertEqual(try archive.float32(name), expected.values, name, file: file, line: line)
        }
    }

    func testZipFileThroughMmap() throws {
        let url = try temporaryFile("sample-zip.pt", SampleCheckpoints.torchZip())
        let archive = try CheckpointArchive.open(url)
        XCTAssertEqual(archive.format, .torchZip)
        try assertSampleContents(archive)
        // Storages are 64-byte aligned in the archive, so the contiguous float32 tensor is a view.
        let view = try XCTUnwrap(archive.float32Storage("encoder.weight"))
        XCTAssertEqual(Array(view), SampleCheckpoints.weightValues)
        XCTAssertNil(archive.float32Storage("encoder.weight_t"), "a transposed tensor is not a contiguous view")
        XCTAssertNil(archive.float32Storage("encoder.bias"))
    }

    func testZip64Records() throws {
        let archive = try CheckpointArchive.parse(SampleCheckpoints.torchZip(zip64: true))
        try assertSampleContents(archive)
    }

    func testLegacyFile() throws {
        let url = try temporaryFile("sample-legacy.pt", SampleCheckpoints.torchLegacy())
        let archive = try CheckpointArchive.open(url)
        XCTAssertEqual(archive.format, .torchLegacy)
        try assertSampleContents(archive)
    }

    func testNestedStateDictIsFoundOneLevelDown() throws {
        try assertSampleContents(try CheckpointArchive.parse(SampleCheckpoints.torchZip(nestKey: "state_dict")))
        try assertSampleContents(try CheckpointArchive.parse(SampleCheckpoints.torchLegacy(nestKey: "model")))
    }

    func testLegacyStorageViews() throws {
        // Root storage "root" of 8 floats; tensor "b" reads a 4-element view starting at element 3.
        let values: [Float] = [0, 1, 2, 3, 4, 5, 6, 7]
        let tensors = [
            PickledTensor(name: "a", storageKey: "root", storageElements: 8, shape: [8], strides: [1]),
            PickledTensor(name: "b", storageKey: "root", storageElements: 8, offset: 1, shape: [2], strides: [2],
                          view: (key: "view1", offset: 3, size: 4)),
        ]
        let bytes = TorchFileBuilder.torchLegacy(tensors, storages: [("root", 8, float32Bytes(values))])
        let archive = try CheckpointArchive.parse(bytes)
        XCTAssertEqual(try archive.float32("a"), values)
        XCTAssertEqual(try archive.float32("b"), [4, 6])
    }

    func testStorageTooSmallForTensorIsRejected() {
        var tensors = SampleCheckpoints.tensors
        tensors[0].shape = [3, 3]  // 9 elements from a 6-element storage
        tensors[0].strides = [3, 1]
        let bytes = TorchFileBuilder.torchZip(tensors, storages: SampleCheckpoints.storageBytes)
        XCTAssertThrowsError(try CheckpointArchive.parse(bytes)) { error in
            XCTAssertTrue("\(error)".contains("encoder.weight"), "\(error)")
        }
        var lying = SampleCheckpoints.storageBytes
        lying["0"] = Array(lying["0"]?.prefix(8) ?? [])  // entry shorter than the 6 declared elements
        XCTAssertThrowsError(try CheckpointArchive.parse(TorchFileBuilder.torchZip(SampleCheckpoints.tensors,
                                                                                  storages: lying)))
    }

    func testLegacyElementCountMismatchIsRejected() {
        let tensors = [PickledTensor(name: "a", storageKey: "k", storageElements: 4, shape: [4], strides: [1])]
        let bytes = TorchFileBuilder.torchLegacy(tensors, storages: [("k", 3, float32Bytes([1, 2, 3]))])
        XCTAssertThrowsError(try CheckpointArchive.parse(bytes)) { error in
            XCTAssertTrue("\(error)".contains("3 elements"), "\(error)")
        }
    }

    func testMissingDataPklAndCompressedEntries() throws {
        let noPickle = TorchFileBuilder.zip([("archive/data/0", [1, 2, 3, 4])])
        XCTAssertThrowsError(try CheckpointArchive.parse(noPickle)) { error in
            XCTAssertTrue("\(error)".contains("data.pkl"), "\(error)")
        }
        // Mark data.pkl as deflate-compressed (method 8) in both headers.
        var compressed = SampleCheckpoints.torchZip()
        let localMethod = 8
        compressed[localMethod] = 8
        let central = try XCTUnwrap(findSignature([0x50, 0x4B, 0x01, 0x02], in: compressed))
        compressed[central + 10] = 8
        XCTAssertThrowsError(try CheckpointArchive.parse(compressed)) { error in
            XCTAssertTrue("\(error)".contains("deflate"), "\(error)")
        }
    }

    func testUnrecognizedFiles() throws {
        XCTAssertThrowsError(try CheckpointArchive.parse(Array("hello, world".utf8))) { error in
            guard case .unrecognizedFormat? = error as? CheckpointError else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try CheckpointArchive.parse([0x80, 0x02, 0x4B, 0x01, 0x2E])) { error in
            XCTAssertTrue("\(error)".contains("magic number"), "\(error)")
        }
        XCTAssertThrowsError(try CheckpointArchive.parse([])) { error in XCTAssertTrue(error is CheckpointError) }
        let empty = try temporaryFile("empty.bin", [])
        XCTAssertThrowsError(try CheckpointArchive.open(empty)) { error in
            XCTAssertTrue("\(error)".contains("empty"), "\(error)")
        }
        XCTAssertThrowsError(try CheckpointArchive.open(empty.deletingLastPathComponent())) { error in
            XCTAssertTrue("\(error)".contains("directory"), "\(error)")
        }
        XCTAssertThrowsError(try CheckpointArchive.open(URL(fileURLWithPath: "/nonexistent/model.bin"))) { error in
            guard case .cannotOpen? = error as? CheckpointError else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(CheckpointArchive.detectFormat(of: SampleCheckpoints.torchZip()), .torchZip)
        XCTAssertEqual(CheckpointArchive.detectFormat(of: SampleCheckpoints.torchLegacy()), .torchLegacy)
        XCTAssertEqual(CheckpointArchive.detectFormat(of: try SampleCheckpoints.safetensors()), .safetensors)
    }

    private func findSignature(_ signature: [UInt8], in bytes: [UInt8]) -> Int? {
        (0...(bytes.count - signature.count)).first { Array(bytes[$0..<($0 + signature.count)]) == signature }
    }
}
