/// out (R,C) = (inp - mean) * rstd * gamma + beta per row; keeps mean and rstd (R) for the backward.
/// Statistics in Double: BERT's post-LN residual streams reach magnitudes where a float sum loses digits.
public func layerNormForward(
    out: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>?, rstd: UnsafeMutablePointer<Float>?,
    inp: UnsafePointer<Float>, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
    rows: Int, channels: Int, eps: Float
) {
    for r in 0..<rows {
        let x = inp + r * channels
        var sum = 0.0
        for c in 0..<channels { sum += Double(x[c]) }
        let m = sum / Double(channels)
        var variance = 0.0
        for c in 0..<channels { let d = Double(x[c]) - m; variance += d * d }
        variance /= Double(channels)
        let s = 1.0 / (variance + Double(eps)).squareRoot()
        let mf = Float(m), sf = Float(s)
        let y = out + r * channels
        for c in 0..<channels { y[c] = (x[c] - mf) * sf * gamma[c] + beta[c] }
        mean?[r] = mf
        rstd?[r] = sf
    }
}

/// dout (R,C) -> dinp += ..., dgamma/dbeta (C) += ... (nil skips). Uses the forward's mean and rstd.
public func layerNormBackward(
    dinp: UnsafeMutablePointer<Float>?, dgamma: UnsafeMutablePointer<Float>?, dbeta: UnsafeMutablePointer<Float>?,
    dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, gamma: UnsafePointer<Float>,
    mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>, rows: Int, channels: Int
) {
    let invC = 1 / Float(channels)
    for r in 0..<rows {
        let x = inp + r * channels, dy = dout + r * channels
        let m = mean[r], s = rstd[r]
        var sumDnorm: Float = 0, sumDnormXhat: Float = 0
        for c in 0..<channels {
            let xhat = (x[c] - m) * s
            let dnorm = dy[c] * gamma[c]
            sumDnorm += dnorm
            sumDnormXhat += dnorm * xhat
        }
        let meanDnorm = sumDnorm * invC, meanDnormXhat = sumDnormXhat * invC
        if let dinp {
            let dx = dinp + r * channels
            for c in 0..<channels {
                let xhat = (x[c] - m) * s
                dx[c] += (dy[c] * gamma[c] - meanDnorm - xhat * meanDnormXhat) * s
            }
        }
        if let dgamma, let dbeta {
            for c in 0..<channels {
                dgamma[c] += dy[c] * (x[c] - m) * s
                dbeta[c] += dy[c]
            }
        }
    }
}
