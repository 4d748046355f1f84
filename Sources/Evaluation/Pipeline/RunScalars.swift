import Foundation

/// What a run keeps of each example's result until its outputs are written: per method and selection
/// position the few numbers that the summaries, the comparison's intervals and paired tests, the report's
/// choice of examples, progress.json and the failure check need (about 50 bytes a method with 9 removal
/// steps), never the tokens and attributions. Those stay in the run's store and are read back once, in
/// selection order, when results.jsonl is written (`EvaluationJob.finish(scalars:store:)`).
///
/// Why numbers per example rather than running sums: every mean is a Double sum in selection order (as
/// the original's), and results arrive in any order, so sums kept on arrival would round differently
/// from one run to the next; the bootstrap also resamples examples. Why not a second pass over the store
/// for them too: a pass decodes every record's JSON again (the tokens and attributions included), while
/// these numbers are a fixed few bytes an example. Each value is kept as the record holds it (Float,
/// Bool), so everything computed from them is bit-identical to computing it from the records.
struct RunScalars {
    let methods: Int
    let positions: Int
    /// Removal steps per method (the settings' steps - 1): the stride of the per-step arrays.
    let steps: [Int]
    /// Whether each method's per-example seconds are kept (the comparison's seconds per example).
    let keepsSeconds: Bool
    private(set) var present: [Bool]
    private(set) var presentCount = 0
    private var originalProb: [[Float]]
    /// Bit 0 failed, 1 originally correct, 2 has comprehensiveness, 3 has sufficiency.
    private var flags: [[UInt8]]
    private var degradationProb: [[Float]]
    /// One bit per step, `stepBytes[m]` bytes per position.
    private var degradationCorrect: [[UInt8]]
    private let stepBytes: [Int]
    private var comprehensiveness: [[Float]]
    private var sufficiency: [[Float]]
    private var seconds: [[Double]]
    /// Why a method's record failed, by position (failures are few; their reasons are kept whole).
    private(set) var failureReasons: [[Int: String]]
    /// A record whose step count differs from its method's (the records' summary refuses it the same way).
    private(set) var mismatchedSteps: (index: Int, count: Int, expected: Int)?

    init(methods: Int, positions: Int, steps: [Int], keepsSeconds: Bool) {
        self.methods = methods
        self.positions = positions
        self.steps = steps
        self.keepsSeconds = keepsSeconds
        stepBytes = steps.map { ($0 + 7) / 8 }
        present = [Bool](repeating: false, count: positions)
        originalProb = (0..<methods).map { _ in [Float](repeating: 0, count: positions) }
        flags = (0..<methods).map { _ in [UInt8](repeating: 0, count: positions) }
        degradationProb = steps.map { [Float](repeating: 0, count: positions * $0) }
        degradationCorrect = stepBytes.map { [UInt8](repeating: 0, count: positions * $0) }
        comprehensiveness = (0..<methods).map { _ in [Float](repeating: 0, count: positions) }
        sufficiency = (0..<methods).map { _ in [Float](repeating: 0, count: positions) }
        seconds = (0..<methods).map { _ in keepsSeconds ? [Double](repeating: 0, count: positions) : [] }
        failureReasons = Array(repeating: [:], count: methods)
    }

    /// Keeps the numbers of one example's records (one per method) and times.
    mutating func set(position p: Int, records: [ExampleRecord], seconds times: [Double]) {
        if !present[p] { presentCount += 1 }
        present[p] = true
        for (m, record) in zip(0..<methods, records) {
            var flag: UInt8 = record.originalCorrect ? 2 : 0
            if let failed = record.failed {
                flag |= 1
                failureReasons[m][p] = failed
            } else {
                failureReasons[m][p] = nil
                if record.degradationProb.count != steps[m] || record.degradationCorrect.count != steps[m],
                   mismatchedSteps == nil {
                    mismatchedSteps = (record.index, record.degradationProb.count, steps[m])
                }
            }
            originalProb[m][p] = record.originalProb
            for k in 0..<steps[m] {
                degradationProb[m][p * steps[m] + k] = k < record.degradationProb.count ? record.degradationProb[k] : 0
                let correct = k < record.degradationCorrect.count && record.degradationCorrect[k]
                let byte = p * stepBytes[m] + k / 8, bit = UInt8(1) << UInt8(k % 8)
                if correct { degradationCorrect[m][byte] |= bit } else { degradationCorrect[m][byte] &= ~bit }
            }
            if let value = record.aopcComprehensiveness { flag |= 4; comprehensiveness[m][p] = value }
            if let value = record.aopcSufficiency { flag |= 8; sufficiency[m][p] = value }
            flags[m][p] = flag
            if keepsSeconds, m < times.count { seconds[m][p] = times[m] }
        }
    }

