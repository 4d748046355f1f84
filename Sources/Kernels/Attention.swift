import CKernels
import Foundation

/// Which code runs attention for a (sequence, head). `.gemm`: the library's sgemm, 2 calls forward and 4 backward,
/// with the C softmax rows between. `.fused`: one C kernel (CKernels attention.c) with every product in plain
/// loops, for head sizes up to 64. `.automatic`: the fused kernel on the shapes where it measured faster.
/// The two agree to float rounding (about 1e-7 relative), not bit for bit.
public enum AttentionKernel: String, Sendable, CaseIterable, Codable {
    case automatic, gemm, fused

    /// What runs with GEMMs on `backend`: `.automatic` is the sgemm path there unless the library is oneDNN.
    public func effective(on backend: GEMMBackend) -> AttentionKernel {
        self == .automatic && backend != .onednn ? .gemm : self
    }

    /// `IBA_FUSED_ATTENTION`: 0 the sgemm path, 1 the fused kernel wherever it applies, unset or anything else
    /// automatic. Read once, for A/B runs of whole commands.
    public static let fromEnvironment: AttentionKernel = {
        switch ProcessInfo.processInfo.environment["IBA_FUSED_ATTENTION"] {
        case "0": .gemm
        case "1": .fused
        default: .automatic
        }
    }()

    /// Up to this many keys the fused kernel beat oneDNN's per-head calls (scripts/bench.sh, attention rows:
    /// MiniLM's 12 heads of 32, 10 sequences, 1 thread, AMD EPYC with AVX-512: 0.23x the time at 32 tokens, 0.75x
    /// at 128, about even at 192, 1.1-1.3x at 512). Against OpenBLAS, whose small calls cost little, it came out
    /// even (0.85-1.0x, [CLS]-only queries 1.8x), so with OpenBLAS (the library of AVX2-only machines) attention
    /// stays on sgemm.
    static let fusedMaxKeys = 128

    /// Whether a (sequence, head) of `keys` tokens and head size `headSize` runs fused.
    func fuses(keys: Int, headSize: Int, backend: GEMMBackend) -> Bool {
        guard headSize <= 64 else { return false }
        switch self {
        case .gemm: return false
        case .fused: return true
        case .automatic: return backend == .onednn && keys <= Self.fusedMaxKeys
        }
    }
}

/// Training mode only: dropout on the attention probabilities. `mask` and `dropped` are (layout.probabilityCount),
/// like the probabilities; the forward writes dropped = P * mask and multiplies V by it, P itself stays for the
/// softmax backward.
public struct AttentionDropout {
    public var mask: UnsafePointer<Float>
    public var dropped: UnsafeMutablePointer<Float>
    public init(mask: UnsafePointer<Float>, dropped: UnsafeMutablePointer<Float>) {
        self.mask = mask; self.dropped = dropped
    }
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
        if context.attention.fuses(keys: n, headSize: d, backend: context.backend),
           iba_attention_forward(
               out + qColumn, p, dropout.map { $0.dropped + offset }, dropout.map { $0.mask + offset },
               q + qColumn, k + kvColumn, v + kvColumn, m, n, d, channels, scale) == 0 {
            return
        }
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
              a: weights, lda: n, b: v + kvColumn, ldb: channels, beta: 0, c: out + qColumn, ldc: channels,
              context: context)
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
        if context.attention.fuses(keys: n, headSize: d, backend: context.backend),
           iba_attention_backward(dq + qColumn, dk + kvColumn, dv + kvColumn, ds, dout + qColumn, p,
                                  dropout.map { UnsafePointer($0.dropped + offset) }, dropout.map { $0.mask + offset },
                                  q + qColumn, k + kvColumn, v + kvColumn, m, n, d, channels, scale) == 0 {
            return
        }
        // dP = dout V^T (then through the dropout mask) ; dV += (P or P * mask)^T dout
        sgemm(transA: false, transB: true, m: m, n: n, k: d,
              a: dout + qColumn, lda: channels, b: v + kvColumn, ldb: channels, beta: 0, c: ds, ldc: n,
              context: context)
        if let dropout { dropoutBackward(ds, mask: dropout.mask + offset, count: m * n) }
        sgemm(transA: true, transB: false, m: n, n: d, k: m,
              a: weights, lda: n, b: dout + qColumn, ldb: channels, beta: 1, c: dv + kvColumn, ldc: channels,
              context: context)
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
func forEachSequenceAndHead(
    _ layout: SequenceLayout, context: ComputeContext, _ body: (Int, Int, ComputeContext) -> Void
) {
    let items = layout.batch * layout.heads
    guard context.threads > 1, items >= context.threads else {
        for b in 0..<layout.batch { for h in 0..<layout.heads { body(b, h, context) } }
        return
    }
    let inner = context.singleThreaded
    parallelItems(items, context: context) { item in body(item / layout.heads, item % layout.heads, inner) }
}
