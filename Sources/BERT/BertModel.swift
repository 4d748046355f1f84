import Foundation
import Kernels
import Tokenizer

/// BertForSequenceClassification in evaluation mode (dropout only when the tape asks for it): embeddings,
/// post-LN encoder layers with erf GELU, tanh pooler over [CLS], linear classifier. Batches are packed without padding
/// (see `SequenceLayout`), which gives the numbers of a padded batch with an attention mask.
public final class BertModel: @unchecked Sendable {
    public let config: BertConfig
    public let parameters: BertParameters
    public let tokenizer: BertTokenizer?
    /// Where the weights came from and what loading noticed.
    public let source: String
    public let loadReport: LoadReport
    private let cachedLayers: [EncoderLayerWeights]
    /// The architecture used and whether it was inferred (for summaries and manifests).
    public var architecture: ModelArchitecture { config.architecture(inferred: loadReport.architectureInferred) }
    let embeddingWeights: EmbeddingWeights
    let headWeights: HeadWeights

    public init(
        parameters: BertParameters, tokenizer: BertTokenizer?, source: String = "memory",
        loadReport: LoadReport = LoadReport()
    ) {
        self.config = parameters.config
        self.parameters = parameters
        self.tokenizer = tokenizer
        self.source = source
        self.loadReport = loadReport
        cachedLayers = (0..<parameters.config.numLayers).map { parameters.layer($0) }
        embeddingWeights = parameters.embeddings()
        headWeights = parameters.head()
    }

    private let bfloat16Cache = BFloat16WeightCache()

    func layerWeights(_ l: Int) -> EncoderLayerWeights { cachedLayers[l] }

    /// Layer l's dense weights in bfloat16 (converted on first use, then kept with the model).
    func bfloat16Weights(_ l: Int, context: ComputeContext) -> BFloat16LayerWeights {
        bfloat16Cache.weights(l) { BFloat16LayerWeights(cachedLayers[l], config, context: context) }
    }

    /// Checks ids, token types and lengths before any compute.
    public func validate(_ inputs: [ModelInput]) throws {
        for (i, input) in inputs.enumerated() {
            guard !input.ids.isEmpty else { throw BertError.invalidInput("input \(i) is empty") }
            guard input.ids.count == input.types.count else {
                throw BertError.invalidInput(
                    "input \(i) has \(input.ids.count) ids but \(input.types.count) token types")
            }
            guard input.ids.count <= config.maxPositions else {
                throw BertError.invalidInput(
                    "input \(i) has \(input.ids.count) tokens; the model takes at most \(config.maxPositions)")
            }
            if let bad = input.ids.first(where: { $0 < 0 || $0 >= config.vocabSize }) {
                throw BertError.invalidInput(
                    "input \(i) has token id \(bad) outside the vocabulary (0..<\(config.vocabSize))")
            }
            if let bad = input.types.first(where: { $0 < 0 || $0 >= config.typeVocabSize }) {
                throw BertError.invalidInput(
                    "input \(i) has token type \(bad); the model has \(config.typeVocabSize) types")
            }
        }
    }

    // MARK: forward

    /// hidden[0] (R,H) = LayerNorm(word[id] + position[p] + type[t]) for a tape starting at layer 0.
    public func embed(_ inputs: [ModelInput], tape: ForwardTape) {
        precondition(tape.firstLayer == 0, "embeddings need a tape that starts at layer 0")
        tape.prepare(lengths: inputs.map(\.count))
        let h = config.hiddenSize, e = embeddingWeights
        let sum = tape.embeddingSum.pointer
        for (b, input) in inputs.enumerated() {
            let row0 = tape.layout.offsets[b]
            for p in 0..<input.count {
                let out = sum + (row0 + p) * h
                let w = e.word + input.ids[p] * h, pos = e.position + p * h, t = e.tokenType + input.types[p] * h
                for c in 0..<h { out[c] = w[c] + pos[c] + t[c] }
            }
        }
        layerNormForward(
            out: tape.hidden[0].pointer, mean: tape.embeddingMean.pointer, rstd: tape.embeddingRstd.pointer,
            inp: sum, gamma: e.normWeight, beta: e.normBias, rows: tape.layout.rows, channels: h,
            eps: config.layerNormEps, context: tape.context)
        tape.embeddingDroppedOut = tape.dropout != nil
        if let dropout = tape.dropout {
            let count = tape.layout.rows * h
            tape.embeddingMask.ensureCapacity(count)
            dropout.fillMask(tape.embeddingMask.pointer, count: count, site: 0)
            dropoutForward(tape.hidden[0].pointer, mask: tape.embeddingMask.pointer, count: count)
        }
    }

