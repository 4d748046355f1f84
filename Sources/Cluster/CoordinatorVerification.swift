import Foundation

/// What `--verify` found in a run (rules: `Verification`).
public struct VerificationReport: Sendable, Equatable {
    /// Drawn examples whose result two workers agreed on.
    public var verified = 0
    /// Workers whose result differed from two agreeing others: no more work, unchecked results recomputed.
    public var untrusted: [String] = []
    /// Workers that disagreed with no third worker left to decide (the example failed).
    public var suspects: [String] = []
    /// Drawn examples kept with a single result: no other trusted worker was left to compute them.
    public var unverified: [Int] = []

    public init() {}
}

/// The coordinator's side of `--verify`: results of drawn examples go through
/// `Verification`, its verdicts go to the `LeaseBook` and the results log,
/// which only ever gets final results.
extension Coordinator {
    func isUntrusted(_ identity: Data) -> Bool {
        verification.untrusted.contains(identity)
            || sessions[identity]?.userID.map { verification.untrustedKeys.contains($0) } == true
    }

    /// Session name for log lines (routing id when the session is gone).
    func workerName(_ identity: Data) -> String { sessions[identity]?.name ?? Self.describe(identity) }

    /// A RESULT that passed validation: final at once, or one opinion on a drawn example.
    func accept(_ identity: Data, lease: UInt64, index: Int, attempt: UInt32, payload: Data) throws {
        let drawn = verification.isDrawn(index)
        let outcome = book.recordResult(owner: identity, lease: lease, index: index, attempt: attempt,
                                        payload: payload, provisional: drawn)
        guard case .accepted = outcome else { return drop(identity, "RESULT \(index): \(outcome)") }
        receivedThisSession += 1
        guard drawn else {
            verification.recordUnchecked(index: index, worker: identity)
            try resultsLog?.append(
                index: index, attempt: attempt, result: .done(payload), by: [Self.describe(identity)])
            options.resultAccepted?(index, payload, false)
            return
        }
        switch verification.record(index: index, worker: identity, payload: payload) {
        case let .final(agreed, agreeing, dissenters):
            book.settle(index, .done(agreed))
            verificationReport.verified += 1
            try resultsLog?.append(
                index: index, attempt: attempt, result: .done(agreed), by: agreeing.map(Self.describe))
            options.resultAccepted?(index, agreed, false)
            let witnesses = agreeing.map(workerName).joined(separator: " and ")
            for dissenter in dissenters {
                try distrust(dissenter, "result for example \(index) differs from worker \(witnesses)'s")
            }
        case let .needsAnother(excluding):
            book.reissue(index, excluding: excluding)
        case let .failed(reason, suspects):
            try failDisputed(index, reason: reason, suspects: suspects)
        }
    }

    /// `worker` gets no more work; its leases and its unchecked results go to trusted workers.
    func distrust(_ worker: Data, _ reason: String) throws {
        guard !verification.untrusted.contains(worker) else { return }
        let revoked = verification.distrust(worker)
        if let key = sessions[worker]?.userID { verification.untrustedKeys.insert(key) }
        let name = workerName(worker)
        options.log(
            "worker \(name) untrusted: \(reason)"
                + (revoked.isEmpty
                    ? "" : "; its \(revoked.count) unchecked result(s) are computed again by other workers"))
        verificationReport.untrusted.append(name)
        book.revoke(revoked, from: worker)
        try recordFailures(book.release(owner: worker))
        try resultsLog?.appendUntrusted(worker: Self.describe(worker), reason: reason, revoked: revoked)
    }

    private func failDisputed(_ index: Int, reason: String, suspects: [Data]) throws {
        let names = suspects.map(workerName)
        options.log("workers \(names.joined(separator: ", ")) disagree on example \(index): \(reason); the example is "
                    + "failed and they are suspect")
        for name in names where !verificationReport.suspects.contains(name) { verificationReport.suspects.append(name) }
        let result = WorkResult.failed("verification: \(reason)")
        book.settle(index, result)
        try resultsLog?.append(index: index, attempt: UInt32(options.maxAttempts), result: result)
    }

    /// Drawn examples waiting for an opinion that no live trusted worker may give (they all answered it):
    /// decided with what there is, once nothing else is in flight.
    func settleBlockedVerifications() throws {
        guard verification.isActive, book.inFlightCount == 0 else { return }
        let candidates = Set(sessions.filter { $0.value.state != .refused && !isUntrusted($0.key) }.keys)
        guard !candidates.isEmpty else { return }  // no workers at all: the worker timeout decides
        for index in book.blocked(for: candidates) {
            let opinions = verification.giveUp(index)
            if opinions.count >= 2 {
                let names = opinions.map { workerName($0.worker) }.joined(separator: " and ")
                try failDisputed(index, reason: "workers \(names) disagree and no third worker is left to decide",
                                 suspects: opinions.map(\.worker))
            } else if let only = opinions.first {
                book.settle(index, .done(only.payload))
                verification.recordUnchecked(index: index, worker: only.worker)
                verificationReport.unverified.append(index)
                if verificationReport.unverified.count <= 10 {
                    options.log("example \(index) cannot be verified: "
                        + "no trusted worker but \(workerName(only.worker)) is left; "
                        + "its result is kept unverified")
                }
                try resultsLog?.append(
                    index: index, attempt: 1, result: .done(only.payload), by: [Self.describe(only.worker)])
            } else {
                options.log("example \(index) failed: no trusted worker is left that may compute it")
                book.settle(index, .failed("verification: no trusted worker was left that may compute it"))
                try resultsLog?.append(index: index, attempt: UInt32(options.maxAttempts),
                                       result: .failed("verification: no trusted worker was left that may compute it"))
            }
        }
    }

    func verificationSummary() -> String {
        guard verification.isActive else { return "" }
        let report = verificationReport
        var text = ", \(report.verified) verified by two workers"
        if !report.untrusted.isEmpty { text += ", untrusted: \(report.untrusted.joined(separator: ", "))" }
        if !report.suspects.isEmpty { text += ", suspect: \(report.suspects.joined(separator: ", "))" }
        if !report.unverified.isEmpty {
            text += ", \(report.unverified.count) drawn example(s) left unverified (no second worker)"
        }
        return text
    }
}
