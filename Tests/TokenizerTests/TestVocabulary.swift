import Tokenizer

/// A small vocabulary for tests that run without the shared reference material.
enum TestVocabulary {
    static let tokens = [
        "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
        "hello", "world", ",", "!", "$", "^", "5", "2", ".", "'", "[", "]", "mask",
        "un", "##aff", "##able", "cafe", "ecole", "naive", "café",
        "中", "文", "ab", "##c", "a", "##a", "x", "οδος", "σοφος", "istanbul", "strasse", "straße",
    ]

    static var vocabulary: Vocabulary { Vocabulary(tokens: tokens) }

    static func tokenizer(lowercase: Bool = true) throws -> BertTokenizer {
        try BertTokenizer(vocabulary: vocabulary, lowercase: lowercase)
    }

    static func id(_ token: String) -> Int { tokens.firstIndex(of: token) ?? -1 }
}
