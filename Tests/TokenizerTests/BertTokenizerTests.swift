import Tokenizer
import XCTest

/// Behaviour of the Python BERT tokenizer, with expectations worked out from its rules
/// (transformers' tokenization_bert.py) on a small vocabulary.
final class BertTokenizerTests: XCTestCase {
    func testPunctuationIsSplitOffIncludingAsciiSymbols() throws {
        let tokenizer = try TestVocabulary.tokenizer()
        XCTAssertEqual(tokenizer.tokenize("Hello, World!"), ["hello", ",", "world", "!"])
        // `$` (Sc) and `^` (Sk) are not Unicode punctuation but fall in the ASCII ranges Python treats as such.
        XCTAssertEqual(tokenizer.tokenize("$5^2."), ["$", "5", "^", "2", "."])
        XCTAssertEqual(tokenizer.tokenize("hello'world"), ["hello", "'", "world"])
    }

    func testLowerCasingStripsAccents() throws {
        let tokenizer = try TestVocabulary.tokenizer()
        XCTAssertEqual(tokenizer.tokenize("Café ÉCOLE naïve"), ["cafe", "ecole", "naive"])
        // A decomposed accent (e + U+0301) is stripped the same way as a precomposed one.
        XCTAssertEqual(tokenizer.tokenize("Cafe\u{301}"), ["cafe"])
        // İ lower-cases to i + U+0307, whose mark is then dropped; ß has no decomposition.
        XCTAssertEqual(tokenizer.tokenize("İSTANBUL Straße"), ["istanbul", "straße"])
    }

    func testCapitalSigmaLowerCasesToFinalSigmaAtWordEnd() throws {
        let tokenizer = try TestVocabulary.tokenizer()
        // Python's str.lower() maps a word-final Σ to ς and any other Σ to σ.
        XCTAssertEqual(tokenizer.tokenize("ΟΔΟΣ ΣΟΦΟΣ"), ["οδος", "σοφος"])
    }

    func testCasedTokenizerKeepsCaseAndAccents() throws {
        let tokenizer = try TestVocabulary.tokenizer(lowercase: false)
        XCTAssertEqual(tokenizer.tokenize("Hello café"), ["[UNK]", "café"])
    }

    func testCJKIdeographsBecomeSeparateWords() throws {
        let tokenizer = try TestVocabulary.tokenizer()
        // 字 is not in the vocabulary; without the spacing the three would form one unknown word.
        XCTAssertEqual(tokenizer.tokenize("中文字"), ["中", "文", "[UNK]"])
        XCTAssertEqual(tokenizer.tokenize("hello中"), ["hello", "中"])
    }

    func testControlCharactersAreDroppedAndOddSpacesSplit() throws {
        let tokenizer = try TestVocabulary.tokenizer()
        // NUL, U+0001, DEL, U+FFFD and the zero-width space (Cf) vanish without splitting the word.
        XCTAssertEqual(tokenizer.tokenize("a\u{0}b\u{1}c\u{7F}"), ["ab", "##c"])
        XCTAssertEqual(tokenizer.tokenize("ab\u{FFFD}\u{200B}c"), ["ab", "##c"])
        // Tabs, newlines, no-break and ideographic spaces separate words.
        XCTAssertEqual(tokenizer.tokenize(" hello\tworld\r\nhello\u{A0}world\u{3000}x "),
                       ["hello", "world", "hello", "world", "x"])
        XCTAssertEqual(tokenizer.tokenize(" \t\n"), [])
        XCTAssertEqual(tokenizer.tokenize(""), [])
    }

    func testWordPieceIsGreedyLongestMatchFirst() throws {
        let tokenizer = try TestVocabulary.tokenizer()
        XCTAssertEqual(tokenizer.tokenize("unaffable"), ["un", "##aff", "##able"])
        XCTAssertEqual(tokenizer.tokenize("abc"), ["ab", "##c"])
        // "x" matches but nothing covers "yz": the whole word, not just its tail, is unknown.
        XCTAssertEqual(tokenizer.tokenize("xyz hello"), ["[UNK]", "hello"])
    }

