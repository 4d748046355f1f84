import Foundation
import Reports
import Attribution
import BERT
import Kernels

/// Which class an explanation explains (`--target`): the predicted one, the gold label, or a class
/// given by index or by the name the model's config gives it.
public enum ExplanationTarget: Sendable, Equatable {
    case predicted
    case gold
    case named(String)

    public init(_ text: String) {
        switch text {
        case "predicted": self = .predicted
        case "gold": self = .gold
        default: self = .named(text)
        }
    }

    /// The class index for a prediction, refusing what the model does not have.
    public func resolve(_ prediction: Prediction, gold: Int?, config: BertConfig) throws -> Int {
        let target: Int
        switch self {
        case .predicted: target = prediction.label
        case .gold:
            guard let gold else {
                throw EvaluationError.invalidSetting("--target gold needs --label K (the text's gold class)")
            }
            target = gold
        case .named(let name):
            guard let k = config.labelIndex(name) else {
                let names = config.labelNames.map { " (" + terminalSafe($0.joined(separator: ", ")) + ")" }
                    ?? " (the model's config names none)"
                throw EvaluationError.invalidSetting(
                    "--target must be predicted, gold, a class index or a class name\(names)")
            }
            target = k
        }
        guard (0..<config.numLabels).contains(target) else {
            throw EvaluationError.invalidSetting("target class \(target) is outside 0..<\(config.numLabels)")
        }
        return target
    }
}

/// Where IBA's estimator statistics come from in `iba explain`: the noise's own sample (the original's),
/// or a statistics file, computed from a dataset and written when it is missing or of another layer.
public struct EstimatorSource: Sendable {
    public var statisticsFile: String?
    public var datasetFile: String?
    public var samples: Int
    public var maxLength: Int

    public init(statisticsFile: String?, datasetFile: String?, samples: Int, maxLength: Int) {
        self.statisticsFile = statisticsFile
        self.datasetFile = datasetFile
        self.samples = samples
        self.maxLength = maxLength
    }

    /// The estimator of `layer`; `note` hears when statistics were computed and written.
    public func estimator(layer: Int, model: BertModel, context: ComputeContext,
                          note: (String) -> Void = { _ in }) throws -> EstimatorKind {
        guard let statisticsFile else {
            throw EvaluationError.invalidSetting("--estimator dataset needs --estimator-data FILE")
        }
        let url = URL(fileURLWithPath: statisticsFile)
        if FileManager.default.fileExists(atPath: url.path) {
            let statistics = try EstimatorStatistics.load(url)
            if statistics.layer == layer { return .dataset(statistics) }
            guard datasetFile != nil else {
                throw EvaluationError.invalidSetting("\(statisticsFile) holds layer \(statistics.layer), not \(layer): "
                                                     + "pass --estimator-dataset to recompute")
            }
        }
        guard let datasetFile else {
            throw EvaluationError.invalidSetting(
                "no \(statisticsFile) yet: pass --estimator-dataset FILE to compute it")
        }
        let statistics = try computeEstimator(model: model, datasetPath: datasetFile, samples: samples, layer: layer,
                                              maxLength: maxLength, context: context)
        try statistics.save(to: url)
        note("wrote estimator statistics for layer \(layer) to \(statisticsFile)")
        return .dataset(statistics)
    }
}

/// Reads a dataset file by its extension/format and pools the estimator statistics over its first `samples` rows.
public func computeEstimator(model: BertModel, datasetPath: String, samples: Int, layer: Int, maxLength: Int,
                             context: ComputeContext) throws -> EstimatorStatistics {
    guard let tokenizer = model.tokenizer else {
        throw EvaluationError.invalidSetting("the model has no vocabulary: pass --vocab FILE")
    }
    let url = URL(fileURLWithPath: datasetPath)
    let kind: DatasetKind = url.pathExtension == "csv" ? .agnews : url.pathExtension == "jsonl" ? .jsonl
        : url.lastPathComponent.contains("matched") ? .mnli : url.pathExtension == "tsv" ? .rte : .imdb
    let examples = try loadDataset(kind, path: url, skipBadRows: true).examples.prefix(samples)
    let inputs = examples.map { e -> ModelInput in
        let encoding = tokenizer.encode(e.text, pair: e.textPair, maxLength: maxLength)
        return ModelInput(ids: encoding.inputIds, types: encoding.tokenTypeIds)
    }
    return try EstimatorStatistics.estimate(model: model, inputs: Array(inputs), layer: layer, context: context)
}

/// IBA's attribution of `target` at each of `layers` (one explainer, its workspaces reused), and the
/// losses of the last layer's optimisation. `estimator` gives each layer's estimator.
public func explainLayers(model: BertModel, input: ModelInput, target: Int, layers: [Int], options: IBAOptions,
                          seed: UInt64, context: ComputeContext, estimator: (Int) throws -> EstimatorKind) throws
    -> (rows: [[Float]], losses: [[Float]]?) {
    guard let first = layers.first else { throw EvaluationError.invalidSetting("--layers names no layer") }
    var options = options
    options.layer = first
    try options.validate(model: model.config, context: context)
    let explainer = IBAExplainer(model: model, options: options, context: context)
    var rows = [[Float]](), losses: [[Float]]?
    for layer in layers {
        explainer.options.layer = layer
        explainer.options.estimator = try estimator(layer)
        let result = try explainer.explain(input, target: target, seed: seed)
        rows.append(result.attribution)
        losses = result.losses
    }
    return (rows, losses)
}
