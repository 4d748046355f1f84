import XCTest
@testable import Kernels

/// Row-wise and elementwise kernels split rows across threads; each row must come out bit-identical
/// whatever the thread count (the example-parallel evaluation runs one thread, a lone explain two).
final class ThreadCountTests: XCTestCase {
    func outputs(threads: Int) -> [[Float]] {
        let saved = BLASThreads.current
        BLASThreads.set(threads)
        defer { BLASThreads.set(saved) }
        var rng = TestRandom(7)
        // Odd sizes: chunk edges and the 16-lane tails fall mid-row.
        let rows = 301, c = 77, count = rows * c
        let x = rng.normals(count, scale: 3), g = rng.normals(c), b = rng.normals(c), dy = rng.normals(count)
        var ln = [Float](repeating: 0, count: count), mean = [Float](repeating: 0, count: rows), rstd = [Float](repeating: 0, count: rows)
        layerNormForward(out: &ln, mean: &mean, rstd: &rstd, inp: x, gamma: g, beta: b, rows: rows, channels: c, eps: 1e-12)
        var dx = [Float](repeating: 0, count: count)
        layerNormBackward(dinp: &dx, dgamma: nil, dbeta: nil, dout: dy, inp: x, gamma: g, mean: mean, rstd: rstd, rows: rows, channels: c)
        let big = 70_001
        let xs = rng.normals(big, scale: 2), ds = rng.normals(big)
        var gelu = [Float](repeating: 0, count: big), dgelu = [Float](repeating: 0, count: big)
        geluForward(out: &gelu, inp: xs, count: big)
        geluBackward(dinp: &dgelu, inp: xs, dout: ds, count: big)
        return [ln, mean, rstd, dx, gelu, dgelu]
    }

    func testRowKernelsDoNotDependOnTheThreadCount() {
        let one = outputs(threads: 1), two = outputs(threads: 2)
        for (i, (a, b)) in zip(one, two).enumerated() { XCTAssertEqual(a, b, "output \(i): 1 vs 2 threads") }
    }
}
