import Foundation
import Attribution
import BERT
import Checkpoint
import Kernels

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
    public func readConfig() throws -> BertConfig { try readArchitecture().config }

    /// The configuration (as `readConfig`) and the record of it for summaries: inferred when no config.json was found.
    public func readArchitecture() throws -> (config: BertConfig, architecture: ModelArchitecture) {
        var location = self.location
        location.requireVocabulary = false
        let files = try ModelLoader.resolve(location)
        if let url = files.config {
            let config = try BertConfig.load(url)
            return (config, config.architecture(inferred: false))
        }
        let archive = try ModelLoader.openWeights(files.checkpoint)
        var config = try ParameterNames.inferConfig(from: archive, headSize: headSize)
        let hasClassifier = archive.tensorNames.contains { ParameterNames.canonical($0) == "classifier.weight" }
        if !hasClassifier, let numLabels { config.numLabels = numLabels }
        return (config, config.architecture(inferred: true))
    }
}

/// One dataset evaluation: its settings, its model, its examples and methods, and where its outputs go. The
/// same job runs in one process (`run`) or over a cluster (the ClusterEvaluation module); either way
/// `finish` writes every output from the records, so both write identical files.
public struct EvaluationJob: Sendable {
    /// The settings of the first method; `settings(for:)` gives each method's.
    public var settings: EvaluationSettings
    /// One method (today's layout), or several compared on the same examples (`--methods`): each example
    /// is tokenized and predicted once, then every method runs on it.
    public var methods: [EvaluationMethod]
    public var model: ModelReference
    public var plan: EvaluationPlan
    public var outputDirectory: URL
    /// The model's architecture, recorded in summary.json and report.html (nil when the job was made without it).
    public var architecture: ModelArchitecture?
    /// `--part K/N`: `plan.indices` is this part's slice of the selection (nil: the whole job).
    public var part: JobPart?
    /// Examples the whole job selects (`plan.indices.count` unless the job is a part).
    public var selected: Int

    /// Validates the settings of every method (against `modelConfig` when known), loads the dataset's
    /// selection (refusing a model with fewer labels than the dataset has classes) and a dataset estimator's
    /// statistics. With `part`, the job is that slice of the selection. Nothing is computed or written yet.
    public init(
        settings: EvaluationSettings, model: ModelReference, outputDirectory: URL, modelConfig: BertConfig? = nil,
        architecture: ModelArchitecture? = nil, methods: [EvaluationMethod]? = nil, part: JobPart? = nil
    ) throws {
        let methods = methods ?? [settings.method]
        guard !methods.isEmpty, Set(methods).count == methods.count else {
            throw EvaluationError.invalidSetting(
                "--methods must name each method once, not \(methods.map(\.rawValue).joined(separator: ","))")
        }
        guard methods.count == 1 || !methods.contains(.external) else {
            throw EvaluationError.invalidSetting("--attributions evaluates one method: use it without --methods")
        }
        var settings = settings
        settings.method = methods[0]
        try Self.refuseSameComputation(methods, settings: settings)
        for method in methods { try settings.forMethod(method).validate(model: modelConfig) }
        settings = try settings.loadingEstimator(for: methods)
        self.settings = settings
        self.methods = methods
        self.model = model
        self.plan = try EvaluationPlan(settings: settings)
        self.selected = plan.indices.count
        self.part = part
        if let part {
            try part.checkNotEmpty(selected: selected)
            plan.indices = part.slice(plan.indices)
        }
        if let modelConfig { try plan.checkLabels(of: modelConfig) }
        self.outputDirectory = outputDirectory
        self.architecture = architecture ?? modelConfig.map { $0.architecture(inferred: false) }
    }

    /// The settings of one of the job's methods (`iba@L` runs as `--method iba --layer L`).
    public func settings(for method: EvaluationMethod) -> EvaluationSettings {
        settings.forMethod(method)
    }

    /// Refuses two names for one computation (`iba` with `--layer 3` beside `iba@3`): their rows would be equal.
    static func refuseSameComputation(_ methods: [EvaluationMethod], settings: EvaluationSettings) throws {
        var seen = [String: EvaluationMethod]()
        for method in methods {
            let one = settings.forMethod(method)
            let key = one.method.rawValue + (method.isIBA ? "@\(one.layer)" : "")
            if let other = seen[key] {
                throw EvaluationError.invalidSetting(
                    "\(other.rawValue) and \(method.rawValue) are the same computation "
                        + "(IBA at layer \(one.layer)): name it once")
            }
            seen[key] = method
        }
    }


    /// The summary of one method's records (in selection order).
    public func summary(of method: EvaluationMethod, records: [ExampleRecord], seconds: Double) throws -> Summary {
        let one = settings(for: method)
        var summary = try summarize(records: records, method: one.method, dataset: one.dataset,
                                    layer: one.summaryLayer, seconds: seconds, options: one.summaryOptions)
        summary.architecture = architecture
        return summary
    }

    /// Where a method's outputs go: the output directory itself for one method, a subdirectory per method
    /// when several are compared.
    public func directory(for method: EvaluationMethod) -> URL {
        methods.count == 1 ? outputDirectory : outputDirectory.appendingPathComponent(method.rawValue)
    }

    /// What `finish` wrote: each method's summary, and the comparison and its pairs table when several
    /// methods ran.
    public struct Outcome: Sendable {
        public var summaries: [Summary]
        public var comparison: MethodComparison?
        public var pairs: PairedComparison?
    }

    /// Writes every output of the run: per method summary.json, results.jsonl, the original's four .npy
    /// files and degradation.svg, with several methods comparison.md/.csv/.svg and pairs.csv/.md (bootstrap
    /// intervals and paired tests, seeded from the run seed) at the top, and report.html
    /// (the page to open) at the top. Each file
    /// is written under a temporary name and renamed into place once its directory's set is written.
    /// One method's summary gives the run's wall time (`seconds`); with several, each gives its own
    /// compute seconds.
    @discardableResult
    public func finish(_ run: MethodRecords, seconds: Double) throws -> Outcome {
        try finish(finishedRecords(run), seconds: seconds)
    }
}
