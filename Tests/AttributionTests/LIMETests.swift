import Foundation
import TestSupport
import XCTest
import Kernels
@testable import Attribution
import BERT
import Tokenizer

final class LIMETests: XCTestCase {
    // MARK: words (expected values from Python 3 `re` with lime 0.2.0's IndexedString logic, run by hand)

    func testWordsAndRemovalMatchPython() {
        let text = "Hello, world! Hello again_x 3.5 caf\u{e9} na\u{ef}ve-hello"
        let indexed = LIMEIndexedText(text)
        XCTAssertEqual(indexed.words, ["Hello", "world", "again_x", "3", "5", "caf\u{e9}", "na\u{ef}ve", "hello"])
        XCTAssertEqual(indexed.removing(words: [0]), ", world!  again_x 3.5 caf\u{e9} na\u{ef}ve-hello", "every occurrence goes, separators stay")
        XCTAssertEqual(indexed.removing(words: [0, 2]), ", world!   3.5 caf\u{e9} na\u{ef}ve-hello")
        XCTAssertEqual(indexed.removing(words: Array(0..<8)), ", !   .  -")
        XCTAssertEqual(indexed.removing(words: []), text)
    }

    func testUnicodeWordCharactersMatchPython() {
        // Decomposed accent (combining mark is \W), superscript two, Roman numeral twelve, Arabic-Indic digits, CJK, em dash, emoji.
        let text = "cafe\u{301} x\u{b2} \u{216b} \u{663}\u{664} \u{65e5}\u{672c}\u{8a9e}\u{2014}ok \u{1F600} end."
        let indexed = LIMEIndexedText(text)
        XCTAssertEqual(indexed.words.map { $0.unicodeScalars.map(\.value) },
                       ["cafe", "x\u{b2}", "\u{216b}", "\u{663}\u{664}", "\u{65e5}\u{672c}\u{8a9e}", "ok", "end"].map { $0.unicodeScalars.map(\.value) })
        XCTAssertTrue(indexed.removing(words: [0]).unicodeScalars.elementsEqual("\u{301} x\u{b2} \u{216b} \u{663}\u{664} \u{65e5}\u{672c}\u{8a9e}\u{2014}ok \u{1F600} end.".unicodeScalars))
        XCTAssertTrue(indexed.removing(words: Array(0..<7)).unicodeScalars.elementsEqual("\u{301}    \u{2014} \u{1F600} .".unicodeScalars))
        // Precomposed and decomposed forms are different words for Python even though Swift calls them equal strings.
        XCTAssertEqual(LIMEIndexedText("\u{2126} \u{3a9}").wordCount, 2)
    }

    func testPairSeparatorSurvivesRemoval() {
        let indexed = LIMEIndexedText("Is it? ****** It is, it is.")
        XCTAssertEqual(indexed.words, ["Is", "it", "It", "is"])
        XCTAssertEqual(indexed.removing(words: [0, 2]), " it? ******  is, it is.")
        XCTAssertEqual(indexed.removing(words: [0, 1, 2, 3]), " ? ******  ,  .")
        let split = splitOnce(" ? ******  ,  .", separator: limePairSeparator)
        XCTAssertEqual(split?.0, " ?")
        XCTAssertEqual(split?.1, " ,  .")
    }

    // MARK: words to wordpieces (expected values from the original's generate_lime_attribution, run by hand)

    func testWordpieceMappingMatchesOriginal() {
        let explanation = [("Hello", 0.5), ("world", -0.3), ("hello", 0.2), ("playing", 0.1), ("un", -0.05), ("x", 0.01)]
            .map { LIMEWordWeight(word: $0.0, weight: $0.1) }
        let tokens = ["[CLS]", "hello", ",", "world", "play", "##ing", "un", "##believ", "##able", "x", "[SEP]"]
        XCTAssertEqual(mapWordWeightsToWordpieces(explanation, tokens: tokens), [0.5, 0.2, 0.5, -0.3, 0.1, 0.1, -0.05, 0.5, 0.5, 0.01, 0.5])
    }

