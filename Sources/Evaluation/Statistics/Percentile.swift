/// The q-th percentile (0...100) of values sorted ascending, by numpy.percentile's default rule
/// (method='linear'): virtual index h = (n - 1) q / 100, then the neighbours v[floor h] and v[floor h + 1]
/// interpolated as NumPy's `_lerp` does (from the upper neighbour when the fraction is >= 0.5, which keeps
/// the result inside [v[j], v[j + 1]] and equal to NumPy's to the last bit in the cases tested).
/// With 2,000 values: the 2.5th percentile is h = 49.975, v[49] + 0.975 (v[50] - v[49]), computed as
/// v[50] - 0.025 (v[50] - v[49]); the 97.5th is h = 1949.025, v[1949] + 0.025 (v[1950] - v[1949]).
/// nil for no values.
public func percentile(sorted values: [Double], _ q: Double) -> Double? {
    guard let last = values.last else { return nil }
    let h = Double(values.count - 1) * (q / 100)
    guard h < Double(values.count - 1) else { return last }
    let below = max(0, Int(h.rounded(.down)))
    let fraction = h - Double(below)
    let a = values[below], b = values[below + 1]
    let difference = b - a
    return fraction >= 0.5 ? b - difference * (1 - fraction) : a + difference * fraction
}

/// A two-sided interval, e.g. a 95% bootstrap interval.
public struct ConfidenceInterval: Sendable, Equatable {
    public var lower: Double
    public var upper: Double
    public init(lower: Double, upper: Double) { self.lower = lower; self.upper = upper }

    public func contains(_ value: Double) -> Bool { lower <= value && value <= upper }
}

/// The percentile interval of a bootstrap distribution: its (100 - level) / 2 and (100 + level) / 2
/// percentiles by `percentile(sorted:_:)`. NaN values (resamples without a defined statistic) are left out;
/// nil when none is left.
public func percentileInterval(_ values: [Double], level: Double = 95) -> ConfidenceInterval? {
    let sorted = values.filter { !$0.isNaN }.sorted()
    guard let lower = percentile(sorted: sorted, (100 - level) / 2),
          let upper = percentile(sorted: sorted, (100 + level) / 2) else { return nil }
    return ConfidenceInterval(lower: lower, upper: upper)
}
