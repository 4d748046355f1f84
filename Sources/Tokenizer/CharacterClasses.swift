// The character classes of the Python BERT tokenizer (transformers' tokenization_bert.py),
// on Unicode scalars because Python iterates over code points.

extension Unicode.Scalar {
    /// `_is_control`: categories C* (Cc, Cf, Cs, Co, Cn) except tab, newline and carriage return.
    var isBertControl: Bool {
        switch value {
        case 0x09, 0x0A, 0x0D: return false
        default: break
        }
        switch properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned: return true
        default: return false
        }
    }

    /// `_is_whitespace` (space, tab, newline, carriage return, category Zs), plus the line and
    /// paragraph separators (Zl, Zp) on which Python's `str.split()` also splits words.
    var isBertWhitespace: Bool {
        switch value {
        case 0x20, 0x09, 0x0A, 0x0D: return true
        case 0...0x7F: return false
        default: break
        }
        switch properties.generalCategory {
        case .spaceSeparator, .lineSeparator, .paragraphSeparator: return true
        default: return false
        }
    }

    /// `_is_punctuation`: every non-alphanumeric printable ASCII character (so `$`, `^`, `+` too),
    /// and the Unicode categories P*.
    var isBertPunctuation: Bool {
        switch value {
        case 33...47, 58...64, 91...96, 123...126: return true
        case 0...0x7F: return false
        default: break
        }
        switch properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return true
        default:
            return false
        }
    }

    /// `_is_chinese_char`: the CJK Unified Ideographs blocks and their compatibility blocks
    /// (not Japanese kana or Korean hangul, which are written with spaces).
    var isCJKIdeograph: Bool {
        switch value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F,
             0x2B740...0x2B81F, 0x2B820...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default:
            return false
        }
    }
}