    func testStableSortByMagnitude() {
        let sorted = stableSortedByMagnitude([(0, 0.1), (1, -0.3), (2, 0.3), (3, -0.1), (4, 0.2)])
        XCTAssertEqual(sorted.map(\.0), [1, 2, 4, 0, 3])
    }

    // MARK: the method on a known classifier

    /// A classifier whose class-1 probability is 0.2 + 0.5 [good present] - 0.15 [bad present]: LIME must give
    /// "good" the largest positive weight, "bad" a negative one, and every other word almost nothing.
    func testRecoversALinearClassifier() throws {
        let text = "the plot is good but the acting is bad and the movie is long"
        let words = LIMEIndexedText(text).words
        let tokens = ["[CLS]"] + text.split(separator: " ").map(String.init) + ["[SEP]"]
        let explainer = LIMEExplainer(model: try randomTinyModel(seed: 1), tokenizer: try tinyTokenizer(), context: ComputeContext())
        let result = try explainer.explain(text: text, pair: nil, tokens: tokens, label: 1, seed: 42, classifier: linearClassifier)
        XCTAssertEqual(result.samples, 100)
        XCTAssertEqual(Set(result.wordWeights.map(\.word)), Set(words), "num_features >= words: every word is kept")
        XCTAssertEqual(result.wordWeights.first?.word, "good")
        let weight = Dictionary(uniqueKeysWithValues: result.wordWeights.map { ($0.word, $0.weight) })
        XCTAssertGreaterThan(weight["good"] ?? 0, 0.25)
        XCTAssertLessThan(weight["bad"] ?? 0, -0.05)
        for w in words where w != "good" && w != "bad" { XCTAssertLessThan(abs(weight[w] ?? 1), 0.03, w) }
        XCTAssertGreaterThan(result.score, 0.8)
        // Wordpieces: "the" appears three times and gets its one weight each time; [CLS]/[SEP] get the maximum.
        XCTAssertEqual(result.attribution.count, tokens.count)
        XCTAssertEqual(result.attribution[0], Float(weight["good"] ?? 0))
        XCTAssertEqual(result.attribution[1], Float(weight["the"] ?? 9))
        XCTAssertEqual(result.attribution[6], Float(weight["the"] ?? 9))
    }

    /// Five wordpieces (<= 6): forward selection picks "good" first, and only min(5, 3 words) words are used.
    func testForwardSelectionForShortTexts() throws {
        let explainer = LIMEExplainer(model: try randomTinyModel(seed: 1), tokenizer: try tinyTokenizer(), context: ComputeContext())
        let result = try explainer.explain(text: "good bad plot", pair: nil, tokens: ["[CLS]", "good", "bad", "plot", "[SEP]"],
                                           label: 1, seed: 3, classifier: linearClassifier)
        XCTAssertEqual(result.wordWeights.count, 3)
        XCTAssertEqual(result.wordWeights.first?.word, "good")
        let selected = explainer.forwardSelection(data: [1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 0], rows: 4, cols: 3,
                                                  y: [0.7, 0.2, 0.7, 0.55], weights: [1, 1, 1, 1], count: 2)
        XCTAssertEqual(selected.first, 0, "column 0 alone explains y exactly")
    }

    func linearClassifier(_ texts: [String]) -> [[Float]] {
        texts.map { t in
            let present = Set(LIMEIndexedText(t).words)
            let p1 = 0.2 + (present.contains("good") ? 0.5 : 0) - (present.contains("bad") ? 0.15 : 0)
            return [Float(1 - p1), Float(p1), 0]
        }
    }

    // MARK: what the classifier sees

