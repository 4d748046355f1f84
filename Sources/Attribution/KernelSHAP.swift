import Foundation
import BERT
import Kernels
import Tokenizer

/// KernelSHAP settings.
public struct KernelSHAPOptions: Sendable, Equatable {
    /// Model evaluations per example, the full and the empty text included; nil = LIME's budget (100 single
    /// texts, 75 pairs). When 2^M coalitions of the M words fit in it, every coalition is evaluated (exact Shapley).
    public var samples: Int? = nil
    public init() {}
}

/// One KernelSHAP explanation.
public struct KernelSHAPResult: Sendable {
    /// Weight per wordpiece of the encoded input ([n]), mapped from the word values as LIME's are.
    public var attribution: [Float]
    /// Shapley value estimate per distinct word, in order of first occurrence (`words`).
    public var wordValues: [Double]
    public var words: [String]
    /// p_target of the full text and of the text with every word removed (their difference is sum(wordValues)).
    public var valueFull: Double
    public var valueEmpty: Double
    /// Model evaluations made, and whether they covered every coalition (then the values are exact).
    public var evaluations: Int
    public var exhaustive: Bool
}

/// KernelSHAP (Lundberg and Lee 2017) over LIME's words: LIME's bag-of-words text perturbations and
/// word-to-wordpiece mapping, the Shapley kernel pi(s) = (M-1) / (C(M,s) s (M-s)) for a coalition of s of the
/// M words, and the empty and full coalitions as the efficiency constraint sum(phi) = f(full) - f(empty), solved
/// as shap's KernelExplainer does (the last variable eliminated, weighted least squares).
/// Coalitions: all of them when 2^M fits the budget; otherwise LIME's sampler restricted to proper coalitions
/// (k ~ U{1..M-1} words removed, chosen uniformly), each weighted by pi(s) over its sampling probability
/// 1 / ((M-1) C(M,s)), so the regression estimates the exact kernel objective (shap weights its draws alike).
/// Predictions as LIME's under the same protocol. Not thread-safe; one per thread.
public final class KernelSHAPExplainer {
    public let model: BertModel
    public var options: KernelSHAPOptions
    /// Encodes the perturbed texts as LIME does under the protocol (padding, pair splitting, truncation).
    private let lime: LIMEExplainer
    private let tape: ForwardTape

    public init(model: BertModel, tokenizer: BertTokenizer, options: KernelSHAPOptions = KernelSHAPOptions(),
                lime limeOptions: LIMEOptions = LIMEOptions(), context: ComputeContext) {
        self.model = model
        self.options = options
        lime = LIMEExplainer(model: model, tokenizer: tokenizer, options: limeOptions, context: context)
        tape = ForwardTape.forwardOnly(config: model.config, context: context)
    }

    /// Explains `label` for `text` (and `pair`); `encoded`'s wordpieces receive the word values.
    public func explain(text: String, pair: String?, encoded: ModelInput, label: Int,
                        seed: UInt64) throws -> KernelSHAPResult {
        let classes = model.config.numLabels
        guard (0..<classes).contains(label) else { throw AttributionError.invalidTarget(label, labels: classes) }
        let tokens = encoded.ids.map { lime.tokenizer.vocabulary.token($0) ?? "[UNK]" }
        return try explain(text: text, pair: pair, tokens: tokens, label: label, seed: seed) { texts in
            // Sampled coalitions repeat (often, for 7 to 10 words): each distinct text is predicted once.
            var rowOfText = [[UInt32]: Int](), distinct = [String]()
            let rows = texts.map { text -> Int in
                let key = scalarKey(text)
                if let row = rowOfText[key] { return row }
                rowOfText[key] = distinct.count
                distinct.append(text)
                return distinct.count - 1
            }
            let inputs = self.lime.predictionInputs(distinct, isPair: pair != nil)
            let probabilities = try self.model.probabilities(inputs, tape: self.tape,
                                                             maxRows: self.lime.options.predictionRows)
            guard probabilities.count == distinct.count else {
                throw AttributionError.invalidOption("\(probabilities.count) predictions for \(distinct.count) texts")
            }
            return rows.map { probabilities[$0] }
        }
    }

    /// The method for any classifier of perturbed texts ([String] -> (texts, classes) probabilities).
    func explain(text: String, pair: String?, tokens: [String], label: Int, seed: UInt64,
                 classifier: ([String]) throws -> [[Float]]) throws -> KernelSHAPResult {
        let budget = options.samples ?? (pair == nil ? 100 : 75)
        guard budget >= 2 else { throw AttributionError.invalidOption("KernelSHAP needs at least 2 model evaluations") }
        let indexed = LIMEIndexedText(pair.map { text + limePairSeparator + $0 } ?? text)
        let m = indexed.wordCount
        guard m > 0 else {
            throw AttributionError.nothingToExplain("KernelSHAP found no word (a run of \\w characters) in the text")
        }

        let exhaustive = m < 30 && (1 << m) <= budget
        let (coalitions, weights) = exhaustive
            ? Self.everyProperCoalition(words: m)
            : Self.sampledCoalitions(words: m, count: budget - 2, seed: seed)
        // Rows: the full text, the empty text, then the proper coalitions (present[w] = word w kept).
        let texts = [indexed.removing(words: []), indexed.removing(words: Array(0..<m))]
            + coalitions.map { present in indexed.removing(words: (0..<m).filter { !present[$0] }) }
        let probabilities = try classifier(texts)
        guard probabilities.count == texts.count, probabilities.allSatisfy({ $0.indices.contains(label) }) else {
            throw AttributionError.invalidOption(
                "the classifier returned \(probabilities.count) rows for \(texts.count) texts")
        }
        let values = probabilities.map { Double($0[label]) }
        let phi = Self.constrainedWeightedFit(coalitions: coalitions, weights: weights,
                                              values: Array(values.dropFirst(2)), full: values[0], empty: values[1],
                                              words: m)
        let explanation = stableSortedByMagnitude(Array(zip(0..<m, phi)))
            .map { LIMEWordWeight(word: indexed.words[$0.0], weight: $0.1) }
        return KernelSHAPResult(attribution: mapWordWeightsToWordpieces(explanation, tokens: tokens), wordValues: phi,
                                words: indexed.words, valueFull: values[0], valueEmpty: values[1],
                                evaluations: texts.count, exhaustive: exhaustive)
    }

