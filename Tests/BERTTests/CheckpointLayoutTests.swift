import Foundation
import XCTest
import TestSupport
import Checkpoint
import Kernels
@testable import BERT

/// How a model on disk is found: a single file with or without its config, sharded checkpoints, formats we
/// only name. The MiniLM classifier in ../shared (12 heads of 32) is the case a guess gets wrong.
final class CheckpointLayoutTests: XCTestCase {
    let sentences = ["Oil prices soared to a record high as hurricane fears shut refineries.",
                     "The home side won the final after extra time.",
                     "A new chip doubles the speed of laptops, the company said."]

    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("layout-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// Links `source` into `directory` under `name` (the shared files are read-only and 45 MB).
    func link(_ source: URL, into directory: URL, as name: String) throws {
        try FileManager.default.createSymbolicLink(at: directory.appendingPathComponent(name), withDestinationURL: source)
    }

    func logits(_ model: BertModel) throws -> [[Float]] {
        let tokenizer = try XCTUnwrap(model.tokenizer)
        return try sentences.map { sentence in
            let encoding = tokenizer.encode(sentence, pair: nil, maxLength: 128)
            return try model.logits([ModelInput(ids: encoding.inputIds, types: encoding.tokenTypeIds)], context: ComputeContext())[0]
        }
    }

    func maxDifference(_ a: [[Float]], _ b: [[Float]]) -> Float {
        zip(a, b).flatMap { zip($0, $1).map { abs($0 - $1) } }.max() ?? .infinity
    }

    func testSingleFileUsesTheConfigBesideIt() throws {
        let directory = try Shared.url("models/minilm-agnews")
        let reference = try ModelLoader.load(ModelLocation(path: directory))
        let folder = try temporaryDirectory()
        for name in ["config.json", "vocab.txt"] { try link(directory.appendingPathComponent(name), into: folder, as: name) }
        try link(directory.appendingPathComponent("model.safetensors"), into: folder, as: "agnews-classifier.safetensors")

        let single = try ModelLoader.load(ModelLocation(path: folder.appendingPathComponent("agnews-classifier.safetensors")))
        XCTAssertEqual(single.config.numHeads, 12)
        XCTAssertFalse(single.architecture.inferred)
        XCTAssertTrue(single.loadReport.warnings.isEmpty, "\(single.loadReport.warnings)")
        let difference = maxDifference(try logits(single), try logits(reference))
        XCTAssertLessThanOrEqual(difference, 1e-5)
        print("single file with config beside it: max logit difference to the directory \(difference)")
    }

    func testConfiglessFileWarnsWithTheAssumedArchitecture() throws {
        let directory = try Shared.url("models/minilm-agnews")
        let reference = try ModelLoader.load(ModelLocation(path: directory))
        let folder = try temporaryDirectory()
        try link(directory.appendingPathComponent("model.safetensors"), into: folder, as: "agnews.safetensors")
        var location = ModelLocation(path: folder.appendingPathComponent("agnews.safetensors"),
                                     vocab: directory.appendingPathComponent("vocab.txt"))
        let guessed = try ModelLoader.load(location)
        XCTAssertTrue(guessed.architecture.inferred)
        XCTAssertEqual(guessed.architecture.heads, 6, "the default head size 64 guesses 6 heads")
        let warning = guessed.loadReport.warnings.joined(separator: "\n")
        for part in ["6 layers", "hidden size 384", "6 heads of size 64", "intermediate size 1536", "512 positions", "4 labels",
                     "--config", "--head-size"] {
            XCTAssertTrue(warning.contains(part), "\(part) missing from: \(warning)")
        }
        // The guess is wrong (the point of the warning); the head size it suggests fixes it.
        XCTAssertGreaterThan(maxDifference(try logits(guessed), try logits(reference)), 0.01)
        location.headSize = 32
        let fixed = try ModelLoader.load(location)
        XCTAssertLessThanOrEqual(maxDifference(try logits(fixed), try logits(reference)), 1e-5)
    }

    /// The shared model's tensors split into three float16 shards behind an index give the same logits.
    func testShardedCheckpointsGiveIdenticalLogits() throws {
        let directory = try Shared.url("models/minilm-agnews")
        let reference = try logits(try ModelLoader.load(ModelLocation(path: directory)))
        let archive = try CheckpointArchive.open(directory.appendingPathComponent("model.safetensors"))
        for (indexName, shardStem) in [("model.safetensors.index.json", "model"), ("pytorch_model.bin.index.json", "pytorch_model")] {
            let folder = try temporaryDirectory()
            for name in ["config.json", "vocab.txt"] { try link(directory.appendingPathComponent(name), into: folder, as: name) }
            let names = archive.tensorNames
            let shardCount = 3
            let extensionName = shardStem == "model" ? "safetensors" : "bin"
            var weightMap = [String: String]()
            for shard in 0..<shardCount {
                let shardName = "\(shardStem)-0000\(shard + 1)-of-0000\(shardCount).\(extensionName)"
                var tensors = [String: (shape: [Int], values: [Float])]()
                for (i, name) in names.enumerated() where i % shardCount == shard {
                    tensors[name] = (try XCTUnwrap(archive.info(name)).shape, try archive.float32(name))
                    weightMap[name] = shardName
                }
                XCTAssertEqual(archive.info(names[0])?.dtype, .float16)
                try SafetensorsWriter.write(tensors, to: folder.appendingPathComponent(shardName), dtype: .float16, metadata: ["format": "pt"])
            }
            let index = try JSONSerialization.data(withJSONObject: ["metadata": ["total_size": 0], "weight_map": weightMap])
            try index.write(to: folder.appendingPathComponent(indexName))

            let sharded = try ModelLoader.load(ModelLocation(path: folder))
            XCTAssertEqual(sharded.source, folder.appendingPathComponent(indexName).path)
            XCTAssertEqual(try logits(sharded), reference, "\(indexName): logits identical to the single file's")
            XCTAssertEqual(try ModelLoader.weightFiles(checkpoint: folder.appendingPathComponent(indexName)).count, 1 + shardCount)
        }
    }

    /// A directory or file in a format we cannot read is named, and before any complaint about the vocabulary.
    func testForeignFormatsAreNamedBeforeTheVocabulary() throws {
        let hdf5: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A] + [UInt8](repeating: 0, count: 64)
        let flax: [UInt8] = [0x82, 0xA4] + Array("bert".utf8) + [0x80, 0xAA] + Array("classifier".utf8) + [0x80]
        let onnx: [UInt8] = [0x08, 0x07, 0x12, 0x07] + Array("pytorch".utf8) + [0x1A, 0x03] + Array("2.1".utf8)
        for (name, bytes, expected) in [("tf_model.h5", hdf5, "TensorFlow"), ("flax_model.msgpack", flax, "Flax"),
                                        ("model.onnx", onnx, "ONNX")] {
            let folder = try temporaryDirectory()
            try Data(bytes).write(to: folder.appendingPathComponent(name))
            for path in [folder, folder.appendingPathComponent(name)] {
                XCTAssertThrowsError(try ModelLoader.load(ModelLocation(path: path))) { error in
                    XCTAssertTrue("\(error)".contains(expected), "\(path.lastPathComponent): \(error)")
                    XCTAssertFalse("\(error)".contains("vocab"), "the format comes first: \(error)")
                }
            }
        }
        // A file named like ONNX whose bytes match nothing is still named by its extension.
        let folder = try temporaryDirectory()
        try Data([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]).write(to: folder.appendingPathComponent("classifier.onnx"))
        XCTAssertThrowsError(try ModelLoader.load(ModelLocation(path: folder.appendingPathComponent("classifier.onnx")))) { error in
            XCTAssertTrue("\(error)".contains("ONNX"), "\(error)")
        }
    }

