// Attribution scales differ wildly between methods (IBA bits, IG gradients, LIME weights),
// so colours show each row relative to its own range; the raw numbers stay in hover text.

/// `values` mapped linearly so the finite minimum is 0 and the maximum 1.
/// Non-finite values map to 0; a constant row maps to all 0 (nothing stands out).
public func normalizedForColor(_ values: [Float]) -> [Float] {
    let finite = values.filter { $0.isFinite }
    guard let low = finite.min(), let high = finite.max(), high > low else {
        return values.map { _ in 0 }
    }
    let span = high - low
    return values.map { $0.isFinite ? ($0 - low) / span : 0 }
}

/// `values` mapped into [0, 1] by a shared range `low...high` (clamped outside it).
func normalized(_ values: [Float], low: Float, high: Float) -> [Float] {
    guard high > low else { return values.map { _ in 0 } }
    return values.map { $0.isFinite ? min(max(($0 - low) / (high - low), 0), 1) : 0 }
}
