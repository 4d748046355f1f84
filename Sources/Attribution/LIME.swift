import Foundation
import BERT
import Kernels
import Tokenizer

/// How a sentence pair reaches the classifier inside LIME (the text LIME perturbs is `a ****** b`).
public enum LIMEPairPrediction: String, Sendable, Equatable, CaseIterable {
    /// What the original's `predict_prob` code really does (an option; the contract, section 5, says pairs are
    /// split back before predicting, which is the default): it tests `' ****** ' in text` on the LIST of perturbed
    /// strings, which is true only when some sample is exactly " ****** ". Usually it is not, and every
    /// sample is encoded as ONE single text (the separator becomes six `*` tokens, all token type 0);
    /// otherwise every sample is split back into a pair.
    case asTheOriginal
    /// Split every sample back into (a, b) at the separator and encode it as a pair.
    case split
}

/// LIME settings; defaults are the original's (lime 0.2.0 LimeTextExplainer defaults, contract section 5).
public struct LIMEOptions: Sendable, Equatable {
    /// Perturbed samples including the unperturbed text; nil = the original's 100 for single texts, 75 for pairs.
    public var samples: Int? = nil
    public var kernelWidth = 25.0
    /// Pad every perturbed input with [PAD] to this many tokens WITHOUT an attention mask (the original's
    /// `pad_to_max_length=True` with no mask passed, so the padding is attended); nil = unpadded inputs.
    public var paddedLength: Int? = 512
    /// The contract's behaviour by default (split back into pairs); `.asTheOriginal` reproduces the code's slip.
    public var pairPrediction: LIMEPairPrediction = .split
    /// Tokenizer truncation of each perturbed text.
    public var maxLength = 512
    /// Packed tokens per forward pass when predicting the samples (memory only; results are unchanged).
    /// 2048 = four 512-padded samples (the context's activation budget may cut a pass shorter).
    public var predictionRows = 2048
    public init() {}
}

/// One LIME explanation.
public struct LIMEResult: Sendable {
    /// Weight per wordpiece of the encoded input ([n]), mapped from the word weights.
    public var attribution: [Float]
    /// Selected words and their weights, by decreasing |weight| (lime's `exp.as_list()`).
    public var wordWeights: [LIMEWordWeight]
    public var intercept: Double
    /// Weighted R^2 of the final ridge model on the samples (lime's `score`).
    public var score: Double
    public var label: Int
    public var samples: Int
}

/// The separator the original puts between the two texts of a pair before handing them to LIME.
public let limePairSeparator = " ****** "

/// LIME for one BERT classifier, as the original ran lime 0.2.0: bag-of-words perturbations of the text,
/// cosine-distance kernel, 'auto' feature selection with num_features = number of wordpieces, ridge
/// explanation of one class, word weights mapped to wordpieces.
/// Randomness: lime draws from numpy's RandomState; we draw from `NormalGenerator` seeded per example
/// (same distributions, a different stream), so single runs differ from the original's but are reproducible.
/// Not thread-safe; one per thread.
public final class LIMEExplainer {
    public let model: BertModel
    public let tokenizer: BertTokenizer
    public var options: LIMEOptions
    private let tape: ForwardTape

    public init(
        model: BertModel, tokenizer: BertTokenizer, options: LIMEOptions = LIMEOptions(), context: ComputeContext
    ) {
        self.model = model
        self.tokenizer = tokenizer
        self.options = options
        tape = ForwardTape.forwardOnly(config: model.config, context: context)
    }

    /// Explains `label` for `text` (and `pair`); `encoded` is the model input whose wordpieces receive the weights.
    public func explain(text: String, pair: String?, encoded: ModelInput, label: Int,
                        seed: UInt64) throws -> LIMEResult {
        let classes = model.config.numLabels
        guard (0..<classes).contains(label) else { throw AttributionError.invalidTarget(label, labels: classes) }
        let tokens = encoded.ids.map { tokenizer.vocabulary.token($0) ?? "[UNK]" }
        return try explain(text: text, pair: pair, tokens: tokens, label: label, seed: seed) { texts in
            try self.model.probabilities(self.predictionInputs(texts, isPair: pair != nil), tape: self.tape,
                                         maxRows: self.options.predictionRows)
        }
    }

