import Foundation
import BERT
import Kernels

/// Per-hidden-unit mean and std of the hidden state entering a layer, pooled over every token of a
/// dataset sample (the dataset estimator of Schulz et al.); saved as JSON so a cluster computes it once.
public struct EstimatorStatistics: Codable, Sendable, Equatable {
    public var layer: Int
    public var samples: Int
    public var tokens: Int
    public var mean: [Float]
    public var std: [Float]

    /// Streams the examples through layers 0..<layer; std floored at `minimumStd`.
    public static func estimate(model: BertModel, inputs: [ModelInput], layer: Int, minimumStd: Float = 0.01,
                                context: ComputeContext) throws -> EstimatorStatistics {
        let h = model.config.hiddenSize
        guard (0..<model.config.numLayers).contains(layer) else {
            throw AttributionError.invalidOption("layer \(layer) is outside the model")
        }
        guard !inputs.isEmpty else { throw AttributionError.invalidOption("the estimator needs at least one example") }
        var sum = [Double](repeating: 0, count: h), sumSquares = [Double](repeating: 0, count: h)
        var tokens = 0
        let tape = ForwardTape(config: model.config, context: context)
        for input in inputs {
            try model.validate([input])
            model.embed([input], tape: tape)
            model.forwardLayers(tape: tape, from: 0, to: layer)
            let hidden = tape.hiddenState(enteringLayer: layer)
            for r in 0..<input.count {
                for u in 0..<h { let v = Double(hidden[r * h + u]); sum[u] += v; sumSquares[u] += v * v }
            }
            tokens += input.count
        }
        let mean = sum.map { $0 / Double(tokens) }
        let std = (0..<h).map { u -> Float in
            let variance = max(0, sumSquares[u] / Double(tokens) - mean[u] * mean[u])
            return max(Float(variance.squareRoot()), minimumStd)
        }
        return EstimatorStatistics(
            layer: layer, samples: inputs.count, tokens: tokens, mean: mean.map(Float.init), std: std)
    }

    public func save(to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try encoder.encode(self).write(to: url, options: .atomic)
    }

    public static func load(_ url: URL) throws -> EstimatorStatistics {
        let stats: EstimatorStatistics
        do { stats = try JSONDecoder().decode(EstimatorStatistics.self, from: Data(contentsOf: url)) } catch {
            throw AttributionError.estimatorFile(path: url.path, reason: "\(error)")
        }
        guard stats.mean.count == stats.std.count, !stats.mean.isEmpty,
              stats.mean.allSatisfy(\.isFinite), stats.std.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw AttributionError.estimatorFile(
                path: url.path, reason: "mean and std must be finite, of equal length, std > 0")
        }
        return stats
    }
}
