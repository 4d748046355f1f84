import Foundation
import BERT
import Kernels

/// Raw attention: the last layer's attention probabilities from [CLS] to each token, averaged over the heads.
/// Forward only; the logits-only top layer computes exactly that [CLS] query row. The explained class plays no
/// part (attention does not depend on it). Not thread-safe; one per thread.
public final class AttentionAttribution: MethodExplainer {
    public let model: BertModel
    private let tape: ForwardTape

    public init(model: BertModel, context: ComputeContext) {
        self.model = model
        tape = ForwardTape.forwardOnly(config: model.config, context: context)
    }

    public func releaseMemory() { tape.releaseMemory() }

    public func attribution(of example: ExampleToExplain, target: Int, seed: UInt64) throws -> [Float] {
        let config = model.config, n = example.input.count
        guard config.numLayers >= 1 else {
            throw AttributionError.invalidOption("attention needs at least one encoder layer")
        }
        try model.forward([example.input], tape: tape)
        let perHead = tape.firstQueryAttention(layer: config.numLayers - 1, sequence: 0)   // (heads, n)
        let heads = config.numHeads
        return (0..<n).map { j in
            var s: Float = 0
            for h in 0..<heads { s += perHead[h * n + j] }
            return s / Float(heads)
        }
    }
}
