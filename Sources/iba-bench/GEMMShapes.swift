// The gemm-shapes case (issue 27, item 3): every GEMM shape class MiniLM and bert-base run, timed through the
// project's `sgemm` (so with its 256 x 512 blocking) on oneDNN and on OpenBLAS in one process, against the sgemm
// peak of the same run.
import Foundation
import Kernels

/// One product the model runs: C (m,n) = op(A) op(B) + beta C, with the model's leading dimensions (per-head
/// products read a head's columns out of (rows, hidden) activations).
struct GEMMShape {
    var shapeClass: String
    var transA = false, transB = false
    var m: Int, n: Int, k: Int
    var lda: Int, ldb: Int, ldc: Int
    var beta: Float

    var flops: Double { 2 * Double(m) * Double(n) * Double(k) }
    var aCount: Int { (transA ? k : m) * lda }
    var bCount: Int { (transB ? n : k) * ldb }
    var cCount: Int { m * ldc }
    var operation: String { (transA ? "T" : "N") + (transB ? "T" : "N") }
    var size: String { "\(m)x\(n)x\(k)" }

    /// The products of one encoder (`hidden` channels, heads of `headSize`, FFN of `intermediate`), as
    /// Linear.swift and Attention.swift call them.
    static func classes(model: String, hidden h: Int, headSize d: Int, intermediate i: Int) -> [GEMMShape] {
        var shapes = [GEMMShape]()
        // Packed rows: 10 noise copies of 40 or 128 tokens (IBA), one input of 512.
        for rows in [400, 1280, 512] {
            shapes += [
                GEMMShape(shapeClass: "\(model) QKV/output projection", transB: true, m: rows, n: h, k: h,
                          lda: h, ldb: h, ldc: h, beta: 1),
                GEMMShape(shapeClass: "\(model) projection backward dX", m: rows, n: h, k: h,
                          lda: h, ldb: h, ldc: h, beta: 1),
                GEMMShape(shapeClass: "\(model) FFN up", transB: true, m: rows, n: i, k: h,
                          lda: h, ldb: h, ldc: i, beta: 1),
                GEMMShape(shapeClass: "\(model) FFN down", transB: true, m: rows, n: h, k: i,
                          lda: i, ldb: i, ldc: h, beta: 1),
            ]
        }
        // The top layer past K and V for [CLS] alone: one row per noise copy.
        let copies = 10
        shapes += [
            GEMMShape(shapeClass: "\(model) [CLS]-only projection", transB: true, m: copies, n: h, k: h,
                      lda: h, ldb: h, ldc: h, beta: 1),
            GEMMShape(shapeClass: "\(model) [CLS]-only FFN up", transB: true, m: copies, n: i, k: h,
                      lda: h, ldb: h, ldc: i, beta: 1),
            GEMMShape(shapeClass: "\(model) [CLS]-only FFN down", transB: true, m: copies, n: h, k: i,
                      lda: i, ldb: i, ldc: h, beta: 1),
        ]
        // Weight gradients (fine-tuning): dW (out, in) += dout^T inp over the rows, 10 x 128 and 32 x 128 tokens.
        for rows in [1280, 4096] {
            shapes += [
                GEMMShape(shapeClass: "\(model) weight grad, projection", transA: true, m: h, n: h, k: rows,
                          lda: h, ldb: h, ldc: h, beta: 1),
                GEMMShape(shapeClass: "\(model) weight grad, FFN up", transA: true, m: i, n: h, k: rows,
                          lda: i, ldb: h, ldc: h, beta: 1),
            ]
        }
        // Per (sequence, head): scores Q K^T, P V, and the backward's P^T dout (dS^T Q alike).
        for n in [40, 128, 512] {
            shapes += [
                GEMMShape(shapeClass: "\(model) head scores QK^T", transB: true, m: n, n: n, k: d,
                          lda: h, ldb: h, ldc: n, beta: 0),
                GEMMShape(shapeClass: "\(model) head P V", m: n, n: d, k: n, lda: n, ldb: h, ldc: h, beta: 0),
                GEMMShape(shapeClass: "\(model) head P^T dout", transA: true, m: n, n: d, k: n,
                          lda: n, ldb: h, ldc: h, beta: 1),
            ]
        }
        return shapes
    }

