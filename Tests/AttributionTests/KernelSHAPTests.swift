import Foundation
import TestSupport
import XCTest
import Kernels
@testable import Attribution
import BERT

/// KernelSHAP against Shapley values computed by brute force (every coalition, factorial weights).
final class KernelSHAPTests: XCTestCase {
    static let vocabulary = ["alpha", "beta", "gamma", "delta", "eps", "zeta", "eta", "theta", "iota", "kappa",
                             "lambda", "mu"]

    /// A synthetic game over the words of a text: v(S) = sigmoid(sum a_i + sum over pairs b_ij + a 3-way term),
    /// read from which words the perturbed text still holds; the classifier returns [1 - v, v].
    struct Game {
        var a: [Double], b: [[Double]], additive = false
        init(words m: Int, seed: UInt64, additive: Bool = false) {
            var noise = NormalGenerator(seed: seed)
            a = (0..<m).map { _ in Double(noise.next()) }
            b = (0..<m).map { _ in (0..<m).map { _ in Double(noise.next()) } }
            self.additive = additive
        }
        func value(_ present: [Bool]) -> Double {
            var s = 0.0
            for i in present.indices where present[i] { s += a[i] }
            if additive { return s }
            for i in present.indices where present[i] {
                for j in (i + 1)..<present.count where present[j] { s += 0.5 * b[i][j] }
            }
            if present.count >= 3, present[0], present[1], present[2] { s += 1.5 }
            return 1 / (1 + exp(-s))
        }
        func classifier(_ texts: [String]) -> [[Float]] {
            texts.map { text in
                let present = Set(LIMEIndexedText(text).words)
                let v = value(KernelSHAPTests.vocabulary.prefix(a.count).map { present.contains($0) })
                return [Float(1 - v), Float(v)]
            }
        }
    }

    /// phi_i = sum over S without i of |S|! (M-|S|-1)! / M! (v(S + i) - v(S)).
    func bruteForceShapley(words m: Int, _ value: ([Bool]) -> Double) -> [Double] {
        var factorial = [1.0]
        for k in 1...max(m, 1) { factorial.append(factorial[k - 1] * Double(k)) }
        var phi = [Double](repeating: 0, count: m)
        for mask in 0..<(1 << m) {
            let present = (0..<m).map { mask & (1 << $0) != 0 }
            let size = present.filter { $0 }.count
            for i in 0..<m where !present[i] {
                var with = present
                with[i] = true
                phi[i] += factorial[size] * factorial[m - size - 1] / factorial[m] * (value(with) - value(present))
            }
        }
        return phi
    }

    func explainer(samples: Int?) throws -> KernelSHAPExplainer {
        var options = KernelSHAPOptions()
        options.samples = samples
        return KernelSHAPExplainer(model: try randomTinyModel(seed: 1), tokenizer: try tinyTokenizer(),
                                   options: options,
                                   context: ComputeContext())
    }

    /// The game's values go through Float (the classifier's type): compare with the game in Float too.
    func roundedValue(_ game: Game) -> ([Bool]) -> Double { { Double(Float(game.value($0))) } }

    func testEveryCoalitionGivesExactShapleyValues() throws {
        for m in [1, 2, 3, 5, 8, 10] {
            let game = Game(words: m, seed: UInt64(m))
            let text = Self.vocabulary.prefix(m).joined(separator: ", ")
            let result = try explainer(samples: max(2, 1 << m)).explain(text: text, pair: nil, tokens: [], label: 1,
                                                                        seed: 3,
                                                                       classifier: game.classifier)
            XCTAssertTrue(result.exhaustive)
            XCTAssertEqual(result.evaluations, 1 << m)
            let expected = bruteForceShapley(words: m, roundedValue(game))
            for i in 0..<m { XCTAssertEqual(result.wordValues[i], expected[i], accuracy: 1e-9, "M = \(m), word \(i)") }
            XCTAssertGreaterThan(expected.map(abs).max() ?? 0, 1e-3)
        }
    }

    /// LIME's budget: 100 evaluations for single texts, 75 for pairs; enumeration when 2^M fits.
    func testBudgetDecidesEnumeration() throws {
        let shap = try explainer(samples: nil)
        for (m, exhaustive) in [(6, true), (7, false)] {
            let game = Game(words: m, seed: 2)
            let text = Self.vocabulary.prefix(m).joined(separator: " ")
            let result = try shap.explain(text: text, pair: nil, tokens: [], label: 1, seed: 1,
                                          classifier: game.classifier)
            XCTAssertEqual(result.exhaustive, exhaustive, "M = \(m)")
            XCTAssertEqual(result.evaluations, exhaustive ? 64 : 100)
        }
        let game = Game(words: 7, seed: 2)
        let pair = try shap.explain(text: "alpha beta gamma", pair: "delta eps zeta eta", tokens: [], label: 1, seed: 1,
                                    classifier: game.classifier)
        XCTAssertEqual(pair.words, Array(Self.vocabulary.prefix(7)), "the pair separator holds no word")
        XCTAssertEqual(pair.evaluations, 75)
    }

