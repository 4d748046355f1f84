import Foundation
import TestSupport
import XCTest
import Kernels
@testable import BERT

/// Forward pass against the PyTorch reference (shared/reference/models/tiny.json and the MiniLM AG News model).
final class ReferenceForwardTests: XCTestCase {
    struct Case { let ids: [Int]; let types: [Int]; let logits: [Double]; let fp16Logits: [Double]; let hidden: [[[Double]]] }

    func tinyCases() throws -> [Case] {
        guard let root = try Shared.json("reference/models/tiny.json") as? [String: Any],
              let cases = root["cases"] as? [[String: Any]] else { XCTFail("tiny.json unreadable"); return [] }
        return cases.compactMap { c in
            guard let ids = c["input_ids"] as? [Int], let types = c["token_type_ids"] as? [Int],
                  let logits = c["logits"] as? [Double], let fp16 = c["logits_fp16_weights"] as? [Double],
                  let hidden = c["hidden_states"] as? [[[Double]]] else { return nil }
            return Case(ids: ids, types: types, logits: logits, fp16Logits: fp16, hidden: hidden)
        }
    }

    func load(_ relative: String, config: String? = nil, vocab: String? = "reference/models/tiny-bin/vocab.txt") throws -> BertModel {
        var location = ModelLocation(path: try Shared.url(relative))
        if let config { location.config = try Shared.url(config) }
        if let vocab { location.vocab = try Shared.url(vocab) }
        return try ModelLoader.load(location)
    }

    /// Logits within `logitTolerance` and (optionally) every hidden state within 1e-4, one case at a time.
    func check(_ model: BertModel, against cases: [Case], fp16: Bool = false, logitTolerance: Double, checkHidden: Bool, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(cases.count, 40, file: file, line: line)
        var worstLogit = 0.0, worstHidden = 0.0
        let tape = ForwardTape(config: model.config, context: ComputeContext())
        for (i, c) in cases.enumerated() {
            try model.forward([ModelInput(ids: c.ids, types: c.types)], tape: tape)
            let d = maxAbsDifference(tape.logits(of: 0), fp16 ? c.fp16Logits : c.logits)
            worstLogit = max(worstLogit, d)
            XCTAssertLessThanOrEqual(d, logitTolerance, "case \(i): logits \(tape.logits(of: 0)) vs \(fp16 ? c.fp16Logits : c.logits)", file: file, line: line)
            if checkHidden {
                for (layer, expected) in c.hidden.enumerated() {
                    let got = Array(UnsafeBufferPointer(start: tape.hiddenState(enteringLayer: layer), count: c.ids.count * model.config.hiddenSize))
                    let dh = maxAbsDifference(got, expected.flatMap { $0 })
                    worstHidden = max(worstHidden, dh)
                    XCTAssertLessThanOrEqual(dh, 1e-4, "case \(i) hidden state \(layer)", file: file, line: line)
                }
            }
        }
        print("reference forward: worst logit difference \(worstLogit), worst hidden-state difference \(worstHidden)")
    }

    func testEveryFloat32FormatMatchesTinyReference() throws {
        let cases = try tinyCases()
        for path in ["reference/models/tiny-safetensors", "reference/models/tiny-bin"] {
            try check(try load(path, vocab: nil), against: cases, logitTolerance: 1e-5, checkHidden: true)
        }
        for path in ["reference/models/tiny-zip.model", "reference/models/tiny-legacy.model", "reference/models/tiny-gamma-beta.bin"] {
            // No config beside these: once with the config, once inferred from shapes (head size 64 would be wrong: 32/4 = 8).
            try check(try load(path, config: "reference/models/tiny-config.json"), against: cases, logitTolerance: 1e-5, checkHidden: true)
        }
    }

    func testHalfPrecisionFiles() throws {
        let cases = try tinyCases()
        try check(try load("reference/models/tiny-fp16.safetensors", config: "reference/models/tiny-config.json"),
                  against: cases, fp16: true, logitTolerance: 1e-5, checkHidden: false)
        try check(try load("reference/models/tiny-bf16.safetensors", config: "reference/models/tiny-config.json"),
                  against: cases, logitTolerance: 2e-2, checkHidden: false)
    }

    func testInferredArchitectureNeedsHeadSize() throws {
        var location = ModelLocation(path: try Shared.url("reference/models/tiny-legacy.model"), vocab: try Shared.url("reference/models/tiny-bin/vocab.txt"))
        // 32 hidden units are not a multiple of the default head size 64: a clear error.
        XCTAssertThrowsError(try ModelLoader.load(location)) { error in
            XCTAssertTrue("\(error)".contains("--config"), "\(error)")
        }
        location.headSize = 8
        let model = try ModelLoader.load(location)
        XCTAssertEqual(model.config.numHeads, 4)
        XCTAssertEqual(model.config.numLabels, 3)
        try check(model, against: try tinyCases(), logitTolerance: 1e-5, checkHidden: false)
    }

    func testEncoderOnlyCheckpointInitialisesClassifier() throws {
        var location = ModelLocation(path: try Shared.url("reference/models/tiny-encoder-only"), numLabels: 5)
        location.vocab = try Shared.url("reference/models/tiny-encoder-only/vocab.txt")
        let model = try ModelLoader.load(location)
        XCTAssertEqual(model.config.numLabels, 5)
        XCTAssertTrue(model.loadReport.initialised.contains("classifier.weight"))
        XCTAssertFalse(model.loadReport.warnings.isEmpty)
        // Hidden states do not depend on the head: they still match the reference encoder.
        let cases = try tinyCases()
        let tape = ForwardTape(config: model.config, context: ComputeContext())
        try model.forward([ModelInput(ids: cases[0].ids, types: cases[0].types)], tape: tape)
        let got = Array(UnsafeBufferPointer(start: tape.hiddenState(enteringLayer: 2), count: cases[0].ids.count * 32))
        XCTAssertLessThanOrEqual(maxAbsDifference(got, cases[0].hidden[2].flatMap { $0 }), 1e-4)
    }

    /// A batch of different lengths gives each input's logits alone.
    func testBatchEqualsSingles() throws {
        let model = try load("reference/models/tiny-safetensors", vocab: nil)
        let cases = Array(try tinyCases().prefix(12))
        let inputs = cases.map { ModelInput(ids: $0.ids, types: $0.types) }
        let batched = try model.logits(inputs, context: ComputeContext())
        for (i, input) in inputs.enumerated() {
            let single = try model.logits([input], context: ComputeContext())[0]
            XCTAssertLessThanOrEqual(maxAbsDifference(batched[i], single.map(Double.init)), 1e-5)
        }
    }

    func testMiniLMAGNewsLogits() throws {
        let model = try load("models/minilm-agnews", vocab: nil)
        guard let root = try Shared.json("reference/iba-agnews-layer3.json") as? [String: Any],
              let examples = root["examples"] as? [[String: Any]] else { return XCTFail("reference unreadable") }
        var worst = 0.0
        for e in examples {
            guard let ids = e["ids"] as? [Int], let logits = e["logits"] as? [Double] else { return XCTFail("example fields") }
            let got = try model.logits([ModelInput(ids: ids, types: [Int](repeating: 0, count: ids.count))], context: ComputeContext())[0]
            worst = max(worst, maxAbsDifference(got, logits))
        }
        XCTAssertLessThanOrEqual(worst, 1e-3)
        print("MiniLM AG News: worst logit difference \(worst) over \(examples.count) examples")
    }
}
