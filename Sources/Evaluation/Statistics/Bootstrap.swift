import BERT

/// A paired percentile bootstrap over a run's examples. Resample r draws `exampleCount` selection positions
/// with replacement (failed examples included) from one seeded stream; a series (one method's column, or the
/// differences of two methods) is averaged over the drawn positions it scored, with multiplicity. Every series
/// sees the same draws, so the intervals of different methods are paired; with no failures this is the
/// textbook paired bootstrap. The numbers depend on the seed and the values only (one thread, sums in position
/// order), never on thread counts or on the order in which examples arrived.
public struct PairedBootstrap: Sendable {
    public static let standardResamples = 2_000

    public var exampleCount: Int
    public var resampleCount: Int
    public var seed: UInt64

    public init(exampleCount: Int, resampleCount: Int = PairedBootstrap.standardResamples, seed: UInt64) {
        self.exampleCount = exampleCount; self.resampleCount = resampleCount; self.seed = seed
    }

    /// Each series' mean on each resample, `result[s][r]`; NaN where resample r drew no position that series
    /// scored. `series[s][p]` is the value at selection position p, nil where it was not scored.
    public func resampledMeans(_ series: [[Double?]]) -> [[Double]] {
        let n = exampleCount
        // Dense copies (0 where unscored) and masks, series after series, so that each resample costs two
        // dot products per series.
        var values = [Double](repeating: 0, count: series.count * n), scored = values
        for (s, column) in series.enumerated() {
            for (p, value) in column.prefix(n).enumerated() {
                if let value { values[s * n + p] = value; scored[s * n + p] = 1 }
            }
        }
        var means = [[Double]](repeating: [Double](repeating: .nan, count: resampleCount), count: series.count)
        guard n > 0 else { return means }
        // A stream of its own: the run seed also seeds each example's noise as (seed, index).
        var generator = SplitMix64(seed: seed ^ 0x5041_4952_4544_4253)  // "PAIREDBS"
        var multiplicity = [Double](repeating: 0, count: n)
        for r in 0..<resampleCount {
            for p in 0..<n { multiplicity[p] = 0 }
            for _ in 0..<n { multiplicity[Int(generator.next(below: UInt64(n)))] += 1 }
            multiplicity.withUnsafeBufferPointer { c in
                values.withUnsafeBufferPointer { v in
                    scored.withUnsafeBufferPointer { m in
                        for s in series.indices {
                            var total = 0.0, count = 0.0
                            for p in 0..<n {
                                total += c[p] * v[s * n + p]
                                count += c[p] * m[s * n + p]
                            }
                            if count > 0 { means[s][r] = total / count }
                        }
                    }
                }
            }
        }
        return means
    }

    /// Each series' percentile interval (`percentileInterval`) over the resamples; nil for a series that no
    /// resample could average.
    public func intervals(_ series: [[Double?]], level: Double = 95) -> [ConfidenceInterval?] {
        resampledMeans(series).map { percentileInterval($0, level: level) }
    }
}

extension SplitMix64 {
    /// Uniform in 0..<bound (bound > 0) without modulo bias: Lemire's multiply-and-reject.
    mutating func next(below bound: UInt64) -> UInt64 {
        var product = next().multipliedFullWidth(by: bound)
        if product.low < bound {
            let threshold = (0 &- bound) % bound
            while product.low < threshold { product = next().multipliedFullWidth(by: bound) }
        }
        return product.high
    }
}
