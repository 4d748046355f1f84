import Foundation

/// Architecture of a BERT sequence classifier, read from a Hugging Face config.json.
public struct BertConfig: Codable, Equatable, Sendable {
    public var vocabSize: Int
    public var hiddenSize: Int
    public var numLayers: Int
    public var numHeads: Int
    public var intermediateSize: Int
    public var maxPositions: Int
    public var typeVocabSize: Int
    public var layerNormEps: Float
    public var numLabels: Int
    /// Class names from config.json's `id2label`, one per label; nil when it has none or only
    /// transformers' placeholders (LABEL_0, LABEL_1, ...).
    public var labelNames: [String]?
    /// How many entries config.json's `id2label` has (nil without one): when that is not the label count
    /// the names are not used, and the loader says so instead of dropping them silently.
    public var id2labelCount: Int?

    enum CodingKeys: String, CodingKey {
        case vocabSize = "vocab_size", hiddenSize = "hidden_size", numLayers = "num_hidden_layers"
        case numHeads = "num_attention_heads", intermediateSize = "intermediate_size"
        case maxPositions = "max_position_embeddings", typeVocabSize = "type_vocab_size"
        case layerNormEps = "layer_norm_eps", numLabels = "num_labels", id2label, hiddenAct = "hidden_act"
        case modelType = "model_type", architectures
    }