    /// pi(s) = (M-1) / (C(M,s) s (M-s)), the Shapley kernel of a coalition of s of M words (0 < s < M).
    static func shapleyKernel(size s: Int, words m: Int) -> Double {
        Double(m - 1) / (binomial(m, s) * Double(s) * Double(m - s))
    }

    /// Every coalition except the empty and the full one, with its Shapley kernel weight.
    static func everyProperCoalition(words m: Int) -> ([[Bool]], [Double]) {
        var coalitions = [[Bool]](), weights = [Double]()
        for mask in 1..<((1 << m) - 1) {
            let present = (0..<m).map { mask & (1 << $0) != 0 }
            coalitions.append(present)
            weights.append(shapleyKernel(size: present.filter { $0 }.count, words: m))
        }
        return (coalitions, weights)
    }

    /// `count` coalitions from LIME's sampler restricted to proper ones: k ~ U{1..M-1} words removed, a uniform
    /// k-subset (partial Fisher-Yates, as LIME draws). Weight pi(s) / q(s), q(s) = 1 / ((M-1) C(M,s)).
    static func sampledCoalitions(words m: Int, count: Int, seed: UInt64) -> ([[Bool]], [Double]) {
        guard m >= 2 else { return ([], []) }
        var noise = NormalGenerator(seed: seed)
        var order = Array(0..<m), coalitions = [[Bool]](), weights = [Double]()
        for _ in 0..<count {
            let k = 1 + uniformInteger(below: m - 1, &noise)
            for j in 0..<k { order.swapAt(j, j + uniformInteger(below: m - j, &noise)) }
            var present = [Bool](repeating: true, count: m)
            for w in order[0..<k] { present[w] = false }
            let s = m - k
            coalitions.append(present)
            // pi(s) / q(s) = (M-1)^2 / (s (M-s)), written out: C(M,s) overflows for long texts.
            weights.append(Double((m - 1) * (m - 1)) / Double(s * (m - s)))
        }
        return (coalitions, weights)
    }

    /// min sum_i w_i (v_i - empty - z_i . phi)^2 subject to sum(phi) = full - empty: phi_{M-1} eliminated, the
    /// rest by weighted least squares (normal equations; the pseudo-inverse when they are singular).
    static func constrainedWeightedFit(coalitions: [[Bool]], weights: [Double], values: [Double],
                                       full: Double, empty: Double, words m: Int) -> [Double] {
        let total = full - empty
        guard m >= 2 else { return [total] }
        let p = m - 1
        var a = [Double](repeating: 0, count: p * p), b = [Double](repeating: 0, count: p)
        for (i, present) in coalitions.enumerated() {
            let last = present[m - 1] ? 1.0 : 0.0
            // y - z_last * total = sum_j (z_j - z_last) phi_j
            let x = (0..<p).map { (present[$0] ? 1.0 : 0.0) - last }
            let y = values[i] - empty - last * total, w = weights[i]
            for r in 0..<p where x[r] != 0 {
                b[r] += w * x[r] * y
                for c in 0..<p where x[c] != 0 { a[r * p + c] += w * x[r] * x[c] }
            }
        }
        var phi = solveSymmetricPositive(a, b, size: p)
        phi.append(total - phi.reduce(0, +))
        return phi
    }
}

/// C(n, k) as a Double (exact for the word counts KernelSHAP meets).
func binomial(_ n: Int, _ k: Int) -> Double {
    guard k >= 0, k <= n else { return 0 }
    var result = 1.0
    for i in 0..<min(k, n - k) { result = result * Double(n - i) / Double(i + 1) }
    return result.rounded()
}

extension KernelSHAPExplainer: MethodExplainer {
    /// Predicts as LIME under the protocol: corrected = unpadded, masked, pairs split back.
    public convenience init(_ setup: MethodSetup) throws {
        var limeOptions = setup.options.lime
        if setup.variant == .corrected { limeOptions.paddedLength = nil; limeOptions.pairPrediction = .split }
        self.init(model: setup.model, tokenizer: try setup.requireTokenizer("KernelSHAP"),
                  options: setup.options.kernelSHAP, lime: limeOptions, context: setup.context)
    }

    public func releaseMemory() {
        tape.releaseMemory()
        lime.releaseMemory()
    }

    public func attribution(of example: ExampleToExplain, target: Int, seed: UInt64) throws -> [Float] {
        guard let text = example.text else { throw AttributionError.needsText("KernelSHAP") }
        let result = try explain(text: text, pair: example.pair, encoded: example.input, label: target, seed: seed)
        return result.attribution
    }
}
