import CKernels

/// out (R,C) = (inp - mean) * rstd * gamma + beta per row; keeps mean and rstd (R) for the backward.
/// Statistics in Double (see CKernels): BERT's post-LN residual streams reach magnitudes where a float sum
/// loses digits.
/// Rows split across the GEMM threads; each row is computed the same way in any split.
public func layerNormForward(
    out: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>?, rstd: UnsafeMutablePointer<Float>?,
    inp: UnsafePointer<Float>, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
    rows: Int, channels: Int, eps: Float, context: ComputeContext
) {
    parallelChunks(rows, grain: 32, context: context) { chunk in
        let offset = chunk.lowerBound * channels
        iba_layernorm_forward(out + offset, mean.map { $0 + chunk.lowerBound }, rstd.map { $0 + chunk.lowerBound },
                              inp + offset, gamma, beta, chunk.count, channels, eps)
    }
}

/// dout (R,C) -> dinp += ..., dgamma/dbeta (C) += ... (nil skips). Uses the forward's mean and rstd.
public func layerNormBackward(
    dinp: UnsafeMutablePointer<Float>?, dgamma: UnsafeMutablePointer<Float>?, dbeta: UnsafeMutablePointer<Float>?,
    dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, gamma: UnsafePointer<Float>,
    mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>, rows: Int, channels: Int, context: ComputeContext
) {
    if let dinp {
        parallelChunks(rows, grain: 32, context: context) { chunk in
            let offset = chunk.lowerBound * channels
            iba_layernorm_backward_input(dinp + offset, dout + offset, inp + offset, gamma,
                                         mean + chunk.lowerBound, rstd + chunk.lowerBound, chunk.count, channels)
        }
    }
    // Parameter gradients sum over rows (training only): one thread, in row order.
    if let dgamma, let dbeta {
        for r in 0..<rows {
            let x = inp + r * channels, dy = dout + r * channels
            let m = mean[r], s = rstd[r]
            for c in 0..<channels {
                dgamma[c] += dy[c] * (x[c] - m) * s
                dbeta[c] += dy[c]
            }
        }
    }
}
