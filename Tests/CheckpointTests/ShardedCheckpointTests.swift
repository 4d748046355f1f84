import Foundation
import XCTest
@testable import Checkpoint

/// Sharded checkpoints (an index naming the shard of every tensor) and formats we name but do not read.
final class ShardedCheckpointTests: XCTestCase {
    /// A fresh directory holding `files`.
    private func directory(_ files: [String: [UInt8]]) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sharded-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        for (name, bytes) in files { try Data(bytes).write(to: url.appendingPathComponent(name)) }
        return url
    }

    private func index(_ weightMap: [String: String]) throws -> [UInt8] {
        Array(try JSONSerialization.data(withJSONObject: ["metadata": ["total_size": 0], "weight_map": weightMap]))
    }

    /// pytorch_model.bin.index.json over a torch zip shard and a safetensors shard: every tensor reads as in its shard.
    func testIndexOverTwoShardsOfDifferentFormats() throws {
        let first = "pytorch_model-00001-of-00002.bin", second = "pytorch_model-00002-of-00002.bin"
        var weightMap = [String: String]()
        for name in SampleCheckpoints.expected.keys { weightMap[name] = first }
        for name in ["layer.weight", "layer.bias"] { weightMap[name] = second }
        let folder = try directory([first: SampleCheckpoints.torchZip(), second: try SampleCheckpoints.safetensors(),
                                    "pytorch_model.bin.index.json": try index(weightMap)])
        let sharded = try ShardedCheckpoint.open(index: folder.appendingPathComponent("pytorch_model.bin.index.json"))
        XCTAssertEqual(sharded.tensorNames, (Array(weightMap.keys) + ["empty", "scalar"]).sorted())
        XCTAssertEqual(sharded.shardURLs.map(\.lastPathComponent).sorted(), [first, second])
        for (name, expected) in SampleCheckpoints.expected {
            XCTAssertEqual(sharded.info(name)?.shape, expected.shape, name)
            XCTAssertEqual(try sharded.float32(name), expected.values, name)
        }
        XCTAssertEqual(try sharded.float32("layer.weight"), SampleCheckpoints.weightValues)
        XCTAssertEqual(try sharded.float32("layer.bias"), [0.125, -7, 1e-3])
        // The second shard's "empty" and "scalar" are not in the index: read all the same, and named.
        XCTAssertEqual(sharded.unindexedTensorNames, ["empty", "scalar"])
        XCTAssertEqual(sharded.shardOfUnindexed["scalar"], second)
        XCTAssertEqual(try sharded.float32("scalar"), [42])
        XCTAssertEqual(try ShardedCheckpoint.shardFiles(index: folder.appendingPathComponent("pytorch_model.bin.index.json")).count, 2)
    }

    func testBadIndexesAreNamed() throws {
        let shard = try SampleCheckpoints.safetensors()
        let cases: [(map: [String: String], expected: String)] = [
            (["layer.weight": "model-00002-of-00002.safetensors"], "not beside it"),
            (["layer.missing": "model-00001-of-00002.safetensors"], "does not hold it"),
            (["layer.weight": "../model-00001-of-00002.safetensors"], "not a plain file name"),
            ([:], "empty"),
        ]
        for (map, expected) in cases {
            let folder = try directory(["model-00001-of-00002.safetensors": shard, "model.safetensors.index.json": try index(map)])
            XCTAssertThrowsError(try ShardedCheckpoint.open(index: folder.appendingPathComponent("model.safetensors.index.json"))) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(map): \(error)")
            }
        }
        let folder = try directory(["model.safetensors.index.json": Array("{\"weights\": {}}".utf8)])
        XCTAssertThrowsError(try ShardedCheckpoint.open(index: folder.appendingPathComponent("model.safetensors.index.json"))) { error in
            XCTAssertTrue("\(error)".contains("weight_map"), "\(error)")
        }
    }

    /// A tensor the index omits is read from the one shard that holds it, and named; one that two shards
    /// hold (with no index entry to choose) is refused by name.
    func testTensorsTheIndexOmitsAreReadOrRefusedByName() throws {
        let first = "model-00001-of-00002.safetensors", second = "model-00002-of-00002.safetensors"
        let shard = try SampleCheckpoints.safetensors()
        let partialIndex = try index(["layer.weight": first, "encoder.bias": second])
        let partial = try directory([first: shard, second: SampleCheckpoints.torchZip(),
                                     "model.safetensors.index.json": partialIndex])
        let sharded = try ShardedCheckpoint.open(index: partial.appendingPathComponent("model.safetensors.index.json"))
        XCTAssertEqual(sharded.unindexedTensorNames, (SampleCheckpoints.expected.keys.filter { $0 != "encoder.bias" }
                                                      + ["empty", "layer.bias", "scalar"]).sorted())
        XCTAssertEqual(sharded.shardOfUnindexed["classifier.weight"], second)
        XCTAssertEqual(try sharded.float32("classifier.weight"), [1, -3, 0.25])
        XCTAssertEqual(try sharded.float32("layer.bias"), [0.125, -7, 1e-3])

        let twiceIndex = try index(["layer.weight": first, "layer.bias": second])
        let twice = try directory([first: shard, second: shard, "model.safetensors.index.json": twiceIndex])
        let twiceURL = twice.appendingPathComponent("model.safetensors.index.json")
        XCTAssertThrowsError(try ShardedCheckpoint.open(index: twiceURL)) {
            XCTAssertTrue("\($0)".contains("tensor empty is not in the index and both"), "\($0)")
        }
    }

    /// TensorFlow, Flax and ONNX files are named by their content, with the conversion to use.
    func testForeignFormatsAreNamed() throws {
        let files: [(bytes: [UInt8], expected: String)] = [
            ([0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A] + [UInt8](repeating: 0, count: 64), "TensorFlow"),
            // msgpack {"bert": {...}}: fixmap of 1, fixstr "bert"
            ([0x81, 0xA4] + Array("bert".utf8) + [0x80] + [UInt8](repeating: 0, count: 16), "Flax"),
            // ModelProto: ir_version 8, producer_name "pytorch"
            ([0x08, 0x08, 0x12, 0x07] + Array("pytorch".utf8) + [UInt8](repeating: 0, count: 16), "ONNX"),
        ]
        for (bytes, expected) in files {
            XCTAssertThrowsError(try CheckpointArchive.parse(bytes)) { error in
                guard case .foreignFormat = (error as? CheckpointError)?.underlying else { return XCTFail("\(error)") }
                XCTAssertTrue("\(error)".contains(expected), "\(error)")
            }
        }
        // A pickle is still a pickle (its 0x80 is followed by the protocol, not a string).
        XCTAssertNoThrow(try CheckpointArchive.parse(SampleCheckpoints.torchLegacy()))
    }
}
