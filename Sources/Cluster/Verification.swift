import Foundation

/// `--verify F`: a fraction F of the examples, drawn from the run seed (the
/// same examples on every run and resume), is computed by two different
/// workers. Results are deterministic, byte-identical on any worker, so two
/// results that differ mean a broken or lying worker. Socket-free: the
/// coordinator feeds it results and applies its verdicts to the `LeaseBook`.
///
/// Rule: a drawn example's first result is provisional and the example is
/// issued again to a worker that has not answered it. Two equal results from
/// different workers make it final; any worker whose result differs from the
/// agreed one is untrusted. Two results that differ ask a third worker, and the
/// majority decides. When no live trusted worker can give the missing opinion
/// (only the two disagreeing workers are left), the example is failed and both
/// are reported as suspects; a lone first result with no second worker left is
/// kept, reported as unverified. An untrusted worker gets no more work, and its
/// final results that nobody checked are revoked and computed again by others.
/// Workers are told apart by routing id (and CURVE key when there is one).
struct Verification {
    struct Opinion: Equatable {
        let worker: Data
        let payload: Data
    }

    enum Verdict: Equatable {
        /// Agreed by `agreeing`; each dissenter's result differs from the agreed one.
        case final(Data, agreeing: [Data], dissenters: [Data])
        /// Issue the example again, to none of these workers.
        case needsAnother(excluding: Set<Data>)
        /// Three workers, three different results: nobody can be believed.
        case failed(String, suspects: [Data])
    }

    /// Opinions after which an example without two agreeing results is failed.
    static let maxOpinions = 3

    let fraction: Double
    let seed: UInt64
    /// Drawn examples still waiting for agreement.
    private(set) var opinions: [Int: [Opinion]] = [:]
    /// Final results nobody checked, by worker: revoked if the worker turns out untrusted.
    private var unchecked: [Data: Set<Int>] = [:]
    private(set) var untrusted: Set<Data> = []
    /// CURVE keys of untrusted workers: the same key under a new routing id is still untrusted.
    var untrustedKeys: Set<String> = []

    /// Whether two results agree (byte equality unless the caller's results carry what may differ, e.g. times).
    let sameResult: @Sendable (Data, Data) -> Bool

    init(fraction: Double, seed: UInt64, sameResult: @escaping @Sendable (Data, Data) -> Bool = { $0 == $1 }) {
        self.fraction = fraction
        self.seed = seed
        self.sameResult = sameResult
    }

    var isActive: Bool { fraction > 0 }

    /// Whether `index` is verified in this run: a hash of (seed, index) below
    /// `fraction`, so the draw needs no state and is the same on resume.
    func isDrawn(_ index: Int) -> Bool {
        guard fraction > 0 else { return false }
        guard fraction < 1 else { return true }
        // SplitMix64's finaliser over seed and index: uniform 53-bit fraction.
        var z = seed &+ UInt64(truncatingIfNeeded: index) &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Double(z >> 11) / Double(UInt64(1) << 53) < fraction
    }

    /// A result of a drawn example from `worker`.
    mutating func record(index: Int, worker: Data, payload: Data) -> Verdict {
        var list = opinions[index, default: []].filter { $0.worker != worker }
        list.append(Opinion(worker: worker, payload: payload))
        for opinion in list {
            let agreeing = list.filter { sameResult($0.payload, opinion.payload) }.map(\.worker)
            guard agreeing.count >= 2 else { continue }
            opinions[index] = nil
            return .final(opinion.payload, agreeing: agreeing,
                          dissenters: list.filter { !sameResult($0.payload, opinion.payload) }.map(\.worker))
        }
        if list.count >= Self.maxOpinions {
            opinions[index] = nil
            return .failed("\(list.count) workers gave \(list.count) different results", suspects: list.map(\.worker))
        }
        opinions[index] = list
        return .needsAnother(excluding: Set(list.map(\.worker)).union(untrusted))
    }

    /// A final result of an example that was not drawn.
    mutating func recordUnchecked(index: Int, worker: Data) {
        guard isActive else { return }
        unchecked[worker, default: []].insert(index)
    }

    /// `worker` is untrusted: its pending opinions are dropped; returns its
    /// unchecked final results, to be revoked and computed again.
    mutating func distrust(_ worker: Data) -> [Int] {
        untrusted.insert(worker)
        for (index, list) in opinions {
            let kept = list.filter { $0.worker != worker }
            opinions[index] = kept.isEmpty ? nil : kept
        }
        return (unchecked.removeValue(forKey: worker) ?? []).sorted()
    }

    /// The opinions of a drawn example no live trusted worker can answer any more.
    mutating func giveUp(_ index: Int) -> [Opinion] {
        opinions.removeValue(forKey: index) ?? []
    }
}
