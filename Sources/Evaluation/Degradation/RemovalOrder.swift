import Attribution
import BERT
/// Token positions from most to least important (`reverse`: least first), as
/// the original's `np.argsort(-attribution)` / `np.argsort(attribution)`.
/// NumPy's default sort is unstable; we break ties by position, so equal
/// attributions are removed left to right. NaN sorts last, as in NumPy.
public func removalOrder(attribution: [Float], reverse: Bool) -> [Int] {
    attribution.indices.sorted { a, b in
        let x = attribution[a], y = attribution[b]
        if x.isNaN || y.isNaN {
            return x.isNaN == y.isNaN ? a < b : y.isNaN
        }
        if x != y { return reverse ? x < y : x > y }
        return a < b
    }
}

/// The positions removed at one step, as the original's `_truncate_words`: walk
/// `order` from the start, skipping special tokens, collecting until `count`
/// positions are collected or the walk reaches index n-1 of `order` (so the last
/// entry of `order` is never visited, even when it is not special).
public func tokensToRemove(order: [Int], count: Int, isSpecial: [Bool]) -> [Int] {
    var removed: [Int] = []
    var walk = 0
    while removed.count < count && walk < order.count - 1 {
        let position = order[walk]
        // A position without a flag is treated as special: never removed.
        if isSpecial.indices.contains(position) && !isSpecial[position] { removed.append(position) }
        walk += 1
    }
    return removed
}

/// The input without the `removing` positions, the rest kept in order with their
/// token types (the original's deletion); or, with `replaceWith`, the same length
/// with those ids replaced by that id, e.g. [MASK] (the original's `--replace`).
public func degradedInput(_ input: ModelInput, removing positions: [Int], replaceWith: Int?) -> ModelInput {
    let removed = Set(positions)
    if let replacement = replaceWith {
        var ids = input.ids
        for position in removed where ids.indices.contains(position) { ids[position] = replacement }
        return ModelInput(ids: ids, types: input.types)
    }
    return input.deleting(removed)
}
