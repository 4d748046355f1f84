import BERT

// `ModelInput` is the BERT module's (ids and token types of one unpadded input).

/// Softmax probabilities, one distribution per input of the batch, in order.
/// The caller pads the batch (and masks the padding) as its model needs.
public typealias ProbabilityFunction = (_ batch: [ModelInput]) throws -> [[Float]]

/// Which positions are special tokens the degradation test never removes:
/// the original excludes exactly `{"[CLS]", "[SEP]"}` by token string.
public func specialTokenMask(_ tokens: [String]) -> [Bool] {
    tokens.map { $0 == "[CLS]" || $0 == "[SEP]" }
}

/// The probability of `target` and whether it is the predicted class
/// (argmax, first maximum on ties as `numpy.argmax`).
public func targetOutcome(probabilities: [Float], target: Int) throws -> (probability: Float, correct: Bool) {
    guard probabilities.indices.contains(target) else {
        throw EvaluationError.badPrediction(
            "target class \(target) but only \(probabilities.count) class probabilities")
    }
    return (probabilities[target], firstArgmax(probabilities) == target)
}

/// `numpy.argmax`: the first maximum; a NaN counts as the maximum.
public func firstArgmax(_ values: [Float]) -> Int {
    var best = 0
    for (index, value) in values.enumerated() {
        if value.isNaN { return index }
        if value > values[best] { best = index }
    }
    return best
}
