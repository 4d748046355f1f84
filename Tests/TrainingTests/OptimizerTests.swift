import Foundation
import XCTest
import BERT
import Kernels
@testable import Training

final class OptimizerTests: XCTestCase {
    /// Two AdamW updates against the torch.optim.AdamW formulas written out by hand (Double).
    func testAdamWUpdateMatchesHandComputation() {
        var p: [Float] = [0.5, -1.0, 2.0], m: [Float] = [0, 0, 0], v: [Float] = [0, 0, 0]
        let grads: [[Float]] = [[0.1, -0.2, 0.0], [0.3, 0.1, -0.5]]
        let lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8, decay = 0.1
        var ep = p.map(Double.init), em = [0.0, 0, 0], ev = [0.0, 0, 0]
        for (t, g) in grads.enumerated() {
            let before = p
            adamWUpdate(parameters: &p, gradients: g, firstMoment: &m, secondMoment: &v, count: 3, learningRate: Float(lr),
                        beta1: Float(b1), beta2: Float(b2), epsilon: Float(eps), weightDecay: Float(decay), step: t + 1)
            for i in 0..<3 {
                let gi = Double(g[i])
                ep[i] *= 1 - lr * decay
                em[i] = b1 * em[i] + (1 - b1) * gi
                ev[i] = b2 * ev[i] + (1 - b2) * gi * gi
                let mhat = em[i] / (1 - pow(b1, Double(t + 1))), vhat = ev[i] / (1 - pow(b2, Double(t + 1)))
                ep[i] -= lr * mhat / (vhat.squareRoot() + eps)
            }
            for i in 0..<3 { XCTAssertEqual(Double(p[i]), ep[i], accuracy: 1e-6, "step \(t + 1) parameter \(i)") }
            if t == 0 {
                // Adam's first step moves by lr against the gradient's sign (mhat / sqrt(vhat) = sign g), after the decay.
                XCTAssertEqual(Double(p[0]), Double(before[0]) * (1 - lr * decay) - lr, accuracy: 1e-6)
                XCTAssertEqual(Double(p[1]), Double(before[1]) * (1 - lr * decay) + lr, accuracy: 1e-6)
                XCTAssertEqual(Double(p[2]), Double(before[2]) * (1 - lr * decay), accuracy: 1e-6)
            }
        }
    }

    func testNoDecayGroupsFollowTheTrainer() {
        let config = BertConfig(vocabSize: 10, hiddenSize: 4, numLayers: 1, numHeads: 1, intermediateSize: 8, maxPositions: 8, numLabels: 2)
        let decayed = ParameterNames.specs(config).map(\.name).filter(AdamW.decays)
        XCTAssertEqual(Set(decayed), [
            "embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight", "embeddings.token_type_embeddings.weight",
            "encoder.layer.0.attention.self.query.weight", "encoder.layer.0.attention.self.key.weight",
            "encoder.layer.0.attention.self.value.weight", "encoder.layer.0.attention.output.dense.weight",
            "encoder.layer.0.intermediate.dense.weight", "encoder.layer.0.output.dense.weight",
            "pooler.dense.weight", "classifier.weight",
        ])
        // A zero gradient with decay: a decayed weight shrinks by lr * decay, a LayerNorm gain and a bias do not move.
        let parameters = BertParameters(zeroed: config), gradients = BertParameters(zeroed: config)
        for name in ["classifier.weight", "embeddings.LayerNorm.weight", "classifier.bias"] { parameters[name][0] = 1 }
        AdamW(config: config, weightDecay: 0.5).step(parameters: parameters, gradients: gradients, learningRate: 0.1)
        XCTAssertEqual(parameters["classifier.weight"][0], 0.95, accuracy: 1e-7)
        XCTAssertEqual(parameters["embeddings.LayerNorm.weight"][0], 1)
        XCTAssertEqual(parameters["classifier.bias"][0], 1)
    }

    /// transformers' get_linear_schedule_with_warmup with 100 steps and warmup_ratio 0.1 (ceil -> 10 warm-up steps).
    func testLinearWarmupScheduleValues() {
        let schedule = LinearWarmupSchedule(peak: 1e-4, warmupFraction: 0.1, totalSteps: 100)
        XCTAssertEqual(schedule.warmupSteps, 10)
        XCTAssertEqual(LinearWarmupSchedule(peak: 1, warmupFraction: 0.1, totalSteps: 95).warmupSteps, 10)
        let expected: [(Int, Float)] = [(0, 0), (1, 1e-5), (5, 5e-5), (10, 1e-4), (55, 5e-5), (99, 1e-4 / 90), (100, 0), (120, 0)]
        for (step, rate) in expected {
            XCTAssertEqual(schedule.rate(at: step), rate, accuracy: 1e-10, "step \(step)")
        }
        XCTAssertEqual(LinearWarmupSchedule(peak: 2, warmupSteps: 0, totalSteps: 4).rate(at: 0), 2)
    }

    func testClippingScalesToTheGlobalNorm() {
        let config = BertConfig(vocabSize: 10, hiddenSize: 4, numLayers: 1, numHeads: 1, intermediateSize: 8, maxPositions: 8, numLabels: 2)
        let gradients = BertParameters(zeroed: config)
        gradients["classifier.weight"][0] = 3; gradients["encoder.layer.0.output.dense.bias"][1] = 4
        XCTAssertEqual(clipGlobalNorm(gradients, maxNorm: 1), 5, accuracy: 1e-6)
        XCTAssertEqual(gradients["classifier.weight"][0], 0.6, accuracy: 1e-6)
        XCTAssertEqual(gradients["encoder.layer.0.output.dense.bias"][1], 0.8, accuracy: 1e-6)
        XCTAssertEqual(clipGlobalNorm(gradients, maxNorm: 10), 1, accuracy: 1e-5)
        XCTAssertEqual(gradients["classifier.weight"][0], 0.6, accuracy: 1e-6, "below the limit nothing changes")
    }
}
