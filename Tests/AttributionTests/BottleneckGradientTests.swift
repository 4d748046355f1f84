import Foundation
import TestSupport
import XCTest
import Kernels
@testable import Attribution
@testable import BERT

final class BottleneckGradientTests: XCTestCase {
    /// The bottleneck kernel alone: loss = sum(t * w) + c * sum(capacity), in and out of the clamp region.
    func testBottleneckBackwardMatchesFiniteDifferences() {
        var noise = NormalGenerator(seed: 5)
        let count = 24, copies = 3
        // alphas from -3 to 7: logvar = 2 log(1 - sigmoid(alpha)) crosses -10 near alpha = 5.
        var alpha = (0..<count).map { Float(-3 + 10 * Double($0) / Double(count - 1)) }
        let x = (0..<count).map { _ in noise.next() }, mean = (0..<count).map { _ in noise.next() }
        let std = (0..<count).map { _ in 0.5 + abs(noise.next()) }
        let eps = (0..<(copies * count)).map { _ in noise.next() }
        let probe = (0..<(copies * count)).map { _ in noise.next() }
        let capacityWeight: Float = 0.3
        // Double-precision reference of the forward (the contract's formulas), so finite differences
        // are not swamped by float rounding of 1 - sigmoid(alpha) near the clamp.
        func loss(_ a: [Float]) -> Double {
            var total = 0.0
            for i in 0..<count {
                let lam = 1 / (1 + exp(-Double(a[i])))
                let z = (Double(x[i]) - Double(mean[i])) / Double(std[i])
                let mu = lam * z
                let logvar = log((1 - lam) * (1 - lam))
                let noiseStd = exp(min(max(logvar, -10), 10) / 2)
                total += Double(capacityWeight) * -0.5 * (1 + logvar - mu * mu - exp(logvar))
                for c in 0..<copies {
                    let t = (mu + noiseStd * Double(eps[c * count + i])) * Double(std[i]) + Double(mean[i])
                    total += t * Double(probe[c * count + i])
                }
            }
            return total
        }
        // The float kernel's forward agrees with the reference.
        var t = [Float](repeating: 0, count: copies * count), c = [Float](repeating: 0, count: count)
        bottleneckForward(t: &t, capacity: &c, alpha: alpha, x: x, mean: mean, std: std, eps: eps, count: count, copies: copies)
        let floatLoss = zip(t, probe).reduce(0.0) { $0 + Double($1.0 * $1.1) } + Double(capacityWeight) * c.reduce(0.0) { $0 + Double($1) }
        XCTAssertEqual(floatLoss, loss(alpha), accuracy: 1e-3 * abs(loss(alpha)))
        var dalpha = [Float](repeating: 0, count: count)
        bottleneckBackward(dalpha: &dalpha, dt: probe, alpha: alpha, x: x, mean: mean, std: std, eps: eps,
                           capacityWeight: capacityWeight, count: count, copies: copies)
        for i in 0..<count {
            let saved = alpha[i]
            let numeric = centralDifference(at: saved, set: { alpha[i] = $0 }) { loss(alpha) }
            // Skip the kink of the clamp (finite differences straddle it).
            let logvar = 2 * log(1 - 1 / (1 + exp(-Double(saved))))
            if abs(logvar + 10) < 0.1 { continue }
            XCTAssertEqual(Double(dalpha[i]), numeric, accuracy: 1e-4 + 2e-3 * abs(numeric), "dalpha[\(i)] at alpha \(saved)")
        }
    }

