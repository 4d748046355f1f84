/// Errors raised while loading a vocabulary or building a tokenizer.
public enum TokenizerError: Error, CustomStringConvertible, Equatable {
    /// The vocabulary file could not be read.
    case unreadableFile(path: String, reason: String)
    /// The file was read but its content is not a usable vocabulary.
    case malformedVocabulary(path: String, reason: String)
    /// A special token the encoder needs is not in the vocabulary.
    case missingSpecialToken(String)

    public var description: String {
        switch self {
        case let .unreadableFile(path, reason):
            return "cannot read vocabulary file \(path): \(reason). "
                + "Check the path points to a vocab.txt or tokenizer.json."
        case let .malformedVocabulary(path, reason):
            return "vocabulary file \(path) is malformed: \(reason)."
        case let .missingSpecialToken(token):
            return "the vocabulary has no \(token) token; "
                + "a BERT WordPiece vocabulary (e.g. bert-base-uncased vocab.txt) is required."
        }
    }
}
