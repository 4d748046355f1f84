import Foundation
import TestSupport
import XCTest
import Kernels
@testable import Attribution
import BERT
import Evaluation

/// Saliency, gradient x input, occlusion, attention and KernelSHAP on the MiniLM AG News and MNLI models against
/// PyTorch / captum (scripts/reference/baselines_reference.py, its output committed as
/// Fixtures/baselines-reference.json). Bars: heatmap Pearson >= 0.9999 and max |diff| <= 1e-3 per example;
/// mean degraded probabilities (the degradation test of our attributions) within 1e-3 of the reference's.
final class BaselinesReferenceTests: XCTestCase {
    struct Fixture: Decodable {
        struct Example: Decodable {
            var index: Int, target: Int, ids: [Int], token_type_ids: [Int]
            var attributions: [String: [Double]]
            var degradation_prob: [String: [Double]]
        }
        struct Dataset: Decodable {
            var model: String
            var examples: [Example]
            var degradation_prob_mean: [String: [Double]]
        }
        struct ShapleyCase: Decodable {
            var dataset: String, model: String, index: Int, `protocol`: String, text: String, pair: String?, target: Int
            var ids: [Int], token_type_ids: [Int], words: [String], shapley: [Double]
            var value_full: Double, value_empty: Double
            var attribution: [Double], degradation_prob: [Double]
        }
        var versions: [String: String]
        var agnews: Dataset
        var mnli: Dataset
        var shapley: [ShapleyCase]
    }

    static let fixtureURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/baselines-reference.json")

