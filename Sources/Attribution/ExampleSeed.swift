import BERT

extension NormalGenerator {
    /// Seed of the example at `index` (its position in the loaded dataset) under `runSeed`: derived from these
    /// two alone, so the noise of an example never depends on which process or worker computed it.
    public static func exampleSeed(runSeed: UInt64, index: Int) -> UInt64 {
        var generator = NormalGenerator(seed: runSeed ^ (UInt64(truncatingIfNeeded: index) &* 0xD1B54A32D192ED03))
        return generator.nextUInt64()
    }
}
