import Foundation

/// Standard normal draws (Box-Muller) from a seeded SplitMix64 stream: the one generator behind weight
/// initialisation, dropout masks, IBA noise, LIME and random sampling, and shuffling.
public struct NormalGenerator: Sendable {
    private var bits: SplitMix64
    private var spare: Float?

    public init(seed: UInt64) { bits = SplitMix64(seed: seed) }

    public mutating func nextUInt64() -> UInt64 { bits.next() }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func uniform() -> Double { Double(nextUInt64() >> 11) * 0x1p-53 }

    /// The next standard normal draw (draws come in pairs: cos, then sin of the same angle).
    public mutating func next() -> Float {
        if let s = spare { spare = nil; return s }
        let u1 = 1 - uniform(), u2 = uniform()   // u1 in (0, 1]: log is finite
        let r = (-2 * log(u1)).squareRoot()
        spare = Float(r * sin(2 * Double.pi * u2))
        return Float(r * cos(2 * Double.pi * u2))
    }

    /// p (count) = the next `count` normal draws.
    public mutating func fillNormal(_ p: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { p[i] = next() }
    }
}