    /// Runs encoder layers lower..<upper on the tape (hidden states entering `lower` must be in place).
    public func forwardLayers(tape: ForwardTape, from lower: Int, to upper: Int) {
        for l in lower..<upper { forwardLayer(l, tape: tape) }
    }

    /// One post-LN encoder layer, x (R,H) -> out (M,H): M = R, or B for the [CLS] rows alone in the top layer
    /// of a logits-only tape (K and V still from every token). One path for every mode: evaluation in float32
    /// or bfloat16 (`dense` rounds each product's operands), training (the masks of Hugging Face's three dropouts).
    func forwardLayer(_ l: Int, tape: ForwardTape) {
        let w = layerWeights(l), a = tape.layers[l - tape.firstLayer]
        let x = tape.hiddenState(enteringLayer: l), out = tape.hiddenState(enteringLayer: l + 1)
        let rows = tape.layout.rows, h = config.hiddenSize, i = config.intermediateSize
        let queries = tape.queries(atLayer: l), m = tape.layout.queryRows(queries)
        let xq = queries == .all ? UnsafePointer(x) : a.gatherFirstRows(x, layout: tape.layout, hidden: h)
        let masks = tape.dropout.map { a.drawMasks($0, layer: l, layout: tape.layout, hidden: h, queries: queries) }
        a.droppedOut = masks != nil
        let dense = DenseOperands(
            tape: tape,
            weights: masks == nil && tape.precision.forwardInBFloat16 ? bfloat16Weights(l, context: tape.context) : nil)
        // self-attention
        linearForward(
            out: a.q.pointer, inp: xq, weight: w.queryWeight, bias: w.queryBias, rows: m, inFeatures: h, outFeatures: h,
            bfloat16: dense.rounding(xq, count: m * h, \.query), context: tape.context)
        linearForward(
            out: a.k.pointer, inp: x, weight: w.keyWeight, bias: w.keyBias, rows: rows, inFeatures: h, outFeatures: h,
            bfloat16: dense.rounding(x, count: rows * h, \.key), context: tape.context)
        linearForward(
            out: a.v.pointer, inp: x, weight: w.valueWeight, bias: w.valueBias, rows: rows, inFeatures: h,
            outFeatures: h, bfloat16: dense.rounding(x, count: rows * h, \.value), context: tape.context)
        attentionForward(
            out: a.context.pointer, probs: a.probs.pointer, q: a.q.pointer, k: a.k.pointer, v: a.v.pointer,
            layout: tape.layout, channels: h, queries: queries, dropout: masks?.attention, context: tape.context)
        // attention output dense + residual, LayerNorm
        linearResidualForward(
            out: a.attentionResidual.pointer, inp: a.context.pointer, weight: w.attentionOutputWeight,
            bias: w.attentionOutputBias, residual: xq, rows: m, inFeatures: h, outFeatures: h,
            dropoutMask: masks?.attentionOutput,
            bfloat16: dense.rounding(a.context.pointer, count: m * h, \.attentionOutput),
            context: tape.context)
        layerNormForward(out: a.attentionNormed.pointer, mean: a.attentionMean.pointer, rstd: a.attentionRstd.pointer,
                         inp: a.attentionResidual.pointer, gamma: w.attentionNormWeight, beta: w.attentionNormBias,
                         rows: m, channels: h, eps: config.layerNormEps, context: tape.context)
        // feed-forward: dense, GELU, dense + residual, LayerNorm
        linearForward(
            out: a.intermediate.pointer, inp: a.attentionNormed.pointer, weight: w.intermediateWeight,
            bias: w.intermediateBias, rows: m, inFeatures: h, outFeatures: i,
            bfloat16: dense.rounding(a.attentionNormed.pointer, count: m * h, \.intermediate), context: tape.context)
        geluForward(out: a.activated.pointer, inp: a.intermediate.pointer, count: m * i, context: tape.context)
        linearResidualForward(
            out: a.outputResidual.pointer, inp: a.activated.pointer, weight: w.outputWeight,
            bias: w.outputBias, residual: a.attentionNormed.pointer, rows: m, inFeatures: i, outFeatures: h,
            dropoutMask: masks?.output, bfloat16: dense.rounding(a.activated.pointer, count: m * i, \.output),
            context: tape.context)
        layerNormForward(
            out: out, mean: a.outputMean.pointer, rstd: a.outputRstd.pointer, inp: a.outputResidual.pointer,
            gamma: w.outputNormWeight, beta: w.outputNormBias, rows: m, channels: h, eps: config.layerNormEps,
            context: tape.context)
    }

