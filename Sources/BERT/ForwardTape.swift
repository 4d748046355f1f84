import Kernels

/// One encoder layer's activations, kept by the forward for the backward (llm.c style).
final class LayerActivations {
    let q = FloatBuffer(count: 1), k = FloatBuffer(count: 1), v = FloatBuffer(count: 1)
    let probs = FloatBuffer(count: 1), context = FloatBuffer(count: 1)
    let attentionResidual = FloatBuffer(count: 1), attentionMean = FloatBuffer(count: 1), attentionRstd = FloatBuffer(count: 1)
    let attentionNormed = FloatBuffer(count: 1)
    let intermediate = FloatBuffer(count: 1), activated = FloatBuffer(count: 1)
    let outputResidual = FloatBuffer(count: 1), outputMean = FloatBuffer(count: 1), outputRstd = FloatBuffer(count: 1)

    func ensure(rows: Int, hidden: Int, intermediateSize: Int, probabilities: Int) {
        for b in [q, k, v, context, attentionResidual, attentionNormed, outputResidual] { b.ensureCapacity(rows * hidden) }
        for b in [attentionMean, attentionRstd, outputMean, outputRstd] { b.ensureCapacity(rows) }
        intermediate.ensureCapacity(rows * intermediateSize)
        activated.ensureCapacity(rows * intermediateSize)
        probs.ensureCapacity(probabilities)
    }
}

/// All activations of a forward pass over a packed batch, from `firstLayer` up.
/// hidden[j] (R,H) enters layer firstLayer + j; hidden.last is the encoder output.
/// Allocated once and regrown only for larger batches, so repeated passes do not allocate.
public final class ForwardTape {
    public let firstLayer: Int
    public private(set) var layout = SequenceLayout(lengths: [], heads: 1)
    let hidden: [FloatBuffer]
    let layers: [LayerActivations]
    // Embedding LayerNorm input and statistics (only when firstLayer == 0).
    let embeddingSum = FloatBuffer(count: 1), embeddingMean = FloatBuffer(count: 1), embeddingRstd = FloatBuffer(count: 1)
    // Head: [CLS] rows, pooler output (after tanh), logits and probabilities, (B,H) / (B,K).
    let clsRows = FloatBuffer(count: 1), pooled = FloatBuffer(count: 1)
    public let logits = FloatBuffer(count: 1), probabilities = FloatBuffer(count: 1)
    let config: BertConfig

    public init(config: BertConfig, firstLayer: Int = 0) {
        self.config = config
        self.firstLayer = firstLayer
        hidden = (firstLayer...config.numLayers).map { _ in FloatBuffer(count: 1) }
        layers = (firstLayer..<config.numLayers).map { _ in LayerActivations() }
    }

    /// Sizes every buffer for `lengths` (one entry per packed sequence).
    public func prepare(lengths: [Int]) {
        layout = SequenceLayout(lengths: lengths, heads: config.numHeads)
        let rows = layout.rows, h = config.hiddenSize
        for b in hidden { b.ensureCapacity(rows * h) }
        for a in layers {
            a.ensure(rows: rows, hidden: h, intermediateSize: config.intermediateSize, probabilities: layout.probabilityCount)
        }
        if firstLayer == 0 {
            embeddingSum.ensureCapacity(rows * h); embeddingMean.ensureCapacity(rows); embeddingRstd.ensureCapacity(rows)
        }
        clsRows.ensureCapacity(layout.batch * h); pooled.ensureCapacity(layout.batch * h)
        logits.ensureCapacity(layout.batch * config.numLabels); probabilities.ensureCapacity(layout.batch * config.numLabels)
    }

    /// The hidden state entering `layer` ((R,H), `layer` in firstLayer...numLayers; numLayers = encoder output).
    public func hiddenState(enteringLayer layer: Int) -> UnsafeMutablePointer<Float> {
        precondition(layer >= firstLayer && layer <= config.numLayers, "layer \(layer) is not on this tape")
        return hidden[layer - firstLayer].pointer
    }

    /// Logits of sequence b (K values) after `forwardHead`.
    public func logits(of b: Int) -> [Float] {
        Array(UnsafeBufferPointer(start: logits.pointer + b * config.numLabels, count: config.numLabels))
    }

    public func probabilities(of b: Int) -> [Float] {
        Array(UnsafeBufferPointer(start: probabilities.pointer + b * config.numLabels, count: config.numLabels))
    }
}

/// Gradient buffers for the backward pass, reused across layers and calls.
public final class BackwardWorkspace {
    let dHidden = FloatBuffer(count: 1), dInput = FloatBuffer(count: 1)
    let dOutputResidual = FloatBuffer(count: 1), dAttentionNormed = FloatBuffer(count: 1), dAttentionResidual = FloatBuffer(count: 1)
    let dActivated = FloatBuffer(count: 1), dIntermediate = FloatBuffer(count: 1)
    let dContext = FloatBuffer(count: 1), dq = FloatBuffer(count: 1), dk = FloatBuffer(count: 1), dv = FloatBuffer(count: 1)
    let scratch = FloatBuffer(count: 1)
    let dCls = FloatBuffer(count: 1), dPooled = FloatBuffer(count: 1), dLogits = FloatBuffer(count: 1)

    public init() {}

    func ensure(layout: SequenceLayout, config: BertConfig) {
        let rows = layout.rows, h = config.hiddenSize, i = config.intermediateSize
        for b in [dHidden, dInput, dOutputResidual, dAttentionNormed, dAttentionResidual, dContext, dq, dk, dv] {
            b.ensureCapacity(rows * h)
        }
        dActivated.ensureCapacity(rows * i); dIntermediate.ensureCapacity(rows * i)
        scratch.ensureCapacity(layout.probabilityCount)
        dCls.ensureCapacity(layout.batch * h); dPooled.ensureCapacity(layout.batch * h)
        dLogits.ensureCapacity(layout.batch * config.numLabels)
    }
}

extension BackwardWorkspace {
    /// After `backwardLayers(... downTo: lower)`: the gradient w.r.t. the hidden state entering `lower` (R,H).
    public var gradientEnteringLowestLayer: UnsafeMutablePointer<Float> { dHidden.pointer }
}
