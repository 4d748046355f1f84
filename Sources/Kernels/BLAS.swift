import CBLAS
import CKernels
import Foundation

/// Number of threads OpenBLAS uses for the GEMMs of this process.
public enum BLASThreads {
    public static func set(_ count: Int) { openblas_set_num_threads(Int32(max(1, count))) }
    public static var current: Int { Int(openblas_get_num_threads()) }
}

/// Which library runs the GEMMs: oneDNN (default: about twice OpenBLAS's throughput on this hardware)
/// or OpenBLAS (`IBA_GEMM=openblas`). Every process of a run must use the same one for identical numbers.
public enum GEMMBackend: String, Sendable {
    case onednn, openblas
    public static let current: GEMMBackend = GEMMBackend(rawValue: ProcessInfo.processInfo.environment["IBA_GEMM"] ?? "") ?? .onednn
}

/// C[M,N] = alpha * op(A) * op(B) + beta * C, all row-major with explicit leading dimensions.
@inline(__always)
public func sgemm(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
    alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
) {
    guard m > 0, n > 0 else { return }
    if k == 0 {
        if beta != 1 { for r in 0..<m { for j in 0..<n { c[r * ldc + j] *= beta } } }
        return
    }
    if GEMMBackend.current == .onednn,
       iba_onednn_sgemm(transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, Int32(BLASThreads.current)) == 0 {
        return
    }
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}
