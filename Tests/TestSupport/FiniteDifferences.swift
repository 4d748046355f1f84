/// The central finite difference (loss(x + h) - loss(x - h)) / 2h at one coordinate whose value is
/// `value`: `set` moves the coordinate (it is restored to `value` afterwards), `loss` is evaluated in
/// Double. The loop every gradient check shares.
public func centralDifference(at value: Float, step h: Float = 1e-2, set: (Float) -> Void,
                              loss: () throws -> Double) rethrows -> Double {
    set(value + h)
    let plus = try loss()
    set(value - h)
    let minus = try loss()
    set(value)
    return (plus - minus) / (2 * Double(h))
}
