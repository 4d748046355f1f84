import XCTest
@testable import Kernels

/// Every backward kernel against central finite differences of loss = sum(out * w), w random.
final class KernelGradientTests: XCTestCase {
    func testLinearBackward() {
        var rng = TestRandom(1)
        let rows = 3, cin = 5, cout = 4
        var x = rng.normals(rows * cin), w = rng.normals(cout * cin), b = rng.normals(cout)
        let probe = rng.normals(rows * cout)
        func forward(_ x: [Float], _ w: [Float], _ b: [Float]) -> [Float] {
            var out = [Float](repeating: 0, count: rows * cout)
            linearForward(out: &out, inp: x, weight: w, bias: b, rows: rows, inFeatures: cin, outFeatures: cout, context: ComputeContext())
            return out
        }
        // Independent check of the forward against the definition.
        let out = forward(x, w, b)
        for r in 0..<rows { for o in 0..<cout {
            var s = b[o]; for i in 0..<cin { s += x[r * cin + i] * w[o * cin + i] }
            XCTAssertEqual(out[r * cout + o], s, accuracy: 1e-5)
        } }
        var dx = [Float](repeating: 0, count: x.count), dw = [Float](repeating: 0, count: w.count), db = [Float](repeating: 0, count: b.count)
        linearBackward(dinp: &dx, dweight: &dw, dbias: &db, dout: probe, inp: x, weight: w, rows: rows, inFeatures: cin, outFeatures: cout, context: ComputeContext())
        let (w0, b0, x0) = (w, b, x)
        assertGradientMatches("linear dinp", parameters: &x, analytic: dx) { weightedSum(forward($0, w0, b0), probe) }
        assertGradientMatches("linear dweight", parameters: &w, analytic: dw) { weightedSum(forward(x0, $0, b0), probe) }
        assertGradientMatches("linear dbias", parameters: &b, analytic: db) { weightedSum(forward(x0, w0, $0), probe) }
    }

    func testLayerNormBackward() {
        var rng = TestRandom(2)
        let rows = 3, c = 8
        var x = rng.normals(rows * c, scale: 2), g = rng.normals(c), bt = rng.normals(c)
        let probe = rng.normals(rows * c)
        func forward(_ x: [Float], _ g: [Float], _ bt: [Float]) -> [Float] {
            var out = [Float](repeating: 0, count: rows * c)
            layerNormForward(out: &out, mean: nil, rstd: nil, inp: x, gamma: g, beta: bt, rows: rows, channels: c, eps: 1e-12, context: ComputeContext())
            return out
        }
        var mean = [Float](repeating: 0, count: rows), rstd = [Float](repeating: 0, count: rows), out = [Float](repeating: 0, count: rows * c)
        layerNormForward(out: &out, mean: &mean, rstd: &rstd, inp: x, gamma: g, beta: bt, rows: rows, channels: c, eps: 1e-12, context: ComputeContext())
        var dx = [Float](repeating: 0, count: x.count), dg = [Float](repeating: 0, count: c), db = [Float](repeating: 0, count: c)
        layerNormBackward(dinp: &dx, dgamma: &dg, dbeta: &db, dout: probe, inp: x, gamma: g, mean: mean, rstd: rstd, rows: rows, channels: c, context: ComputeContext())
        let (x0, g0, b0) = (x, g, bt)
        assertGradientMatches("layernorm dinp", parameters: &x, analytic: dx, step: 1e-3) { weightedSum(forward($0, g0, b0), probe) }
        assertGradientMatches("layernorm dgamma", parameters: &g, analytic: dg) { weightedSum(forward(x0, $0, b0), probe) }
        assertGradientMatches("layernorm dbeta", parameters: &bt, analytic: db) { weightedSum(forward(x0, g0, $0), probe) }
    }

    func testGELUForwardAndBackward() {
        var rng = TestRandom(3)
        var x = rng.normals(37, scale: 2)
        let probe = rng.normals(37)
        func forward(_ x: [Float]) -> [Float] {
            var out = [Float](repeating: 0, count: x.count); geluForward(out: &out, inp: x, count: x.count, context: ComputeContext()); return out
        }
        for (xi, yi) in zip(x, forward(x)) {
            let exact = 0.5 * Double(xi) * (1 + erf(Double(xi) / 2.0.squareRoot()))
            XCTAssertEqual(Double(yi), exact, accuracy: 1e-6)
        }
        var dx = [Float](repeating: 0, count: x.count)
        geluBackward(dinp: &dx, inp: x, dout: probe, count: x.count, context: ComputeContext())
        assertGradientMatches("gelu", parameters: &x, analytic: dx, step: 1e-3) { weightedSum(forward($0), probe) }
    }

