import Foundation
import Attribution
import BERT
import Kernels

/// Everything that determines a dataset evaluation's numbers. It is the run manifest: the cluster ships
/// it to workers and `--resume` refuses to continue a run whose settings differ (see `fingerprint`).
/// Defaults are the original's.
public struct EvaluationSettings: Codable, Sendable, Equatable {
    public var method = EvaluationMethod.iba
    public var dataset = DatasetKind.agnews
    public var dataPath = ""
    /// Number of examples (nil = all), chosen by the original's selection.
    public var testSample: Int?
    public var selectionSeed: UInt32 = 3
    public var degradationSteps = 10
    public var reverse = false
    /// Replace removed tokens with [MASK] instead of deleting them.
    public var replace = false
    /// IBA's layer, beta, steps, learning rate, noise batch, precision and estimator. The estimator is the
    /// sample one unless `estimatorFile` is set; `EvaluationJob` loads that file into it once.
    public var iba = IBAOptions()
    /// Run seed: the noise of example i is seeded from (seed, i).
    public var seed: UInt64 = 0
    /// original (fixed classes for IG/LIME, 512-padding for LIME) or corrected (gold label everywhere, masked).
    public var protocolVariant = ProtocolVariant.original
    public var maxLength = 512
    public var skipBadRows = false
    /// How the dataset's text is decoded; nil is UTF-8 (optional so settings without it keep their fingerprint).
    public var encoding: TextEncoding?
    /// Compute AOPC comprehensiveness/sufficiency (extra forwards, not in the original).
    public var aopc = true
    /// Dataset-estimator statistics file for IBA (nil = the original's sample estimator).
    public var estimatorFile: String?
    /// Attributions computed elsewhere (JSONL {"index", "attribution"}); method external.
    public var attributionsFile: String?

    public init() {}

    /// Bottleneck layer (IBA only).
    public var layer: Int {
        get { iba.layer }
        set { iba.layer = newValue }
    }

    /// The layer summary.json names: IBA's bottleneck, nothing for the other methods.
    public var summaryLayer: Int? { method.isIBA ? iba.layer : nil }

    /// Most degradation steps a run may ask for: every step is one forward pass per example, and more
    /// steps than an input has tokens only repeats inputs.
    public var maxDegradationSteps: Int { max(2, maxLength) }

    /// Refuses settings that would make every example fail or give meaningless numbers, before any work.
    /// With `model`, also what depends on it (the layer, bfloat16 support).
    public func validate(model config: BertConfig? = nil) throws {
        func refuse(_ message: String) -> EvaluationError { .invalidSetting(message) }
        if let testSample, testSample < 1 {
            throw refuse("--test-sample must be a positive number or all, not \(testSample)")
        }
        guard maxLength >= 3 else {
            throw refuse("--max-length must be at least 3 ([CLS], one token, [SEP]), not \(maxLength)")
        }
        guard (2...maxDegradationSteps).contains(degradationSteps) else {
            throw refuse(
                "--degrad-steps must be 2...\(maxDegradationSteps) (at most --max-length), not \(degradationSteps)")
        }
        if method == .external, attributionsFile == nil { throw refuse("method external needs --attributions FILE") }
        if method.isIBA { try validateIBA(model: config) }
    }

    private func validateIBA(model config: BertConfig?) throws {
        try iba.validate(model: config)
    }

    /// The settings with `--estimator-data`'s statistics loaded into IBA's options, the one place they are
    /// read (settings that hold them already, as a worker receives them, are returned as they are);
    /// refuses a file of another layer than one of `methods`' IBA layers.
    public func loadingEstimator(for methods: [EvaluationMethod]) throws -> EvaluationSettings {
        guard let path = estimatorFile, iba.estimator == .sample, methods.contains(where: \.isIBA) else { return self }
        let statistics = try EstimatorStatistics.load(URL(fileURLWithPath: path))
        for method in methods where method.isIBA && forMethod(method).layer != statistics.layer {
            throw EvaluationError.invalidSetting("\(path) holds estimator statistics of layer \(statistics.layer), "
                + "so \(method.rawValue) cannot use it: evaluate layer \(statistics.layer) only, "
                + "or drop --estimator-data")
        }
        var settings = self
        settings.iba.estimator = .dataset(statistics)
        return settings
    }

