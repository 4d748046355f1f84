import Foundation

/// The coordinator's bookkeeping, free of sockets and clocks (time is passed
/// in), so every scheduling rule can be tested directly.
///
/// Rules: an example is handed out under a lease with an attempt number;
/// a result counts only from the lease's owner, for an entry still open in a
/// live lease, with the attempt it was issued with; the first such result for
/// an index wins and later ones are duplicates. Entries of lost or expired
/// leases go back to the front of the queue unless `maxAttempts` is reached,
/// in which case the example is failed.
struct LeaseBook {
    struct Lease {
        let id: UInt64
        let owner: Data
        let issuedAt: Double
        /// index -> attempt, for entries not yet answered.
        var open: [Int: UInt32]
    }

    enum Outcome: Equatable {
        case accepted(attempt: UInt32)
        /// The example was already answered (by a speculative twin, or resent).
        case duplicate
        /// Lease no longer live (requeued, expired, finished) or wrong attempt.
        case stale(String)
        /// Sender does not own the lease, or the index is not in it.
        case unauthorised(String)
    }

    let total: Int
    let maxAttempts: UInt32
    let shardSize: Int
    private let selection: Set<Int>
    /// Queue of examples to hand out, stored reversed (next = last) so both
    /// taking the next one and putting one back in front are O(1).
    private var queueReversed: [Int]
    /// Final results: with payloads a dictionary, without (`keepsPayloads` false) a bit per done index and
    /// the failures' reasons, so 400,000 done examples cost 50 KB.
    private(set) var results: Settlements
    private(set) var leases: [UInt64: Lease] = [:]
    /// owner -> its live leases: the coordinator asks per worker on every dispatch, and scanning every
    /// lease for each of a thousand workers made a dispatch quadratic in the workers.
    private var leasesByOwner: [Data: Set<UInt64>] = [:]
    /// Done results keep their payloads (false: `.done` with no bytes, for a caller that journals and
    /// aggregates each result as it arrives and must not hold them all).
    let keepsPayloads: Bool
    private(set) var requeues = 0
    /// Attempt numbers handed out per index (tags only: stale results are recognised by them).
    private var attemptsIssued: [Int: UInt32] = [:]
    /// Attempts that ended in an ERROR or a lease timeout, per index.
    private var failures: [Int: UInt32] = [:]
    static let lostIssuesFactor: UInt32 = 4
    /// index -> live leases holding it open (two while speculated).
    private var holders: [Int: Set<UInt64>] = [:]
    private var nextLeaseID: UInt64
    /// index -> workers that may not take it (they answered it already, or are untrusted): `Verification`.
    private var excluded: [Int: Set<Data>] = [:]
    /// index -> workers whose attempt at it failed (ERROR or an invalid record): it goes to another live worker
    /// first, so one broken or forging peer cannot use up every attempt of an example.
    private var avoided: [Int: Set<Data>] = [:]

    /// `firstLeaseID` should be random per coordinator instance, so a restarted
    /// coordinator never mistakes a worker's stale result for one of its leases.
    init(indices: [Int], alreadyDone: [Int: Data], maxAttempts: Int, shardSize: Int, firstLeaseID: UInt64,
         keepsPayloads: Bool = true) throws {
        guard maxAttempts >= 1 else { throw ClusterError.invalidOption("maxAttempts must be at least 1") }
        guard (1...Wire.maxTaskEntries).contains(shardSize) else {
            throw ClusterError.invalidOption("shardSize must be 1...\(Wire.maxTaskEntries)")
        }
        let selection = Set(indices)
        guard selection.count == indices.count else {
            throw ClusterError.invalidSelection("indices contain duplicates")
        }
        guard indices.allSatisfy({ $0 >= 0 }) else {
            throw ClusterError.invalidSelection("indices must be non-negative")
        }
        self.total = indices.count
        self.maxAttempts = UInt32(min(maxAttempts, Int(UInt32.max)))
        self.shardSize = shardSize
        self.selection = selection
        self.nextLeaseID = firstLeaseID
        self.keepsPayloads = keepsPayloads
        results = Settlements(keepsPayloads: keepsPayloads, largestIndex: indices.max() ?? 0)
        for (index, payload) in alreadyDone where selection.contains(index) {
            results[index] = .done(keepsPayloads ? payload : Data())   // done, so failedCount stays 0
        }
        self.queueReversed = indices.filter { alreadyDone[$0] == nil }.reversed()
    }

