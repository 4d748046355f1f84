import Foundation

// The per-example information bottleneck of the original (Schulz et al.'s IBA as used by Jiang et al.),
// contract section 2. All buffers are (n, H) flat except t and dt, which are (copies, n, H).

/// Forward: t[c] = (lam * z + noiseStd * eps[c]) * std + mean with lam = sigmoid(alpha), z = (x - mean) / std,
/// noiseStd = exp(clamp(log((1 - lam)^2), -10, 10) / 2); capacity = -0.5 (1 + logvar - mu^2 - exp(logvar)).
public func bottleneckForward(
    t: UnsafeMutablePointer<Float>, capacity: UnsafeMutablePointer<Float>,
    alpha: UnsafePointer<Float>, x: UnsafePointer<Float>, mean: UnsafePointer<Float>, std: UnsafePointer<Float>,
    eps: UnsafePointer<Float>, count: Int, copies: Int
) {
    for i in 0..<count {
        let lam = 1 / (1 + expf(-alpha[i]))
        let z = (x[i] - mean[i]) / std[i]
        let mu = lam * z
        let logvar = logf((1 - lam) * (1 - lam))
        let noiseStd = expf(min(max(logvar, -10), 10) / 2)
        capacity[i] = -0.5 * (1 + logvar - mu * mu - expf(logvar))
        for c in 0..<copies {
            let e = eps[c * count + i]
            t[c * count + i] = (mu + noiseStd * e) * std[i] + mean[i]
        }
    }
}

/// Backward: dalpha (n,H) = sum_c dt[c] * dt/dalpha + capacityWeight * dC/dalpha.
/// capacityWeight is d(loss)/d(capacity element) (beta / (n H) for the mean capacity term).
/// The clamp passes no gradient outside [-10, 10], as torch.clamp.
public func bottleneckBackward(
    dalpha: UnsafeMutablePointer<Float>, dt: UnsafePointer<Float>,
    alpha: UnsafePointer<Float>, x: UnsafePointer<Float>, mean: UnsafePointer<Float>, std: UnsafePointer<Float>,
    eps: UnsafePointer<Float>, capacityWeight: Float, count: Int, copies: Int
) {
    dalpha.update(repeating: 0, count: count)
    bottleneckBackwardCopies(
        dlam: dalpha, dt: dt, alpha: alpha, x: x, mean: mean, std: std, eps: eps, count: count, copies: copies)
    bottleneckBackwardFinish(dalpha: dalpha, dlam: dalpha, alpha: alpha, x: x, mean: mean, std: std,
                             capacityWeight: capacityWeight, count: count)
}

/// The noise copies' part of the backward, for the copies of one pass: dlam (n,H) += sum_c dt[c] * dt[c]/dlam,
/// in copy order, so passes over consecutive copies add up exactly as one pass over all of them.
/// dt and eps are (copies, n, H), this pass's copies.
public func bottleneckBackwardCopies(
    dlam: UnsafeMutablePointer<Float>, dt: UnsafePointer<Float>,
    alpha: UnsafePointer<Float>, x: UnsafePointer<Float>, mean: UnsafePointer<Float>, std: UnsafePointer<Float>,
    eps: UnsafePointer<Float>, count: Int, copies: Int
) {
    for i in 0..<count {
        let lam = 1 / (1 + expf(-alpha[i]))
        let z = (x[i] - mean[i]) / std[i]
        let oneMinus = 1 - lam
        let logvar = logf(oneMinus * oneMinus)
        let clamped = logvar < -10 || logvar > 10
        let noiseStd = expf(min(max(logvar, -10), 10) / 2)
        let dlogvarDlam = -2 / oneMinus
        let dNoiseStdDlam: Float = clamped ? 0 : noiseStd * 0.5 * dlogvarDlam
        var sum = dlam[i]
        for c in 0..<copies {
            sum += dt[c * count + i] * std[i] * (z + eps[c * count + i] * dNoiseStdDlam)
        }
        dlam[i] = sum
    }
}

/// The end of the backward once every copy is in dlam: dalpha (n,H) = (dlam + capacityWeight * dC/dlam) * dlam/dalpha.
/// dalpha may be dlam.
public func bottleneckBackwardFinish(
    dalpha: UnsafeMutablePointer<Float>, dlam: UnsafePointer<Float>,
    alpha: UnsafePointer<Float>, x: UnsafePointer<Float>, mean: UnsafePointer<Float>, std: UnsafePointer<Float>,
    capacityWeight: Float, count: Int
) {
    for i in 0..<count {
        let lam = 1 / (1 + expf(-alpha[i]))
        let z = (x[i] - mean[i]) / std[i]
        let oneMinus = 1 - lam
        let logvar = logf(oneMinus * oneMinus)
        let dlogvarDlam = -2 / oneMinus
        let mu = lam * z
        let dCapacityDlam = -0.5 * (1 - expf(logvar)) * dlogvarDlam + mu * z
        dalpha[i] = (dlam[i] + capacityWeight * dCapacityDlam) * lam * oneMinus
    }
}
