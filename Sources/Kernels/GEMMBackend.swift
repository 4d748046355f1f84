import CBLAS
import CKernels

/// Which library runs the GEMMs: oneDNN or OpenBLAS. Every process of a run must use the same one (on
/// the same kind of CPU) for identical numbers. Chosen by the executables (`IBA_GEMM`, read once, see
/// `ComputeContext.fromEnvironment`; unset or `auto` means `preferred`) and passed down in a `ComputeContext`.
public enum GEMMBackend: String, Sendable, CaseIterable, Codable {
    case onednn, openblas

    /// oneDNN where it has AVX-512 kernels, OpenBLAS elsewhere. Measured: on an AVX-512 machine oneDNN
    /// ran IBA 1.5-1.7x faster; on an AVX2-only AMD EPYC, with the same sgemm peak (70.9 vs 70.3 GFLOP/s),
    /// OpenBLAS ran IBA on MiniLM in 0.86x the time (small per-head GEMMs) and bert-base in 0.98x.
    public static let preferred: GEMMBackend = iba_onednn_avx512() != 0 ? .onednn : .openblas
}

/// C[M,N] = alpha * op(A) * op(B) + beta * C, all row-major with explicit leading dimensions, on the context's
/// library and threads (OpenBLAS, also oneDNN's fallback, on one thread per row block: see `OpenBLASThreads`).
@inline(__always)
public func sgemm(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
    alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, context: ComputeContext
) {
    guard m > 0, n > 0 else { return }
    if k == 0 {
        if beta != 1 { for r in 0..<m { for j in 0..<n { c[r * ldc + j] *= beta } } }
        return
    }
    if context.backend == .onednn,
       iba_onednn_sgemm(transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, Int32(context.threads)) == 0 {
        return
    }
    OpenBLASThreads.pinToOne()
    // Row blocks of C on the context's threads: rows of op(A) start at r * lda (r when transposed).
    let blocks = min(context.threads, max(1, m / 64))
    let size = (m + blocks - 1) / blocks
    parallelItems(blocks, context: context) { block in
        let r0 = block * size, rows = min(m, r0 + size) - r0
        guard rows > 0 else { return }
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(rows), Int32(n), Int32(k), alpha, a + (transA ? r0 : r0 * lda), Int32(lda), b, Int32(ldb),
                    beta, c + r0 * ldc, Int32(ldc))
    }
}

/// OpenBLAS's own thread pool. Its thread count is one setting per process (0.3.21 has no per-call count),
/// so it is set to one, once, before the first OpenBLAS GEMM and never changed: the threads of a
/// computation come from its `ComputeContext` (row blocks above), never from process-wide state.
public enum OpenBLASThreads {
    private static let pinned: Void = { openblas_set_num_threads(1) }()
    static func pinToOne() { _ = pinned }
    /// OpenBLAS's current setting (1 once any GEMM has run on it).
    public static var current: Int { Int(openblas_get_num_threads()) }
}
