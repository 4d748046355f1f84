import Foundation
import TestSupport
import XCTest

/// Issue 13: three methods in one `iba evaluate` job on real MNLI pairs with the real model, against the PyTorch
/// reference (`reference/iba-mnli-layer3.json`: the original protocol, the original's selection of 10 pairs).
/// Every method shares the prediction, which must match the reference's logits; IBA's heatmaps must meet the
/// reference's bars (Pearson >= 0.999, max abs <= 0.005) and its summary must agree within 0.01.
final class MNLIMethodsReferenceTests: XCTestCase {
    func testIBAIGAndRandomOnMNLIPairsAgainstThePyTorchReference() throws {
        let iba = try Executables.url("iba")
        let model = try Shared.url("models/minilm-mnli"), data = try Shared.url("data/mnli/dev_matched.tsv")
        guard let root = try Shared.json("reference/iba-mnli-layer3.json") as? [String: Any],
              let examples = root["examples"] as? [[String: Any]], let summary = root["summary"] as? [String: Any] else {
            return XCTFail("reference unreadable")
        }
        let out = try temporaryDirectory(self).appendingPathComponent("mnli")
        let run = try runCommand(iba, ["evaluate", "--methods", "iba,ig,random", "--model", model.path, "--dataset", "mnli",
                                       "--data-path", data.path, "--layer", "3", "--test-sample", "\(examples.count)",
                                       "--output", out.path, "--quiet"])
        XCTAssertEqual(run.status, 0, run.stderr)
        for method in ["iba", "ig", "random"] {
            let lines = try String(contentsOf: out.appendingPathComponent("\(method)/results.jsonl"), encoding: .utf8).split(separator: "\n")
            XCTAssertEqual(lines.count, examples.count, method)
            for (line, expected) in zip(lines, examples) {
                guard let record = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                      let index = record["index"] as? Int, let tokens = record["tokens"] as? [String],
                      let attribution = record["attribution"] as? [Double], let prob = record["original_prob"] as? Double,
                      let wantIndex = expected["index"] as? Int, let wantTokens = expected["tokens"] as? [String],
                      let wantProb = expected["original_prob"] as? Double, let wantAttribution = expected["attribution"] as? [Double] else {
                    return XCTFail("\(method): record or reference fields missing")
                }
                XCTAssertEqual(index, wantIndex, "\(method): the original's selection (seed 3)")
                XCTAssertEqual(tokens, wantTokens, "\(method) row \(index): tokens")
                XCTAssertEqual(prob, wantProb, accuracy: 1e-3, "\(method) row \(index): the prediction every method shares")
                XCTAssertEqual(attribution.count, wantTokens.count, "\(method) row \(index)")
                if method == "iba" {
                    let r = pearson(attribution.map(Float.init), wantAttribution)
                    let d = maxAbsDifference(attribution.map(Float.init), wantAttribution)
                    XCTAssertGreaterThanOrEqual(r, 0.999, "row \(index): IBA heatmap Pearson")
                    XCTAssertLessThanOrEqual(d, 0.005, "row \(index): IBA heatmap max abs difference")
                }
            }
        }
        let ours = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("iba/summary.json"))) as? [String: Any]
        let wantCurve = summary["degradation_prob"] as? [Double] ?? []
        let curve = ours?["degradation_prob"] as? [Double] ?? []
        XCTAssertEqual(curve.count, wantCurve.count, "the IBA summary's degradation curve")
        for (got, want) in zip(curve, wantCurve) { XCTAssertEqual(got, want, accuracy: 0.01, "IBA degradation probability") }
        XCTAssertEqual(ours?["original_accuracy"] as? Double ?? -1, summary["original_accuracy"] as? Double ?? -2, accuracy: 1e-9)
    }
}
