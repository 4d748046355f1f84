/// The architecture a model ran with and where it came from, for summary.json and the cluster manifest
/// (so a run's record says whether the heads were read from a config or guessed from tensor shapes).
public struct ModelArchitecture: Codable, Equatable, Sendable {
    public var layers: Int
    public var hiddenSize: Int
    public var heads: Int
    public var headSize: Int
    public var intermediateSize: Int
    public var maxPositions: Int
    public var vocabSize: Int
    public var labels: Int
    public var labelNames: [String]?
    /// True when no config was found and the sizes were inferred from tensor shapes (the head count is a guess).
    public var inferred: Bool

    enum CodingKeys: String, CodingKey {
        case layers, hiddenSize = "hidden_size", heads, headSize = "head_size", intermediateSize = "intermediate_size"
        case maxPositions = "max_positions", vocabSize = "vocab_size", labels, labelNames = "label_names", inferred
    }

    public init(_ config: BertConfig, inferred: Bool) {
        layers = config.numLayers; hiddenSize = config.hiddenSize; heads = config.numHeads; headSize = config.headSize
        intermediateSize = config.intermediateSize; maxPositions = config.maxPositions; vocabSize = config.vocabSize
        labels = config.numLabels; labelNames = config.labelNames; self.inferred = inferred
    }

    /// "6 layers, hidden size 384, 12 heads of size 32, intermediate size 1536, 512 positions, 4 labels".
    public var summary: String {
        "\(layers) layers, hidden size \(hiddenSize), \(heads) heads of size \(headSize), "
            + "intermediate size \(intermediateSize), "
            + "\(maxPositions) positions, \(labels) labels"
    }
}

extension BertConfig {
    /// This configuration as a record of the architecture used.
    public func architecture(inferred: Bool) -> ModelArchitecture { ModelArchitecture(self, inferred: inferred) }
}
