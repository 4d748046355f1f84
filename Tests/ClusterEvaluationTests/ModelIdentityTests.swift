import Foundation
import XCTest
@testable import ClusterEvaluation
import Evaluation

/// The manifest's model hash covers every weight file, the architecture and the vocabulary; --ship-model
/// ships a sharded checkpoint's shards. Files only: the identity never loads the weights (a config is given).
final class ModelIdentityTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("iba-identity-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { [folder] in try? FileManager.default.removeItem(at: folder!) }
        let config: [String: Any] = ["vocab_size": 30, "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
                                     "intermediate_size": 64, "num_labels": 4]
        try JSONSerialization.data(withJSONObject: config).write(to: file("config.json"))
        try Data("[PAD]\n[UNK]\n[CLS]\n[SEP]\na\nb\n".utf8).write(to: file("vocab.txt"))
        try Data("first shard".utf8).write(to: file("model-00001-of-00002.safetensors"))
        try Data("second shard".utf8).write(to: file("model-00002-of-00002.safetensors"))
        let index = ["metadata": [String: Int](), "weight_map": ["a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"]] as [String: Any]
        try JSONSerialization.data(withJSONObject: index).write(to: file("model.safetensors.index.json"))
    }

    func file(_ name: String) -> URL { folder.appendingPathComponent(name) }

    func identity(_ model: ModelReference? = nil) throws -> ModelIdentity {
        let model = model ?? ModelReference(path: folder.path)
        return try ModelFiles(model).identity(model)
    }

    func testEveryPartChangesTheHashAndIsNamed() throws {
        let original = try identity()
        XCTAssertEqual(original.weights.count, 3, "the index and its two shards")
        XCTAssertEqual(original.architecture.heads, 4)
        XCTAssertEqual(try identity().hash, original.hash, "the identity is deterministic")

        func changed(_ name: String, _ edit: (inout Data) -> Void, expect phrase: String) throws {
            let saved = try Data(contentsOf: file(name))
            var data = saved
            edit(&data)
            try data.write(to: file(name))
            defer { try? saved.write(to: file(name)) }
            let other = try identity()
            XCTAssertNotEqual(other.hash, original.hash, name)
            let differences = original.differences(from: other).joined(separator: "; ")
            XCTAssertTrue(differences.contains(phrase), "\(name): \(differences)")
        }
        try changed("model-00002-of-00002.safetensors", { $0[0] ^= 1 }, expect: "its weights differ")
        try changed("vocab.txt", { $0 = Data("[PAD]\n[UNK]\n[CLS]\n[SEP]\nb\na\n".utf8) }, expect: "its vocabulary differs")
        try changed("config.json", { data in
            data = Data(String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\"num_attention_heads\":4", with: "\"num_attention_heads\":2").utf8)
        }, expect: "2 heads of size 16, intermediate size 64, 512 positions, 4 labels, the coordinator's 2 layers, hidden size 32, 4 heads of size 8")
        // A config change that keeps the architecture (here: the epsilon) is still a different model.
        try changed("config.json", { data in
            data = Data(String(decoding: data, as: UTF8.self).replacingOccurrences(of: "{", with: "{\"layer_norm_eps\":0.001,").utf8)
        }, expect: "its config.json differs")
        XCTAssertEqual(try identity().hash, original.hash, "restored")

        // --head-size and --num-labels are part of it.
        XCTAssertNotEqual(try identity(ModelReference(path: folder.path, headSize: 32)).hash, original.hash)
        XCTAssertNotEqual(try identity(ModelReference(path: folder.path, numLabels: 3)).hash, original.hash)
    }

    func testShippingAShardedCheckpointShipsTheIndexAndItsShards() throws {
        let shipping = try ModelFiles(ModelReference(path: folder.path)).shipping()
        XCTAssertEqual(shipping.names.checkpoint, "checkpoint-model.safetensors.index.json")
        XCTAssertEqual(shipping.shipment.files.map(\.name), ["checkpoint-model.safetensors.index.json", "model-00001-of-00002.safetensors",
                                                             "model-00002-of-00002.safetensors", "config.json", "vocab.txt"])
        XCTAssertEqual(shipping.files.map(\.lastPathComponent), ["model.safetensors.index.json", "model-00001-of-00002.safetensors",
                                                                 "model-00002-of-00002.safetensors", "config.json", "vocab.txt"])
    }
}