    func testPredictionInputs() throws {
        let tokenizer = try tinyTokenizer()
        let ids = { (s: String) in tokenizer.vocabulary.id(s) ?? -1 }
        var options = LIMEOptions()
        options.paddedLength = 12
        XCTAssertEqual(options.pairPrediction, .split, "the contract's split-back is the default")
        options.pairPrediction = .asTheOriginal
        let explainer = LIMEExplainer(model: try randomTinyModel(seed: 1), tokenizer: tokenizer, options: options, context: ComputeContext())
        let single = explainer.predictionInputs(["good movie"], isPair: false)
        XCTAssertEqual(single[0].ids, [ids("[CLS]"), ids("good"), ids("movie"), ids("[SEP]")] + [Int](repeating: ids("[PAD]"), count: 8))
        XCTAssertEqual(single[0].types, [Int](repeating: 0, count: 12))
        // The original: the joined text is ONE sequence (six '*' tokens), unless some sample is exactly " ****** ".
        let joined = explainer.predictionInputs(["good movie ****** bad plot"], isPair: true)
        XCTAssertEqual(Array(joined[0].ids.prefix(11)), [ids("[CLS]"), ids("good"), ids("movie")] + [Int](repeating: ids("*"), count: 6) + [ids("bad"), ids("plot")])
        XCTAssertEqual(joined[0].ids.count, 12, "exactly 12 tokens: nothing to pad")
        XCTAssertEqual(joined[0].types, [Int](repeating: 0, count: 12))
        let splitBack = explainer.predictionInputs(["good movie ****** bad plot", " ****** "], isPair: true)
        XCTAssertEqual(Array(splitBack[0].ids.prefix(7)), [ids("[CLS]"), ids("good"), ids("movie"), ids("[SEP]"), ids("bad"), ids("plot"), ids("[SEP]")])
        XCTAssertEqual(splitBack[0].types, [0, 0, 0, 0, 1, 1, 1] + [Int](repeating: 0, count: 5), "padding has type 0")
        XCTAssertEqual(Array(splitBack[1].ids.prefix(3)), [ids("[CLS]"), ids("[SEP]"), ids("[SEP]")])
        // Corrected: split and unpadded.
        explainer.options.paddedLength = nil
        explainer.options.pairPrediction = .split
        let corrected = explainer.predictionInputs(["good movie ****** bad plot"], isPair: true)
        XCTAssertEqual(corrected[0].ids, [ids("[CLS]"), ids("good"), ids("movie"), ids("[SEP]"), ids("bad"), ids("plot"), ids("[SEP]")])
        XCTAssertEqual(corrected[0].types, [0, 0, 0, 0, 1, 1, 1])
    }

    /// The whole method on the tiny model: one weight per wordpiece, reproducible by seed.
    func testEndToEndOnTinyModelIsDeterministic() throws {
        let tokenizer = try tinyTokenizer()
        let model = try randomTinyModel(seed: 9)
        var options = LIMEOptions()
        options.paddedLength = 32   // the tiny model has 32 positions
        let explainer = LIMEExplainer(model: model, tokenizer: tokenizer, options: options, context: ComputeContext())
        let text = "the movie is good and not boring, the plot is fun"
        let encoding = tokenizer.encode(text)
        let input = ModelInput(ids: encoding.inputIds, types: encoding.tokenTypeIds)
        let a = try explainer.explain(text: text, pair: nil, encoded: input, label: 1, seed: 5)
        let b = try explainer.explain(text: text, pair: nil, encoded: input, label: 1, seed: 5)
        let c = try explainer.explain(text: text, pair: nil, encoded: input, label: 1, seed: 6)
        XCTAssertEqual(a.attribution.count, input.count)
        XCTAssertEqual(a.attribution, b.attribution)
        XCTAssertNotEqual(a.attribution, c.attribution)
        XCTAssertTrue(a.attribution.allSatisfy(\.isFinite))
        let pair = try explainer.explain(text: "good movie", pair: "bad plot", encoded: ModelInput(ids: tokenizer.encode("good movie", pair: "bad plot").inputIds,
                                         types: tokenizer.encode("good movie", pair: "bad plot").tokenTypeIds), label: 0, seed: 1)
        XCTAssertEqual(pair.samples, 75)
        XCTAssertThrowsError(try explainer.explain(text: "!!", pair: nil, encoded: input, label: 1, seed: 1))
    }
}

/// 30 tokens: the vocabulary size of `randomTinyModel`.
func tinyTokenizer() throws -> BertTokenizer {
    try BertTokenizer(vocabulary: Vocabulary(tokens: [
        "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "*", ",", ".", "!", "good", "bad", "movie", "the", "a", "is", "it",
        "play", "##ing", "un", "##believ", "##able", "hello", "world", "fun", "boring", "plot", "and", "not", "very", "x",
    ]))
}
