import XCTest
@testable import Kernels

/// Row-wise, elementwise and per-head kernels split their work across the context's threads; each row must
/// come out bit-identical whatever the thread count (the example-parallel evaluation runs one thread, a lone
/// explain several).
final class ThreadCountTests: XCTestCase {
    func outputs(_ context: ComputeContext) -> [[Float]] {
        var rng = TestRandom(7)
        // Odd sizes: chunk edges and the 16-lane tails fall mid-row.
        let rows = 301, c = 77, count = rows * c
        let x = rng.normals(count, scale: 3), g = rng.normals(c), b = rng.normals(c), dy = rng.normals(count)
        var ln = [Float](repeating: 0, count: count), mean = [Float](repeating: 0, count: rows), rstd = [Float](repeating: 0, count: rows)
        layerNormForward(out: &ln, mean: &mean, rstd: &rstd, inp: x, gamma: g, beta: b, rows: rows, channels: c, eps: 1e-12, context: context)
        var dx = [Float](repeating: 0, count: count)
        layerNormBackward(dinp: &dx, dgamma: nil, dbeta: nil, dout: dy, inp: x, gamma: g, mean: mean, rstd: rstd, rows: rows, channels: c,
                          context: context)
        let big = 70_001
        let xs = rng.normals(big, scale: 2), ds = rng.normals(big)
        var gelu = [Float](repeating: 0, count: big), dgelu = [Float](repeating: 0, count: big)
        geluForward(out: &gelu, inp: xs, count: big, context: context)
        geluBackward(dinp: &dgelu, inp: xs, dout: ds, count: big, context: context)
        // Attention: every (sequence, head) block on one thread, whichever.
        let layout = SequenceLayout(lengths: [37, 5, 64], heads: 4)
        let width = 32, r = layout.rows
        let q = rng.normals(r * width), k = rng.normals(r * width), v = rng.normals(r * width), dout = rng.normals(r * width)
        var out = [Float](repeating: 0, count: r * width), probs = [Float](repeating: 0, count: layout.probabilityCount)
        attentionForward(out: &out, probs: &probs, q: q, k: k, v: v, layout: layout, channels: width, context: context)
        var dq = [Float](repeating: 0, count: r * width), dk = dq, dv = dq, scratch = probs
        attentionBackward(dq: &dq, dk: &dk, dv: &dv, scratch: &scratch, dout: dout, probs: probs, q: q, k: k, v: v,
                          layout: layout, channels: width, context: context)
        // ... and for the [CLS] queries alone (the top layer of a logits-only pass).
        let batch = layout.batch, firstProbs = layout.probabilityCount(.first)
        var clsOut = [Float](repeating: 0, count: batch * width), clsProbs = [Float](repeating: 0, count: firstProbs)
        attentionForward(out: &clsOut, probs: &clsProbs, q: Array(q.prefix(batch * width)), k: k, v: v, layout: layout, channels: width,
                         queries: .first, context: context)
        var clsDq = [Float](repeating: 0, count: batch * width), clsDk = [Float](repeating: 0, count: r * width), clsDv = clsDk
        var clsScratch = clsProbs
        attentionBackward(dq: &clsDq, dk: &clsDk, dv: &clsDv, scratch: &clsScratch, dout: Array(dout.prefix(batch * width)), probs: clsProbs,
                          q: Array(q.prefix(batch * width)), k: k, v: v, layout: layout, channels: width, queries: .first, context: context)
        return [ln, mean, rstd, dx, gelu, dgelu, out, probs, dq, dk, dv, clsOut, clsProbs, clsDq, clsDk, clsDv]
    }

    func testKernelsDoNotDependOnTheThreadCount() {
        for backend in GEMMBackend.allCases {
            let one = outputs(ComputeContext(backend: backend, threads: 1)), two = outputs(ComputeContext(backend: backend, threads: 2))
            for (i, (a, b)) in zip(one, two).enumerated() { XCTAssertEqual(a, b, "\(backend) output \(i): 1 vs 2 threads") }
        }
    }

    /// OpenBLAS's own pool stays at one thread (set once): a context's threads never change process-wide state.
    func testOpenBLASKeepsOneThread() {
        var out = [Float](repeating: 0, count: 64 * 64)
        let a = [Float](repeating: 1, count: 64 * 64)
        sgemm(transA: false, transB: false, m: 64, n: 64, k: 64, a: a, lda: 64, b: a, ldb: 64, beta: 0, c: &out, ldc: 64,
              context: ComputeContext(backend: .openblas, threads: 2))
        XCTAssertEqual(out[0], 64)
        XCTAssertEqual(OpenBLASThreads.current, 1)
    }
}

/// GEMMs of the shapes BERT runs (noise batches, FFN, weight gradients, [CLS] rows) must come out bit-identical
/// for any thread count on both libraries: a cluster verifies a result by comparing bytes, and workers may run
/// different `--worker-threads`.
final class GEMMThreadCountTests: XCTestCase {
    /// (transA, transB, m, n, k): MiniLM and bert-base forward, backward to the input, weight gradients.
    static let shapes: [(Bool, Bool, Int, Int, Int)] = [
        (false, true, 600, 384, 384), (false, true, 600, 1536, 384), (false, false, 600, 384, 1536),
        (true, false, 384, 1536, 600), (false, true, 1280, 768, 768), (false, true, 10, 768, 768),
        (false, false, 130, 3072, 768), (true, false, 768, 768, 1280),
    ]

    func product(_ shape: (Bool, Bool, Int, Int, Int), _ context: ComputeContext) -> [Float] {
        let (transA, transB, m, n, k) = shape
        var rng = TestRandom(UInt64(m * 31 + n * 7 + k))
        let a = rng.normals(m * k), b = rng.normals(k * n)
        var c = rng.normals(m * n)
        sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5, a: a, lda: transA ? m : k,
              b: b, ldb: transB ? k : n, beta: 1, c: &c, ldc: n, context: context)
        return c
    }

    func testGEMMsDoNotDependOnTheThreadCount() {
        for backend in GEMMBackend.allCases {
            for shape in Self.shapes {
                let one = product(shape, ComputeContext(backend: backend, threads: 1))
                for threads in [2, 3, 4] {
                    let other = product(shape, ComputeContext(backend: backend, threads: threads))
                    let first = zip(one, other).enumerated().first { $0.element.0 != $0.element.1 }
                    XCTAssertNil(first, "\(backend) \(shape), 1 vs \(threads) threads: first difference at \(first.map { "\($0.offset): \($0.element)" } ?? "")")
                }
            }
        }
    }

    /// The blocks come from the shape alone and tile the output exactly once.
    func testBlocksTileTheOutput() {
        for (_, _, m, n, k) in Self.shapes + [(false, false, 1, 1, 1), (false, false, 5000, 3, 7)] {
            let blocks = GEMMBlocks(m: m, n: n, k: k)
            var covered = [Int](repeating: 0, count: m * n)
            for b in 0..<blocks.count {
                let block = blocks[b]
                for r in block.rows { for j in block.columns { covered[r * n + j] += 1 } }
            }
            XCTAssertEqual(Set(covered), [1], "\(m)x\(n)x\(k)")
        }
    }
}
