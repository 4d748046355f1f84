import Foundation
import BERT
import Kernels

/// Integrated gradients settings; defaults are the original's (captum 0.2 defaults, contract section 5).
public struct IntegratedGradientsOptions: Sendable, Equatable {
    /// Gauss-Legendre interpolation points.
    public var steps = 10
    /// Build the explained input as the original does (see `IntegratedGradients.originalLayout`);
    /// false: explain the encoded input as it is (its own token types, no per-segment truncation).
    public var originalInputLayout = true
    /// The original truncates each segment of a pair to this many wordpieces on its own.
    public var segmentLimit = 250
    /// Interpolation points per packed pass; nil = as many as fit the activation budget (`ComputeContext`), all
    /// of them for short inputs (captum's internal_batch_size, chosen automatically). Smaller values only save
    /// memory: sequences are packed without padding, so results are unchanged.
    public var stepsPerPass: Int? = nil
    public init() {}
}

/// The input IG explains, its baseline and where each of its positions sits in the encoded input.
public struct IntegratedGradientsLayout: Sendable, Equatable {
    public var input: ModelInput
    public var baseline: ModelInput
    /// encodedPositions[i] = position in the encoded input of IG position i.
    public var encodedPositions: [Int]
}

/// Integrated gradients of softmax(logits)[target] w.r.t. the embedding output (after the embedding LayerNorm),
/// as captum 0.2 with the original's model wrapper. All interpolation points run as one packed batch through
/// the encoder and head, then one backward down to layer 0. Not thread-safe; one per thread.
public final class IntegratedGradients {
    public let model: BertModel
    public var options: IntegratedGradientsOptions
    /// The [PAD] id of the baseline (the tokenizer's; set by the method setup).
    public var padId = 0
    private let gradient: EmbeddingGradient

    public init(
        model: BertModel, options: IntegratedGradientsOptions = IntegratedGradientsOptions(), context: ComputeContext
    ) {
        self.model = model
        self.options = options
        gradient = EmbeddingGradient(model: model, context: context)
    }

    /// The original's IG input for an encoded example (`[CLS] a [SEP]` or `[CLS] a [SEP] b [SEP]`, pairs told
    /// apart by type-1 tokens). Single texts: the ids as they are (the original's 510-piece limit is the
    /// encoder's). Pairs: each segment cut to `segmentLimit` pieces on its own, token type 0 for [CLS] and the
    /// first segment and 1 from the first [SEP] on (the original's `i <= len(question_ids)` quirk).
    /// Re-tokenising the text, as the original does, gives the same pieces: longest-first truncation never
    /// cuts a segment below `segmentLimit` unless it was cut anyway. Baseline: [PAD] everywhere except [CLS]
    /// and the [SEP]s, same positions and token types as the input.
    public static func originalLayout(of encoded: ModelInput, padId: Int,
                                      segmentLimit: Int = 250) -> IntegratedGradientsLayout {
        let n = encoded.count
        guard let firstSecond = encoded.types.firstIndex(of: 1), firstSecond >= 2, n >= 3 else {
            let baselineIds = encoded.ids.indices.map { $0 == 0 || $0 == n - 1 ? encoded.ids[$0] : padId }
            return IntegratedGradientsLayout(
                input: encoded, baseline: ModelInput(ids: baselineIds, types: encoded.types),
                encodedPositions: Array(0..<n))
        }
        // Encoded pair: 0 = [CLS], 1..<firstSecond-1 = segment a, firstSecond-1 = [SEP], then b, then the last [SEP].
        let firstSep = firstSecond - 1
        let a = Array(1..<firstSep).prefix(segmentLimit), b = Array(firstSecond..<(n - 1)).prefix(segmentLimit)
        let positions = [0] + a + [firstSep] + b + [n - 1]
        let ids = positions.map { encoded.ids[$0] }
        let special: Set<Int> = [0, a.count + 1, positions.count - 1]
        let types = positions.indices.map { $0 <= a.count ? 0 : 1 }
        let baselineIds = positions.indices.map { special.contains($0) ? ids[$0] : padId }
        return IntegratedGradientsLayout(
            input: ModelInput(ids: ids, types: types), baseline: ModelInput(ids: baselineIds, types: types),
            encodedPositions: positions)
    }

