/// The examples report.html shows: those whose target probability dropped most, and least, at the first
/// removal step (original probability minus the probability after step 1). Failed records and records
/// without a step are left out; ties go to the earlier record, so the choice is the same on every run.
/// The least-dropped list never repeats an example of the most-dropped list: a run of fewer than 2 x `count`
/// evaluated examples is split in two halves (the larger half, by one, to the most-dropped list).
public func examplesForReport(_ records: [ExampleRecord],
                              count: Int = 10) -> (mostDropped: [ExampleRecord], leastDropped: [ExampleRecord]) {
    let picked = reportPositions(count: records.count, steps: 1, limit: count,
                                 failed: { records[$0].failed != nil || records[$0].degradationProb.isEmpty },
                                 drop: { records[$0].originalProb - (records[$0].degradationProb.first ?? 0) })
    return (picked.most.map { records[$0] }, picked.least.map { records[$0] })
}

/// `examplesForReport`'s rule over positions 0..<count: `failed` ones (and all when there are no steps) are
/// left out, `drop` is the original probability minus the first step's.
func reportPositions(count: Int, steps: Int, limit: Int = 10, failed: (Int) -> Bool,
                     drop: (Int) -> Float) -> (most: [Int], least: [Int]) {
    guard steps > 0 else { return ([], []) }
    let candidates = (0..<count).compactMap { position -> (position: Int, drop: Float)? in
        failed(position) ? nil : (position, drop(position))
    }
    let byDrop = candidates.sorted { $0.drop != $1.drop ? $0.drop > $1.drop : $0.position < $1.position }
    let most = Array(byDrop.prefix(min(max(0, limit), (byDrop.count + 1) / 2)))
    let taken = Set(most.map(\.position))
    let least = byDrop.reversed().filter { !taken.contains($0.position) }.prefix(max(0, limit))
    return (most.map(\.position), least.map(\.position))
}