    /// A method's record at a position without its tokens and attribution (they are not kept); nil when
    /// the position has no result.
    func record(method m: Int, position p: Int, index: Int, target: Int) -> ExampleRecord? {
        guard present[p] else { return nil }
        let flag = flags[m][p]
        if flag & 1 != 0, let reason = failureReasons[m][p] {
            var failed = ExampleRecord.failure(index: index, target: target, reason: reason)
            failed.originalProb = originalProb[m][p]
            return failed
        }
        return ExampleRecord(index: index, target: target, tokens: [], attribution: [],
            originalProb: originalProb[m][p],
                             originalCorrect: flag & 2 != 0, degradationProb: stepProbabilities(m, p),
                             degradationCorrect: stepCorrect(m, p),
                             aopcComprehensiveness: flag & 4 != 0 ? comprehensiveness[m][p] : nil,
                             aopcSufficiency: flag & 8 != 0 ? sufficiency[m][p] : nil)
    }

    func isFailed(method m: Int, position p: Int) -> Bool { !present[p] || flags[m][p] & 1 != 0 }
    func originalProbability(method m: Int, position p: Int) -> Float { originalProb[m][p] }
    func originallyCorrect(method m: Int, position p: Int) -> Bool { flags[m][p] & 2 != 0 }
    func stepProbability(method m: Int, position p: Int, step k: Int) -> Float { degradationProb[m][p * steps[m] + k] }
    func stepCorrect(method m: Int, position p: Int, step k: Int) -> Bool {
        degradationCorrect[m][p * stepBytes[m] + k / 8] & (UInt8(1) << UInt8(k % 8)) != 0
    }
    func comprehensiveness(method m: Int, position p: Int) -> Float? {
        flags[m][p] & 4 != 0 ? comprehensiveness[m][p] : nil
    }
    func sufficiency(method m: Int, position p: Int) -> Float? { flags[m][p] & 8 != 0 ? sufficiency[m][p] : nil }
    func seconds(method m: Int, position p: Int) -> Double { keepsSeconds ? seconds[m][p] : 0 }

    private func stepProbabilities(_ m: Int, _ p: Int) -> [Float] {
        Array(degradationProb[m][(p * steps[m])..<((p + 1) * steps[m])])
    }

    private func stepCorrect(_ m: Int, _ p: Int) -> [Bool] {
        (0..<steps[m]).map { stepCorrect(method: m, position: p, step: $0) }
    }
}

/// Selection positions by dataset index: sorted (index, position) pairs packed in one UInt64 each and
/// found by binary search (8 bytes an example; a dictionary takes about three times that).
struct PositionIndex {
    private let packed: [UInt64]

    init(_ indices: [Int]) {
        packed = indices.enumerated().map { UInt64($0.element) << 32 | UInt64($0.offset) }.sorted()
    }

    func position(of index: Int) -> Int? {
        guard index >= 0, index < 1 << 32 else { return nil }
        let key = UInt64(index) << 32
        var low = 0, high = packed.count
        while low < high {
            let middle = (low + high) / 2
            if packed[middle] >> 32 < UInt64(index) { low = middle + 1 } else { high = middle }
        }
        guard low < packed.count, packed[low] & ~0xFFFF_FFFF == key else { return nil }
        return Int(packed[low] & 0xFFFF_FFFF)
    }
}