    var isFinished: Bool { results.count == total }
    var doneCount: Int { results.count - failedCount }
    /// Kept as results change: the coordinator reads the counts after every result, and counting the
    /// results each time made its CPU per result grow with the results already in.
    private(set) var failedCount = 0
    var inFlightCount: Int { holders.count }
    /// Examples waiting, next first.
    var pending: [Int] { queueReversed.reversed() }
    var pendingCount: Int { queueReversed.count }

    /// Next shard from the queue for `owner`, or nil if the queue is empty. `live`: the workers
    /// that may take work now; an example `owner` failed waits for one of the others.
    mutating func issue(to owner: Data, now: Double, live: Set<Data> = []) -> (lease: UInt64, entries: [LeaseEntry])? {
        var entries: [LeaseEntry] = []
        var skipped: [Int] = []
        while entries.count < shardSize, let index = queueReversed.popLast() {
            guard results[index] == nil, holders[index] == nil else { continue }
            if excluded[index]?.contains(owner) == true || avoids(owner, index, live: live) {
                skipped.append(index)  // another worker's to verify: stays in front, in order
                continue
            }
            let attempt = (attemptsIssued[index] ?? 0) + 1
            attemptsIssued[index] = attempt
            entries.append(LeaseEntry(index: index, attempt: attempt))
        }
        queueReversed.append(contentsOf: skipped.reversed())
        return entries.isEmpty ? nil : open(entries, owner: owner, now: now)
    }

    /// With the queue empty: re-issue the oldest in-flight examples held by
    /// someone else for more than `minimumAgeSeconds` and not yet speculated,
    /// to an idle worker. First result wins.
    mutating func speculate(to owner: Data, now: Double,
                            minimumAgeSeconds: Double = 0) -> (lease: UInt64, entries: [LeaseEntry])? {
        guard queueReversed.isEmpty else { return nil }
        var entries: [LeaseEntry] = []
        for lease in leases.values.sorted(by: { ($0.issuedAt, $0.id) < ($1.issuedAt, $1.id) })
        where lease.owner != owner && now - lease.issuedAt >= minimumAgeSeconds {
            for index in lease.open.keys.sorted() where entries.count < shardSize {
                let attempts = attemptsIssued[index] ?? 0
                guard holders[index]?.count == 1, exhausted(index) == nil,
                      excluded[index]?.contains(owner) != true else { continue }
                attemptsIssued[index] = attempts + 1
                entries.append(LeaseEntry(index: index, attempt: attempts + 1))
            }
            if entries.count == shardSize { break }
        }
        return entries.isEmpty ? nil : open(entries, owner: owner, now: now)
    }

    private mutating func open(_ entries: [LeaseEntry], owner: Data,
                               now: Double) -> (lease: UInt64, entries: [LeaseEntry]) {
        let id = nextLeaseID
        nextLeaseID &+= 1
        var open: [Int: UInt32] = [:]
        for entry in entries {
            open[entry.index] = entry.attempt
            holders[entry.index, default: []].insert(id)
        }
        leases[id] = Lease(id: id, owner: owner, issuedAt: now, open: open)
        leasesByOwner[owner, default: []].insert(id)
        return (id, entries)
    }

    /// Whether some example avoids a worker that failed it (only then does `issue` need the live workers).
    var avoidsWorkers: Bool { !avoided.isEmpty }

    private func avoids(_ owner: Data, _ index: Int, live: Set<Data>) -> Bool {
        guard let failedOn = avoided[index], failedOn.contains(owner) else { return false }
        return !live.subtracting(failedOn).subtracting(excluded[index] ?? []).isEmpty
    }

    /// Checks a RESULT or ERROR against the lease it names.
    private func validate(owner: Data, lease id: UInt64, index: Int, attempt: UInt32) -> Outcome? {
        guard selection.contains(index) else { return .unauthorised("index \(index) is not in the selection") }
        guard let lease = leases[id] else {
            return results[index] != nil ? .duplicate : .stale("lease \(id) is not live")
        }
        guard lease.owner == owner else { return .unauthorised("lease \(id) belongs to another worker") }
        guard let issued = lease.open[index] else {
            return results[index] != nil ? .duplicate : .unauthorised("index \(index) is not in lease \(id)")
        }
        guard issued == attempt else { return .stale("attempt \(attempt) but lease \(id) issued attempt \(issued)") }
        return nil
    }

    /// `provisional`: the example waits for verification; the caller then `settle`s or `reissue`s it.
    mutating func recordResult(owner: Data, lease id: UInt64, index: Int, attempt: UInt32, payload: Data,
                               provisional: Bool = false) -> Outcome {
        if let rejection = validate(owner: owner, lease: id, index: index, attempt: attempt) { return rejection }
        close(index)
        guard results[index] == nil else { return .duplicate }
        if !provisional { settle(index, .done(keepsPayloads ? payload : Data())) }
        return .accepted(attempt: attempt)
    }

