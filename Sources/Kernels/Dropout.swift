/// Training-mode dropout, inverted: the mask (count) holds 0 or 1/(1-p) per element, so evaluation needs no
/// rescaling. The masks are drawn by the model (one stream per site); these apply them.

/// x (count) *= mask, in place on the activation.
public func dropoutForward(_ x: UnsafeMutablePointer<Float>, mask: UnsafePointer<Float>, count: Int) {
    for i in 0..<count { x[i] *= mask[i] }
}

/// dx (count) *= mask, in place on the gradient of the dropped activation (the forward's product, transposed).
public func dropoutBackward(_ dx: UnsafeMutablePointer<Float>, mask: UnsafePointer<Float>, count: Int) {
    for i in 0..<count { dx[i] *= mask[i] }
}
