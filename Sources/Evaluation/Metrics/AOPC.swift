import BERT
/// Options of the AOPC faithfulness metrics; the defaults are ferret's
/// (`ferret/evaluators/faithfulness_measures.py`, `parse_evaluator_args`).
public struct AOPCOptions: Sendable, Equatable, Codable {
    /// Fractions of the candidate tokens in the rationale. ferret uses
    /// `np.arange(0.1, 1.1, 0.1)`, whose values are these exact doubles.
    public var thresholds: [Double]
    /// ferret's `only_pos`: only tokens with a positive score enter a rationale.
    public var onlyPositive: Bool
    /// Replace instead of delete (ferret's `remove_tokens=False` masks with [MASK]).
    public var replaceWith: Int?

    public static let ferretThresholds: [Double] =
        [0.1, 0.2, 0.30000000000000004, 0.4, 0.5, 0.6, 0.7000000000000001, 0.8, 0.9, 1.0]

    public init(thresholds: [Double] = AOPCOptions.ferretThresholds, onlyPositive: Bool = true,
                replaceWith: Int? = nil) {
        self.thresholds = thresholds
        self.onlyPositive = onlyPositive
        self.replaceWith = replaceWith
    }
}

/// The perturbed inputs of one example: one per distinct rationale, in threshold order.
public struct AOPCInputs: Sendable, Equatable {
    /// The input without each rationale.
    public var comprehensiveness: [ModelInput]
    /// The input keeping only each rationale (and the special tokens).
    public var sufficiency: [ModelInput]
}

/// The rationales (token positions) ferret evaluates, one per threshold that
/// yields a new one. As ferret's `_get_id_tokens_percentage`: the candidates are
/// the non-special tokens (ferret drops the first and last position; we drop every
/// [CLS]/[SEP], which differs only for sentence pairs); k = int(threshold *
/// candidates); k == 0 gives no rationale; the top k by score (ties: lower
/// position first, where ferret's argsort is unstable), keeping only positive
/// scores with `onlyPositive`; an empty rationale or one equal to the previous
/// rationale is skipped and does not enter the mean.
public func aopcRationales(attribution: [Float], isSpecial: [Bool], options: AOPCOptions = AOPCOptions()) -> [[Int]] {
    let candidates = attribution.indices.filter { !(isSpecial.indices.contains($0) && isSpecial[$0]) }
    let ranked = removalOrder(attribution: candidates.map { attribution[$0] }, reverse: false).map { candidates[$0] }
    var rationales: [[Int]] = []
    var previous: Set<Int>?
    for threshold in options.thresholds {
        let k = Int(threshold * Double(candidates.count))
        guard k > 0, k <= candidates.count else { continue }
        var top = Array(ranked.prefix(k))
        if options.onlyPositive { top = top.filter { attribution[$0] > 0 } }
        guard !top.isEmpty, Set(top) != previous else { continue }
        previous = Set(top)
        rationales.append(top)
    }
    return rationales
}

/// The comprehensiveness and sufficiency inputs of one example, so the caller can
/// batch them with the degradation inputs.
public func aopcInputs(input: ModelInput, isSpecial: [Bool], attribution: [Float],
                       options: AOPCOptions = AOPCOptions()) throws -> AOPCInputs {
    let n = input.ids.count
    guard input.types.count == n, isSpecial.count == n, attribution.count == n else {
        throw EvaluationError.mismatchedInput(
            "ids \(n), token types \(input.types.count), special-token flags \(isSpecial.count) "
                + "and attribution \(attribution.count) must all have one entry per token")
    }
    let rationales = aopcRationales(attribution: attribution, isSpecial: isSpecial, options: options)
    let comprehensiveness = rationales.map { degradedInput(input, removing: $0, replaceWith: options.replaceWith) }
    let sufficiency = rationales.map { rationale in
        let kept = Set(rationale)
        let others = input.ids.indices.filter { !kept.contains($0) && !isSpecial[$0] }
        return degradedInput(input, removing: others, replaceWith: options.replaceWith)
    }
    return AOPCInputs(comprehensiveness: comprehensiveness, sufficiency: sufficiency)
}

/// AOPC comprehensiveness: mean over rationales of p(original) - p(without the
/// rationale), for the target class. ferret returns 0 when there is no rationale.
public func aopcComprehensiveness(originalProbability: Float, perturbedProbabilities: [Float]) -> Double {
    meanDrop(originalProbability, perturbedProbabilities) ?? 0
}

/// AOPC sufficiency: mean over rationales of p(original) - p(only the rationale).
/// ferret returns 1 when there is no rationale.
public func aopcSufficiency(originalProbability: Float, perturbedProbabilities: [Float]) -> Double {
    meanDrop(originalProbability, perturbedProbabilities) ?? 1
}

private func meanDrop(_ original: Float, _ perturbed: [Float]) -> Double? {
    guard !perturbed.isEmpty else { return nil }
    let total = perturbed.reduce(0.0) { $0 + (Double(original) - Double($1)) }
    return total / Double(perturbed.count)
}
