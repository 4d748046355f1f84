import Foundation
import XCTest
import TestSupport
import Kernels
import BERT
@testable import Evaluation

/// IBA with bfloat16 upper layers against float32 on the 20 AG News reference examples (MiniLM, layer 3):
/// the bars for keeping the option are heatmap Pearson >= 0.99 per example and the degradation summary within 0.01.
final class BFloat16FidelityTests: XCTestCase {
    struct Fidelity { var worstPearson = 1.0, worstAbs = 0.0, summaryDifference = 0.0, aopcDifference = 0.0, seconds = 0.0 }

    /// f32 and `precision` runs of the reference selection; heatmap agreement per example and the summary difference.
    func compare(_ precision: Precision) throws -> Fidelity {
        guard precision.isSupported(in: ComputeContext()) else {
            throw XCTSkip("no native bfloat16 GEMM here (needs oneDNN and a CPU with AVX512_BF16 or AMX)")
        }
        let shared = try sharedDirectory()
        let model = try ModelLoader.load(ModelLocation(path: shared.appendingPathComponent("models/minilm-agnews")))
        var settings = EvaluationSettings()
        settings.dataset = .agnews
        settings.dataPath = shared.appendingPathComponent("data/agnews/test.csv").path
        settings.layer = 3
        settings.testSample = 20
        let plan = try EvaluationPlan(settings: settings)
        let (exact, exactSummary) = try runEvaluation(model: model, settings: settings, plan: plan, jobs: 2, backend: .onednn)
        settings.iba.precision = precision
        let (low, lowSummary) = try runEvaluation(model: model, settings: settings, plan: plan, jobs: 2, backend: .onednn)
        XCTAssertEqual(lowSummary.options["precision"], precision.rawValue)
        XCTAssertNil(exactSummary.options["precision"])

        var f = Fidelity(seconds: lowSummary.seconds / exactSummary.seconds)
        for (a, b) in zip(exact, low) {
            XCTAssertNil(b.failed, "example \(b.index)")
            let r = pearson(a.attribution, b.attribution)
            f.worstPearson = min(f.worstPearson, r)
            f.worstAbs = max(f.worstAbs, zip(a.attribution, b.attribution).map { abs(Double($0) - Double($1)) }.max() ?? 0)
            XCTAssertGreaterThanOrEqual(r, 0.99, "example \(a.index): Pearson of \(precision.rawValue) vs float32 heatmaps")
        }
        let pairs = [(exactSummary.originalProb, lowSummary.originalProb), (exactSummary.originalAccuracy, lowSummary.originalAccuracy)]
            + Array(zip(exactSummary.degradationProb, lowSummary.degradationProb))
            + Array(zip(exactSummary.degradationAccuracy, lowSummary.degradationAccuracy))
        f.summaryDifference = pairs.map { abs($0 - $1) }.max() ?? 0
        f.aopcDifference = [(exactSummary.aopcComprehensiveness, lowSummary.aopcComprehensiveness), (exactSummary.aopcSufficiency, lowSummary.aopcSufficiency)]
            .compactMap { a, b in a.flatMap { a in b.map { abs(a - $0) } } }.max() ?? 0
        print("\(precision.rawValue) vs float32 (20 AG News examples, MiniLM layer 3): worst Pearson \(f.worstPearson), worst max-abs \(f.worstAbs), "
              + "summary max difference \(f.summaryDifference), AOPC difference \(f.aopcDifference), time ratio \(f.seconds); degradation prob "
              + "\(exactSummary.degradationProb) vs \(lowSummary.degradationProb), accuracy \(exactSummary.degradationAccuracy) vs \(lowSummary.degradationAccuracy)")
        return f
    }

    /// The kept option: bfloat16 gradients meet both bars.
    func testBFloat16BackwardMeetsTheBars() throws {
        let f = try compare(.bfloat16Backward)
        XCTAssertLessThanOrEqual(f.summaryDifference, 0.01, "degradation summary, bf16-backward vs f32")
    }

    /// bfloat16 forward too: heatmaps meet the Pearson bar, but the summary differs by one example's degraded
    /// prediction at one step (0.05 in accuracy over 20 examples), so this mode stays a documented opt-in; the
    /// summary difference is reported, not asserted.
    func testBFloat16ForwardAndBackwardHeatmaps() throws {
        _ = try compare(.bfloat16)
    }

    func pearson(_ a: [Float], _ b: [Float]) -> Double {
        let n = Double(a.count)
        let ma = a.reduce(0.0) { $0 + Double($1) } / n, mb = b.reduce(0.0) { $0 + Double($1) } / n
        var sab = 0.0, saa = 0.0, sbb = 0.0
        for (x, y) in zip(a, b) { let dx = Double(x) - ma, dy = Double(y) - mb; sab += dx * dy; saa += dx * dx; sbb += dy * dy }
        return saa > 0 && sbb > 0 ? sab / (saa * sbb).squareRoot() : (saa == sbb ? 1 : 0)
    }
}
