import Foundation
import TestSupport
import XCTest
@testable import BERT
import Kernels

/// Whole-model backward (head, every layer kind, embeddings) against central finite differences.
final class ModelGradientTests: XCTestCase {
    static let config = BertConfig(vocabSize: 20, hiddenSize: 8, numLayers: 2, numHeads: 2, intermediateSize: 16,
                                   maxPositions: 16, typeVocabSize: 2, layerNormEps: 1e-12, numLabels: 3)

    /// A random model (LayerNorm gains away from 1, non-zero biases) built in memory.
    static func randomModel(seed: UInt64) throws -> BertModel {
        BertModel(parameters: try tinyParameters(config, seed: seed), tokenizer: nil)
    }

    let inputs = [ModelInput(ids: [1, 5, 7, 3, 2], types: [0, 0, 0, 1, 1]), ModelInput(ids: [1, 9, 2], types: [0, 0, 0])]
    let targets = [2, 0]

    func loss(_ model: BertModel, logitsOnly: Bool) throws -> Double {
        let tape = ForwardTape(config: model.config, context: ComputeContext(), logitsOnly: logitsOnly)
        try model.forward(inputs, tape: tape)
        var probs = [Float](repeating: 0, count: 6)
        return softmaxCrossEntropyForward(probs: &probs, logits: tape.logits.pointer, targets: targets, batch: 2, classes: 3)
            .reduce(0.0) { $0 + Double($1) } / 2
    }

    /// Gradients of the mean cross-entropy: weights (every parameter) and the activation entering layer 0.
    func testWeightAndActivationGradients() throws { try checkWeightAndActivationGradients(logitsOnly: false) }

    /// The same through the logits-only top layer (queries, attention output and FFN for the [CLS] rows alone).
    func testWeightAndActivationGradientsOfTheLogitsOnlyPath() throws { try checkWeightAndActivationGradients(logitsOnly: true) }

    /// Forward and backward of the mean cross-entropy: logits, the gradient w.r.t. the embedding output, weight gradients.
    func lossGradients(_ model: BertModel, logitsOnly: Bool, dropout: DropoutConfig? = nil) throws
        -> (logits: [Float], dEmbeddingOutput: [Float], gradients: BertParameters) {
        let tape = ForwardTape(config: model.config, context: ComputeContext(), logitsOnly: logitsOnly)
        tape.dropout = dropout
        try model.forward(inputs, tape: tape)
        let workspace = BackwardWorkspace()
        workspace.ensure(layout: tape.layout, config: model.config)
        workspace.dLogits.zero(6)
        softmaxCrossEntropyBackward(dlogits: workspace.dLogits.pointer, probs: tape.probabilities.pointer, targets: targets,
                                    batch: 2, classes: 3, scale: 0.5)
        let gradients = BertParameters(zeroed: model.config)
        model.backwardHead(tape: tape, dlogits: workspace.dLogits.pointer, workspace: workspace, gradients: gradients)
        model.backwardLayers(tape: tape, from: 2, downTo: 0, workspace: workspace, gradients: gradients)
        let dEmbeddingOutput = workspace.dHidden.array(8 * 8)
        model.backwardEmbeddings(inputs, tape: tape, workspace: workspace, gradients: gradients)
        return (tape.logits.array(6), dEmbeddingOutput, gradients)
    }

