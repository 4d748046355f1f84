/// The examples report.html shows: those whose target probability dropped most, and least, at the first
/// removal step (original probability minus the probability after step 1). Failed records and records
/// without a step are left out; ties go to the earlier record, so the choice is the same on every run.
/// The least-dropped list never repeats an example of the most-dropped list: a run of fewer than 2 x `count`
/// evaluated examples is split in two halves (the larger half, by one, to the most-dropped list).
public func examplesForReport(_ records: [ExampleRecord], count: Int = 10) -> (mostDropped: [ExampleRecord], leastDropped: [ExampleRecord]) {
    let candidates = records.enumerated().compactMap { position, record -> (position: Int, drop: Float, record: ExampleRecord)? in
        guard record.failed == nil, let first = record.degradationProb.first else { return nil }
        return (position, record.originalProb - first, record)
    }
    let byDrop = candidates.sorted { $0.drop != $1.drop ? $0.drop > $1.drop : $0.position < $1.position }
    let most = Array(byDrop.prefix(min(max(0, count), (byDrop.count + 1) / 2)))
    let taken = Set(most.map(\.position))
    let least = byDrop.reversed().filter { !taken.contains($0.position) }.prefix(max(0, count))
    return (most.map(\.record), least.map(\.record))
}
