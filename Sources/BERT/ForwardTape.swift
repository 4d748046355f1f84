import Kernels

/// One encoder layer's activations, kept by the forward for the backward (llm.c style).
final class LayerActivations {
    let q = FloatBuffer(count: 1), k = FloatBuffer(count: 1), v = FloatBuffer(count: 1)
    let probs = FloatBuffer(count: 1), context = FloatBuffer(count: 1)
    // The top layer of a logits-only tape: the [CLS] rows of the layer input (B,H), its queries' input.
    let queryInput = FloatBuffer(count: 1)
    let attentionResidual = FloatBuffer(count: 1), attentionMean = FloatBuffer(count: 1),
        attentionRstd = FloatBuffer(count: 1)
    let attentionNormed = FloatBuffer(count: 1)
    let intermediate = FloatBuffer(count: 1), activated = FloatBuffer(count: 1)
    let outputResidual = FloatBuffer(count: 1), outputMean = FloatBuffer(count: 1), outputRstd = FloatBuffer(count: 1)
    // Training mode only: dropout masks (0 or 1/(1-p)) and the dropped probabilities that multiply V.
    let probsMask = FloatBuffer(count: 1), droppedProbs = FloatBuffer(count: 1)
    let attentionOutputMask = FloatBuffer(count: 1), outputMask = FloatBuffer(count: 1)
    /// Whether the last forward of this layer applied dropout (the backward mirrors it).
    var droppedOut = false

    var buffers: [FloatBuffer] {
        [
            q, k, v, probs, context, queryInput, attentionResidual, attentionMean, attentionRstd, attentionNormed,
            intermediate, activated, outputResidual, outputMean, outputRstd, probsMask, droppedProbs,
            attentionOutputMask, outputMask
        ]
    }

    func release() { for b in buffers { b.release() } }

    func ensure(rows: Int, batch: Int, hidden: Int, intermediateSize: Int, probabilities: Int) {
        for b in [q, k, v, context, attentionResidual, attentionNormed, outputResidual] {
            b.ensureCapacity(rows * hidden)
        }
        queryInput.ensureCapacity(batch * hidden)
        for b in [attentionMean, attentionRstd, outputMean, outputRstd] { b.ensureCapacity(rows) }
        intermediate.ensureCapacity(rows * intermediateSize)
        activated.ensureCapacity(rows * intermediateSize)
        probs.ensureCapacity(probabilities)
    }
}

/// One layer's dropout masks (training mode): attention probabilities, attention output, FFN output.
struct LayerDropoutMasks {
    var attention: AttentionDropout
    var attentionOutput: UnsafePointer<Float>
    var output: UnsafePointer<Float>
}

extension LayerActivations {
    /// Draws layer `layer`'s masks for a training-mode forward over `layout` (sites as in `DropoutConfig`). With
    /// `.first` queries, the [CLS] rows of the masks every token would get: the same units drop on either path.
    func drawMasks(_ dropout: DropoutConfig, layer: Int, layout: SequenceLayout, hidden: Int,
                   queries: AttentionQueries) -> LayerDropoutMasks {
        let count = layout.probabilityCount, rows = layout.rows
        probsMask.ensureCapacity(count); droppedProbs.ensureCapacity(count)
        attentionOutputMask.ensureCapacity(rows * hidden); outputMask.ensureCapacity(rows * hidden)
        let probabilities = queries == .all ? probsMask.pointer : droppedProbs.pointer
        dropout.fillMask(probabilities, count: count, site: DropoutConfig.layerSite(layer, 0))
        dropout.fillMask(attentionOutputMask.pointer, count: rows * hidden, site: DropoutConfig.layerSite(layer, 1))
        dropout.fillMask(outputMask.pointer, count: rows * hidden, site: DropoutConfig.layerSite(layer, 2))
        if queries == .first {
            for b in 0..<layout.batch {
                let n = layout.lengths[b]
                for h in 0..<layout.heads {
                    (probsMask.pointer + layout.heads * layout.offsets[b] + h * n)
                        .update(from: probabilities + layout.probabilityOffsets[b] + h * n * n, count: n)
                }
                for mask in [attentionOutputMask, outputMask] where layout.offsets[b] != b {
                    (mask.pointer + b * hidden).update(from: mask.pointer + layout.offsets[b] * hidden, count: hidden)
                }
            }
        }
        return masks
    }

