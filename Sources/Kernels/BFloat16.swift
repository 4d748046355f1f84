import CBLAS
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
public func convertToBFloat16(
    out: UnsafeMutablePointer<UInt16>, inp: UnsafePointer<Float>, count: Int, context: ComputeContext
) {
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
    public init(input: UnsafePointer<UInt16>, weight: UnsafePointer<UInt16>) {
        self.input = input
        self.weight = weight
    }
}

/// C[M,N] = alpha op(A) op(B) + beta C with bfloat16 A, B; false when oneDNN refused (nothing written).
/// Cut into the same shape-only `GEMMBlocks` as `sgemm`, so the result does not depend on the thread count.
public func gemmBFloat16(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
    a: UnsafePointer<UInt16>, lda: Int, b: UnsafePointer<UInt16>, ldb: Int,
    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, context: ComputeContext
) -> Bool {
    guard m > 0, n > 0, k > 0, context.backend == .onednn else { return false }
    let blocks = GEMMBlocks(m: m, n: n, k: k)
    func run(_ item: Int) -> Bool {
        let block = blocks[item]
        let r0 = block.rows.lowerBound, c0 = block.columns.lowerBound
        return iba_onednn_gemm_bf16(transA ? 1 : 0, transB ? 1 : 0, block.rows.count, block.columns.count, k, alpha,
                                    a + (transA ? r0 : r0 * lda), lda, b + (transB ? c0 * ldb : c0), ldb,
                                    beta, c + r0 * ldc + c0, ldc, 1) == 0
    }
    // The first block decides whether oneDNN takes the product at all (a refusal writes nothing); it refuses
    // by types and CPU, so the other blocks, of the same kind, then run too.
    guard run(0) else { return false }
    parallelItems(blocks.count - 1, context: context) { item in
        guard !run(item + 1) else { return }
        // Refused after accepting the first block (out of memory?): this block from widened copies on OpenBLAS.
        let block = blocks[item + 1]
        let rows = block.rows.count, columns = block.columns.count
        let r0 = block.rows.lowerBound, c0 = block.columns.lowerBound
        var blockA = [Float](repeating: 0, count: rows * k), blockB = [Float](repeating: 0, count: k * columns)
        for r in 0..<rows {
            for p in 0..<k { blockA[r * k + p] = widened(transA ? a[p * lda + r0 + r] : a[(r0 + r) * lda + p]) }
        }
        for p in 0..<k {
            for j in 0..<columns {
                blockB[p * columns + j] = widened(transB ? b[(c0 + j) * ldb + p] : b[p * ldb + c0 + j])
            }
        }
        OpenBLASThreads.pinToOne()
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(columns), Int32(k), alpha, blockA, Int32(k),
            blockB, Int32(columns), beta, c + r0 * ldc + c0, Int32(ldc))
    }
    return true
}

/// The float32 value of bfloat16 bits.
private func widened(_ bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }
