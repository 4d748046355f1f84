import Foundation

/// A short human-readable number: 3 significant digits, "nan" / "inf" spelled out.
public func formatValue(_ value: Double) -> String {
    if value.isNaN { return "nan" }
    if value.isInfinite { return value > 0 ? "inf" : "-inf" }
    if value == 0 { return "0" }
    let magnitude = abs(value)
    if magnitude >= 1e-3 && magnitude < 1e5 {
        // Fixed notation with 3 significant digits, trailing zeros trimmed.
        let decimals = max(0, 2 - Int(floor(log10(magnitude))))
        var s = String(format: "%.\(decimals)f", value)
        if s.contains(".") {
            while s.hasSuffix("0") { s.removeLast() }
            if s.hasSuffix(".") { s.removeLast() }
        }
        return s
    }
    return String(format: "%.2e", value)
}

/// `formatValue` for single-precision attributions.
public func formatValue(_ value: Float) -> String {
    formatValue(Double(value))
}
