import Foundation
import TestSupport
import XCTest
import Kernels
import BERT
import Evaluation
@testable import Training

final class FineTuneTests: XCTestCase {
    /// Sentiment from one keyword among filler words: label 0 for good/great, 1 for bad/awful.
    func syntheticTask(count: Int, seed: UInt64) -> [LabeledExample] {
        var generator = NormalGenerator(seed: seed)
        let filler = ["the", "movie", "film", "plot", "was", "and", "very", "a", "story", "acting", "it"]
        return (0..<count).map { i in
            let label = i % 2
            let keyword = label == 0 ? ["good", "great"] : ["bad", "awful"]
            var words = (0..<5).map { _ in filler[Int(generator.nextUInt64() % UInt64(filler.count))] }
            words.insert(keyword[Int(generator.nextUInt64() % 2)], at: Int(generator.nextUInt64() % 6))
            return LabeledExample(text: words.joined(separator: " "), label: label)
        }
    }

    func testAFewEpochsLowerTheLossAndLearnTheTask() throws {
        let model = try tinyModel(seed: 21, layers: 2, hidden: 16, labels: 2, scale: 0.1)
        let train = syntheticTask(count: 64, seed: 1), test = syntheticTask(count: 40, seed: 2)
        let before = try evaluateAccuracy(model: model, examples: test, context: ComputeContext())
        let originalWeight = model.parameters["classifier.weight"][0]
        var options = FineTuneOptions()
        options.epochs = 10; options.batchSize = 8; options.learningRate = 1e-2; options.maxLength = 16
        var updates = [FineTuneProgress]()
        let report = try fineTune(model: model, train: train, eval: test, options: options, context: ComputeContext()) { updates.append($0) }
        XCTAssertEqual(report.steps, 80)
        XCTAssertEqual(updates.map(\.step), Array(1...80))
        XCTAssertTrue(updates.allSatisfy { $0.examplesPerSecond > 0 && $0.loss.isFinite })
        XCTAssertEqual(updates[0].learningRate, 0, "the first update of a warm-up has rate 0, as in transformers")
        let first = report.epochLosses[0], last = report.epochLosses[report.epochLosses.count - 1]
        XCTAssertLessThan(last, 0.5 * first, "epoch losses \(report.epochLosses)")
        let accuracy = try XCTUnwrap(report.evalAccuracy)
        XCTAssertGreaterThanOrEqual(accuracy, 0.9, "accuracy \(accuracy) (before training \(before))")
        XCTAssertEqual(model.parameters["classifier.weight"][0], originalWeight, "the input model must be left unchanged")
        XCTAssertNotEqual(report.model.parameters["classifier.weight"][0], originalWeight)
        print("synthetic task: epoch losses \(report.epochLosses), accuracy \(before) -> \(accuracy)")
    }

    func testSameSeedSameRun() throws {
        let model = try tinyModel(seed: 22, labels: 2, scale: 0.1)
        let train = syntheticTask(count: 20, seed: 3)
        var options = FineTuneOptions()
        options.epochs = 2; options.batchSize = 4; options.learningRate = 1e-3
        let a = try fineTune(model: model, train: train, options: options, context: ComputeContext())
        let b = try fineTune(model: model, train: train, options: options, context: ComputeContext())
        XCTAssertEqual(a.epochLosses, b.epochLosses)
        options.seed += 1
        let c = try fineTune(model: model, train: train, options: options, context: ComputeContext())
        XCTAssertNotEqual(a.epochLosses, c.epochLosses)
    }

    func testBadInputsAreErrors() throws {
        let model = try tinyModel(seed: 23, labels: 2)
        XCTAssertThrowsError(try fineTune(model: model, train: [LabeledExample(text: "good", label: 2)], context: ComputeContext())) { error in
            XCTAssertEqual(error as? TrainingError, .labelOutOfRange(index: 0, label: 2, numLabels: 2))
        }
        XCTAssertThrowsError(try fineTune(model: model, train: [], context: ComputeContext())) { XCTAssertEqual($0 as? TrainingError, .noTrainingData) }
        var options = FineTuneOptions()
        options.dropout = 1
        XCTAssertThrowsError(try fineTune(model: model, train: [LabeledExample(text: "good", label: 0)], options: options, context: ComputeContext()))
        let noTokenizer = BertModel(parameters: model.parameters, tokenizer: nil)
        XCTAssertThrowsError(try fineTune(model: noTokenizer, train: [LabeledExample(text: "good", label: 0)], context: ComputeContext())) {
            XCTAssertEqual($0 as? TrainingError, .noTokenizer)
        }
    }
}
