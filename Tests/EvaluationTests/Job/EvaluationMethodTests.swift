import Foundation
import XCTest
import BERT
import Attribution
@testable import Evaluation

final class EvaluationMethodTests: XCTestCase {
    func testNamesParseAndPrintAsTheCommandLineWritesThem() throws {
        XCTAssertEqual(EvaluationMethod(rawValue: "iba"), .iba)
        XCTAssertEqual(EvaluationMethod(rawValue: "iba@3")?.layer, 3)
        XCTAssertEqual(EvaluationMethod(rawValue: "iba@3")?.rawValue, "iba@3")
        for bad in ["ig@2", "iba@", "iba@-1", "iba@03", "iba@x", "IBA", "iba@all", ""] {
            XCTAssertNil(EvaluationMethod(rawValue: bad), bad)
        }
        XCTAssertEqual(EvaluationMethod.parseList("iba@all,ig", numLayers: 3)?.map(\.rawValue), ["iba@0", "iba@1", "iba@2", "ig"])
        XCTAssertNil(EvaluationMethod.parseList("iba,external", numLayers: 3), "external is --attributions, not a list name")
        XCTAssertNil(EvaluationMethod.parseList("iba,,ig", numLayers: 3))
        // JSON is a plain string, as the enum's was: settings fingerprints and cluster payloads keep their bytes.
        let json = try JSONEncoder().encode([EvaluationMethod.iba, EvaluationMethod(.iba, layer: 2), .external])
        XCTAssertEqual(String(decoding: json, as: UTF8.self), #"["iba","iba@2","external"]"#)
        XCTAssertEqual(try JSONDecoder().decode([EvaluationMethod].self, from: json).map(\.rawValue), ["iba", "iba@2", "external"])
        XCTAssertThrowsError(try JSONDecoder().decode([EvaluationMethod].self, from: Data(#"["iba@x"]"#.utf8)))
    }

    func settings() throws -> EvaluationSettings {
        var settings = EvaluationSettings()
        settings.dataPath = try EmbeddedData.agnewsDemoTest().path
        settings.testSample = 2
        return settings
    }

    func testALayerMethodRunsAsThatLayersSeparateRun() throws {
        let directory = try temporaryDirectory(self).appendingPathComponent("out")
        let config = BertConfig(vocabSize: 30, hiddenSize: 8, numLayers: 4, numHeads: 2, intermediateSize: 16, numLabels: 4)
        let job = try EvaluationJob(settings: settings(), model: ModelReference(path: "/nowhere"), outputDirectory: directory,
                                    modelConfig: config, methods: [EvaluationMethod(.iba, layer: 1), .random])
        XCTAssertEqual(job.settings(for: EvaluationMethod(.iba, layer: 1)).layer, 1)
        XCTAssertEqual(job.settings(for: EvaluationMethod(.iba, layer: 1)).method, .iba, "summary.json names iba and its layer")
        XCTAssertEqual(job.directory(for: EvaluationMethod(.iba, layer: 1)), directory.appendingPathComponent("iba@1"))
        var separate = try settings()
        separate.iba.layer = 1
        XCTAssertEqual(try job.settings(for: EvaluationMethod(.iba, layer: 1)).fingerprint(), try separate.fingerprint())
        // A layer the model does not have is refused before any work, naming it.
        XCTAssertThrowsError(try EvaluationJob(settings: settings(), model: ModelReference(path: "/nowhere"), outputDirectory: directory,
                                               modelConfig: config, methods: [EvaluationMethod(.iba, layer: 4)])) { error in
            XCTAssertTrue("\(error)".contains("--layer 4 is outside 0...3"), "\(error)")
        }
        // iba at --layer 1 and iba@1 are one computation under two names.
        var atOne = try settings()
        atOne.iba.layer = 1
        XCTAssertThrowsError(try EvaluationJob(settings: atOne, model: ModelReference(path: "/nowhere"), outputDirectory: directory,
                                               modelConfig: config, methods: [.iba, EvaluationMethod(.iba, layer: 1)]))
    }

    func testComparisonRowsAreNamedAsTheJobNamesItsMethods() throws {
        let directory = try temporaryDirectory(self).appendingPathComponent("out")
        let methods = [EvaluationMethod(.iba, layer: 0), EvaluationMethod(.iba, layer: 2)]
        let job = try EvaluationJob(settings: settings(), model: ModelReference(path: "/nowhere"), outputDirectory: directory,
                                    methods: methods)
        let perExample = job.plan.indices.map { index in
            methods.map { _ in
                ExampleRecord(index: index, target: job.plan.examples[index].label, tokens: ["[CLS]", "a", "[SEP]"],
                              attribution: [0, 1, 0], originalProb: 0.5, originalCorrect: true,
                              degradationProb: Array(repeating: 0.25, count: 9), degradationCorrect: Array(repeating: false, count: 9))
            }
        }
        let outcome = try job.finish(MethodRecords(methods: methods, perExample: perExample, seconds: [1, 1]), seconds: 2)
        XCTAssertEqual(outcome.summaries.map(\.method), [.iba, .iba])
        XCTAssertEqual(outcome.summaries.map(\.layer), [0, 2])
        let csv = try String(contentsOf: directory.appendingPathComponent("comparison.csv"), encoding: .utf8)
        XCTAssertTrue(csv.contains("\niba@0,") && csv.contains("\niba@2,"), csv)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        XCTAssertTrue(names.contains("iba@0") && names.contains("iba@2"), "\(names)")
    }

    func testMethodsThatExplainDifferentClassesAreWarnedAbout() throws {
        let directory = try temporaryDirectory(self)
        func job(_ variant: ProtocolVariant, _ methods: [EvaluationMethod]) throws -> EvaluationJob {
            var settings = try settings()
            settings.protocolVariant = variant
            return try EvaluationJob(settings: settings, model: ModelReference(path: "/nowhere"), outputDirectory: directory,
                                     methods: methods)
        }
        let original = try job(.original, [.iba, .ig, .lime, .random])
        XCTAssertEqual(original.explainedTargets, ["gold label", "class 0", "class 1", "gold label"])
        let warning = try XCTUnwrap(original.targetWarning)
        XCTAssertTrue(warning.contains("(iba, random: the gold label; ig: class 0; lime: class 1)"), warning)
        XCTAssertTrue(warning.contains("--protocol corrected"), warning)
        XCTAssertNil(try job(.corrected, [.iba, .ig, .lime, .random]).targetWarning)
        XCTAssertNil(try job(.original, [.iba, .random]).targetWarning, "both explain the gold label")
        XCTAssertNil(try job(.original, [.ig]).targetWarning, "one method compares with nothing")
    }
}
