import Foundation

/// What a run reports while it runs (the commands draw their progress bars from it).
public struct RunProgress: Sendable, Equatable {
    public var total: Int
    /// Examples with a result, those read back from the store of an earlier run (`resumed`) included.
    public var done = 0
    public var resumed = 0
    /// Examples given up without a result so far (a cluster's failures for good).
    public var lost = 0
    public var inFlight = 0
    /// The executor's words ("workers 2, requeued 0"), or the example whose records just failed.
    public var detail: String?
}

/// What the caller of `EvaluationJob.execute` hears: progress (from the executor's threads, one call at
/// a time), notes for the user, and the outcome once every output is written (before the failure check
/// throws, so a run with failed examples still shows its table).
public struct RunObserver: Sendable {
    public var progress: @Sendable (RunProgress) -> Void
    public var note: @Sendable (String) -> Void
    public var finished: @Sendable (EvaluationJob.Outcome) -> Void

    public init(progress: @escaping @Sendable (RunProgress) -> Void = { _ in },
                note: @escaping @Sendable (String) -> Void = { _ in },
                finished: @escaping @Sendable (EvaluationJob.Outcome) -> Void = { _ in }) {
        self.progress = progress
        self.note = note
        self.finished = finished
    }
}

/// The one door results come in by, whatever computed them: a result is decoded and validated once
/// (`check`, or typed already from a local thread), its numbers kept by selection position (`RunScalars`: the
/// tokens and attributions are the store's, read back when the outputs are written), counted in progress.json
/// and reported to the observer. Thread-safe.
public final class ResultIntake: @unchecked Sendable {
    public let job: EvaluationJob
    let progressFile: ProgressFile
    private let observer: RunObserver
    private let lock = NSLock()
    private let positions: PositionIndex
    private var scalars: RunScalars
    /// Results checked and not yet accepted, with the bytes they came from (as many as are in flight).
    private var checked: [Int: (payload: Data, result: ExampleResult)] = [:]
    private var progress: RunProgress

    init(job: EvaluationJob, observer: RunObserver, start: Date) {
        self.job = job
        self.observer = observer
        progress = RunProgress(total: job.plan.indices.count)
        progressFile = ProgressFile(directory: job.outputDirectory, methods: job.methods, total: job.plan.indices.count,
                                    start: start)
        positions = PositionIndex(job.plan.indices)
        scalars = RunScalars(methods: job.methods.count, positions: job.plan.indices.count,
                             steps: job.methods.map { job.settings(for: $0).degradationSteps - 1 },
                             keepsSeconds: job.methods.count > 1)
    }

    /// Where progress.json reads each worker process's peak memory (see `ProgressFile.workerMemory`).
    public func setWorkerMemory(_ provider: @escaping @Sendable () -> [String: Double]) {
        progressFile.workerMemory = provider
    }

    /// Takes the results an earlier run left in the store: those of this selection that are valid results
    /// of this job (an older build's bare records too). Returns them; any other is computed again.
    func hold(_ stored: [Int: Data]) -> [Int: Data] {
        var held = [Int: Data]()
        for (p, index) in job.plan.indices.enumerated() where !scalars.present[p] {
            guard let payload = stored[index] else { continue }
            let decoded = ExampleResult.decodeValidated(payload, index: index, job: job, legacy: true)
            guard case .success(let result) = decoded else { continue }
            held[index] = payload
            scalars.set(position: p, records: result.records, seconds: result.seconds)
            progressFile.add(result.records, resumed: true)
        }
        lock.withLock {
            progress.done = held.count
            progress.resumed = held.count
            observer.progress(progress)
        }
        return held
    }

    /// Why `payload` cannot be the result of example `index` in this job, or nil when it can; a valid
    /// result is kept for `accept`, so it is decoded once.
    public func check(_ payload: Data, index: Int) -> String? {
        switch ExampleResult.decodeValidated(payload, index: index, job: job) {
        case .success(let result):
            lock.withLock { checked[index] = (payload, result) }
            return nil
        case .failure(let rejection):
            return rejection.reason
        }
    }

    /// `payload`, checked before, is the result of example `index`.
    public func accept(_ payload: Data, index: Int) {
        let kept = lock.withLock { checked.removeValue(forKey: index) }
        if let kept, kept.payload == payload {
            accept(kept.result, index: index)
        } else if case .success(let result) = ExampleResult.decodeValidated(payload, index: index, job: job) {
            accept(result, index: index)  // another worker's bytes than the last checked (verification)
        }
    }

    /// A result computed in this process.
    public func accept(_ result: ExampleResult, index: Int) {
        guard let p = positions.position(of: index) else { return }
        lock.withLock {
            guard !scalars.present[p] else { return }
            scalars.set(position: p, records: result.records, seconds: result.seconds)
            progressFile.add(result.records)
            progress.done += 1
            let failed = result.records.contains { $0.failed != nil }
            var shown = progress
            if failed, shown.detail == nil { shown.detail = "failed example \(index)" }
            observer.progress(shown)
            progressFile.refresh()
        }
    }

    /// The executor's counts: examples being computed, given up so far, and its words for the progress line.
    public func setCounts(inFlight: Int, lost: Int = 0, detail: String? = nil) {
        lock.withLock {
            progressFile.setCounts(inFlight: inFlight, lost: lost)
            progress.inFlight = inFlight
            progress.lost = lost
            progress.detail = detail
            observer.progress(progress)
            progressFile.refresh()
        }
    }

    /// The run's records for its outputs: the numbers kept (each position without a result holds failed
    /// records saying why: `failures` from the executor, else "no result"), and each position's whole records
    /// read back from `store`.
    func finishedRecords(failures: [Int: String], store: any ResultStore) -> FinishedRecords {
        lock.withLock {
            let indices = job.plan.indices
            let methods = job.methods.count
            for (p, index) in indices.enumerated() where !scalars.present[p] {
                scalars.set(position: p, records: Self.missing(index, job: job, reason: failures[index]), seconds: [])
            }
            var methodSeconds = [Double](repeating: 0, count: methods)
            if scalars.keepsSeconds {
                for p in indices.indices {
                    for m in 0..<methods { methodSeconds[m] += scalars.seconds(method: m, position: p) }
                }
            }
            let job = self.job
            return FinishedRecords(scalars: scalars, indices: indices, records: { p in
                let index = indices[p]
                guard let payload = try store.storedPayload(index: index) else {
                    return Self.missing(index, job: job, reason: failures[index])
                }
                switch ExampleResult.decodeValidated(payload, index: index, job: job, legacy: true) {
                case .success(let result): return result.records
                case .failure(let rejection):
                    throw EvaluationError.mismatchedInput("the stored result of example \(index) no longer reads "
                        + "back (\(rejection.reason)): the results log changed under the run")
                }
            }, methodSeconds: methodSeconds)
        }
    }

    /// Failed records, one per method, for an example with no result.
    private static func missing(_ index: Int, job: EvaluationJob, reason: String?) -> [ExampleRecord] {
        let record = ExampleRecord.failure(index: index, target: job.plan.examples.label(index),
            reason: reason ?? "no result")
        return job.methods.map { _ in record }
    }
}
