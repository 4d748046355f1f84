import Foundation
import XCTest
import BERT
import Kernels
import Tokenizer
@testable import Evaluation

/// `EvaluationJob.execute`: one run from store to outputs, interrupted and resumed, and the failure check.
final class JobExecutionTests: XCTestCase {
    /// A small random 4-class classifier (its numbers do not matter, only that they are reproducible).
    func model() throws -> BertModel {
        let tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "oil", "prices", "rise", "the", "a", "to", "in"]
        let config = BertConfig(vocabSize: tokens.count, hiddenSize: 8, numLayers: 1, numHeads: 2, intermediateSize: 16,
                                maxPositions: 512, numLabels: 4)
        let tensors = InMemoryTensors()
        for spec in ParameterNames.specs(config) {
            let count = spec.shape.reduce(1, *)
            tensors.set(spec.name, shape: spec.shape, values: (0..<count).map { Float(($0 * 7) % 11) / 11 - 0.5 })
        }
        var report = LoadReport()
        let parameters = try BertParameters(config: config, source: tensors, sourcePath: "memory", report: &report)
        return BertModel(parameters: parameters, tokenizer: try BertTokenizer(vocabulary: Vocabulary(tokens: tokens)))
    }

    func job(_ output: URL, methods: [EvaluationMethod] = [.iba, .random], sample: Int = 6) throws -> EvaluationJob {
        var settings = EvaluationSettings()
        settings.dataPath = try EmbeddedData.agnewsDemoTest().path
        settings.testSample = sample
        settings.layer = 0
        return try EvaluationJob(settings: settings, model: ModelReference(path: "/nowhere"), outputDirectory: output,
                                 methods: methods)
    }

    func local(threads: Int = 2) throws -> LocalExecutor {
        let model = try model()
        return LocalExecutor(threads: threads, backend: .onednn) { model }
    }

    func testARunStoppedAfterThreeExamplesResumesToTheSameOutputs() throws {
        let directory = try temporaryDirectory(self)
        let whole = directory.appendingPathComponent("whole"), resumed = directory.appendingPathComponent("resumed")
        try job(whole).execute(executor: try local(), store: MemoryResultStore())

        let store = MemoryResultStore(jsonl: directory.appendingPathComponent("store.jsonl"))
        let stopping = StoppingStore(store, after: 3)
        XCTAssertThrowsError(try job(resumed).execute(executor: try local(threads: 1), store: stopping)) { error in
            XCTAssertEqual(error as? StoppingStore.Stop, .stopped)
        }
        XCTAssertEqual(store.done.count, 3)
        XCTAssertFalse(FileManager.default.fileExists(atPath: resumed.appendingPathComponent("comparison.csv").path))
        XCTAssertThrowsError(try job(resumed).execute(executor: try local(), store: store),
                             "a store with results needs resume")

        store.resume = true
        let counting = CountingExecutor(inner: try local())
        try job(resumed).execute(executor: counting, store: store)
        XCTAssertEqual(counting.pending, 3, "only the examples the store did not hold are computed")
        for method in ["iba", "random"] {
            let a = try Data(contentsOf: whole.appendingPathComponent("\(method)/results.jsonl"))
            let b = try Data(contentsOf: resumed.appendingPathComponent("\(method)/results.jsonl"))
            XCTAssertFalse(a.isEmpty)
            XCTAssertEqual(a, b, "\(method)/results.jsonl after the resume")
        }
        let progressData = try Data(contentsOf: resumed.appendingPathComponent("progress.json"))
        let progress = try JSONSerialization.jsonObject(with: progressData)
        XCTAssertEqual((progress as? [String: Any])?["done"] as? Int, 6)
        let stored = try String(contentsOf: directory.appendingPathComponent("store.jsonl"), encoding: .utf8)
        let lines = stored.split(separator: "\n")
        XCTAssertEqual(lines.count, 6, "each example stored once")
    }

    func testExamplesGivenUpAreFailedRecordsAndTheFailureCheckComesAfterTheOutputs() throws {
        let directory = try temporaryDirectory(self)
        let job = try job(directory, methods: [.random], sample: 3)
        let lost = job.plan.indices[0], missing = job.plan.indices[1]
        let finished = Locked(0)
        let observer = RunObserver(finished: { _ in finished.mutate { $0 += 1 } })
        let executor = CountingExecutor(inner: try local(), skipping: [lost, missing], failures: [lost: "worker gone"])
        XCTAssertThrowsError(try job.execute(executor: executor, store: MemoryResultStore(), observer: observer,
                                             allowedFailures: 1)) { error in
            guard case .examplesFailed(let count, _, _, let first) = error as? EvaluationError else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(count, 2)
            XCTAssertTrue(first.contains("example \(lost): worker gone"), "\(first)")
            XCTAssertTrue(first.contains("example \(missing): no result"), "\(first)")
        }
        XCTAssertEqual(finished.value, 1, "the outcome is shown before the failure check throws")
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.appendingPathComponent("summary.json").path))
        XCTAssertNoThrow(try self.job(directory.appendingPathComponent("again"), methods: [.random], sample: 3)
            .execute(executor: executor, store: MemoryResultStore(), allowedFailures: 2))
    }
}

