import Foundation

/// torch.optim.Adam (no weight decay, no amsgrad) over one flat parameter buffer.
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

    /// One update of `parameters` from `gradients`, in torch's arithmetic order.
    public mutating func update(_ parameters: UnsafeMutablePointer<Float>, gradients: UnsafePointer<Float>, count: Int) {
        step += 1
        let biasCorrection1 = 1 - powf(beta1, Float(step))
        let biasCorrection2 = 1 - powf(beta2, Float(step))
        let stepSize = learningRate / biasCorrection1
        let biasCorrection2Root = biasCorrection2.squareRoot()
        for i in 0..<count {
            let g = gradients[i]
            firstMoment[i] = firstMoment[i] * beta1 + (1 - beta1) * g
            secondMoment[i] = secondMoment[i] * beta2 + (1 - beta2) * g * g
            let denominator = secondMoment[i].squareRoot() / biasCorrection2Root + epsilon
            parameters[i] -= stepSize * firstMoment[i] / denominator
        }
    }
}
