import Foundation
import TestSupport
import XCTest
import Kernels
@testable import Attribution
@testable import BERT

/// Methods under an activation budget: the noise batch / interpolation points cut into passes, workspaces freed
/// between examples. What keeps the computation order is checked bit for bit; what changes a pass's size to 1e-6.
final class ActivationBudgetAttributionTests: XCTestCase {
    /// The backward of the bottleneck over consecutive passes of copies adds up exactly as over all copies.
    func testBottleneckBackwardOverPassesIsBitIdentical() {
        var noise = NormalGenerator(seed: 12)
        let count = 40, copies = 10
        let alpha = (0..<count).map { _ in 2 + 2 * noise.next() }
        let x = (0..<count).map { _ in noise.next() }, mean = (0..<count).map { _ in noise.next() }
        let std = (0..<count).map { _ in 0.5 + abs(noise.next()) }
        let eps = (0..<(copies * count)).map { _ in noise.next() }, dt = (0..<(copies * count)).map { _ in noise.next() }
        var whole = [Float](repeating: 0, count: count)
        bottleneckBackward(dalpha: &whole, dt: dt, alpha: alpha, x: x, mean: mean, std: std, eps: eps,
                           capacityWeight: 0.3, count: count, copies: copies)
        var passes = [Float](repeating: 0, count: count)
        for range in [0..<1, 1..<4, 4..<10] {
            bottleneckBackwardCopies(dlam: &passes, dt: Array(dt[(range.lowerBound * count)...]), alpha: alpha, x: x,
                                     mean: mean, std: std, eps: Array(eps[(range.lowerBound * count)...]), count: count,
                                     copies: range.count)
        }
        bottleneckBackwardFinish(dalpha: &passes, dlam: Array(passes), alpha: alpha, x: x, mean: mean, std: std,
                                 capacityWeight: 0.3, count: count)
        XCTAssertEqual(passes, whole)
        XCTAssertTrue(whole.contains { abs($0) > 1e-3 })
    }

    func upperPasses(_ model: BertModel, layer: Int, length: Int, copies: Int, budget: Int?) -> Int {
        ForwardTape(config: model.config, firstLayer: layer + 1, context: ComputeContext(activationBudget: budget), logitsOnly: true)
            .passes(forLengths: [Int](repeating: length, count: copies), withBackward: true).count
    }

    /// IBA with no budget, a budget the noise batch fits (one pass, the lower layers on a forward-only tape): bit
    /// for bit; one copy per pass: within 1e-6 (the [CLS] rows' GEMMs have 1 row instead of 10).
    func testIBAUnderABudget() throws {
        let model = try randomTinyModel(seed: 31, layers: 3)
        let input = ModelInput(ids: [2, 7, 19, 4, 11, 5, 8, 3], types: [0, 0, 0, 0, 1, 1, 1, 1])
        for layer in 0..<3 {
            var options = IBAOptions(); options.layer = layer
            let reference = try IBAExplainer(model: model, options: options, context: ComputeContext(activationBudget: nil))
                .explain(input, target: 1, seed: 5)
            XCTAssertEqual(upperPasses(model, layer: layer, length: input.count, copies: 10, budget: 1 << 24), 1)
            let fits = try IBAExplainer(model: model, options: options, context: ComputeContext(activationBudget: 1 << 24))
                .explain(input, target: 1, seed: 5)
            XCTAssertEqual(fits.capacityPerToken, reference.capacityPerToken, "layer \(layer)")
            XCTAssertEqual(fits.losses, reference.losses, "layer \(layer)")
            XCTAssertEqual(upperPasses(model, layer: layer, length: input.count, copies: 10, budget: 1), 10)
            let explainer = IBAExplainer(model: model, options: options, context: ComputeContext(activationBudget: 1))
            let cut = try explainer.explain(input, target: 1, seed: 5)
            for (a, b) in zip(cut.attribution, reference.attribution) { XCTAssertEqual(a, b, accuracy: 1e-6, "layer \(layer)") }
            for (a, b) in zip(cut.losses.joined(), reference.losses.joined()) { XCTAssertEqual(a, b, accuracy: 1e-6 * max(1, abs(b))) }
            // Freed workspaces regrow: the next explanation is the same, bit for bit.
            explainer.releaseMemory()
            XCTAssertEqual(try explainer.explain(input, target: 1, seed: 5).capacityPerToken, cut.capacityPerToken)
        }
    }

    /// IG's interpolation points: all in one pass when they fit (bit for bit with no budget), as many passes as
    /// the budget needs otherwise (within 1e-6).
    func testIntegratedGradientsUnderABudget() throws {
        let model = try randomTinyModel(seed: 32, layers: 2)
        let input = ModelInput(ids: [2, 7, 19, 4, 11, 3], types: [0, 0, 0, 0, 0, 0])
        let baseline = ModelInput(ids: [2, 0, 0, 0, 0, 3], types: input.types)
        let reference = try IntegratedGradients(model: model, context: ComputeContext(activationBudget: nil))
            .attribute(input, baseline: baseline, target: 2)
        let fits = try IntegratedGradients(model: model, context: ComputeContext(activationBudget: 1 << 24))
            .attribute(input, baseline: baseline, target: 2)
        XCTAssertEqual(fits, reference)
        let tight = ComputeContext(activationBudget: 1)
        XCTAssertEqual(EmbeddingGradient(model: model, context: tight).passes(length: input.count, copies: 10).count, 10)
        let cut = try IntegratedGradients(model: model, context: tight).attribute(input, baseline: baseline, target: 2)
        for (a, b) in zip(cut, reference) { XCTAssertEqual(a, b, accuracy: 1e-6) }
    }

    /// Every method gives the same values after its workspaces were freed (what several methods of one example do).
    func testEveryMethodAfterReleasingItsMemory() throws {
        let model = try randomTinyModel(seed: 4)
        let tokenizer = try tinyTokenizer()
        let text = "the movie was very good", pair = "the plot was awful"
        let encoding = tokenizer.encode(text, pair: pair)
        let example = ExampleToExplain(input: ModelInput(ids: encoding.inputIds, types: encoding.tokenTypeIds),
                                       text: text, pair: pair, gold: 1)
        var options = AttributionOptions()
        options.iba.layer = 1
        options.lime.paddedLength = 32   // the tiny model's positions
        for method in AttributionMethod.allCases {
            let attributor = try Attributor(model: model, method: method, variant: .corrected, options: options,
                                            tokenizer: tokenizer, context: ComputeContext())
            let first = try attributor.attribute(example, seed: 3)
            attributor.releaseMemory()
            XCTAssertEqual(try attributor.attribute(example, seed: 3), first, "\(method)")
        }
    }
}