    func testWordsLongerThan100ScalarsAreUnknown() throws {
        let tokenizer = try TestVocabulary.tokenizer()
        let hundred = String(repeating: "a", count: 100)
        XCTAssertEqual(tokenizer.tokenize(hundred), ["a"] + Array(repeating: "##a", count: 99))
        XCTAssertEqual(tokenizer.tokenize(hundred + "a"), ["[UNK]"])
        // The limit applies after accents are stripped: 200 scalars in the text, 100 in the word.
        XCTAssertEqual(tokenizer.tokenize(String(repeating: "a\u{301}", count: 100)).count, 100)
    }

    func testSpecialTokensWrittenInTheTextStayWhole() throws {
        let tokenizer = try TestVocabulary.tokenizer()
        XCTAssertEqual(tokenizer.tokenize("[MASK] hello[SEP]"), ["[MASK]", "hello", "[SEP]"])
        // Matching is literal: a lower-cased marker is ordinary text.
        XCTAssertEqual(tokenizer.tokenize("[mask]"), ["[", "mask", "]"])
    }

    func testSingleEncodingWrapsInClsAndSep() throws {
        let tokenizer = try TestVocabulary.tokenizer()
        let encoding = tokenizer.encode("Hello world")
        XCTAssertEqual(encoding.tokens, ["[CLS]", "hello", "world", "[SEP]"])
        XCTAssertEqual(encoding.inputIds, [2, TestVocabulary.id("hello"), TestVocabulary.id("world"), 3])
        XCTAssertEqual(encoding.tokenTypeIds, [0, 0, 0, 0])
        XCTAssertEqual([tokenizer.padId, tokenizer.unkId, tokenizer.clsId, tokenizer.sepId, tokenizer.maskId],
                       [0, 1, 2, 3, 4])
    }

    func testPairEncodingHasSecondSegmentTypes() throws {
        let tokenizer = try TestVocabulary.tokenizer()
        let encoding = tokenizer.encode("hello", pair: "world !")
        XCTAssertEqual(encoding.tokens, ["[CLS]", "hello", "[SEP]", "world", "!", "[SEP]"])
        XCTAssertEqual(encoding.tokenTypeIds, [0, 0, 0, 1, 1, 1])
        let emptyFirst = tokenizer.encode("", pair: "hello")
        XCTAssertEqual(emptyFirst.tokens, ["[CLS]", "[SEP]", "hello", "[SEP]"])
        XCTAssertEqual(emptyFirst.tokenTypeIds, [0, 0, 1, 1])
    }

    func testSingleTruncationKeepsTheFirstTokens() throws {
        let tokenizer = try TestVocabulary.tokenizer()
        let encoding = tokenizer.encode("hello world hello world", maxLength: 4)
        XCTAssertEqual(encoding.tokens, ["[CLS]", "hello", "world", "[SEP]"])
        XCTAssertEqual(tokenizer.encode("hello world", maxLength: 512).count, 4)
        // Too small a budget keeps the special tokens rather than failing.
        XCTAssertEqual(tokenizer.encode("hello", maxLength: 1).tokens, ["[CLS]", "[SEP]"])
    }

    func testEncodingFromTokensLooksUpIds() throws {
        let tokenizer = try TestVocabulary.tokenizer()
        let encoding = tokenizer.encode(tokens: ["un", "##aff", "[PAD]", "nope"], pairTokens: ["[MASK]"])
        XCTAssertEqual(encoding.inputIds, [2, TestVocabulary.id("un"), TestVocabulary.id("##aff"), 0, 1, 3, 4, 3])
        XCTAssertEqual(encoding.tokens, ["[CLS]", "un", "##aff", "[PAD]", "nope", "[SEP]", "[MASK]", "[SEP]"])
        XCTAssertEqual(encoding.tokenTypeIds, [0, 0, 0, 0, 0, 0, 1, 1])
        // Same result as encoding the text the pieces came from.
        XCTAssertEqual(tokenizer.encode(tokens: tokenizer.tokenize("Hello, world"), pairTokens: ["!"]),
                       tokenizer.encode("Hello, world", pair: "!"))
    }
}
