import BERT
import Foundation

/// The random baseline: uniform(0, 1) per token. The original draws `np.random.uniform(size=n)` from its one
/// global stream; we seed each example on its own (`NormalGenerator.exampleSeed`), so results do not depend
/// on which examples ran before or where.
public func randomAttribution(count: Int, seed: UInt64) -> [Float] {
    var noise = NormalGenerator(seed: seed)
    return (0..<count).map { _ in Float(noise.uniform()) }
}

/// The random baseline as a method: uniform(0, 1) per token from the example's seed.
public final class RandomAttribution: MethodExplainer {
    public init() {}
    public func attribution(of example: ExampleToExplain, target: Int, seed: UInt64) throws -> [Float] {
        randomAttribution(count: example.input.count, seed: seed)
    }
}
