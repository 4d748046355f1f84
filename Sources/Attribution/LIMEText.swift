import Foundation

/// A text as lime 0.2.0's `IndexedString(raw, split_expression=r'\W+', bow=True)` sees it: alternating runs of
/// word characters (the features) and separators; a word's every occurrence is one feature (bag of words).
/// Works on Unicode scalars, as Python strings are code points; words are compared scalar by scalar
/// (Python `==`), not by Swift's canonical equivalence.
public struct LIMEIndexedText: Sendable {
    /// The runs in order (words and separators), as scalars.
    let pieces: [[Unicode.Scalar]]
    /// Distinct words in order of first occurrence (lime's `inverse_vocab`).
    public let words: [String]
    /// positions[w] = indices in `pieces` of the occurrences of word w.
    let positions: [[Int]]

    public init(_ text: String) {
        var pieces = [[Unicode.Scalar]]()
        var isWordPiece = [Bool]()
        for scalar in text.unicodeScalars {
            let word = isPythonWordCharacter(scalar)
            if let last = isWordPiece.last, last == word { pieces[pieces.count - 1].append(scalar) } else {
                pieces.append([scalar]); isWordPiece.append(word)
            }
        }
        var index = [[UInt32]: Int](), words = [String](), positions = [[Int]]()
        for (i, piece) in pieces.enumerated() where isWordPiece[i] {
            let key = piece.map(\.value)
            if let w = index[key] { positions[w].append(i); continue }
            index[key] = words.count
            var s = String.UnicodeScalarView()
            s.append(contentsOf: piece)
            words.append(String(s))
            positions.append([i])
        }
        self.pieces = pieces
        self.words = words
        self.positions = positions
    }

    public var wordCount: Int { words.count }

    /// The text with every occurrence of the given words removed, separators kept
    /// (lime's `inverse_removing`: the remaining runs joined with nothing in between).
    public func removing(words removed: [Int]) -> String {
        var keep = [Bool](repeating: true, count: pieces.count)
        for w in removed { for p in positions[w] { keep[p] = false } }
        var s = String.UnicodeScalarView()
        for (i, piece) in pieces.enumerated() where keep[i] { s.append(contentsOf: piece) }
        return String(s)
    }
}

/// Python `re`'s `\w` on str patterns: `str.isalnum()` of the character (letters Lu/Ll/Lt/Lm/Lo, or any
/// numeric type: decimal, digit, numeric) or the underscore. Combining marks are not word characters.
public func isPythonWordCharacter(_ scalar: Unicode.Scalar) -> Bool {
    if scalar == "_" { return true }
    let properties = scalar.properties
    switch properties.generalCategory {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
    default: return properties.numericType != nil
    }
}

/// Splits `text` at the first occurrence of `separator`, comparing scalars exactly; nil when absent.
func splitOnce(_ text: String, separator: String) -> (String, String)? {
    let scalars = Array(text.unicodeScalars), sep = Array(separator.unicodeScalars)
    guard !sep.isEmpty, scalars.count >= sep.count else { return nil }
    for start in 0...(scalars.count - sep.count) where scalars[start..<(start + sep.count)].elementsEqual(sep) {
        var left = String.UnicodeScalarView(), right = String.UnicodeScalarView()
        left.append(contentsOf: scalars[..<start]); right.append(contentsOf: scalars[(start + sep.count)...])
        return (String(left), String(right))
    }
    return nil
}

/// Scalar-exact equality (Python `==` on str).
func scalarsEqual(_ a: String, _ b: String) -> Bool { a.unicodeScalars.elementsEqual(b.unicodeScalars) }
