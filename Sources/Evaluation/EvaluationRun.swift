import Foundation
import BERT
import Kernels

/// The examples a run evaluates: the dataset and the original's selection of indices.
public struct EvaluationPlan: Sendable {
    public var examples: [LabeledExample]
    /// Dataset positions in selection order.
    public var indices: [Int]
    public var skippedRows: Int
    public var dataHash: String

    public init(settings: EvaluationSettings) throws {
        guard let kind = DatasetKind(rawValue: settings.dataset) else {
            throw EvaluationError.mismatchedInput("unknown dataset \(settings.dataset) (\(DatasetKind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let url = URL(fileURLWithPath: settings.dataPath)
        let load = try loadDataset(kind, path: url, skipBadRows: settings.skipBadRows)
        examples = load.examples
        skippedRows = load.skippedRows.count
        indices = try originalSelection(populationSize: examples.count, count: settings.testSample, seed: settings.selectionSeed)
        dataHash = try datasetHash(kind, path: url)
    }
}

/// Runs every selected example in one process: `jobs` examples at a time, each on one thread of `backend`
/// (as every cluster worker computes), so the records are bit-identical to a cluster run's whatever `jobs` is. `onRecord` sees each record as it is made (completion order);
/// the records come back in selection order.
public func runEvaluation(model: BertModel, settings: EvaluationSettings, plan: EvaluationPlan, jobs: Int = 1, backend: GEMMBackend,
                          onRecord: @escaping @Sendable (ExampleRecord) -> Void = { _ in }) throws -> (records: [ExampleRecord], summary: Summary) {
    let start = Date()
    let workers = max(1, min(jobs, plan.indices.count))
    let context = ComputeContext(backend: backend, threads: 1)
    let evaluators = try (0..<workers).map { _ in try ExampleEvaluator(model: model, settings: settings, context: context) }
    let collector = RecordCollector(count: plan.indices.count)
    let task = UnsafeEvaluationTask(evaluators: evaluators, plan: plan, collector: collector, onRecord: onRecord)
    DispatchQueue.concurrentPerform(iterations: workers) { worker in task.run(worker: worker) }
    let records = collector.records
    let summary = try summarize(records: records, method: settings.method, dataset: settings.dataset,
                                layer: settings.method == "iba" ? settings.layer : nil,
                                seconds: Date().timeIntervalSince(start), options: settings.summaryOptions)
    return (records, summary)
}

/// Evaluates one example; an example that cannot be evaluated becomes a failed record (the run goes on).
public func evaluateOrRecordFailure(_ evaluator: ExampleEvaluator, _ example: LabeledExample, index: Int) -> ExampleRecord {
    do { return try evaluator.evaluate(example, index: index) } catch {
        return .failure(index: index, target: example.label, reason: "\(error)")
    }
}

/// Records by selection position, filled from several threads.
final class RecordCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [ExampleRecord?]
    private var next = 0
    init(count: Int) { slots = Array(repeating: nil, count: count) }

    /// The next selection position to evaluate, or nil when all are taken.
    func claim() -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard next < slots.count else { return nil }
        next += 1
        return next - 1
    }

    func store(_ record: ExampleRecord, at position: Int) {
        lock.lock(); slots[position] = record; lock.unlock()
    }

    var records: [ExampleRecord] { slots.compactMap { $0 } }
}

/// One worker thread's loop: each evaluator (and its workspaces) is used by exactly one thread.
struct UnsafeEvaluationTask: @unchecked Sendable {
    let evaluators: [ExampleEvaluator]
    let plan: EvaluationPlan
    let collector: RecordCollector
    let onRecord: @Sendable (ExampleRecord) -> Void

    func run(worker: Int) {
        while let position = collector.claim() {
            let index = plan.indices[position]
            let record = evaluateOrRecordFailure(evaluators[worker], plan.examples[index], index: index)
            collector.store(record, at: position)
            onRecord(record)
        }
    }
}
