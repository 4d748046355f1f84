import Foundation

/// probs (B,K) = softmax(logits); returns the per-row cross-entropy -log p[target] (targets nil: no loss).
@discardableResult
public func softmaxCrossEntropyForward(
    probs: UnsafeMutablePointer<Float>, logits: UnsafePointer<Float>, targets: [Int]?, batch: Int, classes: Int
) -> [Float] {
    var losses = [Float]()
    for b in 0..<batch {
        let z = logits + b * classes, p = probs + b * classes
        var maxValue = -Float.infinity
        for k in 0..<classes { maxValue = max(maxValue, z[k]) }
        var sum: Double = 0
        for k in 0..<classes { let e = Foundation.exp(Double(z[k] - maxValue)); p[k] = Float(e); sum += e }
        for k in 0..<classes { p[k] = Float(Double(p[k]) / sum) }
        if let targets {
            // log-sum-exp form: exact even when p[target] underflows.
            losses.append(Float(Double(maxValue) + Foundation.log(sum) - Double(z[targets[b]])))
        }
    }
    return losses
}

/// dlogits (B,K) += scale * (probs - onehot(target)); scale = 1/B for a mean loss.
public func softmaxCrossEntropyBackward(
    dlogits: UnsafeMutablePointer<Float>, probs: UnsafePointer<Float>, targets: [Int], batch: Int, classes: Int,
    scale: Float
) {
    for b in 0..<batch {
        for k in 0..<classes {
            let indicator: Float = k == targets[b] ? 1 : 0
            dlogits[b * classes + k] += scale * (probs[b * classes + k] - indicator)
        }
    }
}

/// softmax(logits) of one row (K), by `softmaxCrossEntropyForward`.
public func softmax(_ logits: [Float]) -> [Float] {
    var probabilities = [Float](repeating: 0, count: logits.count)
    softmaxCrossEntropyForward(probs: &probabilities, logits: logits, targets: nil, batch: 1, classes: logits.count)
    return probabilities
}
