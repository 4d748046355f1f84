import Foundation
import Tokenizer
import XCTest

final class VocabularyTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tokenizer-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try FileManager.default.removeItem(at: directory)
    }

    func testVocabTxtIdsAreLineNumbers() throws {
        let url = directory.appendingPathComponent("vocab.txt")
        // Windows line endings and a final newline give the same tokens.
        try Data("[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\n[MASK]\r\nhello\r\n##lo\r\n".utf8).write(to: url)
        let vocabulary = try Vocabulary(vocabTxt: url)
        XCTAssertEqual(vocabulary.count, 7)
        XCTAssertEqual(vocabulary.id("hello"), 5)
        XCTAssertEqual(vocabulary.id("##lo"), 6)
        XCTAssertEqual(vocabulary.token(2), "[CLS]")
        XCTAssertNil(vocabulary.token(7))
        XCTAssertNil(vocabulary.token(-1))
        XCTAssertNil(vocabulary.id("world"))
        let tokenizer = try BertTokenizer(modelDirectory: directory)
        XCTAssertEqual(tokenizer.encode("Hello").inputIds, [2, 5, 3])
    }

    func testTokenizerJSONVocabulary() throws {
        let url = directory.appendingPathComponent("tokenizer.json")
        let json = """
            {"version": "1.0",
             "added_tokens": [{"id": 0, "content": "[PAD]", "special": true},
                              {"id": 100, "content": "[UNK]", "special": true}],
             "model": {"type": "WordPiece", "unk_token": "[UNK]",
                       "vocab": {"[PAD]": 0, "[CLS]": 1, "[SEP]": 2, "[MASK]": 3, "hel": 4, "##lo": 5}}}
            """
        try Data(json.utf8).write(to: url)
        XCTAssertThrowsError(try Vocabulary(tokenizerJSON: url), "id 100 leaves a gap") { error in
            guard case TokenizerError.malformedVocabulary = error else { return XCTFail("\(error)") }
        }
        try Data(json.replacingOccurrences(of: "100", with: "6").utf8).write(to: url)
        let vocabulary = try Vocabulary(tokenizerJSON: url)
        XCTAssertEqual(vocabulary.count, 7)
        XCTAssertEqual(vocabulary.id("##lo"), 5)
        XCTAssertEqual(vocabulary.token(6), "[UNK]")
        let tokenizer = try BertTokenizer(vocabulary: vocabulary)
        XCTAssertEqual(tokenizer.encode("Hello", pair: "hel").tokens, ["[CLS]", "hel", "##lo", "[SEP]", "hel", "[SEP]"])
        XCTAssertEqual(tokenizer.encode("Hello").inputIds, [1, 4, 5, 2])
    }

    func testMissingFileIsReported() {
        let url = directory.appendingPathComponent("absent.txt")
        XCTAssertThrowsError(try Vocabulary(vocabTxt: url)) { error in
            guard case let TokenizerError.unreadableFile(path, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(path, url.path)
            XCTAssertTrue("\(error)".contains("absent.txt"))
        }
        XCTAssertThrowsError(try Vocabulary(tokenizerJSON: url))
        XCTAssertThrowsError(try BertTokenizer(modelDirectory: directory))
    }

    func testMalformedTokenizerJSONIsReported() throws {
        let url = directory.appendingPathComponent("tokenizer.json")
        try Data(#"{"model": {"type": "Unigram", "vocab": [["a", -1.0]]}}"#.utf8).write(to: url)
        XCTAssertThrowsError(try Vocabulary(tokenizerJSON: url)) { error in
            guard case TokenizerError.malformedVocabulary = error else { return XCTFail("\(error)") }
        }
    }

    func testVocabularyWithoutClsIsRejected() {
        let vocabulary = Vocabulary(tokens: ["[PAD]", "[UNK]", "[SEP]", "[MASK]", "hello"])
        XCTAssertThrowsError(try BertTokenizer(vocabulary: vocabulary)) { error in
            XCTAssertEqual(error as? TokenizerError, .missingSpecialToken("[CLS]"))
            XCTAssertTrue("\(error)".contains("[CLS]"))
        }
    }
}
