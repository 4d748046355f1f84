import Foundation

/// The BERT "basic" tokenizer: cleans the text, isolates CJK ideographs, splits on whitespace,
/// lower-cases and strips accents, and splits off punctuation; as `BasicTokenizer` in
/// transformers' tokenization_bert.py with `tokenize_chinese_chars=True` and
/// `strip_accents` following `do_lower_case`.
struct BasicTokenizer: Sendable {
    var lowercase: Bool

    /// The words of `text`, each as its Unicode scalars.
    func words<S: Sequence<Unicode.Scalar>>(in text: S) -> [[Unicode.Scalar]] {
        var words: [[Unicode.Scalar]] = []
        var word: [Unicode.Scalar] = []
        func endWord() {
            if !word.isEmpty { appendSplitting(normalized(word), to: &words) }
            word.removeAll(keepingCapacity: true)
        }
        for scalar in text {
            if scalar.value == 0 || scalar.value == 0xFFFD || scalar.isBertControl { continue }
            if scalar.isBertWhitespace {
                endWord()
            } else if scalar.isCJKIdeograph {
                // The Python code puts spaces around each ideograph, making it a word of its own.
                endWord()
                word.append(scalar)
                endWord()
            } else {
                word.append(scalar)
            }
        }
        endWord()
        return words
    }

    /// Lower case then accents stripped (NFD, marks of category Mn dropped), in Python's order.
    private func normalized(_ word: [Unicode.Scalar]) -> [Unicode.Scalar] {
        guard lowercase else { return word }
        if word.allSatisfy(\.isASCII) {
            return word.map { (0x41...0x5A).contains($0.value) ? Unicode.Scalar(UInt8($0.value) + 32) : $0 }
        }
        var lowered = String.UnicodeScalarView()
        for (index, scalar) in word.enumerated() {
            if scalar.value == 0x3A3 {
                lowered.append(Self.isFinalSigma(at: index, in: word) ? "\u{3C2}" : "\u{3C3}")
            } else {
                lowered.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
            }
        }
        let decomposed = String(lowered).decomposedStringWithCanonicalMapping
        return decomposed.unicodeScalars.filter { $0.properties.generalCategory != .nonspacingMark }
    }

    /// Unicode's Final_Sigma condition, as Python's `str.lower()` applies it: a cased letter
    /// before (skipping case-ignorable characters) and none after.
    private static func isFinalSigma(at index: Int, in word: [Unicode.Scalar]) -> Bool {
        let before = word[..<index].reversed().first { !$0.properties.isCaseIgnorable }
        guard let before, before.properties.isCased else { return false }
        let after = word[(index + 1)...].first { !$0.properties.isCaseIgnorable }
        return !(after?.properties.isCased ?? false)
    }

    /// `_run_split_on_punc`: every punctuation character becomes a word of its own.
    private func appendSplitting(_ word: [Unicode.Scalar], to words: inout [[Unicode.Scalar]]) {
        var start = 0
        for (index, scalar) in word.enumerated() where scalar.isBertPunctuation {
            if start < index { words.append(Array(word[start..<index])) }
            words.append([scalar])
            start = index + 1
        }
        if start < word.count { words.append(start == 0 ? word : Array(word[start...])) }
    }
}
