import Foundation
import TestSupport
import XCTest
import BERT
import Kernels
@testable import Training

/// Weight gradients of the training step (dropout active at every Hugging Face site) against central
/// finite differences. The same seed in every forward gives the same masks, so the loss is smooth.
final class DropoutGradientTests: XCTestCase {
    let inputs = [ModelInput(ids: [2, 5, 9, 7, 3, 10, 3], types: [0, 0, 0, 0, 0, 1, 1]),
                  ModelInput(ids: [2, 8, 6, 3], types: [0, 0, 0, 0]),
                  ModelInput(ids: [2, 11, 12, 13, 14, 3], types: [0, 0, 0, 0, 0, 0])]
    let targets = [2, 0, 1]
    let dropout = DropoutConfig(probability: 0.2, seed: 1234)

    func loss(_ model: BertModel, dropout: DropoutConfig?) throws -> Double {
        let tape = ForwardTape(config: model.config, context: ComputeContext())
        tape.dropout = dropout
        try model.forward(inputs, tape: tape)
        var probs = [Float](repeating: 0, count: 9)
        return softmaxCrossEntropyForward(probs: &probs, logits: tape.logits.pointer, targets: targets, batch: 3, classes: 3)
            .reduce(0.0) { $0 + Double($1) } / 3
    }

    func testWeightGradientsWithDropout() throws {
        let model = try tinyModel(seed: 5)
        // The masks must matter (else this test would only repeat the evaluation-mode check).
        XCTAssertGreaterThan(abs(try loss(model, dropout: dropout) - loss(model, dropout: nil)), 1e-3)
        XCTAssertEqual(try loss(model, dropout: dropout), try loss(model, dropout: dropout))

        let tape = ForwardTape(config: model.config, context: ComputeContext())
        tape.dropout = dropout
        let gradients = BertParameters(zeroed: model.config)
        let stepLoss = trainingStep(model, inputs, targets, tape: tape, workspace: BackwardWorkspace(),
                                    dlogits: FloatBuffer(count: 9), gradients: gradients)
        XCTAssertEqual(Double(stepLoss), try loss(model, dropout: dropout), accuracy: 1e-5)

        var checked = 0, worst = (name: "", error: 0.0)
        for spec in model.parameters.specs {
            let p = model.parameters[spec.name], g = gradients[spec.name]
            let count = spec.shape.reduce(1, *)
            for i in stride(from: 0, to: count, by: max(1, count / 9)) {
                let numeric = try centralDifference(at: p[i], set: { p[i] = $0 }) { try loss(model, dropout: dropout) }
                let error = abs(Double(g[i]) - numeric)
                if error > worst.error { worst = ("\(spec.name)[\(i)]", error) }
                XCTAssertEqual(Double(g[i]), numeric, accuracy: 2e-3 + 2e-2 * abs(numeric), "\(spec.name)[\(i)]")
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 200)
        print("dropout gradient check: \(checked) entries, worst |analytic - numeric| \(worst.error) at \(worst.name)")
    }

    /// A tape that trained with dropout and is switched back gives the evaluation logits of a fresh tape, bit for bit.
    func testEvaluationModeIsUnchangedAfterTraining() throws {
        let model = try tinyModel(seed: 6)
        let fresh = try model.logits(inputs, context: ComputeContext())
        let tape = ForwardTape(config: model.config, context: ComputeContext(), logitsOnly: true)
        tape.dropout = dropout
        try model.forward(inputs, tape: tape)
        let dropped = (0..<3).map { tape.logits(of: $0) }
        tape.dropout = nil
        try model.forward(inputs, tape: tape)
        XCTAssertEqual((0..<3).map { tape.logits(of: $0) }, fresh)
        XCTAssertNotEqual(dropped, fresh)
    }

    func testMaskRateScaleAndSites() {
        let count = 200_000
        let mask = FloatBuffer(count: count), other = FloatBuffer(count: count)
        let config = DropoutConfig(probability: 0.1, seed: 9)
        config.fillMask(mask.pointer, count: count, site: 3)
        let values = mask.array(count)
        let zeros = values.filter { $0 == 0 }.count
        XCTAssertEqual(Double(zeros) / Double(count), 0.1, accuracy: 0.004)
        XCTAssertTrue(values.allSatisfy { $0 == 0 || $0 == Float(1 / 0.9) })
        // Mean 1: inverted dropout keeps the expected activation.
        XCTAssertEqual(values.reduce(0.0) { $0 + Double($1) } / Double(count), 1, accuracy: 0.01)
        config.fillMask(other.pointer, count: count, site: 4)
        XCTAssertNotEqual(other.array(count), values, "sites must draw independent masks")
        config.fillMask(other.pointer, count: count, site: 3)
        XCTAssertEqual(other.array(count), values)
    }
}
