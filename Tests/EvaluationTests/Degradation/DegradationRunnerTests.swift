import BERT
import XCTest
@testable import Evaluation

final class DegradationRunnerTests: XCTestCase {
    // A sentence pair: [CLS] a b c d [SEP] e f [SEP].
    let input = ModelInput(ids: [101, 11, 12, 13, 14, 102, 15, 16, 102], types: [0, 0, 0, 0, 0, 0, 1, 1, 1])
    let tokens = ["[CLS]", "a", "b", "c", "d", "[SEP]", "e", "f", "[SEP]"]
    let attribution: [Float] = [0.9, 0.5, 0.1, 0.5, 0.7, 0.95, 0.2, 0.3, 0.0]

    /// Toy classifier: p(class 1) = surviving non-special tokens / 6.
    static func toyPredict(_ batch: [ModelInput]) -> [[Float]] {
        batch.map { input in
            let words = Float(input.ids.filter { $0 != 101 && $0 != 102 && $0 != 103 }.count)
            return [1 - words / 6, words / 6]
        }
    }

    func testOneBatchOfNineDegradedInputs() throws {
        var batches: [[ModelInput]] = []
        let outcome = try degradationTest(input: input, isSpecial: specialTokenMask(tokens), attribution: attribution,
                                          target: 1) { batch in
            batches.append(batch)
            return Self.toyPredict(batch)
        }
        XCTAssertEqual(batches.count, 1)
        // Ids and types of the 9 degraded inputs, from the original's _truncate_words run in Python.
        let allSpecial = ModelInput(ids: [101, 102, 102], types: [0, 0, 1])
        XCTAssertEqual(batches.first, [
            ModelInput(ids: [101, 11, 12, 13, 102, 15, 16, 102], types: [0, 0, 0, 0, 0, 1, 1, 1]),
            ModelInput(ids: [101, 12, 13, 102, 15, 16, 102], types: [0, 0, 0, 0, 1, 1, 1]),
            ModelInput(ids: [101, 12, 102, 15, 16, 102], types: [0, 0, 0, 1, 1, 1]),
            ModelInput(ids: [101, 12, 102, 15, 102], types: [0, 0, 0, 1, 1]),
            ModelInput(ids: [101, 12, 102, 102], types: [0, 0, 0, 1]),
            allSpecial, allSpecial, allSpecial, allSpecial,
        ])
        XCTAssertEqual(outcome.counts, [1, 2, 3, 4, 5, 6, 7, 8, 9])
        XCTAssertEqual(outcome.degradationProb, [Float(5) / 6, Float(4) / 6, Float(3) / 6, Float(2) / 6, Float(1) / 6, 0, 0, 0, 0])
        // At 3/6 both classes tie: numpy's argmax takes class 0, so not correct.
        XCTAssertEqual(outcome.degradationCorrect, [true, true, false, false, false, false, false, false, false])
    }

    func testReverseAndReplaceOptions() throws {
        var batch: [ModelInput] = []
        _ = try degradationTest(input: input, isSpecial: specialTokenMask(tokens), attribution: attribution, target: 0,
                                options: DegradationOptions(steps: 10, reverse: true, replaceWith: 103)) { inputs in
            batch = inputs
            return Self.toyPredict(inputs)
        }
        XCTAssertEqual(batch.count, 9)
        XCTAssertTrue(batch.allSatisfy { $0.types == self.input.types && $0.ids.count == 9 })
        // Reverse order removes b, e, f, a, c, d (Python: [2, 6, 7, 1, 3, 4]).
        XCTAssertEqual(batch[2].ids, [101, 11, 103, 13, 14, 102, 103, 103, 102])
        XCTAssertEqual(batch[8].ids, [101, 103, 103, 103, 103, 102, 103, 103, 102])
    }

    func testShapeErrors() {
        XCTAssertThrowsError(try degradationTest(input: input, isSpecial: specialTokenMask(tokens),
                                                 attribution: Array(attribution.dropLast()), target: 1) { Self.toyPredict($0) })
        XCTAssertThrowsError(try degradationTest(input: input, isSpecial: specialTokenMask(tokens), attribution: attribution,
                                                 target: 1) { Array(Self.toyPredict($0).dropLast()) }) { error in
            guard case .badPrediction? = error as? EvaluationError else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try degradationTest(input: input, isSpecial: specialTokenMask(tokens), attribution: attribution,
                                                 target: 2) { Self.toyPredict($0) })
    }

    func testTargetOutcomeUsesFirstMaximum() throws {
        XCTAssertEqual(try targetOutcome(probabilities: [0.4, 0.4, 0.2], target: 1).correct, false)
        XCTAssertEqual(try targetOutcome(probabilities: [0.4, 0.4, 0.2], target: 0).correct, true)
        XCTAssertEqual(try targetOutcome(probabilities: [0.1, 0.7, 0.2], target: 1).probability, 0.7)
    }
}