    /// The method itself, for any classifier of perturbed texts ([String] -> (samples, classes) probabilities);
    /// `tokens` are the wordpieces that receive the weights (their count is lime's num_features).
    func explain(text: String, pair: String?, tokens: [String], label: Int, seed: UInt64,
                 classifier: ([String]) throws -> [[Float]]) throws -> LIMEResult {
        let sampleCount = options.samples ?? (pair == nil ? 100 : 75)
        guard sampleCount >= 2 else { throw AttributionError.invalidOption("LIME needs at least 2 samples") }
        guard options.kernelWidth > 0, options.kernelWidth.isFinite else {
            throw AttributionError.invalidOption("the LIME kernel width must be positive")
        }
        let joined = pair.map { text + limePairSeparator + $0 } ?? text
        let indexed = LIMEIndexedText(joined)
        let d = indexed.wordCount
        guard d > 0 else {
            throw AttributionError.nothingToExplain("LIME found no word (a run of \\w characters) in the text")
        }

        // Neighbourhood: row 0 = the text; row i: k ~ U{1..d}, then k distinct words removed (all occurrences).
        var noise = NormalGenerator(seed: seed)
        let sizes = (1..<sampleCount).map { _ in 1 + uniformInteger(below: d, &noise) }
        var data = [Double](repeating: 1, count: sampleCount * d)
        var texts = [joined]
        var order = Array(0..<d)
        for (i, k) in sizes.enumerated() {
            // Partial Fisher-Yates: the first k entries become a uniform k-subset.
            for j in 0..<k { order.swapAt(j, j + uniformInteger(below: d - j, &noise)) }
            let inactive = Array(order[0..<k])
            for w in inactive { data[(i + 1) * d + w] = 0 }
            texts.append(indexed.removing(words: inactive))
        }

        let probabilities = try classifier(texts)
        guard probabilities.count == sampleCount, probabilities.allSatisfy({ $0.indices.contains(label) }) else {
            throw AttributionError.invalidOption(
                "the classifier returned \(probabilities.count) rows for \(sampleCount) samples")
        }
        let y = probabilities.map { Double($0[label]) }
        // Cosine distance of each binary row to the all-ones row, times 100 (a zero row has similarity 0).
        let weights = (0..<sampleCount).map { i -> Double in
            let active = Double((0..<d).reduce(0) { $0 + (data[i * d + $1] != 0 ? 1 : 0) })
            let similarity = active > 0 ? active / (active.squareRoot() * Double(d).squareRoot()) : 0
            let distance = min(max(1 - similarity, 0), 2) * 100
            return (exp(-(distance * distance) / (options.kernelWidth * options.kernelWidth))).squareRoot()
        }

        let numFeatures = tokens.count
        let selected = numFeatures <= 6
            ? forwardSelection(data: data, rows: sampleCount, cols: d, y: y, weights: weights, count: numFeatures)
            : highestWeights(data: data, rows: sampleCount, cols: d, y: y, weights: weights, count: numFeatures)
        let x = columns(selected, of: data, rows: sampleCount, cols: d)
        let fit = weightedRidge(x: x, rows: sampleCount, cols: selected.count, y: y, weights: weights, alpha: 1)
        let score = weightedR2(y: y, prediction: fit.predict(x, rows: sampleCount), weights: weights)
        let explanation = stableSortedByMagnitude(Array(zip(selected, fit.coefficients)))
            .map { LIMEWordWeight(word: indexed.words[$0.0], weight: $0.1) }

        return LIMEResult(
            attribution: mapWordWeightsToWordpieces(explanation, tokens: tokens), wordWeights: explanation,
            intercept: fit.intercept, score: score, label: label, samples: sampleCount)
    }

