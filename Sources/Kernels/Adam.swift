import Foundation

/// One Adam(W) update over a flat tensor, as torch.optim.AdamW (torch.optim.Adam with weightDecay 0):
/// decoupled decay p -= lr * decay * p, then p -= lr * mhat / (sqrt(vhat) + eps) with bias-corrected moments.
/// parameters, gradients, firstMoment, secondMoment are (count); `step` counts from 1. The bias corrections
/// are computed in Double, as torch computes them in Python floats.
public func adamWUpdate(
    parameters: UnsafeMutablePointer<Float>, gradients: UnsafePointer<Float>,
    firstMoment: UnsafeMutablePointer<Float>, secondMoment: UnsafeMutablePointer<Float>, count: Int,
    learningRate: Float, beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float, step: Int
) {
    let correction1 = Float(1 - pow(Double(beta1), Double(step)))
    let correction2 = Float(1 - pow(Double(beta2), Double(step)))
    let stepSize = learningRate / correction1, rootCorrection2 = correction2.squareRoot()
    let shrink = 1 - learningRate * weightDecay
    for i in 0..<count {
        let g = gradients[i]
        let m = beta1 * firstMoment[i] + (1 - beta1) * g
        let v = beta2 * secondMoment[i] + (1 - beta2) * g * g
        firstMoment[i] = m; secondMoment[i] = v
        parameters[i] = parameters[i] * shrink - stepSize * m / (v.squareRoot() / rootCorrection2 + epsilon)
    }
}
