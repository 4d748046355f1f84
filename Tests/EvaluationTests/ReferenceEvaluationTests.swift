import Foundation
import XCTest
import Kernels
import BERT
@testable import Evaluation

/// The degradation test and a whole IBA evaluation against the PyTorch reference run
/// (shared/reference/iba-agnews-layer3.json: MiniLM AG News, 20 examples, layer 3).
final class ReferenceEvaluationTests: XCTestCase {
    struct Reference: Decodable {
        struct Example: Decodable {
            var index: Int; var target: Int; var attribution: [Double]
            var degradation_prob: [Double]; var degradation_correct: [Bool]
        }
        struct SummaryValues: Decodable {
            var original_accuracy: Double; var original_prob: Double
            var degradation_prob: [Double]; var degradation_accuracy: [Double]
        }
        var summary: SummaryValues
        var examples: [Example]
    }

    func setUp(method: EvaluationMethod) throws -> (BertModel, EvaluationSettings, EvaluationPlan, Reference, URL) {
        let shared = try sharedDirectory()
        let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: shared.appendingPathComponent("reference/iba-agnews-layer3.json")))
        let model = try ModelLoader.load(ModelLocation(path: shared.appendingPathComponent("models/minilm-agnews")))
        var settings = EvaluationSettings()
        settings.method = method
        settings.dataset = .agnews
        settings.dataPath = shared.appendingPathComponent("data/agnews/test.csv").path
        settings.layer = 3
        settings.testSample = 20
        let plan = try EvaluationPlan(settings: settings)
        XCTAssertEqual(plan.indices, reference.examples.map(\.index), "the original's selection")
        return (model, settings, plan, reference, try temporaryDirectory(self))
    }

    func compareSummary(_ summary: Summary, _ reference: Reference.SummaryValues, tolerance: Double, _ label: String) {
        XCTAssertEqual(summary.originalAccuracy, reference.original_accuracy, accuracy: tolerance, label)
        XCTAssertEqual(summary.originalProb, reference.original_prob, accuracy: tolerance, label)
        for i in 0..<9 {
            XCTAssertEqual(summary.degradationProb[i], reference.degradation_prob[i], accuracy: tolerance, "\(label) degradation_prob[\(i)]")
            XCTAssertEqual(summary.degradationAccuracy[i], reference.degradation_accuracy[i], accuracy: tolerance, "\(label) degradation_accuracy[\(i)]")
        }
    }

    /// The reference's own attributions through our degradation test: per example within 1e-3, summary within 1e-4.
    func testReferenceAttributionsThroughOurDegradationTest() throws {
        var (model, settings, plan, reference, directory) = try setUp(method: .external)
        let file = directory.appendingPathComponent("attributions.jsonl")
        let lines = reference.examples.map { e -> String in
            "{\"index\": \(e.index), \"attribution\": [\(e.attribution.map { "\($0)" }.joined(separator: ","))]}"
        }
        try lines.joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
        settings.attributionsFile = file.path
        let (records, summary) = try runEvaluation(model: model, settings: settings, plan: plan, backend: .onednn)
        var worst = 0.0
        for (record, expected) in zip(records, reference.examples) {
            XCTAssertNil(record.failed)
            for (got, want) in zip(record.degradationProb, expected.degradation_prob) { worst = max(worst, abs(Double(got) - want)) }
            XCTAssertEqual(record.degradationCorrect, expected.degradation_correct, "example \(expected.index)")
        }
        XCTAssertLessThanOrEqual(worst, 1e-3)
        compareSummary(summary, reference.summary, tolerance: 1e-4, "external attributions")
        print("reference attributions: worst per-example degradation difference \(worst)")
    }

    /// Our IBA + degradation test end to end: summary within 0.01 of the reference.
    func testIBAEvaluationReproducesReferenceSummary() throws {
        let (model, settings, plan, reference, directory) = try setUp(method: .iba)
        let (records, summary) = try runEvaluation(model: model, settings: settings, plan: plan, backend: .onednn)
        compareSummary(summary, reference.summary, tolerance: 0.01, "iba")
        try writeEvaluationOutputs(directory: directory, records: records, summary: summary)
        for name in ["summary.json", "results.jsonl", "original_prob_iba_agnews.npy", "degrade_acc_iba_agnews.npy"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path), name)
        }
        print("iba evaluation: degradation_prob \(summary.degradationProb.map { String(format: "%.4f", $0) }) in \(summary.seconds) s")
    }
}

/// A diverging IBA (huge learning rate) gives a clearly failed record, not NaN in the outputs.
final class DivergenceTests: XCTestCase {
    func testNonFiniteAttributionBecomesAFailedRecord() throws {
        let shared = try sharedDirectory()
        let model = try ModelLoader.load(ModelLocation(path: shared.appendingPathComponent("reference/models/tiny-safetensors")))
        var settings = EvaluationSettings()
        settings.dataPath = try EmbeddedData.agnewsDemoTest().path
        settings.testSample = 2
        settings.layer = 0
        settings.iba.learningRate = 1e6
        settings.iba.steps = 50
        // tiny-safetensors has 3 classes; keep examples whose label fits.
        let plan = try EvaluationPlan(settings: settings)
        let evaluator = try ExampleEvaluator(model: model, settings: settings, context: ComputeContext())
        let example = LabeledExample(text: plan.examples[plan.indices[0]].text, label: 0)
        let record = evaluateOrRecordFailure(evaluator, example, index: 0)
        if let failure = record.failed {
            XCTAssertTrue(failure.contains("not finite"), failure)
        } else {
            XCTAssertTrue(record.attribution.allSatisfy(\.isFinite), "either finite or a failed record")
        }
        let directory = try temporaryDirectory(self)
        let summary = try summarize(records: [record], method: .iba, dataset: .agnews, layer: 0, seconds: 0, options: [:])
        XCTAssertNoThrow(try writeEvaluationOutputs(directory: directory, records: [record], summary: summary))
    }
}
