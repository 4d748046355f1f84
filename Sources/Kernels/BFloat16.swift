import CKernels

/// bfloat16 values as raw bits (the upper half of a float32).
public typealias BFloat16Buffer = AlignedBuffer<UInt16>

extension AlignedBuffer where Element == UInt16 {
    /// A copy of `values` (count) rounded to bfloat16 (nearest even).
    public convenience init(rounding values: UnsafePointer<Float>, count: Int, context: ComputeContext) {
        self.init(count: count)
        convertToBFloat16(out: pointer, inp: values, count: count, context: context)
    }
}

/// out (count) = inp rounded to bfloat16 (nearest even); elementwise, split across the GEMM threads.
public func convertToBFloat16(out: UnsafeMutablePointer<UInt16>, inp: UnsafePointer<Float>, count: Int, context: ComputeContext) {
    parallelChunks(count, grain: 1 << 15, context: context) { chunk in
        iba_f32_to_bf16(out + chunk.lowerBound, inp + chunk.lowerBound, chunk.count)
    }
}

extension ComputeContext {
    /// Whether bfloat16 GEMMs run natively: the backend is oneDNN and the CPU has AVX512_BF16 or AMX.
    public var runsBFloat16: Bool { backend == .onednn && iba_onednn_bf16_native() != 0 }
}

/// bfloat16 copies of a GEMM's two operands (same shapes and leading dimensions as the float32 ones).
/// A linear kernel given these multiplies in bfloat16 with float32 accumulation and output; if oneDNN
/// refuses, it falls back to the float32 operands.
public struct BFloat16Operands {
    public var input: UnsafePointer<UInt16>
    public var weight: UnsafePointer<UInt16>
    public init(input: UnsafePointer<UInt16>, weight: UnsafePointer<UInt16>) { self.input = input; self.weight = weight }
}

/// C[M,N] = alpha op(A) op(B) + beta C with bfloat16 A, B; false when oneDNN refused (nothing written).
public func gemmBFloat16(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
    a: UnsafePointer<UInt16>, lda: Int, b: UnsafePointer<UInt16>, ldb: Int,
    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, context: ComputeContext
) -> Bool {
    guard m > 0, n > 0, k > 0, context.backend == .onednn else { return false }
    return iba_onednn_gemm_bf16(transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc,
                                Int32(context.threads)) == 0
}
