/// Holm's step-down adjusted p-values, as statsmodels' multipletests(p, method='holm')[1]: sorted ascending,
/// the j-th smallest (from 0) becomes max over i <= j of (m - i) p_(i), capped at 1, returned in the input's
/// order. Tied p-values get the same adjusted value whatever their order.
public func holmAdjusted(_ p: [Double]) -> [Double] {
    let m = p.count
    let order = p.indices.sorted { (p[$0], $0) < (p[$1], $1) }
    var adjusted = [Double](repeating: 1, count: m)
    var running = 0.0
    for (rank, index) in order.enumerated() {
        running = max(running, Double(m - rank) * p[index])
        adjusted[index] = min(1, running)
    }
    return adjusted
}
