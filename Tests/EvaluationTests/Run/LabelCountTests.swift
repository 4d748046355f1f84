import Foundation
import XCTest
import BERT
import Tokenizer
@testable import Evaluation

/// A model with fewer labels than the dataset has classes is refused before any example runs.
final class LabelCountTests: XCTestCase {
    /// A small random classifier with `labels` classes (its numbers do not matter here).
    func model(labels: Int) throws -> BertModel {
        let tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "oil", "prices", "rise"]
        let config = BertConfig(vocabSize: tokens.count, hiddenSize: 8, numLayers: 1, numHeads: 2, intermediateSize: 16,
                                maxPositions: 64, numLabels: labels)
        let tensors = InMemoryTensors()
        for spec in ParameterNames.specs(config) {
            let count = spec.shape.reduce(1, *)
            tensors.set(spec.name, shape: spec.shape, values: (0..<count).map { Float(($0 * 7) % 11) / 11 - 0.5 })
        }
        var report = LoadReport()
        let parameters = try BertParameters(config: config, source: tensors, sourcePath: "memory", report: &report)
        return BertModel(parameters: parameters, tokenizer: try BertTokenizer(vocabulary: Vocabulary(tokens: tokens)))
    }

    func testThreeLabelModelOnFourClassAGNewsIsAnUpFrontError() throws {
        var settings = EvaluationSettings()
        settings.dataPath = try EmbeddedData.agnewsDemoTest().path
        settings.testSample = 4
        settings.layer = 0
        let plan = try EvaluationPlan(settings: settings)
        XCTAssertEqual(plan.classCount, 4)
        let small = try model(labels: 3)
        // Before the check, this returned four records (the class-3 examples failed) and the command exited 0.
        XCTAssertThrowsError(try runEvaluation(model: small, settings: settings, plan: plan)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("3 labels") && message.contains("4 classes"), message)
        }
        XCTAssertNoThrow(try plan.checkLabels(of: try model(labels: 4).config))
    }

    func testJSONLClassesComeFromItsLabels() throws {
        let directory = try temporaryDirectory(self)
        let data = try writeFile(directory, "data.jsonl", "{\"text\": \"oil\", \"label\": 0}\n{\"text\": \"rise\", \"label\": 4}\n")
        var settings = EvaluationSettings()
        settings.dataset = .jsonl
        settings.dataPath = data.path
        let plan = try EvaluationPlan(settings: settings)
        XCTAssertEqual(plan.classCount, 5)
        XCTAssertThrowsError(try plan.checkLabels(of: try model(labels: 4).config))
    }
}
