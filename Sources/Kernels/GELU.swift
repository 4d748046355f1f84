/// out = 0.5 x (1 + erf(x / sqrt 2)), the exact (erf) GELU of BERT; `count` = rows * channels.
public func geluForward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, count: Int) {
    mapLanes(inp, out, count) { x in 0.5 * x * (1 + fastErf(x * 0.70710678118654752)) }
}

/// dinp += dout * GELU'(x), GELU'(x) = Phi(x) + x phi(x).
public func geluBackward(dinp: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, dout: UnsafePointer<Float>, count: Int) {
    var i = 0
    @inline(__always) func derivative(_ x: Lanes) -> Lanes {
        let cdf = 0.5 * (1 + fastErf(x * 0.70710678118654752))
        let pdf = fastExp(-0.5 * x * x) * 0.3989422804014327
        return cdf + x * pdf
    }
    while i + 16 <= count {
        let x = UnsafeRawPointer(inp + i).loadUnaligned(as: Lanes.self)
        let dy = UnsafeRawPointer(dout + i).loadUnaligned(as: Lanes.self)
        let dx = UnsafeRawPointer(dinp + i).loadUnaligned(as: Lanes.self)
        UnsafeMutableRawPointer(dinp + i).storeBytes(of: dx + dy * derivative(x), as: Lanes.self)
        i += 16
    }
    if i < count {
        var x = Lanes(repeating: 0)
        for j in 0..<(count - i) { x[j] = inp[i + j] }
        let d = derivative(x)
        for j in 0..<(count - i) { dinp[i + j] += dout[i + j] * d[j] }
    }
}
