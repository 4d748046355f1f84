import ArgumentParser
import Foundation
import Kernels
import Evaluation
import Reports
import Training

/// `iba finetune`: fine-tune a BERT checkpoint into a sequence classifier, in Swift.
struct FinetuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finetune",
        abstract: "Fine-tune a BERT checkpoint into a sequence classifier (AdamW, warm-up, dropout).",
        discussion: """
        With no data options, trains on the embedded 1,000-row AG News sample and reports accuracy on the \
        embedded 200 test rows (what scripts/setup.sh does to make models/demo-agnews).
        Example:
          iba finetune --model models/all-minilm-l6-v2 --num-labels 4 --output models/demo-agnews
          iba finetune --model bert-dir --dataset rte --train train.tsv --eval dev.tsv --epochs 3 --output my-rte
        """)

    @Option(name: .customLong("model"), help: "Pretrained checkpoint (Hugging Face directory or file).")
    var model = "models/all-minilm-l6-v2"
    @Option(help: "vocab.txt or tokenizer.json if the checkpoint has none beside it.") var vocab: String?
    @Option(help: "config.json for a checkpoint without one.") var config: String?
    @Option(name: .customLong("num-labels"), help: "Classes (for a checkpoint without a classifier).") var numLabels = 4
    @Option(help: "Dataset format of --train/--eval: imdb, agnews, mnli, rte or jsonl.") var dataset = "agnews"
    @Option(help: "Training data (default: the embedded AG News sample).") var train: String?
    @Option(help: "Evaluation data for the final accuracy (default: the embedded AG News test rows).") var eval: String?
    @Option(help: "Passes over the training data.") var epochs = FineTuneOptions.quickDemo.epochs
    @Option(name: .customLong("batch-size")) var batchSize = FineTuneOptions.quickDemo.batchSize
    @Option(help: "Peak learning rate (linear warm-up over 10% of the steps, then linear decay).")
    var lr: Float = FineTuneOptions.quickDemo.learningRate
    @Option(name: .customLong("max-length"), help: "Truncate training texts to this many word pieces.")
    var maxLength = FineTuneOptions.quickDemo.maxLength
    @Option(help: "Seed of shuffling, dropout and the classifier initialisation.") var seed: UInt64 = 42
    @Option(help: "OpenBLAS threads.") var threads: Int?
    @Option(help: "Output Hugging Face directory.") var output = "models/demo-agnews"
    @Flag(help: "No progress bar.") var quiet = false

    func run() throws {
        try failing {
            guard FileManager.default.fileExists(atPath: model) else {
                throw CommandError("no pretrained model at \(model): "
                    + "run scripts/setup.sh (it fetches all-MiniLM-L6-v2), or pass --model")
            }
            try checkOutputIsNotAnInput(output, inputs: [model] + [vocab, config, train, eval].compactMap { $0 })
            let pretrained = try loadModel(
                path: URL(fileURLWithPath: model), config: config, vocab: vocab, numLabels: numLabels)
            guard let kind = DatasetKind(rawValue: dataset) else { throw CommandError("unknown dataset \(dataset)") }
            let trainURL = try train.map { URL(fileURLWithPath: $0) } ?? EmbeddedData.agnewsDemoTrain()
            let evalURL =
                try eval.map { URL(fileURLWithPath: $0) } ?? (train == nil ? EmbeddedData.agnewsDemoTest() : nil)
            let trainSet = try loadDataset(kind, path: trainURL, skipBadRows: false).examples
            let evalSet = try evalURL.map { try loadDataset(kind, path: $0, skipBadRows: false).examples }
            var options = FineTuneOptions()
            options.epochs = epochs; options.batchSize = batchSize; options.learningRate = lr
            options.maxLength = maxLength; options.seed = seed
            note("fine-tuning \(model) on \(trainSet.count) examples (\(trainURL.lastPathComponent)), "
                + "\(epochs) epochs, batch \(batchSize), lr \(lr), max length \(maxLength)")
            let steps = epochs * ((trainSet.count + batchSize - 1) / batchSize)
            let bar = ProgressBar(total: steps, label: "finetune", unit: "step", quiet: quiet)
            let report = try fineTune(model: pretrained, train: trainSet, eval: evalSet, options: options,
                                      context: ComputeContext.fromEnvironment(threads: threads)) { p in
                bar.advance(
                    extra: String(
                        format: "epoch %d loss %.3f lr %.1e %.1f ex/s", p.epoch, p.epochMeanLoss, p.learningRate,
                        p.examplesPerSecond))
            }
            bar.finish()
            try saveHuggingFaceDirectory(
                report.model, to: URL(fileURLWithPath: output),
                labelNames: labelNames(kind, numLabels: report.model.config.numLabels))
            print("epoch losses " + report.epochLosses.map { String(format: "%.4f", $0) }.joined(separator: " "))
            if let accuracy = report.evalAccuracy {
                print(
                    String(format: "accuracy %.4f", accuracy)
                        + " on \(evalSet?.count ?? 0) evaluation examples (\(evalURL?.lastPathComponent ?? ""))")
            }
            print(
                String(format: "trained in %.1f s (%.1f examples/s)", report.trainSeconds, report.examplesPerSecond)
                    + "; saved to \(output)")
            openNote(output)
        }
    }

    /// The dataset's class names for id2label when it has names for exactly the model's labels
    /// (else the pretrained config's, else transformers' LABEL_i).
    func labelNames(_ kind: DatasetKind, numLabels: Int) -> [String]? {
        guard let names = kind.classNames, names.count == numLabels else { return nil }
        return names
    }
}