    /// The whole path loss -> alpha through the upper layers, head and cross-entropy (fixed noise), with the noise
    /// batch in one pass and with one copy per pass (an activation budget of one byte).
    func testWholePathGradientMatchesFiniteDifferences() throws {
        let model = try randomTinyModel(seed: 21)
        let unitStats = { (layer: Int) in EstimatorStatistics(layer: layer, samples: 1, tokens: 1, mean: [Float](repeating: 0.1, count: 8), std: [Float](repeating: 1, count: 8)) }
        for budget in [nil, 1] {
        for (layer, dataset) in [(0, false), (1, false), (2, false), (0, true), (2, true)] {
            var options = IBAOptions()
            options.layer = layer
            options.batchSize = 3
            // With the dataset estimator (std 1) capacities are O(1): a large beta makes that term count.
            options.beta = dataset ? 0.5 : 1e-5
            if dataset { options.estimator = .dataset(unitStats(layer)) }
            let explainer = IBAExplainer(model: model, options: options, context: ComputeContext(activationBudget: budget))
            let input = ModelInput(ids: [1, 7, 4, 9, 2], types: [0, 0, 0, 0, 0])
            let prepared = try explainer.prepare(input, target: 1)
            var noise = NormalGenerator(seed: 9)
            let count = prepared.count
            // alpha around 0..2 keeps the noise std unclamped, so eps matters too.
            var alpha = (0..<count).map { _ in 1 + noise.next() }
            let eps = (0..<(3 * count)).map { _ in noise.next() }
            var capacity = [Float](repeating: 0, count: count), dalpha = [Float](repeating: 0, count: count)
            _ = explainer.lossAndGradient(prepared, alpha: alpha, eps: eps, capacity: &capacity, dalpha: &dalpha)
            let analytic = dalpha
            var worst = 0.0
            for i in stride(from: 0, to: count, by: 2) {
                let numeric = centralDifference(at: alpha[i], set: { alpha[i] = $0 }) {
                    explainer.lossAndGradient(prepared, alpha: alpha, eps: eps, capacity: &capacity, dalpha: &dalpha)[2]
                }
                worst = max(worst, abs(numeric - Double(analytic[i])))
                XCTAssertEqual(Double(analytic[i]), numeric, accuracy: 2e-5 + 1e-2 * abs(numeric), "layer \(layer) dataset \(dataset) dalpha[\(i)]")
            }
            XCTAssertTrue(analytic.contains { abs($0) > 1e-4 }, "gradient should not vanish")
        }
        }
    }

    func testSameSeedSameHeatmapBitForBit() throws {
        let model = try randomTinyModel(seed: 3)
        var options = IBAOptions(); options.layer = 1
        let explainer = IBAExplainer(model: model, options: options, context: ComputeContext())
        let input = ModelInput(ids: [1, 5, 6, 7, 2], types: [0, 0, 0, 0, 0])
        let a = try explainer.explain(input, target: 0, seed: 77)
        let b = try IBAExplainer(model: model, options: options, context: ComputeContext()).explain(input, target: 0, seed: 77)
        XCTAssertEqual(a.attribution, b.attribution)
        XCTAssertEqual(a.losses, b.losses)
        XCTAssertEqual(a.attribution.count, 5)
        XCTAssertEqual(a.attribution.max(), 1)
        XCTAssertEqual(a.attribution.min(), 0)
    }

    func testRejectsBadLayerAndTarget() throws {
        let model = try randomTinyModel(seed: 3)
        var options = IBAOptions(); options.layer = 3
        let input = ModelInput(ids: [1, 2], types: [0, 0])
        XCTAssertThrowsError(try IBAExplainer(model: model, options: options, context: ComputeContext()).explain(input, target: 0, seed: 1))
        options.layer = 0
        XCTAssertThrowsError(try IBAExplainer(model: model, options: options, context: ComputeContext()).explain(input, target: 3, seed: 1))
    }
}

final class NormalGeneratorTests: XCTestCase {
    /// Example seeds depend only on (run seed, index), so any process computing example i draws the same noise.
    func testExampleSeedDependsOnlyOnRunSeedAndIndex() {
        XCTAssertEqual(NormalGenerator.exampleSeed(runSeed: 42, index: 7), NormalGenerator.exampleSeed(runSeed: 42, index: 7))
        XCTAssertNotEqual(NormalGenerator.exampleSeed(runSeed: 42, index: 7), NormalGenerator.exampleSeed(runSeed: 42, index: 8))
        XCTAssertNotEqual(NormalGenerator.exampleSeed(runSeed: 42, index: 7), NormalGenerator.exampleSeed(runSeed: 43, index: 7))
        var generator = NormalGenerator(seed: 1)
        let draws = (0..<20_000).map { _ in Double(generator.next()) }
        let mean = draws.reduce(0, +) / Double(draws.count)
        let variance = draws.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(draws.count)
        XCTAssertEqual(mean, 0, accuracy: 0.03)
        XCTAssertEqual(variance, 1, accuracy: 0.05)
    }
}
