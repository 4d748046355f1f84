/// The original's example selection: `np.random.seed(3)` at import, then
/// `np.random.choice(len(data), N, replace=False)`, which is the first N entries
/// of the legacy permutation of 0..<len(data). `count == nil` ("all") returns
/// every index in dataset order (the original would visit the same examples in
/// permuted order; the summary means do not depend on the order).
public func originalSelection(populationSize: Int, count: Int?, seed: UInt32 = 3) throws -> [Int] {
    guard let count else { return Array(0..<max(populationSize, 0)) }
    guard count <= populationSize else {
        throw EvaluationError.selectionTooLarge(requested: count, available: populationSize)
    }
    guard count >= 0 else { throw EvaluationError.mismatchedInput("the number of examples must be >= 0, not \(count)") }
    var generator = LegacyMT19937(seed: seed)
    return Array(legacyPermutation(populationSize, using: &generator).prefix(count))
}

/// The generator as the original leaves it after choosing examples: `choice`
/// always permutes the whole population, whatever N. The original's `random`
/// baseline (`np.random.uniform(size=n)` per example) continues from here.
public func generatorAfterOriginalSelection(populationSize: Int, seed: UInt32 = 3) -> LegacyMT19937 {
    var generator = LegacyMT19937(seed: seed)
    _ = legacyPermutation(populationSize, using: &generator)
    return generator
}

/// `np.random.permutation(n)` with the legacy generator.
func legacyPermutation(_ n: Int, using generator: inout LegacyMT19937) -> [Int] {
    var indices = Array(0..<max(n, 0))
    generator.shuffle(&indices)
    return indices
}
