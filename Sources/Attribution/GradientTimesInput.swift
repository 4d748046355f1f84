import Foundation
import BERT
import Kernels

/// Gradient x input: per token, the sum over the hidden units of e * d p_target / d e (e = the embedding output),
/// divided by its L2 norm over tokens (signs kept), as IG is. IG with a zero baseline and one step, at the cost
/// of one forward and one backward. Not thread-safe; one per thread.
public final class GradientTimesInput: MethodExplainer {
    private let gradient: EmbeddingGradient

    public init(model: BertModel, context: ComputeContext) {
        gradient = EmbeddingGradient(model: model, context: context)
    }

    public func releaseMemory() { gradient.releaseMemory() }

    public func attribution(of example: ExampleToExplain, target: Int, seed: UInt64) throws -> [Float] {
        let h = gradient.model.config.hiddenSize
        let (e, g) = try gradient.atInput(example.input, target: target)
        let perToken = (0..<example.input.count).map { t -> Float in
            var s: Float = 0
            for u in 0..<h { s += e[t * h + u] * g[t * h + u] }
            return s
        }
        return dividedByL2Norm(perToken)
    }
}