    /// The model inputs of the perturbed texts, encoded as `options` say.
    func predictionInputs(_ texts: [String], isPair: Bool) -> [ModelInput] {
        let splitPairs: Bool
        switch options.pairPrediction {
        case .split: splitPairs = isPair
        case .asTheOriginal: splitPairs = isPair && texts.contains { scalarsEqual($0, limePairSeparator) }
        }
        return texts.map { text -> ModelInput in
            let encoding: Encoding
            if splitPairs, let (a, b) = splitOnce(text, separator: limePairSeparator) {
                encoding = tokenizer.encode(a, pair: b, maxLength: options.maxLength)
            } else {
                encoding = tokenizer.encode(text, maxLength: options.maxLength)
            }
            var input = ModelInput(ids: encoding.inputIds, types: encoding.tokenTypeIds)
            if let padded = options.paddedLength, input.count < padded {
                // transformers pads with [PAD] and token type 0.
                input.ids += [Int](repeating: tokenizer.padId, count: padded - input.count)
                input.types += [Int](repeating: 0, count: padded - input.types.count)
            }
            return input
        }
    }

    /// lime's 'highest_weights': ridge (alpha 0.01) on every word, the `count` largest |coef * 1| (stable order).
    func highestWeights(data: [Double], rows: Int, cols: Int, y: [Double], weights: [Double], count: Int) -> [Int] {
        let fit = weightedRidge(x: data, rows: rows, cols: cols, y: y, weights: weights, alpha: 0.01)
        return stableSortedByMagnitude(Array(zip(0..<cols, fit.coefficients))).prefix(count).map(\.0)
    }

    /// lime's 'forward_selection' (num_features <= 6): greedily add the word whose ridge (alpha 0) fit has the
    /// best weighted R^2; the first word wins ties (strict `>`).
    func forwardSelection(data: [Double], rows: Int, cols: Int, y: [Double], weights: [Double], count: Int) -> [Int] {
        var used = [Int]()
        for _ in 0..<min(count, cols) {
            var best = 0, bestScore = -100_000_000.0
            for feature in 0..<cols where !used.contains(feature) {
                let candidate = used + [feature]
                let x = columns(candidate, of: data, rows: rows, cols: cols)
                let fit = weightedRidge(x: x, rows: rows, cols: candidate.count, y: y, weights: weights, alpha: 0)
                let score = weightedR2(y: y, prediction: fit.predict(x, rows: rows), weights: weights)
                if score > bestScore { best = feature; bestScore = score }
            }
            used.append(best)
        }
        return used
    }
}

/// The chosen columns of a (rows, cols) row-major matrix, in the given order.
func columns(_ chosen: [Int], of data: [Double], rows: Int, cols: Int) -> [Double] {
    var out = [Double]()
    out.reserveCapacity(rows * chosen.count)
    for r in 0..<rows { for c in chosen { out.append(data[r * cols + c]) } }
    return out
}

/// Python's `sorted(pairs, key=lambda x: abs(x[1]), reverse=True)`: stable, equal magnitudes keep their order.
func stableSortedByMagnitude(_ pairs: [(Int, Double)]) -> [(Int, Double)] {
    pairs.enumerated().sorted { a, b in
        let x = abs(a.element.1), y = abs(b.element.1)
        return x != y ? x > y : a.offset < b.offset
    }.map(\.element)
}

/// Uniform integer in 0..<bound (bound >= 1) by rejection on 64-bit draws (no modulo bias).
func uniformInteger(below bound: Int, _ noise: inout NormalGenerator) -> Int {
    let b = UInt64(bound)
    let limit = UInt64.max - UInt64.max % b
    while true {
        let r = noise.nextUInt64()
        if r < limit { return Int(r % b) }
    }
}

extension LIMEExplainer: MethodExplainer {
    /// Under the corrected protocol LIME predicts unpadded and splits pairs back, whatever the options say.
    public convenience init(_ setup: MethodSetup) throws {
        var options = setup.options.lime
        if setup.variant == .corrected { options.paddedLength = nil; options.pairPrediction = .split }
        self.init(
            model: setup.model, tokenizer: try setup.requireTokenizer("LIME"), options: options, context: setup.context)
    }

    public func releaseMemory() { tape.releaseMemory() }

    public func attribution(of example: ExampleToExplain, target: Int, seed: UInt64) throws -> [Float] {
        guard let text = example.text else { throw AttributionError.needsText("LIME") }
        return try explain(text: text, pair: example.pair, encoded: example.input, label: target, seed: seed)
            .attribution
    }
}