    // MARK: - Verification (rules in Verification.swift)

    /// The example's final result.
    mutating func settle(_ index: Int, _ result: WorkResult) {
        if case .done = result, !keepsPayloads {
            setResult(index, .done(Data()))
        } else {
            setResult(index, result)
        }
        excluded[index] = nil
    }

    /// Issue `index` again (next in line), to none of `workers`.
    mutating func reissue(_ index: Int, excluding workers: Set<Data>) {
        excluded[index, default: []].formUnion(workers)
        queueReversed.append(index)
    }

    /// Results of an untrusted worker no longer count: computed again, by others.
    mutating func revoke(_ indices: [Int], from worker: Data) {
        for index in indices where results[index] != nil {
            setResult(index, nil)
            reissue(index, excluding: [worker])
            requeues += 1
        }
    }

    /// Queued examples that none of `workers` may take (verification found no one left to ask).
    func blocked(for workers: Set<Data>) -> [Int] {
        queueReversed.reversed().filter { index in
            results[index] == nil && holders[index] == nil && excluded[index].map { workers.isSubset(of: $0) } == true
        }
    }

    /// A worker could not compute the example: retry elsewhere, or fail it
    /// after `maxAttempts`. Returns the final failure when it is recorded.
    mutating func recordError(owner: Data, lease id: UInt64, index: Int, attempt: UInt32,
                              message: String) -> (Outcome, WorkResult?) {
        if let rejection = validate(owner: owner, lease: id, index: index, attempt: attempt) { return (rejection, nil) }
        failures[index, default: 0] += 1
        avoided[index, default: []].insert(owner)
        leases[id]?.open[index] = nil
        dropLeaseIfEmpty(id)
        holders[index]?.remove(id)
        return (.accepted(attempt: attempt), settleUnheld(index, reason: "attempt \(attempt): \(message)"))
    }

    /// The live leases of `owner`, oldest first.
    func leases(of owner: Data) -> [Lease] {
        (leasesByOwner[owner] ?? []).compactMap { leases[$0] }.sorted { ($0.issuedAt, $0.id) < ($1.issuedAt, $1.id) }
    }

    /// How many live leases `owner` holds.
    func leaseCount(of owner: Data) -> Int { leasesByOwner[owner]?.count ?? 0 }

    /// A worker is gone (heartbeats stopped, BYE, HELLO again, refused):
    /// its open entries go back to the queue, without counting an attempt.
    /// Returns examples failed by it (only past the lost-issue bound).
    mutating func release(owner: Data) -> [(Int, WorkResult)] {
        let owned = (leasesByOwner[owner] ?? []).sorted()
        return owned.flatMap { releaseLease($0, reason: "worker lost", counts: false) }
    }

    /// Reconciliation: leases the worker says it does not hold (its TASK or
    /// RESULT was lost) go back to the queue without counting an attempt.
    mutating func release(leases ids: [UInt64]) -> [(Int, WorkResult)] {
        ids.flatMap { releaseLease($0, reason: "lease lost in transit", counts: false) }
    }

    func leases(olderThan timeoutSeconds: Double, now: Double) -> [Lease] {
        leases.values.filter { now - $0.issuedAt > timeoutSeconds }.sorted { $0.id < $1.id }
    }

    /// Leases older than `timeoutSeconds` (hung compute) are requeued and
    /// count as a failed attempt; the worker keeps its session. Returns examples failed by it.
    mutating func expire(olderThan timeoutSeconds: Double, now: Double) -> [(Int, WorkResult)] {
        let old = leases.values.filter { now - $0.issuedAt > timeoutSeconds }.map(\.id)
        return old.flatMap { releaseLease($0, reason: "lease timed out", counts: true) }
    }

    private mutating func releaseLease(_ id: UInt64, reason: String, counts: Bool) -> [(Int, WorkResult)] {
        guard let lease = removeLease(id) else { return [] }
        var failed: [(Int, WorkResult)] = []
        // Back to the front of the queue: they are the oldest work.
        var requeued: [Int] = []
        for index in lease.open.keys.sorted() {
            holders[index]?.remove(id)
            if counts { failures[index, default: 0] += 1 }
            if holders[index]?.isEmpty ?? true { holders[index] = nil } else { continue }
            if let exhausted = exhausted(index) {
                let result = WorkResult.failed("\(reason) on attempt \(lease.open[index] ?? 0): \(exhausted)")
                setResult(index, result)
                failed.append((index, result))
            } else {
                requeued.append(index)
            }
        }
        requeues += requeued.count
        queueReversed.append(contentsOf: requeued.reversed())
        return failed
    }

