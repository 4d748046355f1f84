import Foundation

/// Where a run keeps each example's result as it arrives, so a stopped run can resume: the hash-chained
/// results log (`ResultsLogStore` in ClusterEvaluation, which both commands use) or `MemoryResultStore`.
/// Results are kept as the bytes the executor made or the worker sent (`ExampleResult`'s JSON), so a
/// resumed run reads back exactly what was computed. Called from one thread at a time.
///
/// Declared here rather than beside the log: Evaluation cannot import Cluster (libzmq), and the log's
/// file format stays where its hash chain and refusals live. Cluster exposes the log as a
/// `ResultJournal` (what its coordinator writes to); ClusterEvaluation, above both, wraps the log as this
/// protocol and adapts any store back into a journal, so the coordinator writes to whatever store the run has.
public protocol ResultStore: AnyObject {
    /// Creates the store, or continues it when the run resumes (refusing one written for other settings,
    /// naming what changed), and returns the results it already holds by dataset index. Failed examples
    /// are not returned: a resumed run tries them again.
    func open() throws -> [Int: Data]
    /// Queues an example's result; `attempt` and `by` (workers) are the cluster's bookkeeping.
    func append(index: Int, attempt: Int, payload: Data, by workers: [String]) throws
    /// Queues an example given up without a result.
    func appendFailure(index: Int, attempt: Int, reason: String) throws
    /// A worker found untrusted (`--verify`): its results at `indices` no longer count, on resume either.
    func revoke(worker: String, reason: String, indices: [Int]) throws
    /// Makes every queued line durable.
    func commit() throws
    /// The result of example `index` as the store holds it now (committed), nil when it has none: a run's
    /// outputs are written from the store after the run, so no process holds every result meanwhile.
    func storedPayload(index: Int) throws -> Data?
}

/// A `ResultStore` in memory, for tests and callers that need no resume across processes; with a
/// `jsonl` URL every committed result is also written there, one `{"index","payload"}` line each.
/// Opening it again (resume) returns what it holds; opening a non-empty store without `resume` is
/// refused as the results log refuses it.
public final class MemoryResultStore: ResultStore {
    public var resume: Bool
    public let jsonl: URL?
    /// Done results by index (first one wins, as in the results log), failures, and what is queued.
    public private(set) var done: [Int: Data] = [:]
    public private(set) var failures: [Int: String] = [:]
    private var pending: [(index: Int, payload: Data?, failure: String?)] = []
    /// Indices in commit order (each result once).
    public private(set) var committedOrder: [Int] = []

    public init(resume: Bool = false, jsonl: URL? = nil) {
        self.resume = resume
        self.jsonl = jsonl
    }

    public func open() throws -> [Int: Data] {
        guard resume || (done.isEmpty && failures.isEmpty) else {
            throw EvaluationError.invalidSetting("the result store already holds results: pass --resume to continue it")
        }
        if let jsonl, !FileManager.default.fileExists(atPath: jsonl.path) {
            guard FileManager.default.createFile(atPath: jsonl.path, contents: nil) else {
                throw EvaluationError.outputFailed(path: jsonl.path, reason: "cannot create it")
            }
        }
        failures = [:]
        return done
    }

    public func append(index: Int, attempt: Int, payload: Data, by workers: [String]) throws {
        pending.append((index, payload, nil))
    }

    public func appendFailure(index: Int, attempt: Int, reason: String) throws {
        pending.append((index, nil, reason))
    }

    public func revoke(worker: String, reason: String, indices: [Int]) throws {
        try commit()
        for index in indices { done[index] = nil }
    }

    public func storedPayload(index: Int) throws -> Data? { done[index] }

    public func commit() throws {
        var lines = Data()
        for entry in pending {
            if let payload = entry.payload {
                guard done[entry.index] == nil else { continue }
                done[entry.index] = payload
                committedOrder.append(entry.index)
                lines.append(Data("{\"index\":\(entry.index),\"payload\":".utf8) + payload + Data("}\n".utf8))
            } else if let failure = entry.failure {
                failures[entry.index] = failure
            }
        }
        pending.removeAll()
        guard let jsonl, !lines.isEmpty else { return }
        do {
            let handle = try FileHandle(forWritingTo: jsonl)
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: lines)
        } catch {
            throw EvaluationError.outputFailed(path: jsonl.path, reason: "\(error)")
        }
    }
}
