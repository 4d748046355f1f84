import Foundation
import BERT

/// A small random classifier built in memory (no files needed), for gradient checks.
func randomTinyModel(seed: UInt64, layers: Int = 3, labels: Int = 3) throws -> BertModel {
    let config = BertConfig(vocabSize: 30, hiddenSize: 8, numLayers: layers, numHeads: 2, intermediateSize: 16,
                            maxPositions: 32, typeVocabSize: 2, layerNormEps: 1e-12, numLabels: labels)
    var generator = NormalGenerator(seed: seed)
    let tensors = InMemoryTensors()
    for spec in ParameterNames.specs(config) {
        let count = spec.shape.reduce(1, *)
        let gain = spec.name.hasSuffix("LayerNorm.weight")
        tensors.set(spec.name, shape: spec.shape, values: (0..<count).map { _ in gain ? 1 + 0.2 * generator.next() : 0.5 * generator.next() })
    }
    var report = LoadReport()
    return BertModel(parameters: try BertParameters(config: config, source: tensors, sourcePath: "memory", report: &report), tokenizer: nil)
}

func pearson(_ a: [Float], _ b: [Double]) -> Double {
    let x = a.map(Double.init), n = Double(x.count)
    let mx = x.reduce(0, +) / n, my = b.reduce(0, +) / n
    var sxy = 0.0, sxx = 0.0, syy = 0.0
    for (u, v) in zip(x, b) { sxy += (u - mx) * (v - my); sxx += (u - mx) * (u - mx); syy += (v - my) * (v - my) }
    return sxy / (sxx * syy).squareRoot()
}
