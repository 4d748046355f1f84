import Foundation
import BERT
import Kernels

/// The examples a run evaluates: the dataset and the original's selection of indices.
public struct EvaluationPlan: Sendable {
    /// The dataset's rows (a JSONL file as an offset index: see `DatasetRows`).
    public var examples: DatasetRows
    /// Dataset positions in selection order.
    public var indices: [Int]
    public var skippedRows: Int
    public var dataHash: String

    public init(settings: EvaluationSettings) throws {
        let kind = settings.dataset
        let url = URL(fileURLWithPath: settings.dataPath)
        if kind == .jsonl {
            let (rows, skipped) = try indexJSONLDataset(url, skipBadRows: settings.skipBadRows,
                                                        encoding: settings.encoding ?? .utf8)
            examples = rows
            skippedRows = skipped.count
        } else {
            let load = try loadDataset(kind, path: url, skipBadRows: settings.skipBadRows,
                                       encoding: settings.encoding ?? .utf8)
            examples = DatasetRows(load.examples)
            skippedRows = load.skippedRows.count
        }
        indices = try originalSelection(
            populationSize: examples.count, count: settings.testSample, seed: settings.selectionSeed)
        dataHash = try datasetHash(kind, path: url)
        classCount = max(kind.classNames?.count ?? 0, examples.largestLabel + 1)
    }

    /// Classes of the dataset: its fixed classes, or (JSONL) one more than its largest label.
    public var classCount: Int

    /// Refuses, before any example runs, a model with fewer labels than the dataset has classes
    /// (otherwise every example of the missing classes would become a failed record).
    public func checkLabels(of config: BertConfig) throws {
        guard config.numLabels >= classCount else {
            throw EvaluationError.mismatchedInput(
                "the model has \(config.numLabels) labels but the dataset has \(classCount) classes: "
                    + "use a classifier fine-tuned on this dataset "
                    + "(or --num-labels \(classCount) for an encoder-only checkpoint)")
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

/// Runs every selected example in one process with no store (tests and benchmarks; the commands run
/// `EvaluationJob.execute`): `jobs` examples at a time, each on one thread of `backend`, so the records
/// are bit-identical to `LocalExecutor`'s and a cluster run's. `onExample` sees each example's records
/// as they are made (completion order).
public func runEvaluation(model: BertModel, settings: EvaluationSettings, plan: EvaluationPlan,
                          methods: [EvaluationMethod], jobs: Int = 1, backend: GEMMBackend,
                          onExample: @escaping @Sendable ([ExampleRecord]) -> Void = { _ in }) throws -> MethodRecords {
    let workers = max(1, min(jobs, plan.indices.count))
    let context = ComputeContext(backend: backend, threads: 1)
    let evaluators = try (0..<workers).map { _ in
        try ExampleEvaluator(model: model, settings: settings, methods: methods, context: context)
    }
    let collected = Locked([Int: ExampleResult]())
    try evaluateConcurrently(evaluators, plan: plan, indices: plan.indices) { index, result in
        collected.mutate { $0[index] = result }
        onExample(result.records)
    }
    let results = collected.value
    let perExample = plan.indices.compactMap { results[$0] }
    let seconds = methods.indices.map { m in perExample.reduce(0) { $0 + $1.seconds[m] } }
    return MethodRecords(methods: methods, perExample: perExample.map(\.records), seconds: seconds)
}

/// One method's run (`settings.method`): the records in selection order and their summary.
public func runEvaluation(model: BertModel, settings: EvaluationSettings, plan: EvaluationPlan, jobs: Int = 1,
                          backend: GEMMBackend, onRecord: @escaping @Sendable (ExampleRecord) -> Void = { _ in }) throws
    -> (records: [ExampleRecord], summary: Summary) {
    try plan.checkLabels(of: model.config)
    let start = Date()
    let run = try runEvaluation(model: model, settings: settings, plan: plan, methods: [settings.method], jobs: jobs,
                                backend: backend) { onRecord($0[0]) }
    let summary = try summarize(records: run.records[0], method: settings.method,
                                dataset: settings.dataset, layer: settings.summaryLayer,
                                seconds: Date().timeIntervalSince(start), options: settings.summaryOptions)
    return (run.records[0], summary)
}

/// Evaluates one example; an example that cannot be evaluated becomes a failed record (the run goes on).
public func evaluateOrRecordFailure(_ evaluator: ExampleEvaluator, _ example: LabeledExample,
                                    index: Int) -> ExampleRecord {
    do { return try evaluator.evaluate(example, index: index) } catch {
        return .failure(index: index, target: example.label, reason: "\(error)")
    }
}

/// Evaluates the examples at `indices` on one thread per evaluator (each evaluator and its workspaces
/// used by exactly one thread), handing each result to `deliver` from the thread that made it. After
/// the first error `deliver` throws, no further example is started, and the error is rethrown.
func evaluateConcurrently(_ evaluators: [ExampleEvaluator], plan: EvaluationPlan, indices: [Int],
                          deliver: @escaping @Sendable (Int, ExampleResult) throws -> Void) throws {
    let queue = ClaimQueue(indices)
    let task = UnsafeEvaluators(evaluators)
    DispatchQueue.concurrentPerform(iterations: evaluators.count) { worker in
        while let index = queue.claim() {
            do {
                let result = task.evaluators[worker].evaluateAll(try plan.examples.example(index), index: index)
                try deliver(index, result)
            } catch {
                queue.stop(error)
            }
        }
    }
    if let error = queue.error { throw error }
}

/// The next index to evaluate, handed to one thread each; stopped by the first error.
final class ClaimQueue: @unchecked Sendable {
    private let lock = NSLock()
    private let indices: [Int]
    private var next = 0
    private(set) var error: Error?

    init(_ indices: [Int]) { self.indices = indices }

    func claim() -> Int? {
        lock.withLock {
            guard error == nil, next < indices.count else { return nil }
            next += 1
            return indices[next - 1]
        }
    }

    func stop(_ error: Error) { lock.withLock { if self.error == nil { self.error = error } } }
}

/// Evaluators shared with the threads of `concurrentPerform`: each is used by exactly one of them.
struct UnsafeEvaluators: @unchecked Sendable {
    let evaluators: [ExampleEvaluator]
    init(_ evaluators: [ExampleEvaluator]) { self.evaluators = evaluators }
}

/// A value behind a lock.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    var value: Value { lock.withLock { stored } }
    func mutate(_ body: (inout Value) -> Void) { lock.withLock { body(&stored) } }
}
