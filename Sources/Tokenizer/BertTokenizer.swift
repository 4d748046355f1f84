import Foundation

/// The BERT WordPiece tokenizer of transformers (`BertTokenizer`, lower case by default):
/// text to WordPiece tokens, and texts or token lists to model inputs.
public struct BertTokenizer: Sendable {
    /// The vocabulary tokens are looked up in.
    public let vocabulary: Vocabulary
    /// Whether text is lower-cased and stripped of accents (uncased models).
    public let lowercase: Bool
    /// Id of [CLS], which opens every encoding.
    public let clsId: Int
    /// Id of [SEP], which closes each sequence.
    public let sepId: Int
    /// Id of [PAD], for batching and baselines.
    public let padId: Int
    /// Id of [UNK], for words the vocabulary cannot cover.
    public let unkId: Int
    /// Id of [MASK].
    public let maskId: Int

    private let basic: BasicTokenizer
    private let wordpiece: WordpieceTokenizer
    /// Special tokens written literally in the text stay whole, longest first.
    private let literalSpecials: [(scalars: [Unicode.Scalar], piece: Piece)]

    /// A tokenizer over `vocabulary`; throws if [CLS], [SEP], [PAD], [UNK] or [MASK] is missing.
    public init(vocabulary: Vocabulary, lowercase: Bool = true) throws {
        func specialId(_ token: String) throws -> Int {
            guard let id = vocabulary.id(token) else { throw TokenizerError.missingSpecialToken(token) }
            return id
        }
        self.vocabulary = vocabulary
        self.lowercase = lowercase
        clsId = try specialId("[CLS]")
        sepId = try specialId("[SEP]")
        padId = try specialId("[PAD]")
        unkId = try specialId("[UNK]")
        maskId = try specialId("[MASK]")
        basic = BasicTokenizer(lowercase: lowercase)
        wordpiece = WordpieceTokenizer(vocabulary: vocabulary, unknown: Piece(token: "[UNK]", id: unkId))
        literalSpecials = [("[PAD]", padId), ("[UNK]", unkId), ("[CLS]", clsId), ("[SEP]", sepId), ("[MASK]", maskId)]
            .map { (Array($0.0.unicodeScalars), Piece(token: $0.0, id: $0.1)) }
            .sorted { $0.scalars.count > $1.scalars.count }
    }

    /// Loads the vocabulary of a model directory: `vocab.txt`, or else `tokenizer.json`.
    public init(modelDirectory url: URL, lowercase: Bool = true) throws {
        let vocabTxt = url.appendingPathComponent("vocab.txt")
        let tokenizerJSON = url.appendingPathComponent("tokenizer.json")
        let vocabulary: Vocabulary
        if FileManager.default.fileExists(atPath: vocabTxt.path) {
            vocabulary = try Vocabulary(vocabTxt: vocabTxt)
        } else if FileManager.default.fileExists(atPath: tokenizerJSON.path) {
            vocabulary = try Vocabulary(tokenizerJSON: tokenizerJSON)
        } else {
            throw TokenizerError.unreadableFile(
                path: url.path, reason: "the directory has neither vocab.txt nor tokenizer.json")
        }
        try self.init(vocabulary: vocabulary, lowercase: lowercase)
    }

    /// The WordPiece tokens of `text`, without [CLS] or [SEP].
    public func tokenize(_ text: String) -> [String] {
        pieces(of: text).map(\.token)
    }

    /// `[CLS] text [SEP]`, or `[CLS] text [SEP] pair [SEP]`, truncated to `maxLength` tokens
    /// (`truncation=True` in transformers: `longest_first` for pairs).
    public func encode(_ text: String, pair: String? = nil, maxLength: Int = 512) -> Encoding {
        encode(pieces(of: text), pair.map(pieces(of:)), maxLength: maxLength)
    }

    /// Like `encode(_:pair:maxLength:)` for texts already split into WordPiece tokens;
    /// a token missing from the vocabulary gets the [UNK] id.
    public func encode(tokens: [String], pairTokens: [String]? = nil, maxLength: Int = 512) -> Encoding {
        func lookedUp(_ tokens: [String]) -> [Piece] {
            tokens.map { Piece(token: $0, id: vocabulary.id($0) ?? unkId) }
        }
        return encode(lookedUp(tokens), pairTokens.map(lookedUp), maxLength: maxLength)
    }

    private func encode(_ first: [Piece], _ second: [Piece]?, maxLength: Int) -> Encoding {
        let cls = Piece(token: "[CLS]", id: clsId)
        let sep = Piece(token: "[SEP]", id: sepId)
        var pieces = [cls]
        var typeIds: [Int]
        if let second {
            let kept = longestFirstLengths(first.count, second.count, budget: maxLength - 3)
            pieces += first.prefix(kept.first)
            pieces.append(sep)
            typeIds = Array(repeating: 0, count: pieces.count)
            pieces += second.prefix(kept.second)
            pieces.append(sep)
            typeIds += Array(repeating: 1, count: pieces.count - typeIds.count)
        } else {
            pieces += first.prefix(max(maxLength - 2, 0))
            pieces.append(sep)
            typeIds = Array(repeating: 0, count: pieces.count)
        }
        return Encoding(inputIds: pieces.map(\.id), tokenTypeIds: typeIds, tokens: pieces.map(\.token))
    }

    /// Special tokens written in the text are kept whole, as transformers does; the text
    /// between them goes through the basic and WordPiece tokenizers.
    private func pieces(of text: String) -> [Piece] {
        let scalars = Array(text.unicodeScalars)
        var pieces: [Piece] = []
        var segmentStart = 0
        var index = 0
        func appendSegment(upTo end: Int) {
            guard segmentStart < end else { return }
            for word in basic.words(in: scalars[segmentStart..<end]) {
                wordpiece.appendPieces(of: word, to: &pieces)
            }
        }
        while index < scalars.count {
            guard let special = literalSpecials.first(where: { scalars[index...].starts(with: $0.scalars) }) else {
                index += 1
                continue
            }
            appendSegment(upTo: index)
            pieces.append(special.piece)
            index += special.scalars.count
            segmentStart = index
        }
        appendSegment(upTo: scalars.count)
        return pieces
    }
}