    func checkWeightAndActivationGradients(logitsOnly: Bool) throws {
        let model = try Self.randomModel(seed: 11)
        let (_, dEmbeddingOutput, gradients) = try lossGradients(model, logitsOnly: logitsOnly)

        var checked = 0
        for spec in model.parameters.specs {
            let p = model.parameters[spec.name], g = gradients[spec.name]
            let count = spec.shape.reduce(1, *)
            // Embedding tables: only rows that the inputs touch have gradients; probe a few of each tensor.
            for i in stride(from: 0, to: count, by: max(1, count / 7)) {
                let numeric = try centralDifference(at: p[i], set: { p[i] = $0 }) { try loss(model, logitsOnly: logitsOnly) }
                XCTAssertEqual(Double(g[i]), numeric, accuracy: 2e-3 + 2e-2 * abs(numeric), "\(spec.name)[\(i)]")
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 150)

        // Activation gradient: perturb the embedding output and run from layer 0 on a tape without embeddings.
        let upper = ForwardTape(config: model.config, firstLayer: 0, context: ComputeContext())
        try model.forward(inputs, tape: upper)
        let embedded = upper.hidden[0].array(8 * 8)
        func lossFrom(_ hidden: [Float]) -> Double {
            let t = ForwardTape(config: model.config, firstLayer: 0, context: ComputeContext(), logitsOnly: logitsOnly)
            t.prepare(lengths: inputs.map(\.count))
            t.hidden[0].pointer.update(from: hidden, count: hidden.count)
            model.forwardLayers(tape: t, from: 0, to: 2)
            model.forwardHead(tape: t)
            var probs = [Float](repeating: 0, count: 6)
            return softmaxCrossEntropyForward(probs: &probs, logits: t.logits.pointer, targets: targets, batch: 2, classes: 3)
                .reduce(0.0) { $0 + Double($1) } / 2
        }
        var hidden = embedded
        for i in stride(from: 0, to: hidden.count, by: 3) {
            let saved = hidden[i]
            hidden[i] = saved + 1e-2; let plus = lossFrom(hidden)
            hidden[i] = saved - 1e-2; let minus = lossFrom(hidden)
            hidden[i] = saved
            let numeric = (plus - minus) / 2e-2
            XCTAssertEqual(Double(dEmbeddingOutput[i]), numeric, accuracy: 2e-3 + 2e-2 * abs(numeric), "d embedding output [\(i)]")
        }
    }

    /// The logits-only path is the full layer restricted to [CLS]: same logits, same gradients (weights and the
    /// activation entering layer 0), in evaluation and in training mode (the same dropout masks), up to rounding.
    func testLogitsOnlyTopLayerMatchesTheFullLayer() throws {
        let model = try Self.randomModel(seed: 12)
        // The top layer really ran for the [CLS] rows alone: its output is (B,H), sequence 1's [CLS] in row 1.
        let fullTape = ForwardTape(config: model.config, context: ComputeContext())
        let topTape = ForwardTape(config: model.config, context: ComputeContext(), logitsOnly: true)
        try model.forward(inputs, tape: fullTape)
        try model.forward(inputs, tape: topTape)
        let fullOutput = fullTape.hiddenState(enteringLayer: 2), topOutput = topTape.hiddenState(enteringLayer: 2)
        for c in 0..<8 {
            XCTAssertEqual(topOutput[c], fullOutput[c], accuracy: 1e-5)
            XCTAssertEqual(topOutput[8 + c], fullOutput[5 * 8 + c], accuracy: 1e-5)
        }
        for dropout in [nil, DropoutConfig(probability: 0.2, seed: 77)] {
            let full = try lossGradients(model, logitsOnly: false, dropout: dropout)
            let top = try lossGradients(model, logitsOnly: true, dropout: dropout)
            let mode = dropout == nil ? "evaluation" : "training"
            for (a, b) in zip(full.logits, top.logits) { XCTAssertEqual(a, b, accuracy: 1e-5, "\(mode) logits") }
            for (a, b) in zip(full.dEmbeddingOutput, top.dEmbeddingOutput) { XCTAssertEqual(a, b, accuracy: 1e-5, "\(mode) d embedding output") }
            var compared = 0
            for spec in model.parameters.specs {
                let count = spec.shape.reduce(1, *)
                let a = full.gradients[spec.name], b = top.gradients[spec.name]
                for i in 0..<count {
                    XCTAssertEqual(a[i], b[i], accuracy: 1e-5 + 1e-4 * abs(a[i]), "\(mode) \(spec.name)[\(i)]")
                    if a[i] != 0 { compared += 1 }
                }
            }
            XCTAssertGreaterThan(compared, 500)
        }
    }
}
