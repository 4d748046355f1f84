/// Area between the LeRF and MoRF degradation curves (least- vs most-relevant
/// first), by the trapezoid rule over the fraction of tokens removed:
/// integral of (lerf - morf). Positive when removing the tokens an attribution
/// calls important hurts the prediction more than removing the unimportant ones.
public func areaBetweenCurves(morf: [Double], lerf: [Double], fractions: [Double]) throws -> Double {
    guard morf.count == fractions.count, lerf.count == fractions.count else {
        throw EvaluationError.mismatchedInput(
            "MoRF (\(morf.count)), LeRF (\(lerf.count)) and fractions (\(fractions.count)) need one value per point")
    }
    var area = 0.0
    for i in fractions.indices.dropFirst() {
        let width = fractions[i] - fractions[i - 1]
        let gapBefore = lerf[i - 1] - morf[i - 1], gapAfter = lerf[i] - morf[i]
        area += width * (gapBefore + gapAfter) / 2
    }
    return area
}

/// The same from two degradation tests of one example (default and `--reverse`):
/// each curve starts at the undegraded probability, and the points sit at the
/// nominal fractions `np.linspace(0, 1, steps)`.
public func areaBetweenCurves(originalProbability: Float, morf: [Float], lerf: [Float]) throws -> Double {
    let fractions = linspaceUnit(morf.count + 1)
    return try areaBetweenCurves(morf: ([originalProbability] + morf).map(Double.init),
                                 lerf: ([originalProbability] + lerf).map(Double.init),
                                 fractions: fractions)
}