    /// The encoded input as it is (its own token types, no per-segment truncation); baseline [PAD] except
    /// [CLS] and the [SEP]s. Not the original's: for `originalInputLayout = false`.
    public static func encodedLayout(of encoded: ModelInput, padId: Int) -> IntegratedGradientsLayout {
        let n = encoded.count
        var special: Set<Int> = [0, n - 1]
        if let firstSecond = encoded.types.firstIndex(of: 1), firstSecond > 0 { special.insert(firstSecond - 1) }
        let baselineIds = encoded.ids.indices.map { special.contains($0) ? encoded.ids[$0] : padId }
        return IntegratedGradientsLayout(input: encoded, baseline: ModelInput(ids: baselineIds, types: encoded.types),
                                         encodedPositions: Array(0..<n))
    }

    /// Attribution over the positions of `encoded` for class `target` (positions IG does not see get 0).
    public func explain(_ encoded: ModelInput, target: Int, padId: Int) throws -> [Float] {
        guard !encoded.ids.isEmpty else {
            throw AttributionError.invalidOption("integrated gradients got an empty input")
        }
        let layout = options.originalInputLayout
            ? Self.originalLayout(of: encoded, padId: padId, segmentLimit: options.segmentLimit)
            : Self.encodedLayout(of: encoded, padId: padId)
        let values = try attribute(layout.input, baseline: layout.baseline, target: target)
        var result = [Float](repeating: 0, count: encoded.count)
        for (i, p) in layout.encodedPositions.enumerated() { result[p] = values[i] }
        return result
    }

    /// sum over hidden units of (e(input) - e(baseline)) * sum_k w_k grad p_target(e_k), divided by its L2 norm
    /// over tokens (signs kept; an all-zero attribution stays zero where the original would give NaN).
    public func attribute(_ input: ModelInput, baseline: ModelInput, target: Int) throws -> [Float] {
        dividedByL2Norm(try unnormalisedAttribution(input, baseline: baseline, target: target))
    }

    /// Per-token (input - baseline) . integrated gradient, before normalisation ([n]).
    func unnormalisedAttribution(_ input: ModelInput, baseline: ModelInput, target: Int) throws -> [Float] {
        let config = model.config
        guard (0..<config.numLabels).contains(target) else {
            throw AttributionError.invalidTarget(target, labels: config.numLabels)
        }
        guard options.steps >= 1 else {
            throw AttributionError.invalidOption("integrated gradients needs at least 1 step")
        }
        guard input.count == baseline.count else {
            throw AttributionError.invalidOption("the baseline has \(baseline.count) tokens, the input \(input.count)")
        }
        try model.validate([input, baseline])
        let n = input.count, h = config.hiddenSize, count = n * h
        let embedded = gradient.embeddingOutputs([input, baseline])
        let inputEmbedding = embedded[0], baselineEmbedding = embedded[1]
        let difference = (0..<count).map { inputEmbedding[$0] - baselineEmbedding[$0] }

        let (alphas, stepSizes) = gaussLegendreOnUnitInterval(options.steps)
        var integrated = [Float](repeating: 0, count: count)
        // By default as many points per pass as fit the activation budget (all of them for short inputs).
        let perPass = max(1, min(options.stepsPerPass ?? gradient.passes(length: n, copies: options.steps).first?.count
                                 ?? options.steps, options.steps))
        var first = 0
        while first < options.steps {
            let last = min(first + perPass, options.steps)
            var points = [Float](repeating: 0, count: (last - first) * count)
            for k in first..<last {
                let alpha = Float(alphas[k]), row = (k - first) * count
                // captum: baseline + alpha * (input - baseline), in float32.
                for i in 0..<count { points[row + i] = baselineEmbedding[i] + alpha * difference[i] }
            }
            let gradients = gradient.probabilityGradients(embeddings: points, length: n, copies: last - first,
                                                          target: target).gradients
            for k in first..<last {
                let w = Float(stepSizes[k]), row = (k - first) * count
                for i in 0..<count { integrated[i] += gradients[row + i] * w }
            }
            first = last
        }
        return (0..<n).map { t in
            var s: Float = 0
            for u in 0..<h { s += integrated[t * h + u] * difference[t * h + u] }
            return s
        }
    }
}

extension IntegratedGradients: MethodExplainer {
    /// The baseline's [PAD] comes from the tokenizer, so IG needs one.
    public convenience init(_ setup: MethodSetup) throws {
        self.init(model: setup.model, options: setup.options.integratedGradients, context: setup.context)
        padId = try setup.requireTokenizer("integrated gradients").padId
    }

    public func releaseMemory() { gradient.releaseMemory() }

    public func attribution(of example: ExampleToExplain, target: Int, seed: UInt64) throws -> [Float] {
        try explain(example.input, target: target, padId: padId)
    }
}
