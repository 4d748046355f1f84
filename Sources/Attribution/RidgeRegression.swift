import Foundation

/// A weighted ridge fit: y ~ intercept + x . coefficients.
public struct RidgeFit: Sendable, Equatable {
    public var coefficients: [Double]
    public var intercept: Double

    /// Predictions for the rows of x ((rows, cols) flat, row-major).
    public func predict(_ x: [Double], rows: Int) -> [Double] {
        let cols = coefficients.count
        return (0..<rows).map { r in (0..<cols).reduce(intercept) { $0 + x[r * cols + $1] * coefficients[$1] } }
    }
}

/// sklearn's `Ridge(alpha, fit_intercept=True).fit(x, y, sample_weight=w)`: centre x and y on their weighted
/// means, scale rows by sqrt(w), solve (Xc^T Xc + alpha I) coef = Xc^T yc (or the equivalent dual system when
/// there are more columns than rows, as sklearn's cholesky solver does), intercept = ybar - xbar . coef
/// (not penalised). x is (rows, cols) flat, row-major. Solved by Cholesky in Double; a singular system
/// (alpha = 0 with collinear columns, where sklearn falls back to least squares) gets the minimum-norm solution.
public func weightedRidge(x: [Double], rows: Int, cols: Int, y: [Double], weights: [Double],
                          alpha: Double) -> RidgeFit {
    precondition(x.count == rows * cols && y.count == rows && weights.count == rows)
    let totalWeight = weights.reduce(0, +)
    var xMean = [Double](repeating: 0, count: cols)
    var yMean = 0.0
    for r in 0..<rows {
        yMean += weights[r] * y[r]
        for c in 0..<cols { xMean[c] += weights[r] * x[r * cols + c] }
    }
    if totalWeight > 0 {
        yMean /= totalWeight
        for c in 0..<cols { xMean[c] /= totalWeight }
    }
    guard cols > 0 else { return RidgeFit(coefficients: [], intercept: yMean) }
    var xc = [Double](repeating: 0, count: rows * cols), yc = [Double](repeating: 0, count: rows)
    for r in 0..<rows {
        let s = max(weights[r], 0).squareRoot()
        yc[r] = (y[r] - yMean) * s
        for c in 0..<cols { xc[r * cols + c] = (x[r * cols + c] - xMean[c]) * s }
    }
    var coefficients = [Double](repeating: 0, count: cols)
    if cols <= rows {
        var a = [Double](repeating: 0, count: cols * cols), b = [Double](repeating: 0, count: cols)
        for r in 0..<rows {
            for i in 0..<cols {
                let xi = xc[r * cols + i]
                if xi == 0 { continue }
                b[i] += xi * yc[r]
                for j in 0...i { a[i * cols + j] += xi * xc[r * cols + j] }
            }
        }
        for i in 0..<cols {
            for j in 0..<i { a[j * cols + i] = a[i * cols + j] }
            a[i * cols + i] += alpha
        }
        coefficients = solveSymmetricPositive(a, b, size: cols)
    } else {
        // Dual: (Xc Xc^T + alpha I) d = yc, coef = Xc^T d.
        var k = [Double](repeating: 0, count: rows * rows)
        for i in 0..<rows {
            for j in 0...i {
                var s = 0.0
                for c in 0..<cols { s += xc[i * cols + c] * xc[j * cols + c] }
                k[i * rows + j] = s; k[j * rows + i] = s
            }
            k[i * rows + i] += alpha
        }
        let dual = solveSymmetricPositive(k, yc, size: rows)
        for r in 0..<rows { for c in 0..<cols { coefficients[c] += xc[r * cols + c] * dual[r] } }
    }
    let intercept = yMean - zip(xMean, coefficients).reduce(0) { $0 + $1.0 * $1.1 }
    return RidgeFit(coefficients: coefficients, intercept: intercept)
}

/// sklearn's `r2_score(y, prediction, sample_weight=w)`: 1 - sum w (y - p)^2 / sum w (y - ybar_w)^2;
/// 1 when both sums are 0, 0 when only the denominator is.
public func weightedR2(y: [Double], prediction: [Double], weights: [Double]) -> Double {
    let totalWeight = weights.reduce(0, +)
    let mean = totalWeight > 0 ? zip(weights, y).reduce(0) { $0 + $1.0 * $1.1 } / totalWeight : 0
    var numerator = 0.0, denominator = 0.0
    for i in y.indices {
        numerator += weights[i] * (y[i] - prediction[i]) * (y[i] - prediction[i])
        denominator += weights[i] * (y[i] - mean) * (y[i] - mean)
    }
    if denominator == 0 { return numerator == 0 ? 1 : 0 }
    return 1 - numerator / denominator
}