    /// Pooler and classifier on the encoder output: logits and softmax probabilities (B,K) on the tape.
    public func forwardHead(tape: ForwardTape) {
        let h = config.hiddenSize, k = config.numLabels, batch = tape.layout.batch, w = headWeights
        let last = tape.hiddenState(enteringLayer: config.numLayers)
        for b in 0..<batch {
            let row = tape.encoderOutputIsFirstRows ? b : tape.layout.offsets[b]
            (tape.clsRows.pointer + b * h).update(from: last + row * h, count: h)
        }
        linearForward(out: tape.pooled.pointer, inp: tape.clsRows.pointer, weight: w.poolerWeight, bias: w.poolerBias,
                      rows: batch, inFeatures: h, outFeatures: h, context: tape.context)
        tanhForward(out: tape.pooled.pointer, inp: tape.pooled.pointer, count: batch * h)
        var classifierInput = tape.pooled.pointer
        tape.headDroppedOut = tape.dropout != nil
        if let dropout = tape.dropout {
            // Hugging Face drops the pooled output before the classifier; `pooled` keeps tanh's output for its
            // backward.
            tape.pooledMask.ensureCapacity(batch * h); tape.pooledDropped.ensureCapacity(batch * h)
            dropout.fillMask(
                tape.pooledMask.pointer, count: batch * h, site: DropoutConfig.pooledSite(numLayers: config.numLayers))
            tape.pooledDropped.pointer.update(from: tape.pooled.pointer, count: batch * h)
            dropoutForward(tape.pooledDropped.pointer, mask: tape.pooledMask.pointer, count: batch * h)
            classifierInput = tape.pooledDropped.pointer
        }
        linearForward(
            out: tape.logits.pointer, inp: classifierInput, weight: w.classifierWeight, bias: w.classifierBias,
            rows: batch, inFeatures: h, outFeatures: k, context: tape.context)
        softmaxCrossEntropyForward(
            probs: tape.probabilities.pointer, logits: tape.logits.pointer, targets: nil, batch: batch, classes: k)
    }

    /// Full forward of a batch on `tape` (embeddings, every layer, head).
    public func forward(_ inputs: [ModelInput], tape: ForwardTape) throws {
        try validate(inputs)
        embed(inputs, tape: tape)
        forwardLayers(tape: tape, from: 0, to: config.numLayers)
        forwardHead(tape: tape)
    }

    /// Logits of each input (a convenience that allocates a tape; hot paths keep their own), in passes that fit
    /// the context's activation budget.
    public func logits(_ inputs: [ModelInput], context: ComputeContext) throws -> [[Float]] {
        guard !inputs.isEmpty else { return [] }
        try validate(inputs)
        let tape = ForwardTape.forwardOnly(config: config, context: context)
        var result = [[Float]]()
        for pass in tape.passes(forLengths: inputs.map(\.count)) {
            try forward(Array(inputs[pass]), tape: tape)
            result += (0..<pass.count).map { tape.logits(of: $0) }
        }
        return result
    }

    /// Softmax probabilities of each input, evaluated in passes of at most `maxRows` packed tokens that fit the
    /// context's activation budget (results unchanged: each sequence is computed alone, whatever its batch).
    public func probabilities(_ inputs: [ModelInput], context: ComputeContext,
                              maxRows: Int = 8192) throws -> [[Float]] {
        try probabilities(inputs, tape: ForwardTape.forwardOnly(config: config, context: context), maxRows: maxRows)
    }

    /// The same on the caller's tape (which keeps its buffers for the next call).
    public func probabilities(_ inputs: [ModelInput], tape: ForwardTape, maxRows: Int = 8192) throws -> [[Float]] {
        var result = [[Float]]()
        for pass in tape.passes(forLengths: inputs.map(\.count), maxRows: maxRows) {
            try forward(Array(inputs[pass]), tape: tape)
            result += (0..<pass.count).map { tape.probabilities(of: $0) }
        }
        return result
    }
}
