import Foundation
import Tokenizer
import TestSupport
import XCTest

/// Compares every case of shared/reference/tokenizer.jsonl (written by the Python tokenizer
/// with the bert-base-uncased vocabulary, truncation=True, max_length=512).
final class ReferenceTokenizerTests: XCTestCase {
    private struct Case: Decodable {
        var text: String
        var text_pair: String?
        var input_ids: [Int]
        var token_type_ids: [Int]
        var tokens: [String]
    }

    private func sharedDirectory() throws -> URL { Shared.directory }

    func testAllReferenceCasesMatch() throws {
        let shared = try sharedDirectory()
        let referenceURL = shared.appendingPathComponent("reference/tokenizer.jsonl")
        let vocabURL = shared.appendingPathComponent("models/minilm-agnews/vocab.txt")
        guard FileManager.default.fileExists(atPath: referenceURL.path),
              FileManager.default.fileExists(atPath: vocabURL.path)
        else {
            throw XCTSkip("shared reference material not found at \(shared.path) (set IBA_SHARED to point at it)")
        }
        let tokenizer = try BertTokenizer(vocabulary: Vocabulary(vocabTxt: vocabURL))
        let lines = try String(contentsOf: referenceURL, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 546, "the reference file should hold 546 cases")

        var passed = 0
        var failures: [String] = []
        for (number, line) in lines.enumerated() {
            let reference = try JSONDecoder().decode(Case.self, from: Data(line.utf8))
            let encoding = tokenizer.encode(reference.text, pair: reference.text_pair, maxLength: 512)
            let expected = Encoding(
                inputIds: reference.input_ids, tokenTypeIds: reference.token_type_ids, tokens: reference.tokens)
            if encoding == expected {
                passed += 1
            } else if failures.count < 5 {
                failures.append(Self.describeMismatch(line: number, text: reference.text, pair: reference.text_pair,
                                                      got: encoding, expected: expected))
            }
        }
        print("tokenizer reference: \(passed)/\(lines.count) cases identical")
        XCTAssertEqual(passed, lines.count, "first mismatches:\n" + failures.joined(separator: "\n"))
    }

    private static func describeMismatch(line: Int, text: String, pair: String?,
                                         got: Encoding, expected: Encoding) -> String {
        let position = zip(got.tokens, expected.tokens).enumerated().first { $0.element.0 != $0.element.1 }?.offset
            ?? min(got.count, expected.count)
        let window = max(position - 2, 0)..<(position + 3)
        return """
            line \(line): text \(text.debugDescription.prefix(120)) pair \(pair?.debugDescription.prefix(60) ?? "nil")
              first difference at token \(position) (lengths got \(got.count), expected \(expected.count))
              got      \(got.tokens[window.clamped(to: got.tokens.indices)])
              expected \(expected.tokens[window.clamped(to: expected.tokens.indices)])
              ids equal: \(got.inputIds == expected.inputIds), types equal: \(got.tokenTypeIds == expected.tokenTypeIds)
            """
    }
}
