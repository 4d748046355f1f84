import Foundation

/// What the coordinator writes its final results to: the hash-chained `ResultsLog`, or the caller's own
/// store (ClusterEvaluation adapts an evaluation's `ResultStore`). Only final results reach it: accepted
/// (verified when drawn), failed for good, or revoked with an untrusted worker.
public protocol ResultJournal: AnyObject {
    /// `by`: the workers whose result it is (two when verified).
    func append(index: Int, attempt: UInt32, result: WorkResult, by workers: [String]) throws
    /// A worker found untrusted: its earlier results (`revoked`) no longer count, on resume either.
    func appendUntrusted(worker: String, reason: String, revoked: [Int]) throws
    /// Makes the appended lines durable; the coordinator commits once per drain of its socket.
    func commit() throws
    /// The done result of example `index` as committed (the last appended, else the log's first), nil if none.
    func storedPayload(index: Int) throws -> Data?
}

extension ResultJournal {
    /// A result of no worker in particular (a failure for good).
    func append(index: Int, attempt: UInt32, result: WorkResult) throws {
        try append(index: index, attempt: attempt, result: result, by: [])
    }
}

extension ResultsLog: ResultJournal {}

/// A journal the coordinator writes to, opened by its caller, and the done results it already held.
public struct OpenedJournal {
    public var journal: any ResultJournal
    /// Done results by index (a resumed run): not issued again.
    public var done: [Int: Data]

    public init(journal: any ResultJournal, done: [Int: Data]) {
        self.journal = journal
        self.done = done
    }
}

/// The hash-chained results log at `url` (see `ResultsLog`): created, or with `resume` continued when its
/// header has the same fingerprint (model, data, options, seed), else refused naming the options in
/// `details` that changed (an option left out of `options` reads as its `optionDefaults` entry); `protection`:
/// its HMAC key, and whether an unchained (format 1) log resumes.
/// `payloadsAreJSON`: every payload appended was decoded as JSON by its producer or validator, so the log
/// checks only that it is one line.
public func openResultsLog(_ url: URL, modelHash: String, dataHash: String, options: [String: String], seed: UInt64,
                           details: [String: String], optionDefaults: [String: String] = [:], resume: Bool,
                           protection: ResultsLogProtection = ResultsLogProtection(), payloadsAreJSON: Bool = false,
                           log: (String) -> Void = { _ in }) throws -> OpenedJournal {
    let fingerprint = ManifestFingerprint(modelHash: modelHash, dataHash: dataHash, options: options, seed: seed)
    let (journal, done) = try ResultsLog.open(url, fingerprint: fingerprint, details: details,
                                              optionDefaults: optionDefaults, resume: resume,
                                              protection: protection, log: log)
    journal.payloadsAreJSON = payloadsAreJSON
    return OpenedJournal(journal: journal, done: done)
}