    /// x (R,H) -> its [CLS] rows (B,H) in `queryInput`.
    func gatherFirstRows(_ x: UnsafePointer<Float>, layout: SequenceLayout, hidden: Int) -> UnsafePointer<Float> {
        for b in 0..<layout.batch {
            (queryInput.pointer + b * hidden).update(from: x + layout.offsets[b] * hidden, count: hidden)
        }
        return UnsafePointer(queryInput.pointer)
    }

    /// The masks of this layer's last forward, nil when it ran in evaluation mode (the backward mirrors it).
    var dropoutMasks: LayerDropoutMasks? { droppedOut ? masks : nil }

    private var masks: LayerDropoutMasks {
        LayerDropoutMasks(attention: AttentionDropout(mask: probsMask.pointer, dropped: droppedProbs.pointer),
                          attentionOutput: attentionOutputMask.pointer, output: outputMask.pointer)
    }
}

/// Training-mode dropout as Hugging Face BERT applies it (hidden_dropout_prob = attention_probs_dropout_prob
/// = classifier dropout = `probability`). Inverted: kept values are scaled by 1/(1-p), so evaluation needs
/// no rescaling. Each site's mask depends only on (seed, site), so two forwards with the same seed drop
/// the same units (finite-difference checks) and a new seed per step gives fresh masks.
public struct DropoutConfig: Sendable, Equatable {
    public var probability: Float
    public var seed: UInt64
    public init(probability: Float, seed: UInt64) { self.probability = probability; self.seed = seed }

    /// mask (count) = 0 with probability p, else 1/(1-p); 32 random bits per element, two per draw.
    public func fillMask(_ mask: UnsafeMutablePointer<Float>, count: Int, site: Int) {
        let p = min(max(Double(probability), 0), 1)
        let keep: Float = p < 1 ? Float(1 / (1 - p)) : 0
        let threshold = UInt64((p * 4294967296.0).rounded(.down))
        var generator = NormalGenerator(seed: seed ^ (UInt64(site + 1) &* 0xD1B54A32D192ED03))
        var i = 0
        while i < count {
            let bits = generator.nextUInt64()
            mask[i] = (bits & 0xFFFF_FFFF) < threshold ? 0 : keep
            if i + 1 < count { mask[i + 1] = (bits >> 32) < threshold ? 0 : keep }
            i += 2
        }
    }

    // Mask sites: 0 embeddings; per layer l: 1 + 3l probabilities, 2 + 3l attention output, 3 + 3l FFN output;
    // 1 + 3 numLayers pooled output.
    static func layerSite(_ layer: Int, _ part: Int) -> Int { 1 + 3 * layer + part }
    static func pooledSite(numLayers: Int) -> Int { 1 + 3 * numLayers }
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
    let embeddingSum = FloatBuffer(count: 1), embeddingMean = FloatBuffer(count: 1),
        embeddingRstd = FloatBuffer(count: 1)
    // Head: [CLS] rows, pooler output (after tanh), logits and probabilities, (B,H) / (B,K).
    let clsRows = FloatBuffer(count: 1), pooled = FloatBuffer(count: 1)
    public let logits = FloatBuffer(count: 1), probabilities = FloatBuffer(count: 1)
    let config: BertConfig
    /// The GEMM library and threads of every kernel run on this tape, forward and backward.
    public let context: ComputeContext
    /// Whether only the logits are wanted: the last encoder layer then computes K and V for every token but
    /// everything else for the [CLS] rows alone (exact: nothing else reaches the pooler), and its output
    /// (hidden state `numLayers`) is (B,H), the [CLS] row of each sequence. False where all hidden states count.
    public let logitsOnly: Bool
    /// nil (the default) is evaluation mode; set it before a forward to train with dropout (masks are sized there).
    public var dropout: DropoutConfig?
    /// Arithmetic of the dense GEMMs of this tape's layers, forward and (activation) backward; see `Precision`.
    public var precision = Precision.float32
    // bfloat16 only: the current dense input, rounded ((R,I) at most).
    let bfloat16Input = BFloat16Buffer(count: 1)
    // Training mode only: embedding-output mask (R,H); pooled-output mask and dropped pooled output (B,H).
    let embeddingMask = FloatBuffer(count: 1), pooledMask = FloatBuffer(count: 1), pooledDropped = FloatBuffer(count: 1)
    var embeddingDroppedOut = false, headDroppedOut = false

