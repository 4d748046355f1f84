import CKernels

/// out = 0.5 x (1 + erf(x / sqrt 2)), the exact (erf) GELU of BERT; `count` = rows * channels.
public func geluForward(
    out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, count: Int, context: ComputeContext
) {
    parallelChunks(count, grain: 1 << 15, context: context) { chunk in
        iba_gelu_forward(out + chunk.lowerBound, inp + chunk.lowerBound, chunk.count)
    }
}

/// dinp += dout * GELU'(x), GELU'(x) = Phi(x) + x phi(x).
public func geluBackward(
    dinp: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, dout: UnsafePointer<Float>, count: Int,
    context: ComputeContext
) {
    parallelChunks(count, grain: 1 << 15, context: context) { chunk in
        iba_gelu_backward(dinp + chunk.lowerBound, inp + chunk.lowerBound, dout + chunk.lowerBound, chunk.count)
    }
}
