// Vectorised exp and erf for softmax and GELU. A scalar libm call per element
// would cost a large share of a layer at n = 512; these run 16 lanes at a time
// (AVX-512) with about 1e-7 relative error.

public typealias Lanes = SIMD16<Float>

/// exp(x) by range reduction x = k ln2 + r, a degree-7 polynomial on |r| <= ln2/2, and 2^k from exponent bits.
@inline(__always)
public func fastExp(_ x: Lanes) -> Lanes {
    let clamped = x.clamped(lowerBound: Lanes(repeating: -87.0), upperBound: Lanes(repeating: 88.0))
    let k = (clamped * 1.44269504088896341).rounded(.toNearestOrEven)
    // ln2 split in two so k * ln2 is exact in the first part.
    var r = clamped - k * 0.693145751953125
    r = r - k * 1.428606765330187045e-06
    var p = Lanes(repeating: 1.0 / 5040.0)
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = p * r + 1.0
    p = p * r + 1.0
    let exponent = (SIMD16<Int32>(k, rounding: .towardZero) &+ 127) &<< 23
    let scale = unsafeBitCast(exponent, to: Lanes.self)
    let result = p * scale
    // Below the clamp the true value is (sub)normal-small: flush to zero.
    return result.replacing(with: 0, where: x .< -87.0)
}

/// erf(x) as x P(x^2) / Q(x^2) on [-4, 4] (saturates beyond: |erf| = 1 to float precision).
@inline(__always)
public func fastErf(_ x: Lanes) -> Lanes {
    let xc = x.clamped(lowerBound: Lanes(repeating: -4), upperBound: Lanes(repeating: 4))
    let x2 = xc * xc
    var p = Lanes(repeating: -2.72614225801306e-10)
    p = p * x2 + 2.77068142495902e-08
    p = p * x2 - 2.10102402082508e-06
    p = p * x2 - 5.69250639462346e-05
    p = p * x2 - 7.34990630326855e-04
    p = p * x2 - 2.95459980854025e-03
    p = p * x2 - 1.60960333262415e-02
    var q = Lanes(repeating: -1.45660718464996e-05)
    q = q * x2 - 2.13374055278905e-04
    q = q * x2 - 1.68282697438203e-03
    q = q * x2 - 7.37332916720468e-03
    q = q * x2 - 1.42647390514189e-02
    return xc * p / q
}

/// Applies a lane function to `count` floats (tail handled with a padded vector).
@inline(__always)
func mapLanes(_ inp: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ count: Int, _ f: (Lanes) -> Lanes) {
    var i = 0
    while i + 16 <= count {
        let v = UnsafeRawPointer(inp + i).loadUnaligned(as: Lanes.self)
        UnsafeMutableRawPointer(out + i).storeBytes(of: f(v), as: Lanes.self)
        i += 16
    }
    if i < count {
        var v = Lanes(repeating: 0)
        for j in 0..<(count - i) { v[j] = inp[i + j] }
        let r = f(v)
        for j in 0..<(count - i) { out[i + j] = r[j] }
    }
}

/// out[i] = exp(inp[i]) for a flat buffer.
public func expForward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, count: Int) {
    mapLanes(inp, out, count, fastExp)
}

/// out[i] = erf(inp[i]) for a flat buffer.
public func erfForward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, count: Int) {
    mapLanes(inp, out, count, fastErf)
}
