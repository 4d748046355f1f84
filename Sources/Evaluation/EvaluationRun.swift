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
        let kind = settings.dataset
        let url = URL(fileURLWithPath: settings.dataPath)
        let load = try loadDataset(kind, path: url, skipBadRows: settings.skipBadRows, encoding: settings.encoding ?? .utf8)
        examples = load.examples
        skippedRows = load.skippedRows.count
        indices = try originalSelection(populationSize: examples.count, count: settings.testSample, seed: settings.selectionSeed)
        dataHash = try datasetHash(kind, path: url)
        classCount = max(kind.classNames?.count ?? 0, (examples.map(\.label).max() ?? -1) + 1)
    }

    /// Classes of the dataset: its fixed classes, or (JSONL) one more than its largest label.
    public var classCount: Int

    /// Refuses, before any example runs, a model with fewer labels than the dataset has classes
    /// (otherwise every example of the missing classes would become a failed record).
    public func checkLabels(of config: BertConfig) throws {
        guard config.numLabels >= classCount else {
            throw EvaluationError.mismatchedInput("the model has \(config.numLabels) labels but the dataset has \(classCount) classes: "
                + "use a classifier fine-tuned on this dataset (or --num-labels \(classCount) for an encoder-only checkpoint)")
        }
    }
}

/// The records of a run, one list per method in selection order, and each method's compute time
/// summed over the examples (the comparison's seconds per example).
public struct MethodRecords: Sendable {
    public var methods: [EvaluationMethod]
    /// records[m][p]: method m's record of the example at selection position p.
    public var records: [[ExampleRecord]]
    public var seconds: [Double]

    public init(methods: [EvaluationMethod], records: [[ExampleRecord]], seconds: [Double]) {
        self.methods = methods; self.records = records; self.seconds = seconds
    }

    /// Per-example results (one record per method, as `evaluateAll` returns them) regrouped by method.
    public init(methods: [EvaluationMethod], perExample: [[ExampleRecord]], seconds: [Double]) {
        self.init(methods: methods, records: methods.indices.map { m in perExample.map { $0[m] } }, seconds: seconds)
    }
}

/// Runs every selected example in one process: `jobs` examples at a time, each on one thread of `backend`
/// (as every cluster worker computes), so the records are bit-identical to a cluster run's whatever `jobs`
/// is. Each example is tokenized and predicted once, then every method runs on it. `onExample` sees each
/// example's records as they are made (completion order).
public func runEvaluation(model: BertModel, settings: EvaluationSettings, plan: EvaluationPlan, methods: [EvaluationMethod], jobs: Int = 1,
                          backend: GEMMBackend, onExample: @escaping @Sendable ([ExampleRecord]) -> Void = { _ in }) throws -> MethodRecords {
    let workers = max(1, min(jobs, plan.indices.count))
    let context = ComputeContext(backend: backend, threads: 1)
    let evaluators = try (0..<workers).map { _ in try ExampleEvaluator(model: model, settings: settings, methods: methods, context: context) }
    let collector = RecordCollector(count: plan.indices.count, methods: methods.count)
    let task = UnsafeEvaluationTask(evaluators: evaluators, plan: plan, collector: collector, onExample: onExample)
    DispatchQueue.concurrentPerform(iterations: workers) { worker in task.run(worker: worker) }
    return MethodRecords(methods: methods, perExample: collector.records, seconds: collector.secondsByMethod)
}

/// One method's run (`settings.method`): the records in selection order and their summary.
public func runEvaluation(model: BertModel, settings: EvaluationSettings, plan: EvaluationPlan, jobs: Int = 1, backend: GEMMBackend,
                          onRecord: @escaping @Sendable (ExampleRecord) -> Void = { _ in }) throws -> (records: [ExampleRecord], summary: Summary) {
    try plan.checkLabels(of: model.config)
    let start = Date()
    let run = try runEvaluation(model: model, settings: settings, plan: plan, methods: [settings.method], jobs: jobs, backend: backend) { onRecord($0[0]) }
    let summary = try summarize(records: run.records[0], method: settings.method.rawValue, dataset: settings.dataset.rawValue,
                                layer: settings.summaryLayer, seconds: Date().timeIntervalSince(start), options: settings.summaryOptions)
    return (run.records[0], summary)
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
    private var slots: [[ExampleRecord]?]
    private var seconds: [Double]
    private var next = 0
    init(count: Int, methods: Int) {
        slots = Array(repeating: nil, count: count)
        seconds = Array(repeating: 0, count: methods)
    }

    /// The next selection position to evaluate, or nil when all are taken.
    func claim() -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard next < slots.count else { return nil }
        next += 1
        return next - 1
    }

    func store(_ records: [ExampleRecord], seconds methodSeconds: [Double], at position: Int) {
        lock.lock()
        slots[position] = records
        for (m, s) in methodSeconds.enumerated() { seconds[m] += s }
        lock.unlock()
    }

    var records: [[ExampleRecord]] { slots.compactMap { $0 } }
    var secondsByMethod: [Double] { lock.withLock { seconds } }
}

/// One worker thread's loop: each evaluator (and its workspaces) is used by exactly one thread.
struct UnsafeEvaluationTask: @unchecked Sendable {
    let evaluators: [ExampleEvaluator]
    let plan: EvaluationPlan
    let collector: RecordCollector
    let onExample: @Sendable ([ExampleRecord]) -> Void

    func run(worker: Int) {
        while let position = collector.claim() {
            let index = plan.indices[position]
            let result = evaluators[worker].evaluateAll(plan.examples[index], index: index)
            collector.store(result.records, seconds: result.seconds, at: position)
            onExample(result.records)
        }
    }
}
