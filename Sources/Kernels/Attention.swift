import CKernels

/// Training mode only: dropout on the attention probabilities. `mask` and `dropped` are (layout.probabilityCount),
/// like the probabilities; the forward writes dropped = P * mask and multiplies V by it, P itself stays for the
/// softmax backward.
public struct AttentionDropout {
    public var mask: UnsafePointer<Float>
    public var dropped: UnsafeMutablePointer<Float>
    public init(mask: UnsafePointer<Float>, dropped: UnsafeMutablePointer<Float>) { self.mask = mask; self.dropped = dropped }
}

/// Multi-head self-attention core over a packed batch.
/// q, k, v, out are (R, C) with head h in columns h*D ..< (h+1)*D, D = C / heads.
/// probs is (layout.probabilityCount): per sequence (heads, len, len) P = softmax(q k^T / sqrt D), kept for the
/// backward; out = P V, or (P * mask) V with `dropout`.
public func attentionForward(
    out: UnsafeMutablePointer<Float>, probs: UnsafeMutablePointer<Float>,
    q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
    layout: SequenceLayout, channels: Int, dropout: AttentionDropout? = nil, context: ComputeContext
) {
    let heads = layout.heads, d = channels / heads
    let scale = 1 / Float(d).squareRoot()
    forEachSequenceAndHead(layout, context: context) { b, h, context in
        let n = layout.lengths[b], row0 = layout.offsets[b]
        let offset = layout.probabilityOffsets[b] + h * n * n
        let p = probs + offset
        let column = row0 * channels + h * d
        sgemm(transA: false, transB: true, m: n, n: n, k: d, alpha: scale,
              a: q + column, lda: channels, b: k + column, ldb: channels, beta: 0, c: p, ldc: n, context: context)
        iba_softmax_rows(p, n, n, 1)
        var weights = UnsafePointer(p)
        if let dropout {
            let dropped = dropout.dropped + offset
            dropped.update(from: p, count: n * n)
            dropoutForward(dropped, mask: dropout.mask + offset, count: n * n)
            weights = UnsafePointer(dropped)
        }
        sgemm(transA: false, transB: false, m: n, n: d, k: n,
              a: weights, lda: n, b: v + column, ldb: channels, beta: 0, c: out + column, ldc: channels, context: context)
    }
}

/// dout (R, C) -> dq, dk, dv (R, C) += ... . `scratch` holds layout.probabilityCount floats (one block per
/// sequence and head); `dropout` must be the forward's.
public func attentionBackward(
    dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>, dv: UnsafeMutablePointer<Float>,
    scratch: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, probs: UnsafePointer<Float>,
    q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
    layout: SequenceLayout, channels: Int, dropout: AttentionDropout? = nil, context: ComputeContext
) {
    let heads = layout.heads, d = channels / heads
    let scale = 1 / Float(d).squareRoot()
    forEachSequenceAndHead(layout, context: context) { b, h, context in
        let n = layout.lengths[b], row0 = layout.offsets[b]
        let offset = layout.probabilityOffsets[b] + h * n * n
        let p = probs + offset, ds = scratch + offset
        let weights = dropout.map { UnsafePointer($0.dropped + offset) } ?? p
        let column = row0 * channels + h * d
        // dP = dout V^T (then through the dropout mask) ; dV += (P or P * mask)^T dout
        sgemm(transA: false, transB: true, m: n, n: n, k: d,
              a: dout + column, lda: channels, b: v + column, ldb: channels, beta: 0, c: ds, ldc: n, context: context)
        if let dropout { dropoutBackward(ds, mask: dropout.mask + offset, count: n * n) }
        sgemm(transA: true, transB: false, m: n, n: d, k: n,
              a: weights, lda: n, b: dout + column, ldb: channels, beta: 1, c: dv + column, ldc: channels, context: context)
        // dS = P * (dP - rowsum(dP * P)) * scale (softmax backward, then the 1/sqrt(D) scaling)
        iba_softmax_backward_rows(ds, p, n, n, scale)
        // dQ += dS K ; dK += dS^T Q
        sgemm(transA: false, transB: false, m: n, n: d, k: n,
              a: ds, lda: n, b: k + column, ldb: channels, beta: 1, c: dq + column, ldc: channels, context: context)
        sgemm(transA: true, transB: false, m: n, n: d, k: n,
              a: ds, lda: n, b: q + column, ldb: channels, beta: 1, c: dk + column, ldc: channels, context: context)
    }
}

/// Runs body(b, h, context) for every sequence and head. With several threads the (small) per-head GEMMs
/// run concurrently, each on one thread (the context body gets), instead of each GEMM being split across
/// threads. Every (b, h) writes disjoint memory, so the result does not depend on the schedule.
func forEachSequenceAndHead(_ layout: SequenceLayout, context: ComputeContext, _ body: (Int, Int, ComputeContext) -> Void) {
    let items = layout.batch * layout.heads
    guard context.threads > 1, items >= context.threads else {
        for b in 0..<layout.batch { for h in 0..<layout.heads { body(b, h, context) } }
        return
    }
    let inner = context.singleThreaded
    parallelItems(items, context: context) { item in body(item / layout.heads, item % layout.heads, inner) }
}