    public init(vocabSize: Int = 30522, hiddenSize: Int = 768, numLayers: Int = 12, numHeads: Int = 12,
                intermediateSize: Int = 3072, maxPositions: Int = 512, typeVocabSize: Int = 2,
                layerNormEps: Float = 1e-12, numLabels: Int = 2, labelNames: [String]? = nil) {
        self.vocabSize = vocabSize; self.hiddenSize = hiddenSize; self.numLayers = numLayers
        self.numHeads = numHeads; self.intermediateSize = intermediateSize; self.maxPositions = maxPositions
        self.typeVocabSize = typeVocabSize; self.layerNormEps = layerNormEps; self.numLabels = numLabels
        self.labelNames = labelNames
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = BertConfig()
        vocabSize = try c.decodeIfPresent(Int.self, forKey: .vocabSize) ?? defaults.vocabSize
        hiddenSize = try c.decodeIfPresent(Int.self, forKey: .hiddenSize) ?? defaults.hiddenSize
        numLayers = try c.decodeIfPresent(Int.self, forKey: .numLayers) ?? defaults.numLayers
        numHeads = try c.decodeIfPresent(Int.self, forKey: .numHeads) ?? defaults.numHeads
        intermediateSize = try c.decodeIfPresent(Int.self, forKey: .intermediateSize) ?? defaults.intermediateSize
        maxPositions = try c.decodeIfPresent(Int.self, forKey: .maxPositions) ?? defaults.maxPositions
        typeVocabSize = try c.decodeIfPresent(Int.self, forKey: .typeVocabSize) ?? defaults.typeVocabSize
        layerNormEps = try c.decodeIfPresent(Float.self, forKey: .layerNormEps) ?? defaults.layerNormEps
        // Hugging Face stores the label count implicitly in id2label unless num_labels is given.
        let id2label = try c.decodeIfPresent([String: String].self, forKey: .id2label)
        if let n = try c.decodeIfPresent(Int.self, forKey: .numLabels) {
            numLabels = n
        } else if let id2label {
            numLabels = id2label.count
        } else {
            numLabels = defaults.numLabels
        }
        labelNames = id2label.flatMap { Self.names(id2label: $0, count: numLabels) }
        id2labelCount = id2label?.count
        // The forward pass is BERT's: RoBERTa (no token types, positions counted from padding_idx + 1, a BPE
        // vocabulary), DistilBERT, ALBERT, ... would load into it, or half of it, and give wrong numbers silently.
        if let type = try c.decodeIfPresent(String.self, forKey: .modelType), type.lowercased() != "bert" {
            throw DecodingError.dataCorruptedError(forKey: .modelType, in: c, debugDescription:
                "model_type \"\(type)\" is not supported: iba-swift computes BERT (model_type \"bert\") only, "
                + "and running a \(type) checkpoint as BERT would give wrong numbers")
        }
        if let act = try c.decodeIfPresent(String.self, forKey: .hiddenAct), act != "gelu" {
            throw DecodingError.dataCorruptedError(forKey: .hiddenAct, in: c,
                debugDescription: "hidden_act \(act) is not supported (BERT uses the erf GELU, \"gelu\")")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(vocabSize, forKey: .vocabSize); try c.encode(hiddenSize, forKey: .hiddenSize)
        try c.encode(numLayers, forKey: .numLayers); try c.encode(numHeads, forKey: .numHeads)
        try c.encode(intermediateSize, forKey: .intermediateSize); try c.encode(maxPositions, forKey: .maxPositions)
        try c.encode(typeVocabSize, forKey: .typeVocabSize); try c.encode(layerNormEps, forKey: .layerNormEps)
        try c.encode(numLabels, forKey: .numLabels); try c.encode("gelu", forKey: .hiddenAct)
        try c.encode("bert", forKey: .modelType)
        try c.encode(["BertForSequenceClassification"], forKey: .architectures)
        try c.encode(
            Dictionary(uniqueKeysWithValues: (0..<numLabels).map { ("\($0)", labelName($0) ?? "LABEL_\($0)") }),
            forKey: .id2label)
    }

    /// The names of classes 0..<count from an id2label map; nil unless every id has a distinct name and
    /// some name is more than transformers' placeholder LABEL_i.
    static func names(id2label: [String: String], count: Int) -> [String]? {
        guard id2label.count == count else { return nil }
        var names = [String]()
        for id in 0..<count {
            guard let name = id2label["\(id)"], !name.isEmpty else { return nil }
            names.append(name)
        }
        guard Set(names).count == count, names.enumerated().contains(where: { $1 != "LABEL_\($0)" }) else { return nil }
        return names
    }

    /// Why config.json's class names are not used, when it has an id2label of another length than the labels.
    public var labelNamesWarning: String? {
        guard let count = id2labelCount, count != numLabels else { return nil }
        return "config.json's id2label names \(count) class(es) but the model has \(numLabels) labels: "
            + "its names are not used and classes are shown by number"
    }

    /// The name of class `index`, when the config has names.
    public func labelName(_ index: Int) -> String? {
        guard let labelNames, labelNames.indices.contains(index) else { return nil }
        return labelNames[index]
    }

    /// The class index a name (case-insensitive) or a number stands for.
    public func labelIndex(_ nameOrNumber: String) -> Int? {
        if let index = Int(nameOrNumber) { return index }
        return labelNames?.firstIndex { $0.caseInsensitiveCompare(nameOrNumber) == .orderedSame }
    }

    public static func load(_ url: URL) throws -> BertConfig {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw BertError.badConfig(path: url.path, reason: "cannot read the file (\(error.localizedDescription))")
        }
        let config: BertConfig
        do {
            config = try JSONDecoder().decode(BertConfig.self, from: data)
        } catch DecodingError.dataCorrupted(let context) {
            throw BertError.badConfig(path: url.path, reason: context.debugDescription)
        } catch {
            throw BertError.badConfig(path: url.path, reason: "\(error)")
        }
        try config.validate(source: url.path)
        return config
    }

    public func validate(source: String) throws {
        let positive = [
            vocabSize, hiddenSize, numLayers, numHeads, intermediateSize, maxPositions, typeVocabSize, numLabels
        ]
        guard positive.allSatisfy({ $0 > 0 && $0 < 1 << 24 }) else {
            throw BertError.badConfig(path: source, reason: "sizes must be positive and sane")
        }
        guard hiddenSize % numHeads == 0 else {
            throw BertError.badConfig(
                path: source, reason: "hidden_size \(hiddenSize) is not a multiple of num_attention_heads \(numHeads)")
        }
        guard layerNormEps.isFinite, layerNormEps >= 0 else {
            throw BertError.badConfig(path: source, reason: "bad layer_norm_eps")
        }
        if let labelNames, labelNames.count != numLabels {
            throw BertError.badConfig(
                path: source, reason: "\(labelNames.count) label names (id2label) for \(numLabels) labels")
        }
    }

    public var headSize: Int { hiddenSize / numHeads }
}
