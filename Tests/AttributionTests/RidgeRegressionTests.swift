import Foundation
import XCTest
@testable import Attribution

/// Expected values from scikit-learn 1.9.1 `Ridge(alpha, fit_intercept=True).fit(X, y, sample_weight=w)` and
/// `r2_score(y, pred, sample_weight=w)`, run by hand (numpy RandomState(0) data).
final class RidgeRegressionTests: XCTestCase {
    let x: [[Double]] = [[1, 1, 1], [1, 1, 1], [1, 1, 1], [0, 1, 1], [1, 1, 0], [0, 0, 1], [1, 1, 1], [1, 1, 1]]
    let y = [0.11827442586893322, 0.6399210213275238, 0.1433532874090464, 0.9446689170495839, 0.5218483217500717,
             0.4146619399905236, 0.26455561210462697, 0.7742336894342167]
    let w = [0.5561503322165485, 0.6684339488686485, 0.11878980043635515, 0.717635497075877, 0.7120957227224214,
             0.7169339968747569, 1.0437480785146243, 0.7818202991034834]

    func check(alpha: Double, coefficients: [Double], intercept: Double, r2: Double, line: UInt = #line) {
        let flat = x.flatMap { $0 }
        let fit = weightedRidge(x: flat, rows: 8, cols: 3, y: y, weights: w, alpha: alpha)
        for (got, want) in zip(fit.coefficients, coefficients) { XCTAssertEqual(got, want, accuracy: 1e-9, "alpha \(alpha)", line: line) }
        XCTAssertEqual(fit.intercept, intercept, accuracy: 1e-9, "alpha \(alpha) intercept", line: line)
        XCTAssertEqual(weightedR2(y: y, prediction: fit.predict(flat, rows: 8), weights: w), r2, accuracy: 1e-9, line: line)
    }

    func testMatchesSklearn() {
        check(alpha: 1, coefficients: [-0.139301754488289, 0.08866652957892046, -0.014202437871847275], intercept: 0.5525389838448376,
              r2: 0.1795496573174784)
        check(alpha: 0.01, coefficients: [-0.489694745362063, 0.5089910858850807, -0.07967165480792367], intercept: 0.5014331477294546,
              r2: 0.4238725235045797)
        check(alpha: 0, coefficients: [-0.5054077915210402, 0.5300069770590603, -0.08258719622152808], intercept: 0.4972491362120517,
              r2: 0.4243730074181551)
    }

    /// More columns than rows (the dual system), with constant columns.
    func testWideMatchesSklearn() {
        let x: [Double] = [0, 0, 1, 0, 1, 1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0]
        let y = [0.1965823616800535, 0.3687251706609641, 0.8209932298479351, 0.09710127579306127]
        let w = [0.9379449074988039, 0.19609840789396307, 1.0764594650133958, 0.5686512016477016]
        let fit = weightedRidge(x: x, rows: 4, cols: 6, y: y, weights: w, alpha: 0.01)
        let expected = [0.6397934470439045, 0.0, 0.010606497189497521, 0.0, 0.0, 0.010606497189497688]
        for (got, want) in zip(fit.coefficients, expected) { XCTAssertEqual(got, want, accuracy: 1e-9) }
        XCTAssertEqual(fit.intercept, 0.17525628499628026, accuracy: 1e-9)
    }

    /// alpha = 0 with two identical columns: sklearn falls back to least squares (minimum norm).
    func testCollinearWithoutPenaltyGivesMinimumNorm() {
        let x: [Double] = [1, 1, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 1]
        let y = [0.3, 0.1, 0.8, 0.2, 0.35, 0.15], w = [1, 0.5, 0.8, 0.9, 0.7, 0.6]
        let fit = weightedRidge(x: x, rows: 6, cols: 3, y: y, weights: w, alpha: 0)
        let expected = [0.18188161693936475, 0.1818816169393648, 0.21636188642925888]
        for (got, want) in zip(fit.coefficients, expected) { XCTAssertEqual(got, want, accuracy: 1e-9) }
        XCTAssertEqual(fit.intercept, 0.041000962463907664, accuracy: 1e-9)
    }

    func testR2EdgeCases() {
        XCTAssertEqual(weightedR2(y: [1, 1], prediction: [1, 1], weights: [1, 1]), 1)
        XCTAssertEqual(weightedR2(y: [1, 1], prediction: [1, 2], weights: [1, 1]), 0)
    }
}
