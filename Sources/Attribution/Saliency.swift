import Foundation
import BERT
import Kernels

/// Saliency: per token, the L2 norm over the hidden units of d p_target / d e (e = the embedding output, the
/// tensor IG integrates over), then divided by its L2 norm over tokens as IG is. One forward and one backward
/// at the real input. Not thread-safe; one per thread.
public final class Saliency: MethodExplainer {
    private let gradient: EmbeddingGradient

    public init(model: BertModel, context: ComputeContext) {
        gradient = EmbeddingGradient(model: model, context: context)
    }

    public func releaseMemory() { gradient.releaseMemory() }

    public func attribution(of example: ExampleToExplain, target: Int, seed: UInt64) throws -> [Float] {
        let h = gradient.model.config.hiddenSize
        let g = try gradient.atInput(example.input, target: target).gradient
        let perToken = (0..<example.input.count).map { t -> Float in
            var s = 0.0
            for u in 0..<h { s += Double(g[t * h + u]) * Double(g[t * h + u]) }
            return Float(s.squareRoot())
        }
        return dividedByL2Norm(perToken)
    }
}
