import Foundation
import TestSupport
import XCTest
import Kernels
@testable import Attribution
import BERT

/// The shared gradient helper (IG, saliency, gradient x input) and the two one-backward methods, against
/// central differences of the forward on a tiny random model.
final class EmbeddingGradientTests: XCTestCase {
    /// d softmax(logits)[c] / d embedding output against central differences.
    func testProbabilityGradientMatchesFiniteDifferences() throws {
        let model = try randomTinyModel(seed: 7)
        let helper = EmbeddingGradient(model: model, context: ComputeContext())
        let n = 5, h = model.config.hiddenSize, copies = 2, target = 1
        var noise = NormalGenerator(seed: 11)
        var embeddings = (0..<(copies * n * h)).map { _ in noise.next() }
        let analytic = helper.probabilityGradients(embeddings: embeddings, length: n, copies: copies,
                                                   target: target).gradients
        var checked = 0
        for i in stride(from: 0, to: embeddings.count, by: 3) {
            let saved = embeddings[i], step: Float = 3e-3
            embeddings[i] = saved + step
            let plus = helper.probabilityGradients(embeddings: embeddings, length: n, copies: copies,
                                                   target: target).probabilities
            embeddings[i] = saved - step
            let minus = helper.probabilityGradients(embeddings: embeddings, length: n, copies: copies,
                                                    target: target).probabilities
            embeddings[i] = saved
            let copy = i / (n * h)
            let numeric = (Double(plus[copy]) - Double(minus[copy])) / (2 * Double(step))
            XCTAssertEqual(Double(analytic[i]), numeric, accuracy: 2e-4 + 2e-2 * abs(numeric), "element \(i)")
            // The other copy's probability does not move.
            XCTAssertEqual(plus[1 - copy], minus[1 - copy])
            checked += 1
        }
        XCTAssertGreaterThan(checked, 20)
        XCTAssertGreaterThan(analytic.map { abs($0) }.max() ?? 0, 1e-3,
                             "a vanishing gradient would make this test vacuous")
    }

    /// e(input) and the gradient at it by central differences of p_target (forward only), in Double.
    func numericGradient(_ model: BertModel, _ input: ModelInput, target: Int) -> (e: [Float], g: [Double]) {
        let helper = EmbeddingGradient(model: model, context: ComputeContext())
        var e = helper.embeddingOutputs([input])[0]
        let embedding = e
        var g = [Double](repeating: 0, count: e.count)
        for i in e.indices {
            let saved = e[i], step: Float = 2e-3
            e[i] = saved + step
            let plus = helper.probabilityGradients(embeddings: e, length: input.count, copies: 1,
                                                   target: target).probabilities[0]
            e[i] = saved - step
            let minus = helper.probabilityGradients(embeddings: e, length: input.count, copies: 1,
                                                    target: target).probabilities[0]
            e[i] = saved
            g[i] = (Double(plus) - Double(minus)) / (2 * Double(step))
        }
        return (embedding, g)
    }

    func normalised(_ v: [Double]) -> [Double] {
        let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return v.map { $0 / norm }
    }

    /// Saliency = per-token L2 norm of the gradient, normalised; gradient x input = per-token e . gradient,
    /// normalised: both recomputed from finite differences, for a single text and a pair, every class.
    func testSaliencyAndGradientTimesInputMatchFiniteDifferences() throws {
        let model = try randomTinyModel(seed: 5)
        let h = model.config.hiddenSize
        let inputs = [ModelInput(ids: [2, 7, 19, 4, 11, 3], types: [0, 0, 0, 0, 0, 0]),
                      ModelInput(ids: [2, 9, 5, 3, 12, 3], types: [0, 0, 0, 0, 1, 1])]
        let saliency = Saliency(model: model, context: ComputeContext())
        let gradxinput = GradientTimesInput(model: model, context: ComputeContext())
        var sawNegative = false
        for input in inputs {
            for target in 0..<3 {
                let (e, g) = numericGradient(model, input, target: target)
                let tokens = 0..<input.count
                let expectedSaliency = normalised(tokens.map { t in
                    (0..<h).reduce(0) { $0 + g[t * h + $1] * g[t * h + $1] }.squareRoot()
                })
                let expectedProduct = normalised(tokens.map { t in
                    (0..<h).reduce(0) { $0 + Double(e[t * h + $1]) * g[t * h + $1] }
                })
                let example = ExampleToExplain(input: input, gold: target)
                let gotSaliency = try saliency.attribution(of: example, target: target, seed: 0)
                let gotProduct = try gradxinput.attribution(of: example, target: target, seed: 0)
                for t in tokens {
                    XCTAssertEqual(Double(gotSaliency[t]), expectedSaliency[t], accuracy: 2e-3,
                                   "saliency token \(t) class \(target)")
                    XCTAssertEqual(Double(gotProduct[t]), expectedProduct[t], accuracy: 2e-3,
                                   "gradxinput token \(t) class \(target)")
                }
                sawNegative = sawNegative || gotProduct.contains { $0 < 0 }
            }
        }
        XCTAssertTrue(sawNegative, "gradient x input keeps signs")
    }
}