/// A store that fails on its `after`+1-th result: a run stopped mid-way, its first results committed.
final class StoppingStore: ResultStore {
    enum Stop: Error { case stopped }
    let inner: MemoryResultStore
    let after: Int
    private var appended = 0

    init(_ inner: MemoryResultStore, after: Int) {
        self.inner = inner
        self.after = after
    }

    func open() throws -> [Int: Data] { try inner.open() }
    func append(index: Int, attempt: Int, payload: Data, by workers: [String]) throws {
        guard appended < after else { throw Stop.stopped }
        appended += 1
        try inner.append(index: index, attempt: attempt, payload: payload, by: workers)
    }
    func appendFailure(index: Int, attempt: Int, reason: String) throws {
        try inner.appendFailure(index: index, attempt: attempt, reason: reason)
    }
    func revoke(worker: String, reason: String, indices: [Int]) throws {
        try inner.revoke(worker: worker, reason: reason, indices: indices)
    }
    func commit() throws { try inner.commit() }
    func storedPayload(index: Int) throws -> Data? { try inner.storedPayload(index: index) }
}

/// The local executor, counting what it is asked to compute; `skipping` examples are not computed and
/// `failures` reported as given up.
final class CountingExecutor: EvaluationExecutor {
    let inner: LocalExecutor
    let skipping: Set<Int>
    let failures: [Int: String]
    private(set) var pending = 0

    init(inner: LocalExecutor, skipping: Set<Int> = [], failures: [Int: String] = [:]) {
        self.inner = inner
        self.skipping = skipping
        self.failures = failures
    }

    func evaluate(_ job: EvaluationJob, pending: [Int], held: [Int: Data], store: any ResultStore,
                  intake: ResultIntake) throws -> [Int: String] {
        self.pending = pending.count
        let computed = pending.filter { !skipping.contains($0) }
        _ = try inner.evaluate(job, pending: computed, held: held, store: store, intake: intake)
        return failures
    }
}

/// progress.json is refreshed on a timer while one long example runs, not only when an example finishes.
final class ProgressTickerTests: XCTestCase {
    /// An executor computing one example for a long time, sampling progress.json meanwhile.
    struct SlowExecutor: EvaluationExecutor {
        let samples: LockedSamples
        func evaluate(_ job: EvaluationJob, pending: [Int], held: [Int: Data], store: any ResultStore,
                      intake: ResultIntake) throws -> [Int: String] {
            let url = job.outputDirectory.appendingPathComponent("progress.json")
            for wait in [2.8, 1.6] {
                Thread.sleep(forTimeInterval: wait)
                let json = (try? Data(contentsOf: url))
                    .flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
                samples.append(json?["elapsed_seconds"] as? Double)
            }
            return Dictionary(uniqueKeysWithValues: pending.map { ($0, "not computed") })
        }
    }

    final class LockedSamples: @unchecked Sendable {
        private let lock = NSLock()
        private var values: [Double?] = []
        func append(_ value: Double?) { lock.withLock { values.append(value) } }
        var all: [Double?] { lock.withLock { values } }
    }

    func testProgressIsRewrittenEveryTwoSecondsWhileAnExampleRuns() throws {
        let directory = try temporaryDirectory(self)
        var settings = EvaluationSettings()
        settings.dataPath = try EmbeddedData.agnewsDemoTest().path
        settings.testSample = 1
        let job = try EvaluationJob(settings: settings, model: ModelReference(path: "/nowhere"),
            outputDirectory: directory,
                                    methods: [.random])
        let samples = LockedSamples()
        XCTAssertThrowsError(try job.execute(executor: SlowExecutor(samples: samples), store: MemoryResultStore()))
        let seen = samples.all
        XCTAssertEqual(seen.count, 2)
        let first = try XCTUnwrap(seen.first ?? nil, "no progress.json 2.8 s into a run with no result yet")
        let second = try XCTUnwrap(seen.last ?? nil)
        XCTAssertGreaterThanOrEqual(first, 1.5)
        XCTAssertGreaterThanOrEqual(second, 3.5, "refreshed again while the example still ran")
    }
}
