import Foundation
import BERT

/// Standard normal draws from a seeded SplitMix64 stream (Box-Muller). The seed of example i is derived
/// from the run seed and i alone, so results never depend on which process or worker computed them.
public struct NoiseGenerator: Sendable {
    private var bits: SplitMix64
    private var spare: Float?

    public init(seed: UInt64) { bits = SplitMix64(seed: seed) }

    /// Seed of the example at `index` (its position in the loaded dataset) under `runSeed`.
    public static func exampleSeed(runSeed: UInt64, index: Int) -> UInt64 {
        var generator = NoiseGenerator(seed: runSeed ^ (UInt64(truncatingIfNeeded: index) &* 0xD1B54A32D192ED03))
        return generator.nextUInt64()
    }

    public mutating func nextUInt64() -> UInt64 { bits.next() }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func uniform() -> Double { Double(nextUInt64() >> 11) * 0x1p-53 }

    public mutating func normal() -> Float {
        if let s = spare { spare = nil; return s }
        let u1 = 1 - uniform(), u2 = uniform()   // u1 in (0, 1]: log is finite
        let r = (-2 * log(u1)).squareRoot()
        spare = Float(r * sin(2 * Double.pi * u2))
        return Float(r * cos(2 * Double.pi * u2))
    }

    public mutating func fillNormal(_ p: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { p[i] = normal() }
    }
}
