import XCTest
@testable import Kernels

/// The fused attention kernel (CKernels attention.c) against the sgemm path, and its backward by finite differences.
final class FusedAttentionTests: XCTestCase {
    struct Outputs {
        var out: [Float], probs: [Float], dropped: [Float], dq: [Float], dk: [Float], dv: [Float]
    }

    /// Forward and backward of one layout with `kernel`; dq, dk, dv start from `seed` values (the backward adds).
    func run(_ kernel: AttentionKernel, layout: SequenceLayout, channels c: Int, queries: AttentionQueries, dropoutRate: Float?,
             seed: UInt64, backend: GEMMBackend = .preferred) -> Outputs {
        var rng = TestRandom(seed)
        let r = layout.rows, qRows = layout.queryRows(queries), count = layout.probabilityCount(queries)
        let q = rng.normals(qRows * c), k = rng.normals(r * c), v = rng.normals(r * c), dout = rng.normals(qRows * c)
        var dq = rng.normals(qRows * c), dk = rng.normals(r * c), dv = rng.normals(r * c)
        let mask = (0..<count).map { _ in dropoutRate.map { rng.uniform() < $0 ? Float(0) : 1 / (1 - $0) } ?? 1 }
        var out = [Float](repeating: .nan, count: qRows * c), probs = [Float](repeating: .nan, count: count)
        var dropped = [Float](repeating: 0, count: count), scratch = [Float](repeating: .nan, count: count)
        let context = ComputeContext(backend: backend, threads: 1, attention: kernel)
        mask.withUnsafeBufferPointer { m in
            dropped.withUnsafeMutableBufferPointer { d in
                let dropout = dropoutRate == nil ? nil : m.baseAddress.flatMap { mp in d.baseAddress.map { AttentionDropout(mask: mp, dropped: $0) } }
                attentionForward(out: &out, probs: &probs, q: q, k: k, v: v, layout: layout, channels: c, queries: queries,
                                 dropout: dropout, context: context)
                attentionBackward(dq: &dq, dk: &dk, dv: &dv, scratch: &scratch, dout: dout, probs: probs, q: q, k: k, v: v,
                                  layout: layout, channels: c, queries: queries, dropout: dropout, context: context)
            }
        }
        return Outputs(out: out, probs: probs, dropped: dropped, dq: dq, dk: dk, dv: dv)
    }

