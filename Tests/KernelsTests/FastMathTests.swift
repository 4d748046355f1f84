import XCTest
import Foundation
@testable import Kernels

final class FastMathTests: XCTestCase {
    /// exp against Double libm over the range softmax and GELU use.
    func testExpRelativeErrorBelow2e7() {
        let xs = stride(from: -80.0, through: 80.0, by: 0.01137).map { Float($0) }
        var out = [Float](repeating: 0, count: xs.count)
        expForward(out: &out, inp: xs, count: xs.count)
        var worst = 0.0
        for (x, y) in zip(xs, out) {
            let exact = Foundation.exp(Double(x))
            worst = max(worst, abs(Double(y) - exact) / exact)
        }
        XCTAssertLessThan(worst, 2e-7, "worst relative error of fastExp")
        var tiny: [Float] = [-100, -1000, -Float.infinity]
        expForward(out: &tiny, inp: tiny, count: 3)
        XCTAssertEqual(tiny, [0, 0, 0])
    }

    /// erf against Double libm: absolute error (what GELU sees) and relative error away from 0.
    func testErfError() {
        let xs = stride(from: -6.0, through: 6.0, by: 0.000731).map { Float($0) }
        var out = [Float](repeating: 0, count: xs.count)
        erfForward(out: &out, inp: xs, count: xs.count)
        var worstAbs = 0.0, worstRel = 0.0
        for (x, y) in zip(xs, out) {
            let exact = Foundation.erf(Double(x))
            worstAbs = max(worstAbs, abs(Double(y) - exact))
            if abs(exact) > 1e-3 { worstRel = max(worstRel, abs(Double(y) - exact) / abs(exact)) }
        }
        XCTAssertLessThan(worstAbs, 4e-7)  // 3 float ulps near |erf| = 1
        XCTAssertLessThan(worstRel, 4e-7)
        print("fastErf worst abs \(worstAbs) rel \(worstRel)")
    }
}
