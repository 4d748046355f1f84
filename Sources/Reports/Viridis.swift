// Viridis: the perceptually uniform colormap matplotlib uses by default.
// The control points below sample matplotlib's 256-entry viridis table
// (CC0 / public domain, by Nathaniel J. Smith, Stefan van der Walt and Eric Firing)
// at t = k/32; linear interpolation between them stays within 2/255 of the full table.

import Foundation

/// The viridis colour for `t` in [0, 1]; values outside clamp, NaN maps to 0.
public func viridis(_ t: Float) -> (r: UInt8, g: UInt8, b: UInt8) {
    let clamped: Float = t.isNaN ? 0 : min(max(t, 0), 1)
    let position = clamped * Float(viridisControlPoints.count - 1)
    let lower = min(Int(position), viridisControlPoints.count - 2)
    let fraction = position - Float(lower)
    let a = viridisControlPoints[lower], b = viridisControlPoints[lower + 1]
    func mix(_ x: UInt8, _ y: UInt8) -> UInt8 {
        UInt8((Float(x) + (Float(y) - Float(x)) * fraction).rounded())
    }
    return (mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// The viridis colour for `t` as a CSS/SVG hex string such as `#440154`.
public func viridisHex(_ t: Float) -> String {
    hexColor(viridis(t))
}

/// A colour as a `#rrggbb` string.
func hexColor(_ c: (r: UInt8, g: UInt8, b: UInt8)) -> String {
    let digits = Array("0123456789abcdef")
    var s = "#"
    for v in [c.r, c.g, c.b] {
        s.append(digits[Int(v >> 4)])
        s.append(digits[Int(v & 0xf)])
    }
    return s
}

/// Relative luminance in [0, 1] (sRGB, WCAG definition), used to pick readable text colours.
func relativeLuminance(_ c: (r: UInt8, g: UInt8, b: UInt8)) -> Double {
    func linear(_ v: UInt8) -> Double {
        let s = Double(v) / 255
        return s <= 0.03928 ? s / 12.92 : pow((s + 0.055) / 1.055, 2.4)
    }
    return 0.2126 * linear(c.r) + 0.7152 * linear(c.g) + 0.0722 * linear(c.b)
}

/// Whether black text reads better than white on this background (higher WCAG contrast).
func prefersDarkText(on background: (r: UInt8, g: UInt8, b: UInt8)) -> Bool {
    let l = relativeLuminance(background)
    // Contrast with black is (l + 0.05) / 0.05, with white 1.05 / (l + 0.05).
    return (l + 0.05) / 0.05 > 1.05 / (l + 0.05)
}

/// 33 viridis control points at t = 0, 1/32, ..., 1.
private let viridisControlPoints: [(UInt8, UInt8, UInt8)] = [
    (68, 1, 84), (71, 13, 96), (72, 24, 106), (72, 35, 116),
    (71, 45, 123), (69, 54, 129), (66, 64, 134), (63, 73, 137),
    (59, 82, 139), (55, 90, 141), (51, 99, 141), (47, 106, 142),
    (44, 114, 142), (41, 122, 142), (38, 129, 142), (35, 137, 142),
    (33, 144, 140), (31, 152, 139), (31, 159, 136), (33, 166, 133),
    (40, 174, 128), (49, 181, 123), (62, 188, 116), (76, 194, 108),
    (93, 201, 99), (110, 206, 88), (130, 211, 76), (150, 216, 63),
    (171, 220, 50), (192, 223, 36), (213, 226, 26), (234, 229, 26),
    (253, 231, 37),
]