    func testTanhBackward() {
        var rng = TestRandom(4)
        var x = rng.normals(9)
        let probe = rng.normals(9)
        func forward(_ x: [Float]) -> [Float] { var o = x; tanhForward(out: &o, inp: x, count: x.count); return o }
        var dx = [Float](repeating: 0, count: 9)
        tanhBackward(dinp: &dx, out: forward(x), dout: probe, count: 9)
        assertGradientMatches("tanh", parameters: &x, analytic: dx, step: 1e-3) { weightedSum(forward($0), probe) }
    }

    func testCrossEntropyBackward() {
        var rng = TestRandom(5)
        let batch = 3, classes = 4, targets = [2, 0, 3]
        var logits = rng.normals(batch * classes, scale: 2)
        func loss(_ z: [Float]) -> Double {
            var p = [Float](repeating: 0, count: z.count)
            return softmaxCrossEntropyForward(probs: &p, logits: z, targets: targets, batch: batch, classes: classes)
                .reduce(0.0) { $0 + Double($1) } / Double(batch)
        }
        var probs = [Float](repeating: 0, count: logits.count)
        softmaxCrossEntropyForward(probs: &probs, logits: logits, targets: targets, batch: batch, classes: classes)
        var d = [Float](repeating: 0, count: logits.count)
        softmaxCrossEntropyBackward(dlogits: &d, probs: probs, targets: targets, batch: batch, classes: classes, scale: 1 / Float(batch))
        assertGradientMatches("cross-entropy", parameters: &logits, analytic: d, step: 1e-3, atol: 5e-4) { loss($0) }
    }

    /// Two packed sequences of different lengths; checks dq, dk, dv and that sequences do not see each other.
    func testAttentionBackward() {
        var rng = TestRandom(6)
        let layout = SequenceLayout(lengths: [3, 5], heads: 2)
        let c = 8, r = layout.rows
        var q = rng.normals(r * c), k = rng.normals(r * c), v = rng.normals(r * c)
        let probe = rng.normals(r * c)
        func forward(_ q: [Float], _ k: [Float], _ v: [Float]) -> ([Float], [Float]) {
            var out = [Float](repeating: 0, count: r * c), probs = [Float](repeating: 0, count: layout.probabilityCount)
            attentionForward(out: &out, probs: &probs, q: q, k: k, v: v, layout: layout, channels: c, context: ComputeContext())
            return (out, probs)
        }
        // Reference forward by the definition, per sequence and head, in Double.
        let (out, probs) = forward(q, k, v)
        let d = c / 2
        for b in 0..<2 { for h in 0..<2 {
            let n = layout.lengths[b], o = layout.offsets[b]
            for i in 0..<n {
                var scores = (0..<n).map { j in (0..<d).reduce(0.0) { $0 + Double(q[(o + i) * c + h * d + $1]) * Double(k[(o + j) * c + h * d + $1]) } / Double(d).squareRoot() }
                let m = scores.max() ?? 0
                scores = scores.map { exp($0 - m) }
                let s = scores.reduce(0, +)
                for e in 0..<d {
                    let expect = (0..<n).reduce(0.0) { $0 + scores[$1] / s * Double(v[(o + $1) * c + h * d + e]) }
                    XCTAssertEqual(Double(out[(o + i) * c + h * d + e]), expect, accuracy: 1e-5)
                }
            }
        } }
        var dq = [Float](repeating: 0, count: r * c), dk = dq, dv = dq
        var scratch = [Float](repeating: 0, count: layout.probabilityCount)
        attentionBackward(dq: &dq, dk: &dk, dv: &dv, scratch: &scratch, dout: probe, probs: probs, q: q, k: k, v: v, layout: layout, channels: c, context: ComputeContext())
        let (q0, k0, v0) = (q, k, v)
        assertGradientMatches("attention dq", parameters: &q, analytic: dq, step: 1e-3) { weightedSum(forward($0, k0, v0).0, probe) }
        assertGradientMatches("attention dk", parameters: &k, analytic: dk, step: 1e-3) { weightedSum(forward(q0, $0, v0).0, probe) }
        assertGradientMatches("attention dv", parameters: &v, analytic: dv, step: 1e-3) { weightedSum(forward(q0, k0, $0).0, probe) }
    }

