import BERT
import Kernels

/// AdamW over every parameter of a classifier, with the Trainer's two groups: weight decay on
/// matrices and embeddings, none on biases and LayerNorm weights.
public final class AdamW {
    public var beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8
    public let weightDecay: Float
    public private(set) var stepCount = 0
    let firstMoment: BertParameters, secondMoment: BertParameters

    public init(config: BertConfig, weightDecay: Float) {
        self.weightDecay = weightDecay
        firstMoment = BertParameters(zeroed: config)
        secondMoment = BertParameters(zeroed: config)
    }

    /// Whether a parameter (canonical name) is decayed: not biases, not LayerNorm weights (as transformers' Trainer).
    public static func decays(_ name: String) -> Bool {
        !(name.hasSuffix(".bias") || name.contains("LayerNorm"))
    }

    public func step(parameters: BertParameters, gradients: BertParameters, learningRate: Float) {
        stepCount += 1
        for spec in parameters.specs {
            adamWUpdate(parameters: parameters[spec.name], gradients: gradients[spec.name],
                        firstMoment: firstMoment[spec.name], secondMoment: secondMoment[spec.name],
                        count: spec.shape.reduce(1, *), learningRate: learningRate, beta1: beta1, beta2: beta2,
                        epsilon: epsilon, weightDecay: Self.decays(spec.name) ? weightDecay : 0, step: stepCount)
        }
    }
}
