import Foundation
import TestSupport
import XCTest
import Kernels
@testable import Attribution
import BERT

final class AttributorTests: XCTestCase {
    func testExplainedClassPerProtocol() {
        XCTAssertEqual(ProtocolVariant.original.explainedClass(for: .iba, gold: 2), 2)
        XCTAssertEqual(ProtocolVariant.original.explainedClass(for: .ig, gold: 2), 0)
        XCTAssertEqual(ProtocolVariant.original.explainedClass(for: .lime, gold: 2), 1)
        for method in AttributionMethod.allCases { XCTAssertEqual(ProtocolVariant.corrected.explainedClass(for: method, gold: 2), 2) }
    }

    func testRandomIsUniformAndSeeded() {
        let a = randomAttribution(count: 2000, seed: 1), b = randomAttribution(count: 2000, seed: 1), c = randomAttribution(count: 2000, seed: 2)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, c)
        XCTAssertTrue(a.allSatisfy { $0 >= 0 && $0 < 1 })
        let mean = a.reduce(0.0) { $0 + Double($1) } / 2000
        XCTAssertEqual(mean, 0.5, accuracy: 0.03)
    }

    /// The [CLS]-only top layer (default) and the full top layer (the bench's "before" path) explain alike: the
    /// saving is exact up to float rounding, the losses too.
    func testLogitsOnlyTopLayerMatchesTheFullTopLayer() throws {
        let model = try randomTinyModel(seed: 9, layers: 3)
        let encoding = try tinyTokenizer().encode("the movie is good", pair: "the plot is boring")
        let input = ModelInput(ids: encoding.inputIds, types: encoding.tokenTypeIds)
        var options = IBAOptions(); options.layer = 0
        let fast = try IBAExplainer(model: model, options: options, context: ComputeContext()).explain(input, target: 1, seed: 3)
        let full = try IBAExplainer(model: model, options: options, context: ComputeContext(), logitsOnlyTopLayer: false)
            .explain(input, target: 1, seed: 3)
        XCTAssertEqual(fast.attribution.count, full.attribution.count)
        for (a, b) in zip(fast.capacityPerToken, full.capacityPerToken) { XCTAssertEqual(a, b, accuracy: 1e-4 * max(1, abs(b))) }
        for (a, b) in zip(fast.losses.joined(), full.losses.joined()) { XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, abs(b))) }
        XCTAssertGreaterThan(fast.capacityPerToken.max() ?? 0, 0)
    }

    /// The evaluation's path skips the last step's noise batch (its capacity, the heatmap, depends on alpha and the
    /// bottleneck input alone): the same attribution and capacity bit for bit, the same losses but the last.
    func testLastStepWithoutItsNoiseBatchGivesTheSameHeatmap() throws {
        let model = try randomTinyModel(seed: 5, layers: 3)
        let encoding = try tinyTokenizer().encode("the movie is good", pair: "the plot is boring")
        let input = ModelInput(ids: encoding.inputIds, types: encoding.tokenTypeIds)
        for layer in [0, 1] {
            var options = IBAOptions(); options.layer = layer; options.steps = 4
            let explainer = IBAExplainer(model: model, options: options, context: ComputeContext())
            let full = try explainer.explain(input, target: 2, seed: 11)
            let short = try explainer.explain(input, target: 2, seed: 11, lastStepLoss: false)
            XCTAssertEqual(short.attribution, full.attribution, "layer \(layer)")
            XCTAssertEqual(short.capacityPerToken, full.capacityPerToken, "layer \(layer)")
            XCTAssertEqual(full.losses.count, 4)
            XCTAssertEqual(short.losses, Array(full.losses.prefix(3)))
            // The heatmap moved during the optimisation, so the equality above says which alpha was used.
            var fewer = options; fewer.steps = 3
            let earlier = try IBAExplainer(model: model, options: fewer, context: ComputeContext())
                .explain(input, target: 2, seed: 11)
            XCTAssertNotEqual(earlier.capacityPerToken, full.capacityPerToken, "layer \(layer)")
        }
    }

    /// Every method through the one entry point on the tiny model: one value per encoded token, the class the
    /// protocol prescribes.
    func testEveryMethodThroughTheEntryPoint() throws {
        let model = try randomTinyModel(seed: 4)
        let tokenizer = try tinyTokenizer()
        let text = "the movie is good", pair = "the plot is boring"
        let encoding = tokenizer.encode(text, pair: pair)
        let example = ExampleToExplain(input: ModelInput(ids: encoding.inputIds, types: encoding.tokenTypeIds), text: text, pair: pair, gold: 2)
        var options = AttributionOptions()
        options.iba.layer = 1
        options.lime.paddedLength = 32   // the tiny model's positions
        for variant in ProtocolVariant.allCases {
            for method in AttributionMethod.allCases {
                let attributor = try Attributor(model: model, method: method, variant: variant, options: options, tokenizer: tokenizer, context: ComputeContext())
                let values = try attributor.attribute(example, seed: 7)
                XCTAssertEqual(values.count, example.input.count, "\(method) \(variant)")
                XCTAssertTrue(values.allSatisfy(\.isFinite), "\(method) \(variant)")
                XCTAssertEqual(values, try attributor.attribute(example, seed: 7), "\(method) \(variant) is reproducible")
            }
            let ig = try Attributor(model: model, method: .ig, variant: variant, options: options, tokenizer: tokenizer, context: ComputeContext()).attribute(example, seed: 0)
            let direct = try IntegratedGradients(model: model, context: ComputeContext()).explain(example.input, target: variant == .original ? 0 : 2, padId: tokenizer.padId)
            XCTAssertEqual(ig, direct)
        }
        let noText = ExampleToExplain(input: example.input, gold: 0)
        XCTAssertThrowsError(try Attributor(model: model, method: .lime, options: options, tokenizer: tokenizer, context: ComputeContext()).attribute(noText, seed: 0))
        XCTAssertThrowsError(try Attributor(model: model, method: .lime, context: ComputeContext()))   // no tokenizer anywhere
    }
}
