import Foundation

/// Evenly spaced "nice" tick positions (steps of 1, 2, 2.5 or 5 times a power of ten) covering `low...high`.
func niceTicks(low: Double, high: Double, targetCount: Int = 6) -> [Double] {
    guard low.isFinite, high.isFinite, high > low, targetCount > 0 else { return [low] }
    let step = niceStep((high - low) / Double(targetCount))
    let first = (low / step).rounded(.up) * step
    var ticks: [Double] = []
    var k = 0.0
    // Multiply instead of accumulating so ticks do not drift (0.30000000000000004).
    while first + k * step <= high + step * 1e-9 {
        ticks.append(first + k * step)
        k += 1
    }
    return ticks
}

/// The smallest of 1, 2, 2.5, 5 or 10 times a power of ten that is at least `raw`.
func niceStep(_ raw: Double) -> Double {
    let power = pow(10, floor(log10(raw)))
    for multiple in [1, 2, 2.5, 5] where multiple * power >= raw * (1 - 1e-9) {
        return multiple * power
    }
    return 10 * power
}

/// Tick labels with just enough decimals to tell the ticks apart, and no "-0".
func tickLabels(_ ticks: [Double]) -> [String] {
    guard ticks.count > 1 else { return ticks.map { formatValue($0) } }
    let step = abs(ticks[1] - ticks[0])
    var decimals = max(0, Int(-floor(log10(step))))
    // 2.5 x 10^k needs one more decimal than its power suggests.
    if abs(step / pow(10, floor(log10(step))) - 2.5) < 1e-9 { decimals += 1 }
    return ticks.map { tick in
        let s = String(format: "%.\(decimals)f", abs(tick) < step * 1e-9 ? 0 : tick)
        return s
    }
}

/// `value` widened outward to the nearest tick steps, for automatic axis ranges.
func niceRange(low: Double, high: Double) -> ClosedRange<Double> {
    guard low.isFinite, high.isFinite else { return 0...1 }
    guard high > low else { return (low - 0.5)...(high + 0.5) }
    let step = niceStep((high - low) / 6)
    return (floor(low / step) * step)...(ceil(high / step) * step)
}
