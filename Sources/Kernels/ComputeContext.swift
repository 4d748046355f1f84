import Foundation

/// How a computation's numerics run: which library multiplies, and on how many threads every GEMM and
/// every parallel loop may run. Passed down explicitly from the executables (or a test) to every kernel,
/// so nothing in the numerics reads or changes process-wide state.
public struct ComputeContext: Sendable, Equatable {
    public var backend: GEMMBackend
    public var threads: Int
    /// Bytes of activations one packed pass may hold (forward-only: one layer's; with a backward: every layer's
    /// and the gradient workspace): longer batches run in several passes, results unchanged (each sequence is
    /// computed the same way in any batch). nil: every batch in one pass, each tape keeping every layer (round 2).
    public var activationBudget: Int?
    /// Which code runs attention's per-head products (see `AttentionKernel`).
    public var attention: AttentionKernel

    public init(
        backend: GEMMBackend = .preferred, threads: Int = 1,
        activationBudget: Int? = ComputeContext.defaultActivationBudget, attention: AttentionKernel = .fromEnvironment
    ) {
        self.backend = backend
        self.threads = max(1, threads)
        self.activationBudget = activationBudget.map { max($0, 1) }
        self.attention = attention
    }

    /// The same library, budget and attention kernel on one thread: inside a parallel loop, and for one example
    /// per core.
    public var singleThreaded: ComputeContext {
        ComputeContext(backend: backend, threads: 1, activationBudget: activationBudget, attention: attention)
    }

    /// 256 MiB: a 512-token MiniLM example's degradation test fits in one pass, IBA's noise batch runs a copy or
    /// more per pass. `IBA_ACTIVATION_BUDGET_MB` overrides it (0: unbounded), for benchmarks of the two paths.
    public static let defaultActivationBudget: Int? = {
        guard let text = ProcessInfo.processInfo.environment["IBA_ACTIVATION_BUDGET_MB"],
              let mb = Int(text), mb >= 0 else {
            return 256 << 20
        }
        return mb == 0 ? nil : mb << 20
    }()

    /// For executables, read once at the top: the library `IBA_GEMM` names (`onednn`, `openblas`; unset or
    /// `auto`: `GEMMBackend.preferred` for this CPU) and `threads`, else `OPENBLAS_NUM_THREADS`, else every core.
    public static func fromEnvironment(
        threads: Int? = nil, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> ComputeContext {
        let backend = GEMMBackend(rawValue: environment["IBA_GEMM"] ?? "") ?? .preferred
        let count =
            threads ?? Int(environment["OPENBLAS_NUM_THREADS"] ?? "") ?? ProcessInfo.processInfo.activeProcessorCount
        return ComputeContext(backend: backend, threads: count)
    }
}