    /// Sampled coalitions: efficiency holds exactly; an additive game is recovered exactly; the estimate is
    /// seeded; with many samples it approaches the exact values of a non-additive game.
    func testSampledEstimate() throws {
        let m = 12, text = Self.vocabulary.joined(separator: " ")
        let game = Game(words: m, seed: 9)
        let shap = try explainer(samples: nil)
        let a = try shap.explain(text: text, pair: nil, tokens: [], label: 1, seed: 5, classifier: game.classifier)
        XCTAssertFalse(a.exhaustive)
        XCTAssertEqual(a.wordValues.reduce(0, +), a.valueFull - a.valueEmpty, accuracy: 1e-12)
        let again = try shap.explain(text: text, pair: nil, tokens: [], label: 1, seed: 5, classifier: game.classifier)
        XCTAssertEqual(a.wordValues, again.wordValues)
        let other = try shap.explain(text: text, pair: nil, tokens: [], label: 1, seed: 6, classifier: game.classifier)
        XCTAssertNotEqual(a.wordValues, other.wordValues)

        let additive = Game(words: m, seed: 4, additive: true)
        let linear = try explainer(samples: 40).explain(text: text, pair: nil, tokens: [], label: 1, seed: 5) { texts in
            texts.map { text in
                let present = Set(LIMEIndexedText(text).words)
                let v = Self.vocabulary.indices.reduce(0.0) {
                    $0 + (present.contains(Self.vocabulary[$1]) ? additive.a[$1] : 0)
                }
                return [0, Float(v)]
            }
        }
        for i in 0..<m { XCTAssertEqual(linear.wordValues[i], Double(Float(additive.a[i])), accuracy: 2e-5,
                                        "additive word \(i)") }

        let many = try explainer(samples: 20_000).explain(text: text, pair: nil, tokens: [], label: 1, seed: 5,
                                                           classifier: game.classifier)
        let exact = bruteForceShapley(words: m, roundedValue(game))
        let worst = zip(many.wordValues, exact).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThan(worst, 0.01, "20,000 samples: worst |phi - exact| \(worst)")
    }

    func testShapleyKernel() {
        // M = 4: pi(1) = 3 / (4 * 1 * 3) = 0.25, pi(2) = 3 / (6 * 2 * 2) = 0.125.
        XCTAssertEqual(KernelSHAPExplainer.shapleyKernel(size: 1, words: 4), 0.25, accuracy: 1e-15)
        XCTAssertEqual(KernelSHAPExplainer.shapleyKernel(size: 2, words: 4), 0.125, accuracy: 1e-15)
        XCTAssertEqual(binomial(10, 3), 120)
        XCTAssertEqual(binomial(52, 5), 2_598_960)
    }

    /// The real (tiny) model on a short text: every coalition text encoded and predicted by hand, unpadded.
    func testTinyModelShortTextEqualsBruteForce() throws {
        let model = try tinyModel(seed: 12, layers: 2)
        let tokenizer = try XCTUnwrap(model.tokenizer)
        var lime = LIMEOptions()
        lime.paddedLength = nil
        var options = KernelSHAPOptions()
        options.samples = 256
        let shap = KernelSHAPExplainer(model: model, tokenizer: tokenizer, options: options, lime: lime,
                                       context: ComputeContext())
        let text = "the movie was very good, and the acting great"
        let encoding = tokenizer.encode(text)
        let input = ModelInput(ids: encoding.inputIds, types: encoding.tokenTypeIds)
        let result = try shap.explain(text: text, pair: nil, encoded: input, label: 2, seed: 0)
        XCTAssertTrue(result.exhaustive)
        let indexed = LIMEIndexedText(text)
        XCTAssertEqual(result.words, ["the", "movie", "was", "very", "good", "and", "acting", "great"])
        let m = indexed.wordCount
        let expected = bruteForceShapley(words: m) { present in
            let encoding = tokenizer.encode(indexed.removing(words: (0..<m).filter { !present[$0] }))
            let probabilities = try? model.probabilities([ModelInput(ids: encoding.inputIds,
                                                                     types: encoding.tokenTypeIds)],
                                                         context: ComputeContext())
            return Double(probabilities?.first?[2] ?? .nan)
        }
        for i in 0..<m { XCTAssertEqual(result.wordValues[i], expected[i], accuracy: 1e-6, "word \(indexed.words[i])") }
        XCTAssertEqual(result.attribution.count, input.count)
    }
}