    /// Whether every layer keeps its activations (for a backward). false (forward only, `forwardOnly`): the layers
    /// share one set of activation buffers and the hidden states alternate between two, so a pass holds one layer's
    /// activations at a time; the hidden states entering the last two layers run are still readable after it.
    public let keepsActivations: Bool

    public init(config: BertConfig, firstLayer: Int = 0, context: ComputeContext, logitsOnly: Bool = false,
                keepsActivations: Bool = true) {
        self.config = config
        self.context = context
        self.logitsOnly = logitsOnly
        self.firstLayer = firstLayer
        self.keepsActivations = keepsActivations
        let states = config.numLayers - firstLayer + 1
        hidden = (0..<(keepsActivations ? states : min(states, 2))).map { _ in FloatBuffer(count: 1) }
        let shared = LayerActivations()
        layers = (firstLayer..<config.numLayers).map { _ in keepsActivations ? LayerActivations() : shared }
    }

    /// A tape for forward passes alone: one layer's activations at a time when the context has an activation
    /// budget, every layer's (as a backward tape) when it has none (round 2's behaviour, for benchmarks).
    public static func forwardOnly(config: BertConfig, firstLayer: Int = 0, context: ComputeContext,
                                   logitsOnly: Bool = true) -> ForwardTape {
        ForwardTape(config: config, firstLayer: firstLayer, context: context, logitsOnly: logitsOnly,
                    keepsActivations: context.activationBudget == nil)
    }

    /// Bytes `prepare(lengths:)` sizes the buffers to (what one pass of these sequences holds), as the
    /// activation budget counts them; `withBackward` adds the gradient workspace a backward pass sizes.
    public func bytes(forLengths lengths: [Int], withBackward: Bool = false) -> Int {
        let rows = lengths.reduce(0, +), batch = lengths.count, h = config.hiddenSize, i = config.intermediateSize
        let probabilities = config.numHeads * lengths.reduce(0) { $0 + $1 * $1 }
        // LayerActivations.ensure: 7 (R,H), (B,H), 4 (R), 2 (R,I) and the probabilities.
        let perLayer = 7 * rows * h + batch * h + 4 * rows + 2 * rows * i + probabilities
        var floats = hidden.count * rows * h + uniqueLayers.count * perLayer
        if firstLayer == 0 { floats += rows * h + 2 * rows }
        floats += 2 * batch * h + 2 * batch * config.numLabels
        // BackwardWorkspace.ensure: 9 (R,H), 2 (R,I), the probabilities' scratch, 3 (B,H).
        if withBackward {
            floats += 9 * rows * h + 2 * rows * i + probabilities + 3 * batch * h + batch * config.numLabels
        }
        return floats * MemoryLayout<Float>.size
    }

    /// Splits `lengths` (in order) into consecutive runs that each fit the context's activation budget (a run
    /// of one sequence may exceed it) and hold at most `maxRows` tokens; a run [start, end) per pass.
    public func passes(forLengths lengths: [Int], maxRows: Int = .max, withBackward: Bool = false) -> [Range<Int>] {
        var result = [Range<Int>](), start = 0
        while start < lengths.count {
            var end = start + 1, rows = lengths[start]
            while end < lengths.count, rows + lengths[end] <= maxRows,
                  context.activationBudget.map({
                      bytes(forLengths: Array(lengths[start...end]), withBackward: withBackward) <= $0
                  }) ?? true {
                rows += lengths[end]; end += 1
            }
            result.append(start..<end)
            start = end
        }
        return result
    }

