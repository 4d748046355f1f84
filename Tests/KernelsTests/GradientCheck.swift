import XCTest

/// Deterministic pseudo-random floats for fixtures (SplitMix64), independent of the code under test.
struct TestRandom {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
    mutating func uniform() -> Float { Float(next() >> 40) / Float(1 << 24) }
    mutating func normal() -> Float {
        let u1 = max(Double(uniform()), 1e-12), u2 = Double(uniform())
        return Float((-2 * log(u1)).squareRoot() * cos(2 * .pi * u2))
    }
    mutating func normals(_ n: Int, scale: Float = 1) -> [Float] { (0..<n).map { _ in normal() * scale } }
}

/// Compares an analytic gradient with central finite differences of `loss` (evaluated in Double).
/// Checks every coordinate (fixtures are small). Tolerance: |fd - g| <= atol + rtol * |g|.
func assertGradientMatches(
    _ name: String, parameters: inout [Float], analytic: [Float], step: Float = 1e-2,
    atol: Double = 2e-3, rtol: Double = 1e-2, loss: ([Float]) -> Double,
    file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(parameters.count, analytic.count, "\(name): gradient size", file: file, line: line)
    var worst = 0.0, failures = 0
    for i in parameters.indices {
        let saved = parameters[i]
        parameters[i] = saved + step
        let plus = loss(parameters)
        parameters[i] = saved - step
        let minus = loss(parameters)
        parameters[i] = saved
        let numeric = (plus - minus) / (2 * Double(step))
        let error = abs(numeric - Double(analytic[i]))
        worst = max(worst, error)
        if error > atol + rtol * abs(Double(analytic[i])) {
            failures += 1
            if failures <= 3 {
                XCTFail("\(name)[\(i)]: finite difference \(numeric) vs analytic \(analytic[i])", file: file, line: line)
            }
        }
    }
    XCTAssertTrue(analytic.contains { $0 != 0 }, "\(name): analytic gradient is all zero", file: file, line: line)
}

func weightedSum(_ values: [Float], _ weights: [Float]) -> Double {
    zip(values, weights).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
}
