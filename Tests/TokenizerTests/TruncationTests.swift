import Tokenizer
import XCTest

/// Pair truncation follows `longest_first` of the Rust `tokenizers` library that transformers'
/// BERT tokenizer runs on. The expected lengths are the table of its own unit test
/// (`truncate_encodings_longest_first`, budget 7 tokens besides the specials).
final class TruncationTests: XCTestCase {
    private func lengthsAfterTruncating(_ first: Int, _ second: Int, budget: Int) throws -> (Int, Int) {
        let tokenizer = try TestVocabulary.tokenizer()
        let encoding = tokenizer.encode(
            tokens: Array(repeating: "hello", count: first),
            pairTokens: Array(repeating: "world", count: second),
            maxLength: budget + 3)
        XCTAssertEqual(encoding.tokens.filter { $0 == "[SEP]" }.count, 2)
        XCTAssertEqual(encoding.tokenTypeIds.filter { $0 == 1 }.count,
                       encoding.tokens.filter { $0 == "world" }.count + 1)
        return (encoding.tokens.filter { $0 == "hello" }.count, encoding.tokens.filter { $0 == "world" }.count)
    }

    func testLongestFirstMatchesTheTokenizersTable() throws {
        // (first, second) -> (kept first, kept second), empty 0, short 2, medium 4, long 8.
        let table: [(Int, Int, Int, Int)] = [
            (0, 0, 0, 0), (0, 2, 0, 2), (0, 4, 0, 4), (0, 8, 0, 7),
            (2, 0, 2, 0), (2, 2, 2, 2), (2, 4, 2, 4), (2, 8, 2, 5),
            (4, 0, 4, 0), (4, 2, 4, 2), (4, 4, 3, 4), (4, 8, 3, 4),
            (8, 0, 7, 0), (8, 2, 5, 2), (8, 4, 4, 3), (8, 8, 3, 4),
        ]
        for (first, second, keptFirst, keptSecond) in table {
            let kept = try lengthsAfterTruncating(first, second, budget: 7)
            XCTAssertEqual(kept.0, keptFirst, "first of (\(first), \(second))")
            XCTAssertEqual(kept.1, keptSecond, "second of (\(first), \(second))")
        }
    }

    func testZeroBudgetKeepsOnlySpecialTokens() throws {
        let kept = try lengthsAfterTruncating(4, 4, budget: 0)
        XCTAssertEqual(kept.0, 0)
        XCTAssertEqual(kept.1, 0)
    }

    func testTextPairIsTruncatedToMaxLength() throws {
        let tokenizer = try TestVocabulary.tokenizer()
        let long = Array(repeating: "hello", count: 600).joined(separator: " ")
        let encoding = tokenizer.encode(long, pair: "world world")
        XCTAssertEqual(encoding.count, 512)
        XCTAssertEqual(encoding.tokens.suffix(4), ["[SEP]", "world", "world", "[SEP]"])
        XCTAssertEqual(encoding.tokenTypeIds.filter { $0 == 1 }.count, 3)
    }
}