    /// Training mode: dropout on the probabilities (mask 0 or 1/(1-p)); the backward must see the same mask.
    func testAttentionWithDropoutBackward() {
        var rng = TestRandom(8)
        let layout = SequenceLayout(lengths: [4, 2], heads: 2)
        let c = 8, r = layout.rows
        var q = rng.normals(r * c), k = rng.normals(r * c), v = rng.normals(r * c)
        let probe = rng.normals(r * c)
        let mask = (0..<layout.probabilityCount).map { _ in rng.uniform() < 0.3 ? Float(0) : Float(1 / 0.7) }
        func forward(_ q: [Float], _ k: [Float], _ v: [Float], _ dropped: UnsafeMutablePointer<Float>) -> ([Float], [Float]) {
            var out = [Float](repeating: 0, count: r * c), probs = [Float](repeating: 0, count: layout.probabilityCount)
            mask.withUnsafeBufferPointer { m in
                attentionForward(out: &out, probs: &probs, q: q, k: k, v: v, layout: layout, channels: c,
                                 dropout: AttentionDropout(mask: m.baseAddress!, dropped: dropped), context: ComputeContext())
            }
            return (out, probs)
        }
        let dropped = UnsafeMutablePointer<Float>.allocate(capacity: layout.probabilityCount)
        defer { dropped.deallocate() }
        let (out, probs) = forward(q, k, v, dropped)
        var plain = [Float](repeating: 0, count: r * c), plainProbs = [Float](repeating: 0, count: layout.probabilityCount)
        attentionForward(out: &plain, probs: &plainProbs, q: q, k: k, v: v, layout: layout, channels: c, context: ComputeContext())
        XCTAssertEqual(probs, plainProbs, "the kept probabilities are the undropped ones")
        XCTAssertNotEqual(out, plain, "the mask must matter")
        var dq = [Float](repeating: 0, count: r * c), dk = dq, dv = dq
        var scratch = [Float](repeating: 0, count: layout.probabilityCount)
        mask.withUnsafeBufferPointer { m in
            attentionBackward(dq: &dq, dk: &dk, dv: &dv, scratch: &scratch, dout: probe, probs: probs, q: q, k: k, v: v, layout: layout,
                              channels: c, dropout: AttentionDropout(mask: m.baseAddress!, dropped: dropped), context: ComputeContext())
        }
        let (q0, k0, v0) = (q, k, v)
        let spare = UnsafeMutablePointer<Float>.allocate(capacity: layout.probabilityCount)
        defer { spare.deallocate() }
        assertGradientMatches("dropout attention dq", parameters: &q, analytic: dq, step: 1e-3) { weightedSum(forward($0, k0, v0, spare).0, probe) }
        assertGradientMatches("dropout attention dk", parameters: &k, analytic: dk, step: 1e-3) { weightedSum(forward(q0, $0, v0, spare).0, probe) }
        assertGradientMatches("dropout attention dv", parameters: &v, analytic: dv, step: 1e-3) { weightedSum(forward(q0, k0, $0, spare).0, probe) }
    }

    /// [CLS] queries alone: the full attention's first rows, and its gradients by finite differences.
    func testAttentionOfTheFirstQueriesBackward() {
        var rng = TestRandom(9)
        let layout = SequenceLayout(lengths: [3, 5, 1], heads: 2)
        let c = 8, r = layout.rows, b = layout.batch
        var q = rng.normals(b * c), k = rng.normals(r * c), v = rng.normals(r * c)
        let probe = rng.normals(b * c)
        func forward(_ q: [Float], _ k: [Float], _ v: [Float]) -> ([Float], [Float]) {
            var out = [Float](repeating: 0, count: b * c), probs = [Float](repeating: 0, count: layout.probabilityCount(.first))
            attentionForward(out: &out, probs: &probs, q: q, k: k, v: v, layout: layout, channels: c, queries: .first, context: ComputeContext())
            return (out, probs)
        }
        // Against every query of the full attention, with the [CLS] query of each sequence in its first row.
        var fullQ = rng.normals(r * c)
        for s in 0..<b { for j in 0..<c { fullQ[layout.offsets[s] * c + j] = q[s * c + j] } }
        var fullOut = [Float](repeating: 0, count: r * c), fullProbs = [Float](repeating: 0, count: layout.probabilityCount)
        attentionForward(out: &fullOut, probs: &fullProbs, q: fullQ, k: k, v: v, layout: layout, channels: c, context: ComputeContext())
        let (out, probs) = forward(q, k, v)
        for s in 0..<b { for j in 0..<c {
            XCTAssertEqual(out[s * c + j], fullOut[layout.offsets[s] * c + j], accuracy: 1e-6, "sequence \(s) column \(j)")
        } }
        var dq = [Float](repeating: 0, count: b * c), dk = [Float](repeating: 0, count: r * c), dv = dk
        var scratch = [Float](repeating: 0, count: layout.probabilityCount(.first))
        attentionBackward(dq: &dq, dk: &dk, dv: &dv, scratch: &scratch, dout: probe, probs: probs, q: q, k: k, v: v, layout: layout,
                          channels: c, queries: .first, context: ComputeContext())
        let (q0, k0, v0) = (q, k, v)
        assertGradientMatches("first-query attention dq", parameters: &q, analytic: dq, step: 1e-3) { weightedSum(forward($0, k0, v0).0, probe) }
        assertGradientMatches("first-query attention dk", parameters: &k, analytic: dk, step: 1e-3) { weightedSum(forward(q0, $0, v0).0, probe) }
        assertGradientMatches("first-query attention dv", parameters: &v, analytic: dv, step: 1e-3) { weightedSum(forward(q0, k0, $0).0, probe) }
    }
}
