import Foundation
import Cluster
import Evaluation
import Kernels

/// What decides a run's numbers, found once per run: the model's identity (its files hashed) and the
/// options the results log's fingerprint compares. Both commands make the same one, so a log written by
/// `iba evaluate` resumes under `iba-coordinator` and the other way round.
public struct RunIdentity {
    public let model: ModelIdentity
    let files: ModelFiles
    /// What `--resume` compares beside the model, data and seed: a hash of the encoded settings, the methods
    /// when several run, the GEMM library unless it is oneDNN (logs from before the library was
    /// compared are oneDNN runs, and resume), and the attention kernel unless it is the sgemm path (logs from
    /// before the fused kernel; they resume under `IBA_FUSED_ATTENTION=0`).
    public let options: [String: String]
    /// The settings in words, kept in the log's header so a refused resume names what changed.
    public let details: [String: String]

    /// What an option `options` leaves out stands for, so a refused resume names it truly (not "unset").
    public static let optionDefaults = [
        "gemm": GEMMBackend.onednn.rawValue, "attention": AttentionKernel.gemm.rawValue, partOption: "the whole job",
    ]
    /// The option naming a part (`--part K/N`), absent from an unsliced job's.
    public static let partOption = "part"

    static func options(_ job: EvaluationJob, gemm: GEMMBackend,
                        attention: AttentionKernel = .fromEnvironment) throws -> [String: String] {
        var options = ["settings": try job.settings.fingerprint()]
        if job.methods.count > 1 { options["methods"] = job.methods.map(\.rawValue).joined(separator: ",") }
        if gemm != .onednn { options["gemm"] = gemm.rawValue }
        let kernel = attention.effective(on: gemm)
        if kernel != .gemm { options["attention"] = kernel.rawValue }
        // A part's log resumes only as that part; `iba merge` compares everything else.
        if let part = job.part { options[RunIdentity.partOption] = part.description }
        return options
    }

    public init(job: EvaluationJob, gemm: GEMMBackend) throws {
        files = try ModelFiles(job.model)
        model = try files.identity(job.model)
        options = try Self.options(job, gemm: gemm)
        details = (try? job.settings.described()) ?? [:]
    }
}

/// The hash-chained results log in a job's output directory (`results.log.jsonl`, see Cluster's
/// `ResultsLog`) as the run's `ResultStore`: the store of both commands, with one set of rules (an
/// existing log needs `--resume`; a log of other settings is refused, naming them).
public final class ResultsLogStore: ResultStore {
    public static let fileName = "results.log.jsonl"
    public let url: URL
    public let identity: RunIdentity
    let job: EvaluationJob
    let resume: Bool
    let protection: ResultsLogProtection
    let log: (String) -> Void
    private var journal: (any ResultJournal)?

    public init(job: EvaluationJob, gemm: GEMMBackend, resume: Bool,
                protection: ResultsLogProtection = ResultsLogProtection(),
                log: @escaping (String) -> Void = { _ in }) throws {
        self.job = job
        self.identity = try RunIdentity(job: job, gemm: gemm)
        self.url = job.outputDirectory.appendingPathComponent(Self.fileName)
        self.resume = resume
        self.protection = protection
        self.log = log
    }

    public func open() throws -> [Int: Data] {
        let opened = try openResultsLog(url, modelHash: identity.model.hash, dataHash: job.plan.dataHash,
                                        options: identity.options, seed: job.settings.seed, details: identity.details,
                                        optionDefaults: RunIdentity.optionDefaults,
                                        resume: resume, protection: protection, payloadsAreJSON: true, log: log)
        journal = opened.journal
        return opened.done
    }

    private func opened() throws -> any ResultJournal {
        guard let journal else { throw ClusterEvaluationError.payload("the results log \(url.path) is not open") }
        return journal
    }

    public func append(index: Int, attempt: Int, payload: Data, by workers: [String]) throws {
        try opened().append(index: index, attempt: UInt32(clamping: attempt), result: .done(payload), by: workers)
    }

    public func appendFailure(index: Int, attempt: Int, reason: String) throws {
        try opened().append(index: index, attempt: UInt32(clamping: attempt), result: .failed(reason), by: [])
    }

    public func revoke(worker: String, reason: String, indices: [Int]) throws {
        try opened().appendUntrusted(worker: worker, reason: reason, revoked: indices)
    }

    public func commit() throws { try journal?.commit() }

    public func storedPayload(index: Int) throws -> Data? { try opened().storedPayload(index: index) }
}

/// Any `ResultStore` as the coordinator's journal: what the coordinator finalises goes to the run's store.
final class StoreJournal: ResultJournal {
    let store: any ResultStore
    init(_ store: any ResultStore) { self.store = store }

    func append(index: Int, attempt: UInt32, result: WorkResult, by workers: [String]) throws {
        switch result {
        case .done(let payload): try store.append(index: index, attempt: Int(attempt), payload: payload, by: workers)
        case .failed(let reason): try store.appendFailure(index: index, attempt: Int(attempt), reason: reason)
        }
    }

    func appendUntrusted(worker: String, reason: String, revoked: [Int]) throws {
        try store.revoke(worker: worker, reason: reason, indices: revoked)
    }

    func commit() throws { try store.commit() }

    func storedPayload(index: Int) throws -> Data? { try store.storedPayload(index: index) }
}
