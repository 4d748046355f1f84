/// All checkpoint-name handling lives here: canonical names are Hugging Face's
/// `BertForSequenceClassification` keys without the `bert.` prefix.
public enum ParameterNames {
    /// Ordered (name, shape) list of every parameter of the classifier.
    public static func specs(_ c: BertConfig) -> [(name: String, shape: [Int])] {
        let h = c.hiddenSize, i = c.intermediateSize
        var specs: [(String, [Int])] = [
            ("embeddings.word_embeddings.weight", [c.vocabSize, h]),
            ("embeddings.position_embeddings.weight", [c.maxPositions, h]),
            ("embeddings.token_type_embeddings.weight", [c.typeVocabSize, h]),
            ("embeddings.LayerNorm.weight", [h]), ("embeddings.LayerNorm.bias", [h]),
        ]
        for l in 0..<c.numLayers {
            let p = "encoder.layer.\(l)."
            for part in ["query", "key", "value"] {
                specs.append((p + "attention.self.\(part).weight", [h, h]))
                specs.append((p + "attention.self.\(part).bias", [h]))
            }
            specs += [
                (p + "attention.output.dense.weight", [h, h]), (p + "attention.output.dense.bias", [h]),
                (p + "attention.output.LayerNorm.weight", [h]), (p + "attention.output.LayerNorm.bias", [h]),
                (p + "intermediate.dense.weight", [i, h]), (p + "intermediate.dense.bias", [i]),
                (p + "output.dense.weight", [h, i]), (p + "output.dense.bias", [h]),
                (p + "output.LayerNorm.weight", [h]), (p + "output.LayerNorm.bias", [h]),
            ]
        }
        specs += [
            ("pooler.dense.weight", [h, h]), ("pooler.dense.bias", [h]),
            ("classifier.weight", [c.numLabels, h]), ("classifier.bias", [c.numLabels]),
        ]
        return specs
    }

    /// Maps a stored key to its canonical name: drops `bert.`, renames legacy LayerNorm `gamma`/`beta`.
    public static func canonical(_ stored: String) -> String {
        var name = stored
        if name.hasPrefix("bert.") { name.removeFirst(5) }
        if name.contains("LayerNorm.") {
            if name.hasSuffix(".gamma") { name = String(name.dropLast(6)) + ".weight" }
            if name.hasSuffix(".beta") { name = String(name.dropLast(5)) + ".bias" }
        }
        return name
    }

    /// Non-parameter buffers that checkpoints carry and we ignore silently.
    public static func isIgnoredBuffer(_ canonical: String) -> Bool {
        canonical.hasSuffix("position_ids") || canonical.hasSuffix("token_type_ids")
    }

    /// Infers the architecture from tensor shapes (head size 64 unless told otherwise).
    public static func inferConfig(from source: TensorSource, headSize: Int = 64) throws -> BertConfig {
        var shapes = [String: [Int]]()
        for stored in source.tensorNames { shapes[canonical(stored)] = source.shape(of: stored) }
        guard let word = shapes["embeddings.word_embeddings.weight"], word.count == 2 else {
            throw BertError.cannotInferArchitecture(reason: "no 2-D embeddings.word_embeddings.weight")
        }
        let h = word[1]
        var layers = 0
        while shapes["encoder.layer.\(layers).attention.self.query.weight"] != nil { layers += 1 }
        guard layers > 0 else { throw BertError.cannotInferArchitecture(reason: "no encoder.layer.0 tensors") }
        guard let inter = shapes["encoder.layer.0.intermediate.dense.weight"], inter.count == 2 else {
            throw BertError.cannotInferArchitecture(reason: "no encoder.layer.0.intermediate.dense.weight")
        }
        guard headSize > 0, h % headSize == 0 else {
            throw BertError.cannotInferArchitecture(
                reason: "hidden size \(h) is not a multiple of head size \(headSize)")
        }
        var config = BertConfig(vocabSize: word[0], hiddenSize: h, numLayers: layers, numHeads: h / headSize,
                                intermediateSize: inter[0])
        if let pos = shapes["embeddings.position_embeddings.weight"], pos.count == 2 { config.maxPositions = pos[0] }
        if let type = shapes["embeddings.token_type_embeddings.weight"], type.count == 2 {
            config.typeVocabSize = type[0]
        }
        if let cls = shapes["classifier.weight"], cls.count == 2 { config.numLabels = cls[0] }
        return config
    }
}
