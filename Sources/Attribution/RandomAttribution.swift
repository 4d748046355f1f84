import BERT
import Foundation

/// The random baseline: uniform(0, 1) per token. The original draws `np.random.uniform(size=n)` from its one
/// global stream; we seed each example on its own (`NormalGenerator.exampleSeed`), so results do not depend
/// on which examples ran before or where.
public func randomAttribution(count: Int, seed: UInt64) -> [Float] {
    var noise = NormalGenerator(seed: seed)
    return (0..<count).map { _ in Float(noise.uniform()) }
}
