import Foundation
import TestSupport
import XCTest
import Kernels
import BERT
import Checkpoint
import Tokenizer
@testable import Training

final class HuggingFaceDirectoryTests: XCTestCase {
    func temporaryDirectory() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("iba-training-\(UUID().uuidString)")
    }

    /// Save, load with ModelLoader, and compare logits bit for bit; check the files transformers reads.
    func testRoundTripGivesIdenticalLogits() throws {
        let model = try tinyModel(seed: 31, labels: 4)
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try saveHuggingFaceDirectory(model, to: directory, labelNames: ["World", "Sports", "Business", "Sci/Tech"])

        let loaded = try ModelLoader.load(ModelLocation(path: directory))
        var named = model.config
        named.labelNames = ["World", "Sports", "Business", "Sci/Tech"]
        named.id2labelCount = 4   // what the loader read from config.json's id2label
        XCTAssertEqual(loaded.config, named, "the same architecture, and the class names read back from id2label")
        XCTAssertTrue(loaded.loadReport.initialised.isEmpty && loaded.loadReport.unused.isEmpty, "\(loaded.loadReport)")
        XCTAssertEqual(loaded.tokenizer?.vocabulary, model.tokenizer?.vocabulary)
        let inputs = try XCTUnwrap(model.tokenizer).encodeAll(["the movie was good", "awful plot and acting", "it"])
        XCTAssertEqual(try loaded.logits(inputs, context: ComputeContext()), try model.logits(inputs, context: ComputeContext()))

        let config = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("config.json"))) as? [String: Any])
        XCTAssertEqual(config["model_type"] as? String, "bert")
        XCTAssertEqual(config["architectures"] as? [String], ["BertForSequenceClassification"])
        XCTAssertEqual(config["hidden_act"] as? String, "gelu")
        XCTAssertEqual(config["pad_token_id"] as? Int, 0)
        XCTAssertEqual(config["layer_norm_eps"] as? Double, 1e-12)
        XCTAssertEqual(config["id2label"] as? [String: String], ["0": "World", "1": "Sports", "2": "Business", "3": "Sci/Tech"])
        XCTAssertEqual(config["label2id"] as? [String: Int], ["World": 0, "Sports": 1, "Business": 2, "Sci/Tech": 3])

        let archive = try CheckpointArchive.open(directory.appendingPathComponent("model.safetensors"))
        let names = Set(archive.tensorNames)
        XCTAssertTrue(names.contains("bert.embeddings.word_embeddings.weight"))
        XCTAssertTrue(names.contains("bert.encoder.layer.1.output.LayerNorm.bias"))
        XCTAssertTrue(names.contains("bert.pooler.dense.weight"))
        XCTAssertTrue(names.contains("classifier.weight") && names.contains("classifier.bias"))
        XCTAssertEqual(names.count, model.parameters.specs.count)
        XCTAssertEqual(archive.info("classifier.weight")?.dtype, .float32)
        let vocabulary = try String(contentsOf: directory.appendingPathComponent("vocab.txt"), encoding: .utf8)
        XCTAssertTrue(vocabulary.hasPrefix("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\ngood\n"))
    }

    func testWrongLabelNamesAreRejected() throws {
        let model = try tinyModel(seed: 32, labels: 2)
        XCTAssertThrowsError(try saveHuggingFaceDirectory(model, to: temporaryDirectory(), labelNames: ["only one"]))
    }
}

extension BertTokenizer {
    func encodeAll(_ texts: [String]) -> [ModelInput] {
        texts.map { let e = encode($0); return ModelInput(ids: e.inputIds, types: e.tokenTypeIds) }
    }
}
