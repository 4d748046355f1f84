import Foundation
import TestSupport
import XCTest
import Kernels
@testable import Attribution
import BERT

final class IntegratedGradientsTests: XCTestCase {
    /// numpy.polynomial.legendre.leggauss(10) mapped to [0, 1] as captum does (values printed by numpy 2.x).
    func testGaussLegendreMatchesNumpy() {
        let expectedAlphas = [0.013046735741414128, 0.06746831665550773, 0.16029521585048778, 0.2833023029353764, 0.4255628305091844,
                              0.5744371694908156, 0.7166976970646236, 0.8397047841495122, 0.9325316833444923, 0.9869532642585859]
        let expectedSteps = [0.03333567215434407, 0.0747256745752902, 0.109543181257991, 0.13463335965499826, 0.1477621123573764,
                             0.1477621123573764, 0.13463335965499826, 0.109543181257991, 0.0747256745752902, 0.03333567215434407]
        let (alphas, steps) = gaussLegendreOnUnitInterval(10)
        for i in 0..<10 {
            XCTAssertEqual(alphas[i], expectedAlphas[i], accuracy: 1e-15, "alpha \(i)")
            XCTAssertEqual(steps[i], expectedSteps[i], accuracy: 1e-15, "step size \(i)")
        }
        let (x3, w3) = gaussLegendre(3)
        XCTAssertEqual(x3[0], -(0.6).squareRoot(), accuracy: 1e-15)
        XCTAssertEqual(x3[1], 0, accuracy: 1e-15)
        XCTAssertEqual(w3[0], 5.0 / 9, accuracy: 1e-15)
        XCTAssertEqual(w3[1], 8.0 / 9, accuracy: 1e-15)
    }

    /// Completeness: with 40 Gauss-Legendre points the unnormalised attributions sum to f(input) - f(baseline).
    func testCompletenessOnTinyModel() throws {
        let model = try randomTinyModel(seed: 3)
        var options = IntegratedGradientsOptions()
        options.steps = 40
        options.stepsPerPass = 7   // also exercises the chunked passes
        let ig = IntegratedGradients(model: model, options: options, context: ComputeContext())
        let input = ModelInput(ids: [2, 7, 19, 4, 11, 3], types: [0, 0, 0, 0, 0, 0])
        let baseline = ModelInput(ids: [2, 0, 0, 0, 0, 3], types: input.types)
        for target in 0..<3 {
            let raw = try ig.unnormalisedAttribution(input, baseline: baseline, target: target)
            let p = try model.probabilities([input, baseline], context: ComputeContext())
            let sum = raw.reduce(0.0) { $0 + Double($1) }
            XCTAssertEqual(sum, Double(p[0][target] - p[1][target]), accuracy: 1e-4, "target \(target)")
            XCTAssertEqual(raw[0], 0, "[CLS] equals the baseline there")
        }
        // The normalised attribution has unit L2 norm and the same signs.
        let normalised = try ig.attribute(input, baseline: baseline, target: 0)
        XCTAssertEqual(normalised.reduce(0.0) { $0 + Double($1 * $1) }, 1, accuracy: 1e-5)
    }

    /// The original's pair layout: segments cut to 250 each, types 0 through the first segment, baseline [PAD].
    func testOriginalPairLayout() {
        let a = Array(1000..<1300), b = Array(2000..<2100)   // 300 and 100 pieces: longest-first keeps both
        let ids = [101] + a + [102] + b + [102]
        let types = [Int](repeating: 0, count: 302) + [Int](repeating: 1, count: 101)
        let layout = IntegratedGradients.originalLayout(of: ModelInput(ids: ids, types: types), padId: 0)
        XCTAssertEqual(layout.input.ids, [101] + Array(1000..<1250) + [102] + b + [102])
        XCTAssertEqual(layout.input.types, [Int](repeating: 0, count: 251) + [Int](repeating: 1, count: 102))
        XCTAssertEqual(layout.baseline.ids, [101] + [Int](repeating: 0, count: 250) + [102] + [Int](repeating: 0, count: 100) + [102])
        XCTAssertEqual(layout.baseline.types, layout.input.types)
        XCTAssertEqual(layout.encodedPositions, Array(0...250) + [301] + Array(302..<403))

        let single = IntegratedGradients.originalLayout(of: ModelInput(ids: [101, 5, 6, 102], types: [0, 0, 0, 0]), padId: 0)
        XCTAssertEqual(single.baseline.ids, [101, 0, 0, 102])
        XCTAssertEqual(single.encodedPositions, [0, 1, 2, 3])
        let short = IntegratedGradients.originalLayout(of: ModelInput(ids: [101, 5, 102, 6, 7, 102], types: [0, 0, 0, 1, 1, 1]), padId: 0)
        XCTAssertEqual(short.input.types, [0, 0, 1, 1, 1, 1], "the first [SEP] gets type 1 in the original's IG")
        XCTAssertEqual(short.baseline.ids, [101, 0, 102, 0, 0, 102])
    }

    struct Reference: Decodable {
        struct Example: Decodable { var index: Int; var target: Int; var ids: [Int]; var attribution: [Double] }
        var examples: [Example]
    }

    /// The PyTorch/captum reference on the MiniLM AG News model: 10 examples, max abs difference <= 1e-3.
    func testAGNewsReference() throws {
        let model = try ModelLoader.load(ModelLocation(path: try Shared.url("models/minilm-agnews")))
        let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: try Shared.url("reference/ig-agnews.json")))
        XCTAssertEqual(reference.examples.count, 10)
        let ig = IntegratedGradients(model: model, context: ComputeContext())
        var worst = 0.0
        for e in reference.examples {
            let input = ModelInput(ids: e.ids, types: [Int](repeating: 0, count: e.ids.count))
            let got = try ig.explain(input, target: 0, padId: 0)
            let d = maxAbsDifference(got, e.attribution)
            worst = max(worst, d)
            if let first = got.indices.first(where: { abs(Double(got[$0]) - e.attribution[$0]) > 1e-3 }) {
                XCTFail("row \(e.index): first mismatch at token \(first): \(got[first]) vs \(e.attribution[first]) (max abs \(d))")
            }
        }
        print("ig-agnews: worst max abs difference \(worst)")
    }
}
