import XCTest
@testable import Kernels

final class BFloat16Tests: XCTestCase {
    /// Round to nearest even on the dropped 16 bits, as PyTorch's and oneDNN's conversions; NaN stays NaN.
    func testConversionRoundsToNearestEven() {
        let inputs: [Float] = [1, -2.5, Float(bitPattern: 0x3F80_8000), Float(bitPattern: 0x3F81_8000), Float(bitPattern: 0x3F80_8001),
                               .infinity, -.infinity, .nan, Float(bitPattern: 0x7F7F_FFFF)]
        let expected: [UInt16] = [0x3F80, 0xC020, 0x3F80, 0x3F82, 0x3F81, 0x7F80, 0xFF80]
        var out = [UInt16](repeating: 0, count: inputs.count)
        convertToBFloat16(out: &out, inp: inputs, count: inputs.count, context: ComputeContext())
        XCTAssertEqual(Array(out.prefix(expected.count)), expected)
        XCTAssertTrue(Float(bitPattern: UInt32(out[7]) << 16).isNaN)
        XCTAssertEqual(out[8], 0x7F80, "the largest float rounds up to infinity, as the IEEE rounding does")
    }

    /// A bfloat16 linear layer: the exact product of the rounded operands, within bfloat16's precision of float32.
    func testLinearInBFloat16MatchesFloat32() throws {
        guard ComputeContext().runsBFloat16 else { throw XCTSkip("no native bfloat16 GEMM here") }
        var rng = TestRandom(3)
        let rows = 37, cin = 96, cout = 80
        let x = rng.normals(rows * cin), w = rng.normals(cout * cin), b = rng.normals(cout), dy = rng.normals(rows * cout)
        var exact = [Float](repeating: 0, count: rows * cout), low = exact
        linearForward(out: &exact, inp: x, weight: w, bias: b, rows: rows, inFeatures: cin, outFeatures: cout, context: ComputeContext())
        let xh = BFloat16Buffer(rounding: x, count: x.count, context: ComputeContext()), wh = BFloat16Buffer(rounding: w, count: w.count, context: ComputeContext())
        linearForward(out: &low, inp: x, weight: w, bias: b, rows: rows, inFeatures: cin, outFeatures: cout,
                      bfloat16: BFloat16Operands(input: xh.pointer, weight: wh.pointer), context: ComputeContext())
        // Against the exact product of the rounded operands: the bfloat16 GEMM accumulates in float32.
        func rounded(_ h: BFloat16Buffer, _ i: Int) -> Double { Double(Float(bitPattern: UInt32(h.pointer[i]) << 16)) }
        for r in 0..<rows { for o in 0..<cout {
            var s = Double(b[o])
            for i in 0..<cin { s += rounded(xh, r * cin + i) * rounded(wh, o * cin + i) }
            XCTAssertEqual(Double(low[r * cout + o]), s, accuracy: 1e-4, "row \(r) output \(o)")
        } }
        // ... and float32 within bfloat16's precision (sums of 96 products of unit normals).
        for (e, l) in zip(exact, low) { XCTAssertEqual(l, e, accuracy: 0.2) }
        XCTAssertNotEqual(exact, low, "the bfloat16 path ran")
        var dExact = [Float](repeating: 0, count: rows * cin), dLow = dExact
        linearBackward(dinp: &dExact, dweight: nil, dbias: nil, dout: dy, inp: x, weight: w, rows: rows, inFeatures: cin, outFeatures: cout, context: ComputeContext())
        let dyh = BFloat16Buffer(rounding: dy, count: dy.count, context: ComputeContext())
        linearBackward(dinp: &dLow, dweight: nil, dbias: nil, dout: dy, inp: x, weight: w, rows: rows, inFeatures: cin, outFeatures: cout,
                       bfloat16: BFloat16Operands(input: dyh.pointer, weight: wh.pointer), context: ComputeContext())
        for (e, l) in zip(dExact, dLow) { XCTAssertEqual(l, e, accuracy: 0.2) }
    }
}
