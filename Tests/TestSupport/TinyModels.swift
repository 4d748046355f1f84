import BERT
import Foundation
import Tokenizer

/// Random weights for `config`, built in memory (no files): normal values
/// times `scale`, LayerNorm gains 1 + `gainSpread` N(0,1) so gain gradients
/// are not degenerate.
public func tinyParameters(_ config: BertConfig, seed: UInt64, scale: Float = 0.5, gainSpread: Float = 0.2,
                           sourcePath: String = "memory") throws -> BertParameters {
    var generator = NormalGenerator(seed: seed)
    let tensors = InMemoryTensors()
    for spec in ParameterNames.specs(config) {
        let count = spec.shape.reduce(1, *)
        let gain = spec.name.hasSuffix("LayerNorm.weight")
        tensors.set(spec.name, shape: spec.shape, values: (0..<count).map { _ in
            gain ? 1 + gainSpread * generator.next() : scale * generator.next() })
    }
    var report = LoadReport()
    return try BertParameters(config: config, source: tensors, sourcePath: sourcePath, report: &report)
}

/// A small random classifier without a tokenizer, for gradient checks.
public func randomTinyModel(seed: UInt64, layers: Int = 3, labels: Int = 3) throws -> BertModel {
    let config = BertConfig(vocabSize: 30, hiddenSize: 8, numLayers: layers, numHeads: 2, intermediateSize: 16,
                            maxPositions: 32, typeVocabSize: 2, layerNormEps: 1e-12, numLabels: labels)
    return BertModel(parameters: try tinyParameters(config, seed: seed), tokenizer: nil)
}

/// A word-level vocabulary small enough for tiny models: the five specials, then `tinyWords`.
public let tinyWords = ["good", "great", "bad", "awful", "the", "movie", "film", "plot", "was", "and", "very", "a", "story", "acting", "it"]

public func tinyTokenizer() throws -> BertTokenizer {
    try BertTokenizer(vocabulary: Vocabulary(tokens: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + tinyWords))
}

/// A random classifier with `tinyTokenizer()`; `scale` is the std of weights and biases.
public func tinyModel(seed: UInt64, layers: Int = 2, hidden: Int = 8, labels: Int = 3, scale: Float = 0.5) throws -> BertModel {
    let tokenizer = try tinyTokenizer()
    let config = BertConfig(vocabSize: tokenizer.vocabulary.count, hiddenSize: hidden, numLayers: layers, numHeads: 2,
                            intermediateSize: 2 * hidden, maxPositions: 32, typeVocabSize: 2, layerNormEps: 1e-12,
                            numLabels: labels)
    return BertModel(parameters: try tinyParameters(config, seed: seed, scale: scale), tokenizer: tokenizer)
}
