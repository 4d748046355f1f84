import Foundation
import XCTest
import Attribution
import BERT
import Kernels
import TestSupport
@testable import Evaluation

/// What `iba predict` and `iba explain` compute, reached without the command line.
final class ExplanationTests: XCTestCase {
    func testPredictionsOfABatchEqualOneByOne() throws {
        let model = try tinyModel(seed: 5)
        let texts = [TextInput("the movie was good"), TextInput("awful plot", pair: "bad acting")]
        let together = try model.predict(texts, maxLength: 32, context: ComputeContext())
        XCTAssertEqual(together.count, 2)
        for (text, prediction) in zip(texts, together) {
            let alone = try model.predict([text], maxLength: 32, context: ComputeContext())[0]
            XCTAssertEqual(alone.logits, prediction.logits)
            XCTAssertEqual(prediction.label, firstArgmax(prediction.probabilities))
            XCTAssertEqual(prediction.probabilities.reduce(0, +), 1, accuracy: 1e-5)
        }
        XCTAssertEqual(together[1].tokens.filter { $0 == "[SEP]" }.count, 2, "a pair is encoded as one input")
        XCTAssertThrowsError(try randomTinyModel(seed: 1).predict(texts, maxLength: 32, context: ComputeContext()))
    }

    func testTargetsResolveToAClassTheModelHas() throws {
        let tokenizer = try tinyTokenizer()
        let named = BertConfig(vocabSize: tokenizer.vocabulary.count, hiddenSize: 8, numLayers: 2, numHeads: 2,
                               intermediateSize: 16, maxPositions: 32, typeVocabSize: 2, layerNormEps: 1e-12,
                               numLabels: 3, labelNames: ["Neg", "Mixed", "Pos"])
        let model = BertModel(parameters: try tinyParameters(named, seed: 5), tokenizer: tokenizer)
        let prediction = try model.predict([TextInput("good film")], maxLength: 32, context: ComputeContext())[0]
        let config = model.config
        let predicted = try ExplanationTarget("predicted").resolve(prediction, gold: nil, config: config)
        XCTAssertEqual(predicted, prediction.label)
        XCTAssertEqual(try ExplanationTarget("gold").resolve(prediction, gold: 2, config: config), 2)
        XCTAssertEqual(try ExplanationTarget("Mixed").resolve(prediction, gold: nil, config: config), 1)
        XCTAssertEqual(try ExplanationTarget("0").resolve(prediction, gold: nil, config: config), 0)
        XCTAssertThrowsError(try ExplanationTarget("gold").resolve(prediction, gold: nil, config: config))
        XCTAssertThrowsError(try ExplanationTarget("gold").resolve(prediction, gold: 3, config: config))
        XCTAssertThrowsError(try ExplanationTarget("Weather").resolve(prediction, gold: nil, config: config)) { error in
            XCTAssertTrue("\(error)".contains("Neg, Mixed, Pos"), "\(error)")
        }
    }

    func testEachLayerIsExplainedAsAOneLayerExplanation() throws {
        let model = try tinyModel(seed: 5)
        let text = TextInput("the plot was very bad")
        let input = try model.predict([text], maxLength: 32, context: ComputeContext())[0].input
        var options = IBAOptions()
        options.steps = 3
        let layers = try explainLayers(model: model, input: input, target: 1, layers: [0, 1], options: options, seed: 4,
                                       context: ComputeContext()) { _ in .sample }
        XCTAssertEqual(layers.rows.count, 2)
        XCTAssertNotEqual(layers.rows[0], layers.rows[1])
        let second = try explainLayers(model: model, input: input, target: 1, layers: [1], options: options, seed: 4,
                                       context: ComputeContext()) { _ in .sample }
        XCTAssertEqual(second.rows[0], layers.rows[1], "a layer's heatmap does not depend on the layers before it")
        XCTAssertThrowsError(try explainLayers(model: model, input: input, target: 1, layers: [2], options: options,
                                               seed: 4, context: ComputeContext()) { _ in .sample }) { error in
            XCTAssertTrue("\(error)".contains("--layer 2 is outside 0...1"), "\(error)")
        }
    }
}
