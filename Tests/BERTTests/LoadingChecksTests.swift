import Foundation
import XCTest
import TestSupport
import Checkpoint
import Kernels
@testable import BERT

/// Issue 24 items 5-6: what a checkpoint or config says that used to be ignored without a word.
final class LoadingChecksTests: XCTestCase {
    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("checks-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// `model` as a Hugging Face directory: config.json (with `configEdit` applied), vocab.txt, and its tensors
    /// in two safetensors shards behind model.safetensors.index.json, whose weight_map leaves out `unindexed`.
    func writeSharded(_ model: BertModel, unindexed: Set<String> = [],
                      configEdit: (inout [String: Any]) -> Void = { _ in }) throws -> URL {
        let folder = try temporaryDirectory()
        var shards = [[String: (shape: [Int], values: [Float])]](repeating: [:], count: 2)
        var weightMap = [String: String]()
        for (i, spec) in ParameterNames.specs(model.config).enumerated() {
            let count = spec.shape.reduce(1, *)
            let values = Array(UnsafeBufferPointer(start: model.parameters[spec.name], count: count))
            shards[i % 2][spec.name] = (spec.shape, values)
            if !unindexed.contains(spec.name) { weightMap[spec.name] = "model-0000\(i % 2 + 1)-of-00002.safetensors" }
        }
        for (i, tensors) in shards.enumerated() {
            let url = folder.appendingPathComponent("model-0000\(i + 1)-of-00002.safetensors")
            try SafetensorsWriter.write(tensors, to: url, dtype: .float32, metadata: ["format": "pt"])
        }
        let index = ["metadata": ["total_size": 0], "weight_map": weightMap] as [String: Any]
        let indexURL = folder.appendingPathComponent("model.safetensors.index.json")
        try JSONSerialization.data(withJSONObject: index).write(to: indexURL)
        let encoded = try JSONEncoder().encode(model.config)
        var config = try XCTUnwrap(try JSONSerialization.jsonObject(with: encoded) as? [String: Any])
        configEdit(&config)
        try JSONSerialization.data(withJSONObject: config).write(to: folder.appendingPathComponent("config.json"))
        let vocabulary = try XCTUnwrap(model.tokenizer).vocabulary
        let tokens = (0..<vocabulary.count).compactMap { vocabulary.token($0) }
        try tokens.joined(separator: "\n")
            .write(to: folder.appendingPathComponent("vocab.txt"), atomically: true, encoding: .utf8)
        return folder
    }

    func logits(_ model: BertModel) throws -> [Float] {
        let encoding = try XCTUnwrap(model.tokenizer).encode("the movie was very good", pair: nil, maxLength: 32)
        let input = ModelInput(ids: encoding.inputIds, types: encoding.tokenTypeIds)
        return try model.logits([input], context: ComputeContext())[0]
    }

    /// An index that leaves the classifier out while a shard holds it: the stored classifier is used, and named
    /// in a warning; "no classifier" is said only when no file holds one.
    func testTensorsTheIndexOmitsAreLoadedAndNamed() throws {
        let model = try tinyModel(seed: 11, labels: 4)
        let complete = try ModelLoader.load(ModelLocation(path: try writeSharded(model)))
        XCTAssertEqual(try logits(complete), try logits(model))
        XCTAssertEqual(complete.loadReport.warnings, [])

        let withoutClassifier = try writeSharded(model, unindexed: ["classifier.weight", "classifier.bias"])
        let partial = try ModelLoader.load(ModelLocation(path: withoutClassifier))
        XCTAssertEqual(try logits(partial), try logits(model), "the classifier the shards hold, not a random one")
        let warnings = partial.loadReport.warnings.joined(separator: "\n")
        XCTAssertTrue(warnings.contains("omits 2 tensor(s)"), warnings)
        XCTAssertTrue(warnings.contains("classifier.bias (model-0000"), warnings)
        XCTAssertTrue(warnings.contains("classifier.weight (model-0000"), warnings)
        XCTAssertFalse(warnings.contains("no classifier"), warnings)
    }

    /// An id2label shorter than the head's labels is reported with both counts.
    func testShortId2labelIsReported() throws {
        let model = try tinyModel(seed: 12, labels: 4)
        let folder = try writeSharded(model) { $0["id2label"] = ["0": "World", "1": "Sports", "2": "Business"] }
        let loaded = try ModelLoader.load(ModelLocation(path: folder))
        XCTAssertNil(loaded.config.labelNames)
        let warnings = loaded.loadReport.warnings.joined(separator: "\n")
        XCTAssertTrue(warnings.contains("id2label names 3 class(es) but the model has 4 labels"), warnings)
    }

    /// A config of another architecture (RoBERTa computes positions and token types differently) is refused by type.
    func testOtherModelTypesAreRefused() throws {
        let model = try tinyModel(seed: 13)
        for type in ["roberta", "distilbert"] {
            let folder = try writeSharded(model) { $0["model_type"] = type }
            XCTAssertThrowsError(try ModelLoader.load(ModelLocation(path: folder))) {
                XCTAssertTrue("\($0)".contains("model_type \"\(type)\" is not supported"), "\($0)")
            }
        }
        let bert = try writeSharded(model) { $0["model_type"] = "bert" }
        XCTAssertNoThrow(try ModelLoader.load(ModelLocation(path: bert)))
    }
}