    /// Bytes the tape's buffers hold now (what `bytes(forLengths:)` predicts; for tests and the bench).
    var allocatedBytes: Int {
        let buffers = hidden + uniqueLayers.flatMap(\.buffers)
            + [embeddingSum, embeddingMean, embeddingRstd, clsRows, pooled,
               logits, probabilities, embeddingMask, pooledMask, pooledDropped]
        return buffers.reduce(0) { $0 + $1.capacity * MemoryLayout<Float>.size } + bfloat16Input.capacity * 2
    }

    /// Frees every buffer (they regrow on the next pass): for a tape that one of several methods used on a
    /// long input, so the methods of one example do not each keep their own peak.
    public func releaseMemory() {
        for b in hidden { b.release() }
        for a in layers { a.release() }
        for b in [embeddingSum, embeddingMean, embeddingRstd, clsRows, pooled, logits, probabilities,
                  embeddingMask, pooledMask, pooledDropped] { b.release() }
        bfloat16Input.release()
    }

    /// Sizes every buffer for `lengths` (one entry per packed sequence).
    public func prepare(lengths: [Int]) {
        layout = SequenceLayout(lengths: lengths, heads: config.numHeads)
        let rows = layout.rows, h = config.hiddenSize
        for b in hidden { b.ensureCapacity(rows * h) }
        for a in uniqueLayers {
            a.ensure(rows: rows, batch: layout.batch, hidden: h, intermediateSize: config.intermediateSize,
                     probabilities: layout.probabilityCount)
        }
        if firstLayer == 0 {
            embeddingSum.ensureCapacity(rows * h)
            embeddingMean.ensureCapacity(rows)
            embeddingRstd.ensureCapacity(rows)
        }
        clsRows.ensureCapacity(layout.batch * h); pooled.ensureCapacity(layout.batch * h)
        logits.ensureCapacity(layout.batch * config.numLabels)
        probabilities.ensureCapacity(layout.batch * config.numLabels)
    }

    /// `values` (count) rounded into the tape's bfloat16 scratch (valid until the next call).
    func roundedToBFloat16(_ values: UnsafePointer<Float>, count: Int) -> UnsafePointer<UInt16> {
        bfloat16Input.ensureCapacity(count)
        convertToBFloat16(out: bfloat16Input.pointer, inp: values, count: count, context: context)
        return UnsafePointer(bfloat16Input.pointer)
    }

    /// Which query rows layer l computes: all, or the [CLS] rows in the top layer of a logits-only tape.
    func queries(atLayer l: Int) -> AttentionQueries { logitsOnly && l == config.numLayers - 1 ? .first : .all }

    /// Whether the encoder output (hidden state numLayers) holds only the [CLS] rows (B,H).
    var encoderOutputIsFirstRows: Bool { logitsOnly && firstLayer < config.numLayers }

    /// The hidden state entering `layer` ((R,H), `layer` in firstLayer...numLayers; numLayers = encoder output,
    /// (B,H) on a logits-only tape).
    public func hiddenState(enteringLayer layer: Int) -> UnsafeMutablePointer<Float> {
        precondition(layer >= firstLayer && layer <= config.numLayers, "layer \(layer) is not on this tape")
        return hidden[(layer - firstLayer) % hidden.count].pointer
    }

    /// The layers' activation buffers, each once (one shared set on a forward-only tape).
    var uniqueLayers: [LayerActivations] { keepsActivations ? layers : Array(layers.prefix(1)) }

    /// Logits of sequence b (K values) after `forwardHead`.
    public func logits(of b: Int) -> [Float] {
        Array(UnsafeBufferPointer(start: logits.pointer + b * config.numLabels, count: config.numLabels))
    }

