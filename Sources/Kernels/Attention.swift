import CKernels

/// Training mode only: dropout on the attention probabilities. `mask` and `dropped` are (layout.probabilityCount),
/// like the probabilities; the forward writes dropped = P * mask and multiplies V by it, P itself stays for the
/// softmax backward.
public struct AttentionDropout {
    public var mask: UnsafePointer<Float>
    public var dropped: UnsafeMutablePointer<Float>
    public init(mask: UnsafePointer<Float>, dropped: UnsafeMutablePointer<Float>) { self.mask = mask; self.dropped = dropped }
}

/// Multi-head self-attention core over a packed batch, for the query rows `queries` selects.
/// k, v are (R, C), q and out (layout.queryRows(queries), C), head h in columns h*D ..< (h+1)*D, D = C / heads.
/// probs is (layout.probabilityCount(queries)): per sequence (heads, query rows, len) P = softmax(q k^T / sqrt D),
/// kept for the backward; out = P V, or (P * mask) V with `dropout` (sized like probs).
public func attentionForward(
    out: UnsafeMutablePointer<Float>, probs: UnsafeMutablePointer<Float>,
    q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
    layout: SequenceLayout, channels: Int, queries: AttentionQueries = .all, dropout: AttentionDropout? = nil,
    context: ComputeContext
) {
    let heads = layout.heads, d = channels / heads
    let scale = 1 / Float(d).squareRoot()
    forEachSequenceAndHead(layout, context: context) { b, h, context in
        let n = layout.lengths[b], (m, q0, start) = layout.queries(b, queries)
        let offset = start + h * m * n
        let p = probs + offset
        let qColumn = q0 * channels + h * d, kvColumn = layout.offsets[b] * channels + h * d
        sgemm(transA: false, transB: true, m: m, n: n, k: d, alpha: scale,
              a: q + qColumn, lda: channels, b: k + kvColumn, ldb: channels, beta: 0, c: p, ldc: n, context: context)
        iba_softmax_rows(p, m, n, 1)
        var weights = UnsafePointer(p)
        if let dropout {
            let dropped = dropout.dropped + offset
            dropped.update(from: p, count: m * n)
            dropoutForward(dropped, mask: dropout.mask + offset, count: m * n)
            weights = UnsafePointer(dropped)
        }
        sgemm(transA: false, transB: false, m: m, n: d, k: n,
              a: weights, lda: n, b: v + kvColumn, ldb: channels, beta: 0, c: out + qColumn, ldc: channels, context: context)
    }
}

/// dout (query rows, C) -> dq (query rows, C), dk, dv (R, C) += ... . `scratch` holds
/// layout.probabilityCount(queries) floats; `queries` and `dropout` must be the forward's.
public func attentionBackward(
    dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>, dv: UnsafeMutablePointer<Float>,
    scratch: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, probs: UnsafePointer<Float>,
    q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
    layout: SequenceLayout, channels: Int, queries: AttentionQueries = .all, dropout: AttentionDropout? = nil,
    context: ComputeContext
) {
    let heads = layout.heads, d = channels / heads
    let scale = 1 / Float(d).squareRoot()
    forEachSequenceAndHead(layout, context: context) { b, h, context in
        let n = layout.lengths[b], (m, q0, start) = layout.queries(b, queries)
        let offset = start + h * m * n
        let p = probs + offset, ds = scratch + offset
        let weights = dropout.map { UnsafePointer($0.dropped + offset) } ?? p
        let qColumn = q0 * channels + h * d, kvColumn = layout.offsets[b] * channels + h * d
        // dP = dout V^T (then through the dropout mask) ; dV += (P or P * mask)^T dout
        sgemm(transA: false, transB: true, m: m, n: n, k: d,
              a: dout + qColumn, lda: channels, b: v + kvColumn, ldb: channels, beta: 0, c: ds, ldc: n, context: context)
        if let dropout { dropoutBackward(ds, mask: dropout.mask + offset, count: m * n) }
        sgemm(transA: true, transB: false, m: n, n: d, k: m,
              a: weights, lda: n, b: dout + qColumn, ldb: channels, beta: 1, c: dv + kvColumn, ldc: channels, context: context)
        // dS = P * (dP - rowsum(dP * P)) * scale (softmax backward, then the 1/sqrt(D) scaling)
        iba_softmax_backward_rows(ds, p, m, n, scale)
        // dQ += dS K ; dK += dS^T Q
        sgemm(transA: false, transB: false, m: m, n: d, k: n,
              a: ds, lda: n, b: k + kvColumn, ldb: channels, beta: 1, c: dq + qColumn, ldc: channels, context: context)
        sgemm(transA: true, transB: false, m: n, n: d, k: m,
              a: ds, lda: n, b: q + qColumn, ldb: channels, beta: 1, c: dk + kvColumn, ldc: channels, context: context)
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
