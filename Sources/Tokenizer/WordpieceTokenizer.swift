/// One WordPiece token: its text and its id.
struct Piece: Sendable {
    var token: String
    var id: Int
}

/// Greedy longest-match-first WordPiece, as `WordpieceTokenizer` in transformers'
/// tokenization_bert.py: continuation pieces carry a `##` prefix, and a word that is too long
/// or cannot be covered by vocabulary pieces becomes a single unknown token.
struct WordpieceTokenizer: Sendable {
    var vocabulary: Vocabulary
    var unknown: Piece
    /// Longer words (in Unicode scalars) become the unknown token.
    var maxScalarsPerWord = 100

    /// Appends the pieces of `word` to `pieces`.
    func appendPieces(of word: [Unicode.Scalar], to pieces: inout [Piece]) {
        guard word.count <= maxScalarsPerWord else {
            pieces.append(unknown)
            return
        }
        let firstNew = pieces.count
        var start = 0
        var candidate = String.UnicodeScalarView()
        while start < word.count {
            var end = word.count
            var match: Piece?
            while start < end {
                candidate.removeAll(keepingCapacity: true)
                if start > 0 { candidate.append(contentsOf: "##".unicodeScalars) }
                candidate.append(contentsOf: word[start..<end])
                let token = String(candidate)
                if let id = vocabulary.id(token) {
                    match = Piece(token: token, id: id)
                    break
                }
                end -= 1
            }
            guard let match else {
                pieces.removeSubrange(firstNew...)
                pieces.append(unknown)
                return
            }
            pieces.append(match)
            start = end
        }
    }
}
