import Foundation

/// A WordPiece vocabulary: tokens and their ids.
public struct Vocabulary: Sendable, Equatable {
    private var idsByToken: [String: Int]
    private var tokensById: [String]

    /// Tokens in id order: the token at index i has id i.
    public init(tokens: [String]) {
        tokensById = tokens
        idsByToken = Dictionary(minimumCapacity: tokens.count)
        // A duplicated token keeps its last id, as the Python loader's dict assignment does.
        for (id, token) in tokens.enumerated() { idsByToken[token] = id }
    }

    /// Loads a `vocab.txt`: one token per line, the id is the line number (from 0).
    public init(vocabTxt url: URL) throws {
        let data = try Self.read(url)
        guard let text = String(data: data, encoding: .utf8) else {
            throw TokenizerError.malformedVocabulary(path: url.path, reason: "it is not UTF-8 text")
        }
        var lines = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        // A final newline ends the last line rather than starting an empty one.
        if lines.last?.isEmpty == true { lines.removeLast() }
        let tokens = lines.map { line -> String in
            // Python reads in universal-newline mode, so a "\r\n" file gives the same tokens.
            let body = line.last == UInt8(ascii: "\r") ? line.dropLast() : line
            return String(decoding: body, as: UTF8.self)
        }
        guard !tokens.isEmpty else {
            throw TokenizerError.malformedVocabulary(path: url.path, reason: "it has no tokens")
        }
        self.init(tokens: tokens)
    }

    /// Loads the WordPiece vocabulary (`model.vocab`, plus `added_tokens`) of a Hugging Face `tokenizer.json`.
    public init(tokenizerJSON url: URL) throws {
        let data = try Self.read(url)
        let file: TokenizerFile
        do {
            file = try JSONDecoder().decode(TokenizerFile.self, from: data)
        } catch {
            throw TokenizerError.malformedVocabulary(
                path: url.path, reason: "expected a JSON object with a model.vocab dictionary of token to id "
                    + "(\(error))")
        }
        var pairs = file.model.vocab.map { ($0.key, $0.value) }
        pairs += (file.addedTokens ?? []).map { ($0.content, $0.id) }
        guard !pairs.isEmpty else {
            throw TokenizerError.malformedVocabulary(path: url.path, reason: "model.vocab is empty")
        }
        var tokens = [String?](repeating: nil, count: pairs.count)
        for (token, id) in pairs {
            guard id >= 0, id < pairs.count else {
                throw TokenizerError.malformedVocabulary(
                    path: url.path, reason: "id \(id) of \"\(token)\" is outside 0..<\(pairs.count)")
            }
            if let existing = tokens[id], existing != token {
                throw TokenizerError.malformedVocabulary(
                    path: url.path, reason: "id \(id) is given to both \"\(existing)\" and \"\(token)\"")
            }
            tokens[id] = token
        }
        // Added tokens usually repeat vocabulary entries, so the ids in use may end before pairs.count.
        let used = tokens.prefix { $0 != nil }.compactMap { $0 }
        guard used.count == tokens.compactMap({ $0 }).count else {
            throw TokenizerError.malformedVocabulary(path: url.path, reason: "token ids are not contiguous from 0")
        }
        self.init(tokens: used)
    }

    /// The id of `token`, or nil when it is not in the vocabulary.
    public func id(_ token: String) -> Int? { idsByToken[token] }

    /// The token with id `id`, or nil when the id is out of range.
    public func token(_ id: Int) -> String? {
        tokensById.indices.contains(id) ? tokensById[id] : nil
    }

    /// The number of ids.
    public var count: Int { tokensById.count }

    private static func read(_ url: URL) throws -> Data {
        do {
            return try Data(contentsOf: url)
        } catch {
            throw TokenizerError.unreadableFile(path: url.path, reason: error.localizedDescription)
        }
    }
}

/// The part of a Hugging Face `tokenizer.json` that holds the vocabulary.
private struct TokenizerFile: Decodable {
    struct Model: Decodable { var vocab: [String: Int] }
    struct AddedToken: Decodable { var id: Int; var content: String }
    var model: Model
    var addedTokens: [AddedToken]?

    enum CodingKeys: String, CodingKey {
        case model
        case addedTokens = "added_tokens"
    }
}
