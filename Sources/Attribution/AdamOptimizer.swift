import Kernels

/// torch.optim.Adam (no weight decay, no amsgrad) over one flat parameter buffer: the moments of
/// `adamWUpdate` for IBA's alpha.
public struct AdamOptimizer {
    public var learningRate: Float
    public var beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8
    public private(set) var step = 0
    private var firstMoment: [Float], secondMoment: [Float]

    public init(count: Int, learningRate: Float) {
        self.learningRate = learningRate
        firstMoment = [Float](repeating: 0, count: count)
        secondMoment = [Float](repeating: 0, count: count)
    }

    /// One update of `parameters` (count) from `gradients` (count).
    public mutating func update(_ parameters: UnsafeMutablePointer<Float>, gradients: UnsafePointer<Float>,
                                count: Int) {
        step += 1
        adamWUpdate(
            parameters: parameters, gradients: gradients, firstMoment: &firstMoment, secondMoment: &secondMoment,
            count: count, learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: 0,
            step: step)
    }
}