    /// Every change of `results` goes through here, so `failedCount` stays exact.
    private mutating func setResult(_ index: Int, _ result: WorkResult?) {
        if case .failed? = results[index] { failedCount -= 1 }
        if case .failed? = result { failedCount += 1 }
        results[index] = result
    }

    /// The example is answered: close it in every lease holding it.
    private mutating func close(_ index: Int) {
        for id in holders.removeValue(forKey: index) ?? [] {
            leases[id]?.open[index] = nil
            dropLeaseIfEmpty(id)
        }
    }

    private mutating func dropLeaseIfEmpty(_ id: UInt64) {
        if leases[id]?.open.isEmpty == true { removeLease(id) }
    }

    /// Every removal of a lease goes through here, so `leasesByOwner` stays exact.
    @discardableResult
    private mutating func removeLease(_ id: UInt64) -> Lease? {
        guard let lease = leases.removeValue(forKey: id) else { return nil }
        leasesByOwner[lease.owner]?.remove(id)
        if leasesByOwner[lease.owner]?.isEmpty == true { leasesByOwner[lease.owner] = nil }
        return lease
    }

    /// After an error: if no other lease holds the index, requeue or fail it.
    private mutating func settleUnheld(_ index: Int, reason: String) -> WorkResult? {
        if let others = holders[index], !others.isEmpty { return nil }
        holders[index] = nil
        guard results[index] == nil else { return nil }
        if exhausted(index) != nil {
            let result = WorkResult.failed(reason)
            setResult(index, result)
            return result
        }
        requeues += 1
        queueReversed.append(index)
        return nil
    }

    /// Why `index` may not be issued again, or nil.
    private func exhausted(_ index: Int) -> String? {
        if (failures[index] ?? 0) >= maxAttempts { return "\(maxAttempts) attempt(s) failed" }
        if (attemptsIssued[index] ?? 0) >= maxAttempts &* Self.lostIssuesFactor {
            return "issued \(attemptsIssued[index] ?? 0) times, lost with its worker each time"
        }
        return nil
    }
}

/// The final results of a `LeaseBook`, as a dictionary would hold them (`subscript`, `count`, `dictionary`),
/// but without payloads only a bit per done index.
struct Settlements: Equatable {
    private let keepsPayloads: Bool
    private var kept: [Int: WorkResult] = [:]
    private var doneBits: [UInt64]
    private var failed: [Int: WorkResult] = [:]
    private(set) var count = 0

    init(keepsPayloads: Bool, largestIndex: Int) {
        self.keepsPayloads = keepsPayloads
        doneBits = keepsPayloads ? [] : [UInt64](repeating: 0, count: max(0, largestIndex) / 64 + 1)
    }

    var isEmpty: Bool { count == 0 }

    subscript(index: Int) -> WorkResult? {
        get {
            if keepsPayloads { return kept[index] }
            if let failure = failed[index] { return failure }
            return isDone(index) ? .done(Data()) : nil
        }
        set {
            if self[index] != nil { count -= 1 }
            if newValue != nil { count += 1 }
            if keepsPayloads { kept[index] = newValue; return }
            failed[index] = nil
            setDone(index, false)
            switch newValue {
            case .done?: setDone(index, true)
            case .failed?: failed[index] = newValue
            case nil: break
            }
        }
    }

    /// Every result (done ones without payload unless kept).
    var dictionary: [Int: WorkResult] {
        if keepsPayloads { return kept }
        var all = failed
        for (word, bits) in doneBits.enumerated() where bits != 0 {
            for bit in 0..<64 where bits & (1 << UInt64(bit)) != 0 { all[word * 64 + bit] = .done(Data()) }
        }
        return all
    }

    /// The failed results only.
    var failures: [Int: WorkResult] {
        keepsPayloads ? kept.filter { if case .failed = $0.value { true } else { false } } : failed
    }

    private func isDone(_ index: Int) -> Bool {
        index >= 0 && index / 64 < doneBits.count && doneBits[index / 64] & (1 << UInt64(index % 64)) != 0
    }

    private mutating func setDone(_ index: Int, _ done: Bool) {
        guard index >= 0, index / 64 < doneBits.count else { return }
        let bit: UInt64 = 1 << UInt64(index % 64)
        if done { doneBits[index / 64] |= bit } else { doneBits[index / 64] &= ~bit }
    }
}
