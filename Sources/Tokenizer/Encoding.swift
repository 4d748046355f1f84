/// A model input: `[CLS] a [SEP]` or `[CLS] a [SEP] b [SEP]`, with ids, token types and tokens.
public struct Encoding: Equatable, Sendable {
    /// Vocabulary ids, special tokens included.
    public var inputIds: [Int]
    /// 0 up to and including the first `[SEP]`, 1 for the second sequence and its `[SEP]`.
    public var tokenTypeIds: [Int]
    /// The WordPiece tokens behind `inputIds`.
    public var tokens: [String]

    /// An encoding from its three parallel arrays.
    public init(inputIds: [Int], tokenTypeIds: [Int], tokens: [String]) {
        self.inputIds = inputIds
        self.tokenTypeIds = tokenTypeIds
        self.tokens = tokens
    }

    /// The number of tokens.
    public var count: Int { inputIds.count }
}

/// How many tokens of each sequence survive `longest_first` truncation to `budget` tokens
/// (special tokens excluded), as the Rust `tokenizers` library behind transformers' BERT
/// tokenizer computes it: the longer sequence is cut first; when both must be cut, each keeps
/// half and the odd token goes to the longer one (to the second when they tie).
func longestFirstLengths(_ first: Int, _ second: Int, budget: Int) -> (first: Int, second: Int) {
    let budget = max(budget, 0)
    guard first + second > budget else { return (first, second) }
    let swapped = first > second
    var shorter = min(first, second)
    var longer = max(shorter, budget - shorter)
    if shorter + longer > budget {
        shorter = budget / 2
        longer = shorter + budget % 2
    }
    return swapped ? (longer, shorter) : (shorter, longer)
}
