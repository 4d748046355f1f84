import Foundation

/// Gauss-Legendre nodes (ascending) and weights on [-1, 1], as numpy.polynomial.legendre.leggauss(n):
/// Newton iteration on P_n from Chebyshev-like starting points, in Double.
public func gaussLegendre(_ n: Int) -> (nodes: [Double], weights: [Double]) {
    guard n >= 1 else { return ([], []) }
    var nodes = [Double](repeating: 0, count: n), weights = [Double](repeating: 0, count: n)
    /// (P_n(x), P_n'(x)) by the three-term recurrence.
    func legendre(_ x: Double) -> (Double, Double) {
        var p0 = 1.0, p1 = x
        if n == 1 { return (x, 1) }
        for k in 2...n {
            let p2 = (Double(2 * k - 1) * x * p1 - Double(k - 1) * p0) / Double(k)
            p0 = p1; p1 = p2
        }
        return (p1, Double(n) * (x * p1 - p0) / (x * x - 1))
    }
    for i in 0..<n {
        // Root i (descending in x) starts near cos(pi (i + 3/4) / (n + 1/2)).
        var x = cos(Double.pi * (Double(i) + 0.75) / (Double(n) + 0.5))
        for _ in 0..<100 {
            let (p, dp) = legendre(x)
            let dx = p / dp
            x -= dx
            if abs(dx) < 1e-16 { break }
        }
        let dp = legendre(x).1
        nodes[n - 1 - i] = x
        weights[n - 1 - i] = 2 / ((1 - x * x) * dp * dp)
    }
    // numpy symmetrises the rule; do the same so nodes are exactly antisymmetric.
    let symmetricNodes = (0..<n).map { (nodes[$0] - nodes[n - 1 - $0]) / 2 }
    let symmetricWeights = (0..<n).map { (weights[$0] + weights[n - 1 - $0]) / 2 }
    let total = symmetricWeights.reduce(0, +)
    return (symmetricNodes, symmetricWeights.map { $0 * 2 / total })
}

/// captum's "gausslegendre" approximation: alphas = (1 + x) / 2 and step sizes = w / 2 on [0, 1].
public func gaussLegendreOnUnitInterval(_ n: Int) -> (alphas: [Double], stepSizes: [Double]) {
    let (x, w) = gaussLegendre(n)
    return (x.map { 0.5 * (1 + $0) }, w.map { 0.5 * $0 })
}