    /// |a - b| <= 1e-6 or <= 1e-5 |b|, elementwise; reports the first mismatch and the count.
    func assertClose(_ a: [Float], _ b: [Float], _ name: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, "\(name): sizes", file: file, line: line)
        let bad = zip(a, b).enumerated().filter { _, pair in
            let (x, y) = pair
            return !(abs(x - y) <= 1e-6 || abs(x - y) <= 1e-5 * abs(y))
        }
        if let (i, (x, y)) = bad.first {
            XCTFail("\(name)[\(i)]: fused \(x) vs sgemm \(y) (\(bad.count) of \(a.count) differ)", file: file, line: line)
        }
    }

    func assertFusedMatchesGEMM(lengths: [Int], heads: Int, channels: Int, queries: AttentionQueries = .all, dropoutRate: Float? = nil,
                                seed: UInt64, checkRounding: Bool = false, file: StaticString = #filePath, line: UInt = #line) {
        let layout = SequenceLayout(lengths: lengths, heads: heads)
        for backend in GEMMBackend.allCases {
            let fused = run(.fused, layout: layout, channels: channels, queries: queries, dropoutRate: dropoutRate, seed: seed, backend: backend)
            let gemm = run(.gemm, layout: layout, channels: channels, queries: queries, dropoutRate: dropoutRate, seed: seed, backend: backend)
            let tag = "lengths \(lengths), D \(channels / heads), \(queries), dropout \(dropoutRate.map { "\($0)" } ?? "off"), \(backend)"
            assertClose(fused.out, gemm.out, "out (\(tag))", file: file, line: line)
            assertClose(fused.probs, gemm.probs, "probs (\(tag))", file: file, line: line)
            if dropoutRate != nil { assertClose(fused.dropped, gemm.dropped, "dropped (\(tag))", file: file, line: line) }
            assertClose(fused.dq, gemm.dq, "dq (\(tag))", file: file, line: line)
            assertClose(fused.dk, gemm.dk, "dk (\(tag))", file: file, line: line)
            assertClose(fused.dv, gemm.dv, "dv (\(tag))", file: file, line: line)
            if checkRounding {
                // Sums in another order: some bits differ, or the fused kernel did not run.
                XCTAssertTrue(fused.out != gemm.out && fused.dk != gemm.dk, "the fused kernel ran (\(tag))", file: file, line: line)
            }
        }
    }

    /// MiniLM's heads (12 x 32) over a packed batch: lengths around the 64-key tile and the 2- and 4-row blocks.
    func testMiniLMShapesMatchTheGEMMPath() {
        assertFusedMatchesGEMM(lengths: [1, 2, 7, 20, 63, 64, 65, 130], heads: 12, channels: 384, seed: 1, checkRounding: true)
    }

    func testFirstQueriesMatchTheGEMMPath() {
        assertFusedMatchesGEMM(lengths: [5, 1, 33, 128], heads: 12, channels: 384, queries: .first, seed: 2)
    }

    func testDropoutMatchesTheGEMMPath() {
        assertFusedMatchesGEMM(lengths: [9, 40, 71], heads: 12, channels: 384, dropoutRate: 0.1, seed: 3)
        assertFusedMatchesGEMM(lengths: [9, 40], heads: 12, channels: 384, queries: .first, dropoutRate: 0.1, seed: 4)
    }

    /// BERT-base's head size 64, one past the key tile at 512 keys, and head sizes with no loops of their own (4, 24).
    func testOtherHeadSizesMatchTheGEMMPath() {
        assertFusedMatchesGEMM(lengths: [3, 50, 129], heads: 2, channels: 128, seed: 5)
        assertFusedMatchesGEMM(lengths: [513], heads: 1, channels: 64, seed: 6)
        assertFusedMatchesGEMM(lengths: [3, 6], heads: 2, channels: 8, seed: 7)
        assertFusedMatchesGEMM(lengths: [17, 5], heads: 3, channels: 72, queries: .first, dropoutRate: 0.2, seed: 8)
    }

    /// Head sizes over 64 always take the sgemm path (the kernel's stack tile holds 64 columns).
    func testLargeHeadsFallBackToTheGEMMPath() {
        XCTAssertFalse(AttentionKernel.fused.fuses(keys: 10, headSize: 128, backend: .onednn))
        XCTAssertTrue(AttentionKernel.fused.fuses(keys: 512, headSize: 64, backend: .openblas))
        XCTAssertFalse(AttentionKernel.gemm.fuses(keys: 10, headSize: 32, backend: .onednn))
        let layout = SequenceLayout(lengths: [4], heads: 1)
        let fused = run(.fused, layout: layout, channels: 128, queries: .all, dropoutRate: nil, seed: 9)
        let gemm = run(.gemm, layout: layout, channels: 128, queries: .all, dropoutRate: nil, seed: 9)
        XCTAssertEqual(fused.out, gemm.out)
        XCTAssertEqual(fused.dq, gemm.dq)
    }

    /// The fused backward by central differences of sum(probe * out), for every query choice, with and without dropout.
    func testFusedBackwardByFiniteDifferences() {
        for (queries, rate) in [(AttentionQueries.all, nil), (.all, Float(0.3)), (.first, nil), (.first, Float(0.3))] as [(AttentionQueries, Float?)] {
            var rng = TestRandom(10)
            let layout = SequenceLayout(lengths: [3, 6, 1], heads: 2)
            let c = 8, r = layout.rows, qRows = layout.queryRows(queries), count = layout.probabilityCount(queries)
            let context = ComputeContext(threads: 1, attention: .fused)
            var q = rng.normals(qRows * c), k = rng.normals(r * c), v = rng.normals(r * c)
            let probe = rng.normals(qRows * c)
            let mask = (0..<count).map { _ in rate.map { rng.uniform() < $0 ? Float(0) : 1 / (1 - $0) } ?? 1 }
            let dropped = UnsafeMutablePointer<Float>.allocate(capacity: count)
            defer { dropped.deallocate() }
            func withDropout<T>(_ body: (AttentionDropout?) -> T) -> T {
                mask.withUnsafeBufferPointer { m in
                    body(rate == nil ? nil : m.baseAddress.map { AttentionDropout(mask: $0, dropped: dropped) })
                }
            }
            func forward(_ q: [Float], _ k: [Float], _ v: [Float]) -> ([Float], [Float]) {
                var out = [Float](repeating: 0, count: qRows * c), probs = [Float](repeating: 0, count: count)
                withDropout { dropout in
                    attentionForward(out: &out, probs: &probs, q: q, k: k, v: v, layout: layout, channels: c, queries: queries,
                                     dropout: dropout, context: context)
                }
                return (out, probs)
            }
            let probs = forward(q, k, v).1
            var dq = [Float](repeating: 0, count: qRows * c), dk = [Float](repeating: 0, count: r * c), dv = dk
            var scratch = [Float](repeating: 0, count: count)
            withDropout { dropout in
                attentionBackward(dq: &dq, dk: &dk, dv: &dv, scratch: &scratch, dout: probe, probs: probs, q: q, k: k, v: v,
                                  layout: layout, channels: c, queries: queries, dropout: dropout, context: context)
            }
            let (q0, k0, v0) = (q, k, v)
            let tag = "fused \(queries) dropout \(rate.map { "\($0)" } ?? "off")"
            assertGradientMatches("\(tag) dq", parameters: &q, analytic: dq, step: 1e-3) { weightedSum(forward($0, k0, v0).0, probe) }
            assertGradientMatches("\(tag) dk", parameters: &k, analytic: dk, step: 1e-3) { weightedSum(forward(q0, $0, v0).0, probe) }
            assertGradientMatches("\(tag) dv", parameters: &v, analytic: dv, step: 1e-3) { weightedSum(forward(q0, k0, $0).0, probe) }
        }
    }
}