    func fixture() throws -> Fixture {
        try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: Self.fixtureURL))
    }

    func load(_ relative: String) throws -> BertModel {
        try ModelLoader.load(ModelLocation(path: try Shared.url(relative)))
    }

    /// The 9 degraded probabilities of the target (contract section 3, unpadded predictions).
    func degradation(_ model: BertModel, _ input: ModelInput, _ attribution: [Float], target: Int) throws -> [Double] {
        guard let tokenizer = model.tokenizer else { throw XCTSkip("the model has no vocabulary") }
        let tokens = input.ids.map { tokenizer.vocabulary.token($0) ?? "[UNK]" }
        let outcome = try degradationTest(input: input, isSpecial: specialTokenMask(tokens), attribution: attribution,
                                          target: target) { try model.probabilities($0, context: ComputeContext()) }
        return outcome.degradationProb.map(Double.init)
    }

    func runMethod(_ method: AttributionMethod, dataset: Fixture.Dataset) throws {
        let model = try load(dataset.model)
        let attributor = try Attributor(model: model, method: method, variant: .corrected, context: ComputeContext())
        var worstPearson = 1.0, worstAbs = 0.0, meanDegradation = [Double](repeating: 0, count: 9)
        for e in dataset.examples {
            guard let expected = e.attributions[method.rawValue] else { return XCTFail("no \(method) in the fixture") }
            let input = ModelInput(ids: e.ids, types: e.token_type_ids)
            let got = try attributor.attribute(ExampleToExplain(input: input, gold: e.target), seed: 0)
            let r = pearson(got, expected), d = maxAbsDifference(got, expected)
            worstPearson = min(worstPearson, r); worstAbs = max(worstAbs, d)
            if r < 0.9999 || d > 1e-3 {
                let first = got.indices.first { abs(Double(got[$0]) - expected[$0]) > 1e-3 } ?? 0
                XCTFail("\(method) row \(e.index): Pearson \(r), max |diff| \(d); "
                        + "token \(first): \(got[first]) vs \(expected[first])")
            }
            let degraded = try degradation(model, input, got, target: e.target)
            for k in 0..<9 { meanDegradation[k] += degraded[k] / Double(dataset.examples.count) }
        }
        guard let expectedMeans = dataset.degradation_prob_mean[method.rawValue] else {
            return XCTFail("no degradation means")
        }
        let meanDifference = zip(meanDegradation, expectedMeans).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(meanDifference, 1e-3,
                                 "\(method): degradation means \(meanDegradation) vs \(expectedMeans)")
        print("baselines-reference \(dataset.model) \(method): \(dataset.examples.count) examples, "
              + "worst Pearson \(worstPearson), "
              + "max |diff| \(worstAbs), degradation mean |diff| \(meanDifference)")
    }

    func testAGNewsSaliency() throws { try runMethod(.saliency, dataset: try fixture().agnews) }
    func testAGNewsGradientTimesInput() throws { try runMethod(.gradxinput, dataset: try fixture().agnews) }
    func testAGNewsOcclusion() throws { try runMethod(.occlusion, dataset: try fixture().agnews) }
    func testAGNewsAttention() throws { try runMethod(.attention, dataset: try fixture().agnews) }
    func testMNLISaliency() throws { try runMethod(.saliency, dataset: try fixture().mnli) }
    func testMNLIGradientTimesInput() throws { try runMethod(.gradxinput, dataset: try fixture().mnli) }
    func testMNLIOcclusion() throws { try runMethod(.occlusion, dataset: try fixture().mnli) }
    func testMNLIAttention() throws { try runMethod(.attention, dataset: try fixture().mnli) }

    /// KernelSHAP with every coalition enumerated equals the exact Shapley values PyTorch computed by brute force
    /// on short texts (first words of reference rows), under both protocols; then the mapped heatmap and its
    /// degradation test.
    func testKernelSHAPEqualsExactShapley() throws {
        let cases = try fixture().shapley
        XCTAssertFalse(cases.isEmpty)
        var models = [String: BertModel](), worstValue = 0.0, worstPearson = 1.0, worstAbs = 0.0, worstDegradation = 0.0
        for c in cases {
            let model = try models[c.model] ?? load(c.model)
            models[c.model] = model
            guard let tokenizer = model.tokenizer else { return XCTFail("no vocabulary") }
            let encoding = tokenizer.encode(c.text, pair: c.pair)
            XCTAssertEqual(encoding.inputIds, c.ids, "row \(c.index): tokenization")
            XCTAssertEqual(encoding.tokenTypeIds, c.token_type_ids)
            guard let variant = ProtocolVariant(rawValue: c.protocol) else { return XCTFail("protocol \(c.protocol)") }
            var options = AttributionOptions()
            options.kernelSHAP.samples = 1 << c.words.count
            let shap = try KernelSHAPExplainer(MethodSetup(model: model, variant: variant, options: options,
                                                           tokenizer: nil,
                                                           context: ComputeContext()))
            let input = ModelInput(ids: c.ids, types: c.token_type_ids)
            let result = try shap.explain(text: c.text, pair: c.pair, encoded: input, label: c.target, seed: 0)
            XCTAssertTrue(result.exhaustive)
            XCTAssertEqual(result.words, c.words, "row \(c.index): words")
            XCTAssertEqual(result.valueFull, c.value_full, accuracy: 1e-4)
            XCTAssertEqual(result.valueEmpty, c.value_empty, accuracy: 1e-4)
            let valueDifference = zip(result.wordValues, c.shapley).map { abs($0 - $1) }.max() ?? 0
            worstValue = max(worstValue, valueDifference)
            XCTAssertLessThanOrEqual(valueDifference, 1e-4,
                                     "row \(c.index) \(c.protocol): \(result.wordValues) vs \(c.shapley)")
            let r = pearson(result.attribution, c.attribution), d = maxAbsDifference(result.attribution, c.attribution)
            worstPearson = min(worstPearson, r); worstAbs = max(worstAbs, d)
            XCTAssertGreaterThanOrEqual(r, 0.9999, "row \(c.index) \(c.protocol): Pearson")
            XCTAssertLessThanOrEqual(d, 1e-3, "row \(c.index) \(c.protocol): max |diff|")
            let degraded = try degradation(model, input, result.attribution, target: c.target)
            let dd = zip(degraded, c.degradation_prob).map { abs($0 - $1) }.max() ?? 0
            worstDegradation = max(worstDegradation, dd)
            XCTAssertLessThanOrEqual(dd, 1e-3,
                                     "row \(c.index) \(c.protocol): degradation \(degraded) vs \(c.degradation_prob)")
        }
        print("baselines-reference kernelshap: \(cases.count) cases, worst |phi diff| \(worstValue), "
              + "worst Pearson \(worstPearson), "
              + "max |diff| \(worstAbs), worst degradation |diff| \(worstDegradation)")
    }

    func testFixtureRecordsVersions() throws {
        let versions = try fixture().versions
        for key in ["torch", "transformers", "captum"] { XCTAssertNotNil(versions[key], key) }
    }
}
