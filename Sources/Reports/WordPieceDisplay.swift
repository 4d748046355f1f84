// BERT WordPiece marks word continuations with a leading "##"; for people we glue them
// back onto the previous piece while keeping one coloured box per token.

/// How one token is shown in running text.
public struct DisplayPiece: Equatable, Sendable {
    /// The text to show ("##" removed from continuation pieces).
    public var text: String
    /// Whether a space separates this piece from the previous one.
    public var spaceBefore: Bool
}

/// Display pieces for `tokens`: continuation pieces lose "##" and attach to the previous token.
public func displayPieces(_ tokens: [String]) -> [DisplayPiece] {
    tokens.enumerated().map { index, token in
        let isContinuation = token.hasPrefix("##") && token.count > 2
        return DisplayPiece(
            text: isContinuation ? String(token.dropFirst(2)) : token,
            spaceBefore: index > 0 && !isContinuation)
    }
}