/// Solves A v = b for symmetric positive (semi)definite A (size x size) by Cholesky; when A is singular to
/// working precision, the minimum-norm least-squares solution (pseudo-inverse by Jacobi eigendecomposition,
/// as sklearn's fallback to lstsq gives).
func solveSymmetricPositive(_ a: [Double], _ b: [Double], size n: Int) -> [Double] {
    guard let l = cholesky(a, size: n) else { return pseudoInverseSolve(a, b, size: n) }
    var z = [Double](repeating: 0, count: n)
    for i in 0..<n {
        var s = b[i]
        for k in 0..<i { s -= l[i * n + k] * z[k] }
        z[i] = s / l[i * n + i]
    }
    var v = [Double](repeating: 0, count: n)
    for i in stride(from: n - 1, through: 0, by: -1) {
        var s = z[i]
        for k in (i + 1)..<n { s -= l[k * n + i] * v[k] }
        v[i] = s / l[i * n + i]
    }
    return v
}

/// v = A^+ b for symmetric A: cyclic Jacobi rotations to A = Q D Q^T, eigenvalues below 1e-12 * max|D| dropped.
func pseudoInverseSolve(_ a: [Double], _ b: [Double], size n: Int) -> [Double] {
    var d = a, q = [Double](repeating: 0, count: n * n)
    for i in 0..<n { q[i * n + i] = 1 }
    for _ in 0..<100 {
        var off = 0.0
        for i in 0..<n { for j in 0..<n where i != j { off += d[i * n + j] * d[i * n + j] } }
        if off < 1e-30 { break }
        for p in 0..<n {
            for r in (p + 1)..<n where d[p * n + r] != 0 {
                let theta = (d[r * n + r] - d[p * n + p]) / (2 * d[p * n + r])
                let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                let c = 1 / (t * t + 1).squareRoot(), s = t * c
                for k in 0..<n {   // D <- D J (columns p, r)
                    let dkp = d[k * n + p], dkr = d[k * n + r]
                    d[k * n + p] = c * dkp - s * dkr; d[k * n + r] = s * dkp + c * dkr
                }
                for k in 0..<n {   // D <- J^T D (rows p, r)
                    let dpk = d[p * n + k], drk = d[r * n + k]
                    d[p * n + k] = c * dpk - s * drk; d[r * n + k] = s * dpk + c * drk
                }
                for k in 0..<n {   // Q <- Q J
                    let qkp = q[k * n + p], qkr = q[k * n + r]
                    q[k * n + p] = c * qkp - s * qkr; q[k * n + r] = s * qkp + c * qkr
                }
            }
        }
    }
    let eigenvalues = (0..<n).map { d[$0 * n + $0] }
    let cutoff = 1e-12 * (eigenvalues.map(abs).max() ?? 0)
    var v = [Double](repeating: 0, count: n)
    for e in 0..<n where abs(eigenvalues[e]) > cutoff {
        var projection = 0.0
        for k in 0..<n { projection += q[k * n + e] * b[k] }
        projection /= eigenvalues[e]
        for k in 0..<n { v[k] += q[k * n + e] * projection }
    }
    return v
}

/// Lower-triangular L with L L^T = A, or nil when a pivot is not clearly positive (singular to working precision).
func cholesky(_ a: [Double], size n: Int) -> [Double]? {
    var l = [Double](repeating: 0, count: n * n)
    let tolerance = 1e-10 * max((0..<n).map { abs(a[$0 * n + $0]) }.max() ?? 0, 1e-300)
    for i in 0..<n {
        for j in 0...i {
            var s = a[i * n + j]
            for k in 0..<j { s -= l[i * n + k] * l[j * n + k] }
            if i == j {
                guard s > tolerance else { return nil }
                l[i * n + i] = s.squareRoot()
            } else {
                l[i * n + j] = s / l[j * n + j]
            }
        }
    }
    return l
}
