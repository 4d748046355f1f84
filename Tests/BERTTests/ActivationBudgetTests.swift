import Foundation
import TestSupport
import XCTest
@testable import BERT
import Kernels

/// Forward-only tapes (one layer's activations at a time) and passes cut to the activation budget.
final class ActivationBudgetTests: XCTestCase {
    let lengths = [5, 17, 3, 29, 11, 8, 24, 2, 19]

    func inputs(_ model: BertModel, _ lengths: [Int], seed: UInt64 = 1) -> [ModelInput] {
        var generator = NormalGenerator(seed: seed)
        return lengths.map { n in
            let ids = (0..<n).map { _ in Int(generator.nextUInt64() % UInt64(model.config.vocabSize)) }
            let types = (0..<n).map { $0 < n / 2 ? 0 : 1 }
            return ModelInput(ids: ids, types: types)
        }
    }

    /// Same batch in one pass: the forward-only tape computes every number as the tape that keeps every layer,
    /// and holds one layer's activations (less memory, as `bytes(forLengths:)` says).
    func testForwardOnlyTapeMatchesTheFullTapeBitForBit() throws {
        let model = try randomTinyModel(seed: 5, layers: 4)
        let batch = inputs(model, lengths)
        for logitsOnly in [true, false] {
            let context = ComputeContext(activationBudget: 1 << 30)
            let full = ForwardTape(config: model.config, context: context, logitsOnly: logitsOnly)
            let single = ForwardTape.forwardOnly(config: model.config, context: context, logitsOnly: logitsOnly)
            XCTAssertFalse(single.keepsActivations)
            try model.forward(batch, tape: full)
            try model.forward(batch, tape: single)
            for b in batch.indices {
                XCTAssertEqual(single.logits(of: b), full.logits(of: b), "sequence \(b), logitsOnly \(logitsOnly)")
            }
            let top = model.config.numLayers - 1
            XCTAssertEqual(single.firstQueryAttention(layer: top, sequence: 3), full.firstQueryAttention(layer: top, sequence: 3))
            // The hidden states entering the last two layers run are still there (IBA's lower tape reads them).
            let rows = lengths.reduce(0, +) * model.config.hiddenSize
            XCTAssertEqual(Array(UnsafeBufferPointer(start: single.hiddenState(enteringLayer: top), count: rows)),
                           Array(UnsafeBufferPointer(start: full.hiddenState(enteringLayer: top), count: rows)))
            XCTAssertLessThan(single.allocatedBytes * 2, full.allocatedBytes, "one layer of four, two hidden states of five")
        }
    }

    /// The byte count the budget uses is what `prepare` (and a backward's workspace) allocate.
    func testBytesForLengthsIsWhatTheBuffersHold() throws {
        let model = try randomTinyModel(seed: 6, layers: 3)
        let batch = inputs(model, lengths)
        for keeps in [true, false] {
            let tape = ForwardTape(config: model.config, context: ComputeContext(), logitsOnly: true, keepsActivations: keeps)
            try model.forward(batch, tape: tape)
            let predicted = tape.bytes(forLengths: lengths)
            // Buffers a pass does not size (training masks, the bfloat16 scratch) keep their one element.
            XCTAssertGreaterThanOrEqual(tape.allocatedBytes, predicted)
            XCTAssertLessThanOrEqual(tape.allocatedBytes, predicted + 256, "keepsActivations \(keeps)")
            guard keeps else { continue }
            let workspace = BackwardWorkspace()
            model.backwardHead(tape: tape, dlogits: [Float](repeating: 0.1, count: batch.count * 3), workspace: workspace)
            model.backwardLayers(tape: tape, from: model.config.numLayers, downTo: 0, workspace: workspace)
            let workspaceBytes = tape.bytes(forLengths: lengths, withBackward: true) - predicted
            XCTAssertEqual(workspace.allocatedBytes, workspaceBytes)
        }
    }

    /// Passes cover the batch in order, each within the budget (or one sequence alone), and no larger than needed.
    func testPassesFitTheBudget() throws {
        let model = try randomTinyModel(seed: 7, layers: 2)
        let probe = ForwardTape.forwardOnly(config: model.config, context: ComputeContext())
        let total = probe.bytes(forLengths: lengths)
        for budget in [1, total / 5, total / 2, total] {
            let tape = ForwardTape.forwardOnly(config: model.config, context: ComputeContext(activationBudget: budget))
            let passes = tape.passes(forLengths: lengths)
            XCTAssertEqual(passes.flatMap { Array($0) }, Array(lengths.indices), "budget \(budget)")
            for (i, pass) in passes.enumerated() {
                let bytes = tape.bytes(forLengths: Array(lengths[pass]))
                XCTAssertTrue(pass.count == 1 || bytes <= budget, "pass \(pass) holds \(bytes) bytes > \(budget)")
                if i + 1 < passes.count {
                    XCTAssertGreaterThan(tape.bytes(forLengths: Array(lengths[pass.lowerBound...pass.upperBound])), budget,
                                         "pass \(pass) could have taken the next sequence")
                }
            }
            XCTAssertEqual(passes.count == 1, budget >= total, "budget \(budget)")
        }
        let unbounded = ForwardTape.forwardOnly(config: model.config, context: ComputeContext(activationBudget: nil))
        XCTAssertTrue(unbounded.keepsActivations, "no budget: round 2's tape")
        XCTAssertEqual(unbounded.passes(forLengths: lengths, maxRows: 40), [0..<3, 3..<5, 5..<8, 8..<9])
    }

    /// Probabilities over several budgeted passes against one pass: equal to 1e-6 (a pass's [CLS]-row and head
    /// GEMMs have as many rows as it has sequences, and libraries pick their kernels by that count).
    func testBudgetedPassesGiveTheOnePassProbabilities() throws {
        let model = try randomTinyModel(seed: 8, layers: 3)
        let batch = inputs(model, lengths)
        let onePass = try model.probabilities(batch, context: ComputeContext(activationBudget: nil))
        let probe = ForwardTape.forwardOnly(config: model.config, context: ComputeContext())
        let context = ComputeContext(activationBudget: probe.bytes(forLengths: lengths) / 4)
        XCTAssertGreaterThan(ForwardTape.forwardOnly(config: model.config, context: context).passes(forLengths: lengths).count, 3)
        let budgeted = try model.probabilities(batch, context: context)
        let logits = try model.logits(batch, context: context)
        for b in batch.indices {
            for k in 0..<3 { XCTAssertEqual(budgeted[b][k], onePass[b][k], accuracy: 1e-6, "sequence \(b) class \(k)") }
            XCTAssertEqual(softmax(logits[b]), budgeted[b])
        }
    }
}
