/// How many tokens each degradation step removes, as the original computes it:
/// `[int(g) for g in np.round(np.linspace(0, 1, steps) * n)]`, duplicates
/// dropped keeping order, padded with the last value back to `steps` entries,
/// then the first entry (0) skipped: `steps - 1` counts.
public func degradationCounts(tokenCount n: Int, steps: Int = 10) -> [Int] {
    guard steps >= 2 else { return [] }
    var counts: [Int] = []
    for fraction in linspaceUnit(steps) {
        // np.round rounds half to even; the product is float64 as in NumPy.
        let count = Int((fraction * Double(n)).rounded(.toNearestOrEven))
        if !counts.contains(count) { counts.append(count) }
    }
    if let last = counts.last { counts += Array(repeating: last, count: steps - counts.count) }
    return Array(counts.dropFirst())
}

/// `np.linspace(0, 1, steps)` bit for bit: i * (1 / (steps - 1)), last value exactly 1.
public func linspaceUnit(_ steps: Int) -> [Double] {
    guard steps > 1 else { return steps == 1 ? [0] : [] }
    let step = 1.0 / Double(steps - 1)
    return (0..<steps).map { $0 == steps - 1 ? 1.0 : Double($0) * step }
}
