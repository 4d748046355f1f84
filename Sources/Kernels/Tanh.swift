import Foundation

/// out = tanh(inp) (the pooler's activation; only B x H elements, so libm is fine).
public func tanhForward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, count: Int) {
    for i in 0..<count { out[i] = Foundation.tanh(inp[i]) }
}

/// dinp += dout * (1 - out^2), from the forward's output.
public func tanhBackward(
    dinp: UnsafeMutablePointer<Float>, out: UnsafePointer<Float>, dout: UnsafePointer<Float>, count: Int
) {
    for i in 0..<count { dinp[i] += dout[i] * (1 - out[i] * out[i]) }
}
