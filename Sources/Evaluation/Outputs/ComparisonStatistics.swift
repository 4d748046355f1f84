/// The comparison of several methods' records with its uncertainty: every method's means with 95% bootstrap
/// intervals (comparison.csv/.md) and every pair of methods on the first step's probability and on AOPC
/// comprehensiveness (pairs.csv/.md). One `PairedBootstrap` over the run's selection positions, seeded from
/// the run seed, gives every interval, so all are computed on the same resampled example sets.
/// `records[m][p]` is method m's record at selection position p; every method must have the same examples.
func compareMethods(summaries: [Summary], records: [[ExampleRecord]], secondsPerExample: [Double], seed: UInt64,
                    resamples: Int = PairedBootstrap.standardResamples) throws -> (MethodComparison, PairedComparison) {
    let count = records.first?.count ?? 0
    for (m, methodRecords) in records.enumerated() {
        guard methodRecords.count == count, zip(methodRecords, records[0]).allSatisfy({ $0.index == $1.index }) else {
            let name = summaries.indices.contains(m) ? summaries[m].method.rawValue : "\(m)"
            throw EvaluationError.mismatchedInput("method \(name) has records of other examples than the first method")
        }
    }
    let steps = summaries.map(\.degradationProb.count).max() ?? 0
    let columns = MethodComparison.intervalColumns(steps: steps)
    let values = records.map { exampleValues($0, steps: steps) }
    let bootstrap = PairedBootstrap(exampleCount: count, resampleCount: resamples, seed: seed)
    let series = values.flatMap { byColumn in columns.map { byColumn[$0] ?? [] } }
    let flat = bootstrap.intervals(series)
    let intervals = values.indices.map { m in
        var byColumn = [String: ConfidenceInterval]()
        for (c, column) in columns.enumerated() { byColumn[column] = flat[m * columns.count + c] }
        return byColumn
    }
    let comparison = MethodComparison(summaries: summaries, secondsPerExample: secondsPerExample, intervals: intervals)

    // The first removal step is where methods differ most; the probability falling faster is better.
    let firstStep = "prob_" + MethodComparison.stepLabels(steps: steps)[0]
    var metrics = [PairedMetric(name: firstStep, largerIsFaster: false, values: values.map { $0[firstStep] ?? [] })]
    if summaries.contains(where: { $0.aopcComprehensiveness != nil }) {
        metrics.append(PairedMetric(name: "aopc_comprehensiveness", largerIsFaster: true,
                                    values: values.map { $0["aopc_comprehensiveness"] ?? [] }))
    }
    let pairs = PairedComparison(methods: summaries.map(\.method.rawValue), metrics: metrics, bootstrap: bootstrap)
    return (comparison, pairs)
}

/// Each example's value behind each interval column (`MethodComparison.intervalColumns`), by column name and
/// selection position: nil for a failed example or a number it lacks (AOPC off), so the means over the
/// values are the summary's.
func exampleValues(_ records: [ExampleRecord], steps: Int) -> [String: [Double?]] {
    let evaluated = records.map { $0.failed == nil ? $0 : nil }
    var columns = [String: [Double?]]()
    for (k, label) in MethodComparison.stepLabels(steps: steps).enumerated() {
        columns["prob_" + label] = evaluated.map { record in
            record.flatMap { $0.degradationProb.indices.contains(k) ? Double($0.degradationProb[k]) : nil }
        }
        columns["acc_" + label] = evaluated.map { record in
            record.flatMap { $0.degradationCorrect.indices.contains(k) ? ($0.degradationCorrect[k] ? 1 : 0) : nil }
        }
    }
    columns["aopc_comprehensiveness"] = evaluated.map { $0?.aopcComprehensiveness.map(Double.init) }
    columns["aopc_sufficiency"] = evaluated.map { $0?.aopcSufficiency.map(Double.init) }
    return columns
}
