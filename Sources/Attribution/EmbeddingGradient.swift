import Foundation
import BERT
import Kernels

/// The gradient of softmax(logits)[target] w.r.t. the embeddings module's output e (after its LayerNorm): the
/// tensor integrated gradients integrates over and saliency / gradient x input differentiate at. Forward of e
/// through the encoder and head on a logits-only tape, then the existing backward down to layer 0.
/// Holds one tape and backward workspace: not thread-safe, one per thread.
public final class EmbeddingGradient {
    public let model: BertModel
    private let tape: ForwardTape
    private let workspace = BackwardWorkspace()

    public init(model: BertModel, context: ComputeContext) {
        self.model = model
        tape = ForwardTape(config: model.config, context: context, logitsOnly: true)
    }

    /// Frees the tape's and the workspace's buffers (see `ForwardTape.releaseMemory`).
    public func releaseMemory() {
        tape.releaseMemory()
        workspace.releaseMemory()
    }

    /// Consecutive runs of `copies` sequences of `length` tokens that each fit the activation budget with their
    /// backward: the copies of one `probabilityGradients` call each.
    public func passes(length: Int, copies: Int) -> [Range<Int>] {
        tape.passes(forLengths: [Int](repeating: length, count: copies), withBackward: true)
    }

    /// The embedding output of each input ((n_b, H) flat per input); inputs must be validated.
    public func embeddingOutputs(_ inputs: [ModelInput]) -> [[Float]] {
        model.embed(inputs, tape: tape)
        let h = model.config.hiddenSize, embedded = tape.hiddenState(enteringLayer: 0)
        return inputs.indices.map { b in
            Array(UnsafeBufferPointer(start: embedded + tape.layout.offsets[b] * h, count: inputs[b].count * h))
        }
    }

    /// softmax(logits)[target] of `copies` sequences of `length` tokens given their embedding outputs
    /// ((copies, length, H) flat), and its gradient w.r.t. those embeddings (same shape).
    public func probabilityGradients(embeddings: [Float], length n: Int, copies: Int,
                                     target: Int) -> (probabilities: [Float], gradients: [Float]) {
        let config = model.config, h = config.hiddenSize, k = config.numLabels
        precondition(embeddings.count == copies * n * h, "embeddings must be (copies, length, hidden)")
        tape.prepare(lengths: [Int](repeating: n, count: copies))
        tape.hiddenState(enteringLayer: 0).update(from: embeddings, count: copies * n * h)
        model.forwardLayers(tape: tape, from: 0, to: config.numLayers)
        model.forwardHead(tape: tape)
        // d p_c / d z_j = p_c (delta_cj - p_j) for each copy (captum differentiates each output on its own).
        var dlogits = [Float](repeating: 0, count: copies * k)
        var targetProbabilities = [Float](repeating: 0, count: copies)
        for b in 0..<copies {
            let p = tape.probabilities(of: b)
            targetProbabilities[b] = p[target]
            for j in 0..<k { dlogits[b * k + j] = p[target] * ((j == target ? 1 : 0) - p[j]) }
        }
        model.backwardHead(tape: tape, dlogits: dlogits, workspace: workspace)
        model.backwardLayers(tape: tape, from: config.numLayers, downTo: 0, workspace: workspace)
        let gradients = Array(UnsafeBufferPointer(start: workspace.gradientEnteringLowestLayer, count: copies * n * h))
        return (targetProbabilities, gradients)
    }

    /// e(input) and d p_target / d e at it, each (n, H) flat: one forward and one backward.
    public func atInput(_ input: ModelInput, target: Int) throws -> (embedding: [Float], gradient: [Float]) {
        guard (0..<model.config.numLabels).contains(target) else {
            throw AttributionError.invalidTarget(target, labels: model.config.numLabels)
        }
        try model.validate([input])
        guard let embedding = embeddingOutputs([input]).first else {
            throw AttributionError.nothingToExplain("the input has no tokens")
        }
        let gradient = probabilityGradients(embeddings: embedding, length: input.count, copies: 1,
                                            target: target).gradients
        return (embedding, gradient)
    }
}

/// values / ||values||_2 (in Double), signs kept; an all-zero vector stays zero (where PyTorch would give NaN).
public func dividedByL2Norm(_ values: [Float]) -> [Float] {
    let norm = values.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
    return norm > 0 ? values.map { Float(Double($0) / norm) } : values
}
