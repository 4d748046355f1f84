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

    /// The kernels the library runs on this CPU, for benchmark logs: oneDNN's instruction set (`DNNL_MAX_CPU_ISA`
    /// caps it) or OpenBLAS's core (`OPENBLAS_CORETYPE` picks it).
    public var kernelsName: String {
        switch self {
        case .onednn: String(cString: iba_onednn_isa_name())
        case .openblas: openblas_get_corename().map { String(cString: $0) } ?? "unknown"
        }
    }
}

/// C[M,N] = alpha * op(A) * op(B) + beta * C, all row-major with explicit leading dimensions, on the context's
/// library and threads. The output is cut into `GEMMBlocks` (from the shape alone), each a single-threaded
/// call, so every thread count computes every element the same way (see `GEMMBlocks`).
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
    let oneDNN = context.backend == .onednn
    if !oneDNN { OpenBLASThreads.pinToOne() }
    let blocks = GEMMBlocks(m: m, n: n, k: k)
    parallelItems(blocks.count, context: context) { item in
        let block = blocks[item]
        let r0 = block.rows.lowerBound, c0 = block.columns.lowerBound, rows = block.rows.count,
            columns = block.columns.count
        // Rows of op(A) start at r * lda (r when transposed), columns of op(B) at j (j * ldb when transposed).
        let blockA = a + (transA ? r0 : r0 * lda), blockB = b + (transB ? c0 * ldb : c0), blockC = c + r0 * ldc + c0
        if oneDNN, iba_onednn_sgemm(transA ? 1 : 0, transB ? 1 : 0, rows, columns, k, alpha, blockA, lda, blockB, ldb,
                                    beta, blockC, ldc, 1) == 0 {
            return
        }
        OpenBLASThreads.pinToOne()  // oneDNN's fallback
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(rows), Int32(columns), Int32(k), alpha, blockA, Int32(lda), blockB, Int32(ldb),
                    beta, blockC, Int32(ldc))
    }
}

/// How a GEMM's output C[M,N] is cut into blocks for threads to take, from the shape alone: so a result does
/// not depend on the thread count (a library splitting one call over threads picks its split, and with it
/// the order of its sums or the kernel a row meets, by the thread count: OpenBLAS's AVX2 kernels gave rows
/// 1e-7 apart, which `--verify` took for dishonest workers). Each block is one single-threaded call of at
/// most `rowsPerBlock` x `columnsPerBlock`: small enough that two or more threads share a BERT product, large
/// enough that re-packing the operands per block and the ~4 us per call stay small.
struct GEMMBlocks: Equatable {
    static let rowsPerBlock = 256, columnsPerBlock = 512
    let rowBlocks: Int, columnBlocks: Int, m: Int, n: Int

    init(m: Int, n: Int, k: Int) {
        self.m = m
        self.n = n
        rowBlocks = (m + Self.rowsPerBlock - 1) / Self.rowsPerBlock
        columnBlocks = (n + Self.columnsPerBlock - 1) / Self.columnsPerBlock
    }

    var count: Int { rowBlocks * columnBlocks }

    subscript(item: Int) -> (rows: Range<Int>, columns: Range<Int>) {
        let r0 = item / columnBlocks * Self.rowsPerBlock, c0 = item % columnBlocks * Self.columnsPerBlock
        return (r0..<min(m, r0 + Self.rowsPerBlock), c0..<min(n, c0 + Self.columnsPerBlock))
    }
}

/// OpenBLAS's own thread pool. Its thread count is one setting per process (0.3.21 has no per-call count),
/// so it is set to one, once, before the first OpenBLAS GEMM and never changed: the threads of a
/// computation come from its `ComputeContext` (the blocks above), never from process-wide state.
public enum OpenBLASThreads {
    private static let pinned: Void = { openblas_set_num_threads(1) }()
    static func pinToOne() { _ = pinned }
    /// OpenBLAS's current setting (1 once any GEMM has run on it).
    public static var current: Int { Int(openblas_get_num_threads()) }
}
