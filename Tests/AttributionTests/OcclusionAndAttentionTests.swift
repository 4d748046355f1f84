import Foundation
import TestSupport
import XCTest
import Kernels
@testable import Attribution
import BERT
import Tokenizer

final class OcclusionAndAttentionTests: XCTestCase {
    func encoded(_ tokenizer: BertTokenizer, _ text: String, _ pair: String? = nil) -> ModelInput {
        let encoding = tokenizer.encode(text, pair: pair)
        return ModelInput(ids: encoding.inputIds, types: encoding.tokenTypeIds)
    }

    /// Occlusion against one unpacked forward per deletion, built by hand (ids and types dropped at i);
    /// [CLS] and every [SEP] get 0.
    func testOcclusionIsLeaveOneOutOfSingleForwards() throws {
        let model = try tinyModel(seed: 21, layers: 2)
        let tokenizer = try XCTUnwrap(model.tokenizer)
        let occlusion = Occlusion(model: model, tokenizer: tokenizer, context: ComputeContext())
        occlusion.predictionRows = 12   // several packed passes
        for input in [encoded(tokenizer, "the movie was very good and the acting great"),
                      encoded(tokenizer, "the plot was awful", "a very bad film")] {
            for target in 0..<3 {
                let got = try occlusion.attribution(of: ExampleToExplain(input: input, gold: target), target: target,
                                                    seed: 0)
                let full = try model.probabilities([input], context: ComputeContext())[0][target]
                for i in 0..<input.count {
                    if input.ids[i] == tokenizer.clsId || input.ids[i] == tokenizer.sepId {
                        XCTAssertEqual(got[i], 0, "special token \(i)")
                        continue
                    }
                    var ids = input.ids, types = input.types
                    ids.remove(at: i); types.remove(at: i)
                    let without = try model.probabilities([ModelInput(ids: ids, types: types)],
                                                          context: ComputeContext())[0][target]
                    XCTAssertEqual(got[i], full - without, accuracy: 1e-5, "token \(i) class \(target)")
                }
                XCTAssertGreaterThan(got.map(abs).max() ?? 0, 1e-4,
                                     "a vanishing occlusion would make this test vacuous")
            }
        }
    }

    func testDeletionKeepsOrderAndTypes() {
        let input = ModelInput(ids: [101, 5, 6, 102, 7, 8, 102], types: [0, 0, 0, 0, 1, 1, 1])
        XCTAssertEqual(input.deleting([2, 4]), ModelInput(ids: [101, 5, 102, 8, 102], types: [0, 0, 0, 1, 1]))
        XCTAssertEqual(input.deleting([]), input)
    }

    /// Attention against the [CLS] row recomputed in Double from the hidden state entering the last layer
    /// (q = x Wq^T + bq, k = x Wk^T + bk, softmax(q k^T / sqrt(d)) per head, mean over heads).
    func testAttentionIsTheHeadMeanOfTheLastLayersCLSRow() throws {
        let model = try tinyModel(seed: 8, layers: 3, hidden: 8)
        let tokenizer = try XCTUnwrap(model.tokenizer)
        let attention = AttentionAttribution(model: model, context: ComputeContext())
        let config = model.config, h = config.hiddenSize, heads = config.numHeads, d = config.headSize
        let last = config.numLayers - 1, w = model.parameters.layer(last)
        for input in [encoded(tokenizer, "the story was good"),
                      encoded(tokenizer, "a great film", "the acting was bad")] {
            let got = try attention.attribution(of: ExampleToExplain(input: input, gold: 0), target: 0, seed: 0)
            let tape = ForwardTape(config: config, context: ComputeContext())   // every row of every layer
            try model.forward([input], tape: tape)
            let x = tape.hiddenState(enteringLayer: last), n = input.count
            func project(_ weight: UnsafeMutablePointer<Float>, _ bias: UnsafeMutablePointer<Float>,
                         row: Int) -> [Double] {
                (0..<h).map { o in
                    (0..<h).reduce(Double(bias[o])) { $0 + Double(x[row * h + $1]) * Double(weight[o * h + $1]) }
                }
            }
            let q = project(w.queryWeight, w.queryBias, row: 0)
            let keys = (0..<n).map { project(w.keyWeight, w.keyBias, row: $0) }
            var expected = [Double](repeating: 0, count: n)
            for head in 0..<heads {
                let scores = keys.map { k in
                    (0..<d).reduce(0.0) { $0 + q[head * d + $1] * k[head * d + $1] } / Double(d).squareRoot()
                }
                let top = scores.max() ?? 0, exps = scores.map { exp($0 - top) }, sum = exps.reduce(0, +)
                for j in 0..<n { expected[j] += exps[j] / sum / Double(heads) }
            }
            XCTAssertEqual(got.count, n)
            for j in 0..<n { XCTAssertEqual(Double(got[j]), expected[j], accuracy: 1e-5, "token \(j)") }
            XCTAssertEqual(got.reduce(0, +), 1, accuracy: 1e-5)
            // The full tape's row 0 is the same row.
            let fullRow = tape.firstQueryAttention(layer: last, sequence: 0)
            for j in 0..<n { XCTAssertEqual(Double((0..<heads).reduce(0) { $0 + fullRow[$1 * n + j] }) / Double(heads),
                                            expected[j], accuracy: 1e-5) }
        }
    }
}