    public func probabilities(of b: Int) -> [Float] {
        Array(UnsafeBufferPointer(start: probabilities.pointer + b * config.numLabels, count: config.numLabels))
    }

    /// The attention probabilities of the [CLS] query of sequence b in encoder layer `layer` after a forward,
    /// (heads, n) flat: row 0 of each head's (n, n) block, or the only row the logits-only top layer computes.
    public func firstQueryAttention(layer: Int, sequence b: Int) -> [Float] {
        precondition(layer >= firstLayer && layer < config.numLayers, "layer \(layer) is not on this tape")
        precondition(
            keepsActivations || layer == config.numLayers - 1, "a forward-only tape keeps the top layer's alone")
        let n = layout.lengths[b], heads = layout.heads, probs = layers[layer - firstLayer].probs.pointer
        var out = [Float](repeating: 0, count: heads * n)
        for h in 0..<heads {
            // .first: (heads, 1, n) per sequence from heads * offsets[b];
            // .all: (heads, n, n) from probabilityOffsets[b].
            let start = queries(atLayer: layer) == .first ? heads * layout.offsets[b] + h * n
                                                          : layout.probabilityOffsets[b] + h * n * n
            for j in 0..<n { out[h * n + j] = probs[start + j] }
        }
        return out
    }
}

/// Gradient buffers for the backward pass, reused across layers and calls.
public final class BackwardWorkspace {
    let dHidden = FloatBuffer(count: 1), dInput = FloatBuffer(count: 1)
    let dOutputResidual = FloatBuffer(count: 1), dAttentionNormed = FloatBuffer(count: 1),
        dAttentionResidual = FloatBuffer(count: 1)
    let dActivated = FloatBuffer(count: 1), dIntermediate = FloatBuffer(count: 1)
    let dContext = FloatBuffer(count: 1), dq = FloatBuffer(count: 1), dk = FloatBuffer(count: 1),
        dv = FloatBuffer(count: 1)
    let scratch = FloatBuffer(count: 1)
    let dCls = FloatBuffer(count: 1), dPooled = FloatBuffer(count: 1), dLogits = FloatBuffer(count: 1)
    // The top layer of a logits-only tape: gradient w.r.t. its queries' input, the [CLS] rows (B,H).
    let dQueryInput = FloatBuffer(count: 1)

    public init() {}

    private var buffers: [FloatBuffer] {
        [dHidden, dInput, dOutputResidual, dAttentionNormed, dAttentionResidual, dActivated, dIntermediate,
         dContext, dq, dk, dv, scratch, dCls, dPooled, dLogits, dQueryInput]
    }

    /// Frees every buffer (they regrow on the next backward); see `ForwardTape.releaseMemory`.
    public func releaseMemory() { for b in buffers { b.release() } }

    /// Bytes the workspace holds now (for tests and the bench).
    var allocatedBytes: Int { buffers.reduce(0) { $0 + $1.capacity * MemoryLayout<Float>.size } }

    func ensure(layout: SequenceLayout, config: BertConfig) {
        let rows = layout.rows, h = config.hiddenSize, i = config.intermediateSize
        for b in [dHidden, dInput, dOutputResidual, dAttentionNormed, dAttentionResidual, dContext, dq, dk, dv] {
            b.ensureCapacity(rows * h)
        }
        dActivated.ensureCapacity(rows * i); dIntermediate.ensureCapacity(rows * i)
        scratch.ensureCapacity(layout.probabilityCount)
        dCls.ensureCapacity(layout.batch * h)
        dPooled.ensureCapacity(layout.batch * h)
        dQueryInput.ensureCapacity(layout.batch * h)
        dLogits.ensureCapacity(layout.batch * config.numLabels)
    }
}

extension BackwardWorkspace {
    /// After `backwardLayers(... downTo: lower)`: the gradient w.r.t. the hidden state entering `lower` (R,H).
    public var gradientEnteringLowestLayer: UnsafeMutablePointer<Float> { dHidden.pointer }
}
