import Foundation
import BERT
import Kernels

/// Computes a job's examples: on this machine's threads (`LocalExecutor`) or on cluster workers
/// (`ClusterExecutor` in ClusterEvaluation). `EvaluationJob.execute` does everything else.
public protocol EvaluationExecutor {
    /// Computes the examples at `pending` (dataset indices, selection order). Every result goes to `intake`
    /// (checked once, kept) and to `store`; `held` are the results the store already had (a resumed run),
    /// which are not computed again. Returns the examples given up without a result, with why.
    func evaluate(_ job: EvaluationJob, pending: [Int], held: [Int: Data], store: any ResultStore,
                  intake: ResultIntake) throws -> [Int: String]
}

extension EvaluationJob {
    /// Runs the job from start to end, the same way whatever computes it: locks the output directory,
    /// opens the store (a resumed run keeps what it holds), has `executor` compute the rest, writes every
    /// output and progress.json, tells `observer`, and throws when more than `allowedFailures` examples
    /// failed (after the outputs are written).
    @discardableResult
    public func execute(executor: some EvaluationExecutor, store: some ResultStore,
                        observer: RunObserver = RunObserver(), allowedFailures: Int = 0) throws -> Outcome {
        if let warning = targetWarning { observer.note("warning: \(warning)") }  // before any work
        let lock = try OutputDirectoryLock(outputDirectory)
        defer { withExtendedLifetime(lock) {} }
        if plan.skippedRows > 0 { observer.note("skipped \(plan.skippedRows) malformed rows (--skip-bad-rows)") }
        let start = Date()
        let intake = ResultIntake(job: self, observer: observer, start: start)
        let held = intake.hold(try store.open())
        let pending = plan.indices.filter { held[$0] == nil }
        let ticker = intake.progressFile.startTicker()
        defer { ticker.stop() }
        let failures = try executor.evaluate(self, pending: pending, held: held, store: store, intake: intake)
        ticker.stop()  // before the last write
        try store.commit()
        let run = intake.finishedRecords(failures: failures, store: store)
        let seconds = Date().timeIntervalSince(start)
        let outcome = try finish(run, seconds: seconds)
        // Last, so that a part's part.json means its outputs are all written.
        if let manifest = try partManifestFile(methodSeconds: run.methodSeconds, seconds: seconds) {
            try writeOutputFiles([manifest], into: outputDirectory)
        }
        // After the outputs: a progress file never costs a run its results.
        try intake.progressFile.finish(run.scalars, methods: methods)
        observer.finished(outcome)
        try checkFailures(run, methods: methods, allowed: allowedFailures)
        return outcome
    }
}

/// Evaluates on this machine: `threads` examples at a time, each on one thread of `backend` (as every
/// cluster worker computes), so the records are bit-identical to a cluster run's whatever `threads` is.
/// Each result is committed to the store as soon as it is made: a killed run resumes from there.
public struct LocalExecutor: EvaluationExecutor {
    public var loadModel: () throws -> BertModel
    public var threads: Int
    public var backend: GEMMBackend

    public init(threads: Int, backend: GEMMBackend, loadModel: @escaping () throws -> BertModel) {
        self.loadModel = loadModel
        self.threads = threads
        self.backend = backend
    }

    public func evaluate(_ job: EvaluationJob, pending: [Int], held: [Int: Data], store: any ResultStore,
                         intake: ResultIntake) throws -> [Int: String] {
        guard !pending.isEmpty else { return [:] }
        let model = try loadModel()
        try job.plan.checkLabels(of: model.config)
        let workers = max(1, min(threads, pending.count))
        let context = ComputeContext(backend: backend, threads: 1)
        let evaluators = try (0..<workers).map { _ in
            try ExampleEvaluator(model: model, settings: job.settings, methods: job.methods, context: context)
        }
        intake.setCounts(inFlight: threads)  // every thread busy until the tail (progress.json caps it by what is left)
        let writer = LockedStore(store)
        try evaluateConcurrently(evaluators, plan: job.plan, indices: pending) { index, result in
            try writer.commit(index: index, payload: try result.encoded())
            intake.accept(result, index: index)
        }
        return [:]
    }
}

/// A store written from several threads: one result appended and committed at a time.
final class LockedStore: @unchecked Sendable {
    private let store: any ResultStore
    private let lock = NSLock()
    init(_ store: any ResultStore) { self.store = store }

    func commit(index: Int, payload: Data) throws {
        try lock.withLock {
            try store.append(index: index, attempt: 1, payload: payload, by: [])
            try store.commit()
        }
    }
}