    /// The settings as sorted-key JSON: what a cluster worker receives.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do { return try encoder.encode(self) } catch {
            throw EvaluationError.invalidSetting("the settings cannot be encoded (\(error))")
        }
    }

    /// A hash of the encoded settings: two runs with the same fingerprint compute the same numbers
    /// (given the same model and data), so `--resume` may continue one with the other.
    public func fingerprint() throws -> String {
        contentHash(try encoded())
    }

    /// Every setting as a string under its JSON key path ("iba.layer"), a long array (an estimator's
    /// statistics) as its hash: what a results log's header shows beside the fingerprint, so a refused
    /// `--resume` names the setting that changed.
    public func described() throws -> [String: String] {
        guard let object = try JSONSerialization.jsonObject(with: encoded()) as? [String: Any] else { return [:] }
        var out: [String: String] = [:]
        func visit(_ value: Any, _ key: String) {
            if let dictionary = value as? [String: Any] {
                for (name, inner) in dictionary { visit(inner, key.isEmpty ? name : "\(key).\(name)") }
                return
            }
            let options: JSONSerialization.WritingOptions = [.fragmentsAllowed, .sortedKeys, .withoutEscapingSlashes]
            guard let json = try? JSONSerialization.data(withJSONObject: value, options: options) else { return }
            let text = String(decoding: json, as: UTF8.self)
            out[key] = text.count <= 100 ? text : contentHash(json)
        }
        visit(object, "")
        return out
    }

    /// The options as strings for summary.json (its historical layout).
    public var summaryOptions: [String: String] {
        var o: [String: String] = [
            "data_path": dataPath, "layer": "\(iba.layer)", "test_sample": testSample.map(String.init) ?? "all",
            "degrad_step": "\(degradationSteps)", "reverse": "\(reverse)", "replace": "\(replace)",
            "beta": "\(iba.beta)", "train_steps": "\(iba.steps)", "lr": "\(iba.learningRate)",
            "batch": "\(iba.batchSize)", "seed": "\(seed)", "protocol": protocolVariant.rawValue,
            "max_length": "\(maxLength)", "aopc": "\(aopc)",
        ]
        if let estimatorFile { o["estimator_data"] = estimatorFile }
        if let attributionsFile { o["attributions"] = attributionsFile }
        if let encoding { o["encoding"] = encoding.rawValue }
        // Only when not the default, so float32 summaries read as before this option existed.
        if iba.precision != .float32 { o["precision"] = iba.precision.rawValue }
        return o
    }
}

extension IBAOptions {
    /// The one check of IBA's options, wherever they come from (`iba explain`, `iba evaluate`, a worker's
    /// job): refuses options with which IBA cannot give an attribution (no step, no noise sample, a learning
    /// rate or beta that is not a number), a layer the model (when known) does not have, or a precision the
    /// context it will run in (when known) cannot run, naming the flag to change.
    public func validate(model config: BertConfig? = nil, context: ComputeContext? = nil) throws {
        guard steps >= 1 else { throw EvaluationError.invalidSetting("--train-steps must be at least 1, not \(steps)") }
        guard batchSize >= 1 else {
            throw EvaluationError.invalidSetting("--batch must be at least 1, not \(batchSize)")
        }
        guard learningRate.isFinite, learningRate > 0 else {
            throw EvaluationError.invalidSetting("--lr must be a positive finite number, not \(learningRate)")
        }
        guard beta.isFinite, beta >= 0 else {
            throw EvaluationError.invalidSetting("--beta must be a finite number >= 0, not \(beta)")
        }
        if let config, !(0..<config.numLayers).contains(layer) {
            throw EvaluationError.invalidSetting(
                "--layer \(layer) is outside 0...\(config.numLayers - 1): the model has \(config.numLayers) layers")
        }
        if let context, !precision.isSupported(in: context) {
            throw EvaluationError.invalidSetting("--precision \(precision.rawValue) needs oneDNN "
                + "(not IBA_GEMM=openblas) and a CPU with AVX512_BF16 or AMX")
        }
    }
}
