import Foundation
import Attribution
import BERT
import Checkpoint

/// Where a job's classifier is, as the command line named it. Codable: the cluster sends it to workers,
/// which load their replica from the same path unless told otherwise.
public struct ModelReference: Codable, Sendable, Equatable {
    public var path: String
    public var config: String?
    public var vocab: String?
    /// Classes for a checkpoint without a classifier (an encoder-only checkpoint).
    public var numLabels: Int?
    /// Attention head size used when the architecture is inferred from tensor shapes.
    public var headSize = 64

    public init(path: String, config: String? = nil, vocab: String? = nil, numLabels: Int? = nil, headSize: Int = 64) {
        self.path = path; self.config = config; self.vocab = vocab; self.numLabels = numLabels; self.headSize = headSize
    }

    public var location: ModelLocation {
        var location = ModelLocation(path: URL(fileURLWithPath: path), config: config.map { URL(fileURLWithPath: $0) },
                                     vocab: vocab.map { URL(fileURLWithPath: $0) }, numLabels: numLabels)
        location.headSize = headSize
        return location
    }

    /// The same reference with its path replaced (a worker's own copy, a shipped copy).
    public func at(path: String, config: String?, vocab: String?) -> ModelReference {
        ModelReference(path: path, config: config, vocab: vocab, numLabels: numLabels, headSize: headSize)
    }

    /// Loads the classifier.
    public func load() throws -> BertModel { try ModelLoader.load(location) }

    /// The architecture without loading the weights: config.json, or the shapes in the checkpoint's index.
    public func readConfig() throws -> BertConfig {
        var location = self.location
        location.requireVocabulary = false
        let files = try ModelLoader.resolve(location)
        if let url = files.config { return try BertConfig.load(url) }
        let archive = try CheckpointArchive.open(files.checkpoint)
        var config = try ParameterNames.inferConfig(from: archive, headSize: headSize)
        let hasClassifier = archive.tensorNames.contains { ParameterNames.canonical($0) == "classifier.weight" }
        if !hasClassifier, let numLabels { config.numLabels = numLabels }
        return config
    }
}

/// One dataset evaluation: its settings, its model and its examples, and where its outputs go. The same
/// job runs in one process (`run`) or over a cluster (the ClusterEvaluation module); either way `finish`
/// writes every output from the records, so both write identical files.
public struct EvaluationJob: Sendable {
    public var settings: EvaluationSettings
    public var model: ModelReference
    public var plan: EvaluationPlan
    public var outputDirectory: URL

    /// Validates the settings (`model`'s config when known), loads the dataset's selection and a dataset
    /// estimator's statistics. Nothing is computed or written yet.
    public init(settings: EvaluationSettings, model: ModelReference, outputDirectory: URL, modelConfig: BertConfig? = nil) throws {
        var settings = settings
        try settings.validate(model: modelConfig)
        if let path = settings.estimatorFile, settings.method == .iba {
            settings.iba.estimator = .dataset(try EstimatorStatistics.load(URL(fileURLWithPath: path)))
        }
        self.settings = settings
        self.model = model
        self.plan = try EvaluationPlan(settings: settings)
        self.outputDirectory = outputDirectory
    }

    /// The selected examples by dataset index (what a cluster worker needs of the dataset).
    public var selectedExamples: [Int: LabeledExample] {
        Dictionary(uniqueKeysWithValues: plan.indices.map { ($0, plan.examples[$0]) })
    }

    /// Evaluates every example in this process, `jobs` at a time (see `runEvaluation`).
    public func run(model: BertModel, jobs: Int, onRecord: @escaping @Sendable (ExampleRecord) -> Void = { _ in }) throws -> [ExampleRecord] {
        try runEvaluation(model: model, settings: settings, plan: plan, jobs: jobs, onRecord: onRecord).records
    }

    /// The summary of the records (in selection order).
    public func summary(records: [ExampleRecord], seconds: Double) throws -> Summary {
        try summarize(records: records, method: settings.method.rawValue, dataset: settings.dataset.rawValue,
                      layer: settings.summaryLayer, seconds: seconds, options: settings.summaryOptions)
    }

    /// Writes every output of the run into the output directory: summary.json, results.jsonl, the original's
    /// four .npy files and degradation.svg, each under a temporary name first and renamed into place once
    /// all are written (a failed write leaves no partial set). Returns the summary.
    @discardableResult
    public func finish(records: [ExampleRecord], seconds: Double) throws -> Summary {
        let summary = try summary(records: records, seconds: seconds)
        var files = try evaluationOutputFiles(records: records, summary: summary)
        files.append(OutputFile(name: "degradation.svg", data: Data(degradationPlotSVG(summaries: [summary]).utf8)))
        try writeOutputFiles(files, into: outputDirectory)
        return summary
    }
}
