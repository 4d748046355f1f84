import Foundation
import BERT
import Tokenizer

/// A word-level vocabulary small enough for tiny models: the five specials, then `words`.
let tinyWords = ["good", "great", "bad", "awful", "the", "movie", "film", "plot", "was", "and", "very", "a", "story", "acting", "it"]

func tinyTokenizer() throws -> BertTokenizer {
    try BertTokenizer(vocabulary: Vocabulary(tokens: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + tinyWords))
}

/// A random classifier built in memory with a tokenizer. `scale` is the std of weights and biases;
/// LayerNorm gains are 1 + 0.2 N(0,1) so the gain gradients are not degenerate.
func tinyModel(seed: UInt64, layers: Int = 2, hidden: Int = 8, labels: Int = 3, scale: Float = 0.5) throws -> BertModel {
    let tokenizer = try tinyTokenizer()
    let config = BertConfig(vocabSize: tokenizer.vocabulary.count, hiddenSize: hidden, numLayers: layers, numHeads: 2,
                            intermediateSize: 2 * hidden, maxPositions: 32, typeVocabSize: 2, layerNormEps: 1e-12,
                            numLabels: labels)
    var generator = NormalGenerator(seed: seed)
    let tensors = InMemoryTensors()
    for spec in ParameterNames.specs(config) {
        let count = spec.shape.reduce(1, *)
        let gain = spec.name.hasSuffix("LayerNorm.weight")
        tensors.set(spec.name, shape: spec.shape, values: (0..<count).map { _ in gain ? 1 + 0.2 * generator.next() : scale * generator.next() })
    }
    var report = LoadReport()
    let parameters = try BertParameters(config: config, source: tensors, sourcePath: "memory", report: &report)
    return BertModel(parameters: parameters, tokenizer: tokenizer)
}