    /// A damaged checkpoint without a vocabulary reports the checkpoint, not the missing vocabulary.
    func testCheckpointIsCheckedBeforeTheVocabulary() throws {
        let folder = try temporaryDirectory()
        try Data("not a checkpoint at all".utf8).write(to: folder.appendingPathComponent("model.safetensors"))
        XCTAssertThrowsError(try ModelLoader.load(ModelLocation(path: folder))) { error in
            XCTAssertTrue(error is CheckpointError, "\(error)")
            XCTAssertFalse("\(error)".contains("vocab"), "\(error)")
        }
    }

    func testLabelNamesFromId2label() throws {
        func decode(_ json: String) throws -> BertConfig { try JSONDecoder().decode(BertConfig.self, from: Data(json.utf8)) }
        let named = try decode(#"{"id2label": {"0": "World", "1": "Sports", "2": "Business", "3": "Sci/Tech"}}"#)
        XCTAssertEqual(named.numLabels, 4)
        XCTAssertEqual(named.labelNames, ["World", "Sports", "Business", "Sci/Tech"])
        XCTAssertEqual(named.labelName(2), "Business")
        XCTAssertEqual(named.labelIndex("business"), 2)
        XCTAssertEqual(named.labelIndex("3"), 3)
        XCTAssertNil(named.labelIndex("Weather"))
        // transformers' placeholders are no names; neither is an id2label that does not cover every label.
        XCTAssertNil(try decode(#"{"id2label": {"0": "LABEL_0", "1": "LABEL_1"}}"#).labelNames)
        XCTAssertNil(try decode(#"{"num_labels": 3, "id2label": {"0": "a", "1": "b"}}"#).labelNames)
        // The names survive a round trip through config.json.
        let reencoded = try decode(String(decoding: try JSONEncoder().encode(named), as: UTF8.self))
        XCTAssertEqual(reencoded.labelNames, named.labelNames)
        // The MNLI model in ../shared names its labels in the original's order.
        if let mnli = try? Shared.url("models/minilm-mnli/config.json") {
            XCTAssertEqual(try BertConfig.load(mnli).labelNames, ["contradiction", "entailment", "neutral"])
        }
    }

    func testArchitectureRecordIsCodable() throws {
        let config = BertConfig(hiddenSize: 384, numLayers: 6, numHeads: 12, intermediateSize: 1536, numLabels: 3,
                                labelNames: ["contradiction", "entailment", "neutral"])
        let architecture = config.architecture(inferred: false)
        XCTAssertEqual(architecture.headSize, 32)
        let json = String(decoding: try JSONEncoder().encode(architecture), as: UTF8.self)
        for key in ["\"layers\":6", "\"heads\":12", "\"head_size\":32", "\"hidden_size\":384", "\"inferred\":false", "\"label_names\""] {
            XCTAssertTrue(json.contains(key), "\(key) in \(json)")
        }
        XCTAssertEqual(try JSONDecoder().decode(ModelArchitecture.self, from: Data(json.utf8)), architecture)
    }
}
