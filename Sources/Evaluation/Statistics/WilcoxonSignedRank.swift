import Foundation

/// The two-sided Wilcoxon signed-rank test of paired differences by its normal approximation, as
/// scipy.stats.wilcoxon(d, zero_method='wilcox', correction=False, method='asymptotic') ('approx' in older
/// SciPy): zero differences are dropped, |d| ranked with average ranks for ties, and
/// z = (T+ - n(n+1)/4) / sqrt(n(n+1)(2n+1)/24 - sum(t^3 - t)/48) over the n nonzero differences (t: the size
/// of each group of tied |d|), p = 2 (1 - Phi(|z|)) = erfc(|z| / sqrt 2), without continuity correction.
/// For small n (below about 10) the approximation is poor; it is still what is reported, as SciPy does.
public struct WilcoxonSignedRank: Sendable, Equatable {
    /// Nonzero differences.
    public var n: Int
    /// Sum of the ranks of the positive differences.
    public var positiveRankSum: Double
    /// SciPy's two-sided statistic: min(T+, T-).
    public var statistic: Double { min(positiveRankSum, Double(n * (n + 1)) / 2 - positiveRankSum) }
    /// nil when there is no nonzero difference (the variance is positive for any n >= 1, ties or not).
    public var z: Double?
    /// Two-sided p-value. With no nonzero difference it is 1 (no evidence of a difference; SciPy gives NaN).
    public var p: Double

    public init(_ differences: [Double]) {
        let nonzero = differences.filter { $0 != 0 && !$0.isNaN }
        let order = nonzero.indices.sorted { (abs(nonzero[$0]), $0) < (abs(nonzero[$1]), $1) }
        var positiveRankSum = 0.0, tieCorrection = 0.0
        var start = 0
        while start < order.count {
            var end = start + 1
            while end < order.count && abs(nonzero[order[end]]) == abs(nonzero[order[start]]) { end += 1 }
            let averageRank = Double(start + 1 + end) / 2   // ranks start+1 ... end
            for k in start..<end where nonzero[order[k]] > 0 { positiveRankSum += averageRank }
            let t = Double(end - start)
            tieCorrection += t * t * t - t
            start = end
        }
        let n = Double(nonzero.count)
        let variance = n * (n + 1) * (2 * n + 1) / 24 - tieCorrection / 48
        self.n = nonzero.count
        self.positiveRankSum = positiveRankSum
        if variance > 0 {
            let z = (positiveRankSum - n * (n + 1) / 4) / variance.squareRoot()
            self.z = z
            self.p = min(1, erfc(abs(z) / 2.0.squareRoot()))
        } else {
            self.z = nil
            self.p = 1
        }
    }
}
