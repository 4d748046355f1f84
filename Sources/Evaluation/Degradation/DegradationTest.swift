import BERT
/// Options of the degradation test; the defaults are the original's.
public struct DegradationOptions: Sendable, Equatable, Codable {
    /// `--degrad_step`: the number of linspace points, so `steps - 1` degraded inputs.
    public var steps: Int
    /// `--reverse`: remove the least important tokens first.
    public var reverse: Bool
    /// Replace removed tokens by this id (e.g. [MASK]) instead of deleting them.
    /// The original's `--replace` is parsed but never wired; it is an option here.
    public var replaceWith: Int?

    public init(steps: Int = 10, reverse: Bool = false, replaceWith: Int? = nil) {
        self.steps = steps
        self.reverse = reverse
        self.replaceWith = replaceWith
    }
}

/// The degraded predictions of one example, one entry per step.
public struct DegradationOutcome: Sendable, Equatable {
    /// Tokens removed at each step (as asked; the walk may collect fewer).
    public var counts: [Int]
    /// Softmax probability of the target class at each step.
    public var degradationProb: [Float]
    /// Whether the argmax is the target at each step.
    public var degradationCorrect: [Bool]
}

/// The `steps - 1` degraded inputs of one example, in step order (contract §3).
/// With the padded counts of short inputs, some inputs repeat; they are kept so
/// that every step has its own prediction, as in the original.
public func degradationInputs(input: ModelInput, isSpecial: [Bool], attribution: [Float],
                              options: DegradationOptions = DegradationOptions()) throws -> [ModelInput] {
    let n = input.ids.count
    guard input.types.count == n, isSpecial.count == n, attribution.count == n else {
        throw EvaluationError.mismatchedInput(
            "ids \(n), token types \(input.types.count), special-token flags \(isSpecial.count) "
                + "and attribution \(attribution.count) must all have one entry per token")
    }
    guard options.steps >= 2 else {
        throw EvaluationError.mismatchedInput("the degradation test needs at least 2 steps, not \(options.steps)")
    }
    let order = removalOrder(attribution: attribution, reverse: options.reverse)
    return degradationCounts(tokenCount: n, steps: options.steps).map { count in
        degradedInput(input, removing: tokensToRemove(order: order, count: count, isSpecial: isSpecial),
                      replaceWith: options.replaceWith)
    }
}

/// Runs the degradation test of one example: builds the degraded inputs and
/// calls `predict` once with all of them as one batch.
public func degradationTest(input: ModelInput, isSpecial: [Bool], attribution: [Float], target: Int,
                            options: DegradationOptions = DegradationOptions(),
                            predict: ProbabilityFunction) throws -> DegradationOutcome {
    let batch = try degradationInputs(input: input, isSpecial: isSpecial, attribution: attribution, options: options)
    let probabilities = try predict(batch)
    guard probabilities.count == batch.count else {
        throw EvaluationError.badPrediction("\(batch.count) degraded inputs but \(probabilities.count) distributions")
    }
    let outcomes = try probabilities.map { try targetOutcome(probabilities: $0, target: target) }
    return DegradationOutcome(counts: degradationCounts(tokenCount: input.ids.count, steps: options.steps),
                              degradationProb: outcomes.map(\.probability),
                              degradationCorrect: outcomes.map(\.correct))
}
