import Foundation
import BERT

/// Everything that determines a dataset evaluation's numbers. It is the run manifest: the cluster ships
/// it to workers and `--resume` refuses to continue a run whose settings differ. Defaults are the original's.
public struct EvaluationSettings: Codable, Sendable, Equatable {
    /// iba, ig, lime, random (or "external" with `attributionsFile`).
    public var method = "iba"
    public var dataset = "agnews"
    public var dataPath = ""
    /// Layer of the bottleneck (IBA only).
    public var layer = 8
    /// Number of examples (nil = all), chosen by the original's selection.
    public var testSample: Int?
    public var selectionSeed: UInt32 = 3
    public var degradationSteps = 10
    public var reverse = false
    /// Replace removed tokens with [MASK] instead of deleting them.
    public var replace = false
    public var beta: Float = 1e-5
    public var trainSteps = 10
    public var learningRate: Float = 1
    public var batchSize = 10
    /// Run seed: the noise of example i is seeded from (seed, i).
    public var seed: UInt64 = 0
    /// original (fixed classes for IG/LIME, 512-padding for LIME) or corrected (gold label everywhere, masked).
    public var protocolVariant = "original"
    public var maxLength = 512
    public var skipBadRows = false
    /// Compute AOPC comprehensiveness/sufficiency (extra forwards, not in the original).
    public var aopc = true
    /// Dataset-estimator statistics file for IBA (nil = the original's sample estimator).
    public var estimatorFile: String?
    /// Attributions computed elsewhere (JSONL {"index", "attribution"}); method "external".
    public var attributionsFile: String?
    /// Arithmetic of IBA's upper layers during the optimisation (see `Precision`); the degradation test is float32.
    public var precision = Precision.float32

    public init() {}

    /// The options as strings for summary.json.
    public var summaryOptions: [String: String] {
        var o: [String: String] = [
            "data_path": dataPath, "layer": "\(layer)", "test_sample": testSample.map(String.init) ?? "all",
            "degrad_step": "\(degradationSteps)", "reverse": "\(reverse)", "replace": "\(replace)",
            "beta": "\(beta)", "train_steps": "\(trainSteps)", "lr": "\(learningRate)", "batch": "\(batchSize)",
            "seed": "\(seed)", "protocol": protocolVariant, "max_length": "\(maxLength)", "aopc": "\(aopc)",
        ]
        if let estimatorFile { o["estimator_data"] = estimatorFile }
        if let attributionsFile { o["attributions"] = attributionsFile }
        // Only when not the default, so float32 summaries read as before this option existed.
        if precision != .float32 { o["precision"] = precision.rawValue }
        return o
    }
}