    static let bert: [GEMMShape] = classes(model: "MiniLM", hidden: 384, headSize: 32, intermediate: 1536)
        + classes(model: "bert-base", hidden: 768, headSize: 64, intermediate: 3072)
}

/// Seconds of CPU time the calling thread has used. With one thread every GEMM block runs on the calling
/// thread, so this is its time without the time other processes held the core (the machine is shared).
func threadCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

struct GEMMShapeTiming {
    var shape: GEMMShape
    /// Best seconds per call, by library.
    var seconds: [GEMMBackend: Double]
}

/// Times every shape on both libraries, alternating them sample by sample so load hits both alike; best of
/// `samples`, each sample enough back-to-back calls for about 20 MFLOP (a few hundred microseconds).
func timeGEMMShapes(_ shapes: [GEMMShape], threads: Int, samples: Int, clock: () -> Double) -> [GEMMShapeTiming] {
    let aCount = shapes.map(\.aCount).max() ?? 1, bCount = shapes.map(\.bCount).max() ?? 1
    let a = FloatBuffer(count: aCount), b = FloatBuffer(count: bCount)
    let c = FloatBuffer(count: shapes.map(\.cCount).max() ?? 1)
    for i in 0..<aCount { a.pointer[i] = Float(i % 7) * 0.01 - 0.03 }
    for i in 0..<bCount { b.pointer[i] = Float(i % 5) * 0.01 - 0.02 }
    let contexts = GEMMBackend.allCases.map { ComputeContext(backend: $0, threads: threads) }
    return shapes.map { shape in
        let calls = max(1, Int(2e7 / shape.flops))
        func run(_ context: ComputeContext) {
            sgemm(transA: shape.transA, transB: shape.transB, m: shape.m, n: shape.n, k: shape.k,
                  a: a.pointer, lda: shape.lda, b: b.pointer, ldb: shape.ldb, beta: shape.beta,
                  c: c.pointer, ldc: shape.ldc, context: context)
        }
        for context in contexts { run(context) }  // oneDNN creates and caches the primitive
        var best = [GEMMBackend: Double]()
        for _ in 0..<(shape.flops * Double(calls) > 5e8 ? max(3, samples / 3) : samples) {
            for context in contexts {
                let t0 = clock()
                for _ in 0..<calls { run(context) }
                best[context.backend] = min(best[context.backend] ?? .infinity, (clock() - t0) / Double(calls))
            }
        }
        return GEMMShapeTiming(shape: shape, seconds: best)
    }
}

/// The timings side by side: seconds per call, GFLOP/s and fraction of `peak` per library, and the time ratio.
func gemmShapesTable(_ timings: [GEMMShapeTiming], peak: Double) -> String {
    func columns(_ seconds: Double?, _ shape: GEMMShape) -> String {
        guard let seconds else { return String(repeating: " ", count: 27) }
        let gflops = shape.flops / seconds / 1e9
        return String(format: "%10.2e %8.1f %7.2f", seconds, gflops, gflops / peak)
    }
    func padded(_ text: String, _ width: Int) -> String { text.padding(toLength: width, withPad: " ", startingAt: 0) }
    func label(_ shapeClass: String, _ operation: String, _ size: String) -> String {
        padded(shapeClass, 34) + " " + padded(operation, 2) + " " + padded(size, 15)
    }
    var lines = [label("shape class", "op", "M x N x K") + " | " + padded("oneDNN s   GFLOP/s of peak", 27) + " | "
        + padded("OpenBLAS s GFLOP/s of peak", 27) + " | OpenBLAS/oneDNN time"]
    for t in timings {
        let onednn = t.seconds[.onednn], openblas = t.seconds[.openblas]
        let ratio = onednn.flatMap { d in openblas.map { String(format: "%.2f", $0 / d) } } ?? ""
        lines.append(label(t.shape.shapeClass, t.shape.operation, t.shape.size) + " | " + columns(onednn, t.shape)
            + " | " + columns(openblas, t.shape) + " | " + ratio)
    }
    return lines.joined(separator: "\n") + "\n"
}
