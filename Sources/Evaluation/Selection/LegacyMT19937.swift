/// NumPy's legacy generator (`np.random.seed` / `RandomState`): MT19937 seeded
/// with `init_genrand`, and the legacy helpers built on its 32-bit outputs.
/// Reproducing it exactly lets us pick the same examples as the original.
public struct LegacyMT19937: Sendable {
    private static let stateSize = 624
    private static let shift = 397
    private var state: [UInt32]
    private var position: Int

    /// `init_genrand(seed)`, which is what `np.random.seed(seed)` does for an integer seed.
    public init(seed: UInt32) {
        var state = [UInt32](repeating: 0, count: Self.stateSize)
        state[0] = seed
        for i in 1..<Self.stateSize {
            state[i] = 1_812_433_253 &* (state[i - 1] ^ (state[i - 1] >> 30)) &+ UInt32(i)
        }
        self.state = state
        self.position = Self.stateSize
    }

    /// The next tempered 32-bit output (`genrand_int32`).
    public mutating func nextUInt32() -> UInt32 {
        if position >= Self.stateSize { regenerate() }
        var y = state[position]
        position += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9d2c_5680
        y ^= (y << 15) & 0xefc6_0000
        y ^= y >> 18
        return y
    }

    /// Two 32-bit outputs, high word first (NumPy's `mt19937_next64`).
    public mutating func nextUInt64() -> UInt64 {
        let high = UInt64(nextUInt32())
        return high << 32 | UInt64(nextUInt32())
    }

    /// A double in [0, 1) with 53 random bits (`random_sample`, and so
    /// `np.random.uniform()` after scaling).
    public mutating func nextDouble() -> Double {
        let a = Double(nextUInt32() >> 5), b = Double(nextUInt32() >> 6)
        return (a * 67_108_864.0 + b) / 9_007_199_254_740_992.0
    }

    /// A uniform integer in 0...max, NumPy's legacy `random_interval`: mask the
    /// output to the smallest all-ones value >= max and redraw until it fits.
    public mutating func nextInterval(_ max: UInt64) -> UInt64 {
        if max == 0 { return 0 }
        var mask = max
        for shift in [1, 2, 4, 8, 16, 32] as [UInt64] { mask |= mask >> shift }
        if max <= 0xffff_ffff {
            while true {
                let value = UInt64(nextUInt32()) & mask
                if value <= max { return value }
            }
        }
        while true {
            let value = nextUInt64() & mask
            if value <= max { return value }
        }
    }

    /// NumPy's legacy `shuffle` of a 1-D array: for i from count-1 down to 1, swap
    /// element i with element `nextInterval(i)`.
    public mutating func shuffle<Element>(_ elements: inout [Element]) {
        guard elements.count > 1 else { return }
        for i in stride(from: elements.count - 1, through: 1, by: -1) {
            let j = Int(nextInterval(UInt64(i)))
            elements.swapAt(i, j)
        }
    }

    private mutating func regenerate() {
        let upperMask: UInt32 = 0x8000_0000, lowerMask: UInt32 = 0x7fff_ffff
        for i in 0..<Self.stateSize {
            let y = (state[i] & upperMask) | (state[(i + 1) % Self.stateSize] & lowerMask)
            var next = state[(i + Self.shift) % Self.stateSize] ^ (y >> 1)
            if y & 1 != 0 { next ^= 0x9908_b0df }
            state[i] = next
        }
        position = 0
    }
}
