import Foundation

/// One word of a LIME explanation and its weight in the final ridge model.
public struct LIMEWordWeight: Sendable, Equatable {
    public var word: String
    public var weight: Double
    public init(word: String, weight: Double) { self.word = word; self.weight = weight }
}

/// Word weights onto wordpieces, as the original's `generate_lime_attribution`: words are keyed by their lower
/// case (a later word in `explanation` order overwrites an earlier one with the same key); a piece equal to a
/// key gets its weight; a piece followed by a `##` piece whose concatenation (without `##`) is a key gives both
/// pieces that weight; every other position (specials, punctuation, longer splits) gets the maximum weight of
/// the explanation (as float32, as numpy's `dtype='f'`).
/// `explanation` is in the order of `exp.as_list()` (decreasing |weight|). Lower case is Swift's full Unicode
/// mapping; Python's `str.lower()` differs only in context rules (final sigma).
public func mapWordWeightsToWordpieces(_ explanation: [LIMEWordWeight], tokens: [String]) -> [Float] {
    var score = [[UInt32]: Double]()
    for entry in explanation { score[scalarKey(entry.word.lowercased())] = entry.weight }
    let maximum = explanation.map { Float($0.weight) }.max() ?? 0
    var result = [Float]()
    result.reserveCapacity(tokens.count)
    var i = 0
    while i < tokens.count {
        if let s = score[scalarKey(tokens[i])] {
            result.append(Float(s)); i += 1
            continue
        }
        if i + 1 < tokens.count, tokens[i + 1].unicodeScalars.starts(with: "##".unicodeScalars),
           let s = score[scalarKey(tokens[i]) + withoutHashes(tokens[i + 1])] {
            result.append(Float(s)); result.append(Float(s)); i += 2
            continue
        }
        result.append(maximum); i += 1
    }
    return result
}

/// Python's `piece.replace("##", "")` as scalar values.
func withoutHashes(_ piece: String) -> [UInt32] {
    var out = [UInt32](), scalars = scalarKey(piece), i = 0
    while i < scalars.count {
        if i + 1 < scalars.count, scalars[i] == 35, scalars[i + 1] == 35 { i += 2; continue }
        out.append(scalars[i]); i += 1
    }
    return out
}

/// Dictionary key comparing code points exactly, as Python's str hashing does.
func scalarKey(_ s: String) -> [UInt32] { s.unicodeScalars.map(\.value) }
