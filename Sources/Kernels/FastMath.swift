import CKernels

// Vectorised exp and erf (C, see CKernels): a scalar libm call per element would cost a large
// share of a layer at n = 512; these run 16 lanes at a time with about 1e-7 relative error.

/// out[i] = exp(inp[i]) for a flat buffer (0 below -87).
public func expForward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, count: Int) {
    iba_exp(out, inp, count)
}

/// out[i] = erf(inp[i]) for a flat buffer.
public func erfForward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, count: Int) {
    iba_erf(out, inp, count)
}
