import Foundation

/// How a computation's numerics run: which library multiplies, and on how many threads every GEMM and
/// every parallel loop may run. Passed down explicitly from the executables (or a test) to every kernel,
/// so nothing in the numerics reads or changes process-wide state.
public struct ComputeContext: Sendable, Equatable {
    public var backend: GEMMBackend
    public var threads: Int

    public init(backend: GEMMBackend = .preferred, threads: Int = 1) {
        self.backend = backend
        self.threads = max(1, threads)
    }

    /// The same library on one thread: inside a parallel loop, and for one example per core.
    public var singleThreaded: ComputeContext { ComputeContext(backend: backend, threads: 1) }

    /// For executables, read once at the top: the library `IBA_GEMM` names (`onednn`, `openblas`; unset or
    /// `auto`: `GEMMBackend.preferred` for this CPU) and `threads`, else `OPENBLAS_NUM_THREADS`, else every core.
    public static func fromEnvironment(threads: Int? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) -> ComputeContext {
        let backend = GEMMBackend(rawValue: environment["IBA_GEMM"] ?? "") ?? .preferred
        let count = threads ?? Int(environment["OPENBLAS_NUM_THREADS"] ?? "") ?? ProcessInfo.processInfo.activeProcessorCount
        return ComputeContext(backend: backend, threads: count)
    }
}
