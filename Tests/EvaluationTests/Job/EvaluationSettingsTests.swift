import Foundation
import XCTest
import Attribution
import BERT
@testable import Evaluation

final class EvaluationSettingsTests: XCTestCase {
    func tinyConfig(layers: Int) -> BertConfig {
        BertConfig(vocabSize: 10, hiddenSize: 8, numLayers: layers, numHeads: 2, intermediateSize: 16,
                   maxPositions: 512, typeVocabSize: 2, layerNormEps: 1e-12, numLabels: 2)
    }

    /// Each setting that would make every example fail (or run without end) is refused, naming its flag.
    func testValidateRefusesSettingsThatFailEveryExample() throws {
        XCTAssertNoThrow(try EvaluationSettings().validate())
        let cases: [(String, (inout EvaluationSettings) -> Void)] = [
            ("--degrad-steps", { $0.degradationSteps = 0 }), ("--degrad-steps", { $0.degradationSteps = 1 }),
            ("--degrad-steps", { $0.degradationSteps = 100_000 }), ("--batch", { $0.iba.batchSize = 0 }),
            ("--train-steps", { $0.iba.steps = 0 }), ("--lr", { $0.iba.learningRate = .nan }),
            ("--lr", { $0.iba.learningRate = 0 }), ("--beta", { $0.iba.beta = .nan }),
            ("--max-length", { $0.maxLength = 0 }), ("--max-length", { $0.maxLength = 2 }),
            ("--test-sample", { $0.testSample = 0 }), ("--attributions", { $0.method = .external }),
        ]
        for (flag, change) in cases {
            var settings = EvaluationSettings()
            change(&settings)
            XCTAssertThrowsError(try settings.validate(), flag) { error in
                XCTAssertTrue("\(error)".contains(flag), "\(flag): \(error)")
            }
        }
        // IBA's options do not matter to the other methods; the layer is checked against the model.
        var random = EvaluationSettings()
        random.method = .random
        random.iba.steps = 0
        XCTAssertNoThrow(try random.validate())
        var layer = EvaluationSettings()
        layer.layer = 4
        XCTAssertNoThrow(try layer.validate(model: tinyConfig(layers: 5)))
        XCTAssertThrowsError(try layer.validate(model: tinyConfig(layers: 4))) { XCTAssertTrue("\($0)".contains("--layer 4"), "\($0)") }
    }

    /// The settings travel as JSON (enums by their command-line spellings) and come back equal; the
    /// fingerprint is a hash of that encoding, so any change to a setting changes it.
    func testEncodingRoundTripsAndFingerprintFollowsEverySetting() throws {
        var settings = EvaluationSettings()
        settings.method = .lime
        settings.dataset = .mnli
        settings.protocolVariant = .corrected
        settings.iba.precision = .bfloat16Backward
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: settings.encoded()) as? [String: Any])
        XCTAssertEqual(json["method"] as? String, "lime")
        XCTAssertEqual(json["dataset"] as? String, "mnli")
        XCTAssertEqual(json["protocolVariant"] as? String, "corrected")
        XCTAssertEqual((json["iba"] as? [String: Any])?["precision"] as? String, "bfloat16-backward")
        XCTAssertEqual(try JSONDecoder().decode(EvaluationSettings.self, from: settings.encoded()), settings)

        let base = try EvaluationSettings().fingerprint()
        XCTAssertEqual(base, try EvaluationSettings().fingerprint())
        let statistics = try JSONDecoder().decode(EstimatorStatistics.self, from: Data(#"{"layer":8,"samples":1,"tokens":1,"mean":[0],"std":[1]}"#.utf8))
        let changes: [(inout EvaluationSettings) -> Void] = [
            { $0.seed = 1 }, { $0.iba.beta = 2e-5 }, { $0.layer = 3 }, { $0.method = .ig }, { $0.maxLength = 128 },
            { $0.iba.estimator = .dataset(statistics) },
        ]
        var seen = Set([base])
        for change in changes {
            var settings = EvaluationSettings()
            change(&settings)
            seen.insert(try settings.fingerprint())
        }
        XCTAssertEqual(seen.count, changes.count + 1, "every change gives another fingerprint")
    }

    /// summary.json's options keep the spellings they had when the settings were strings.
    func testSummaryOptionsKeepTheirSpellings() {
        var settings = EvaluationSettings()
        settings.dataPath = "d.csv"
        settings.protocolVariant = .corrected
        settings.iba.steps = 7
        let options = settings.summaryOptions
        XCTAssertEqual(options["protocol"], "corrected")
        XCTAssertEqual(options["train_steps"], "7")
        XCTAssertEqual(options["layer"], "8")
        XCTAssertNil(options["precision"], "float32 is not written")
        settings.iba.precision = .bfloat16Backward
        XCTAssertEqual(settings.summaryOptions["precision"], "bfloat16-backward")
    }

    /// The settings in words for a results log's header: every leaf under its key path, a long array as a
    /// hash; the strings differ exactly where the settings do.
    func testDescribedNamesEverySettingAndHashesLongArrays() throws {
        var settings = EvaluationSettings()
        settings.dataPath = "../shared/data/mnli/dev.tsv"
        settings.iba.layer = 3
        let described = try settings.described()
        XCTAssertEqual(described["dataPath"], "\"../shared/data/mnli/dev.tsv\"", "paths as written, unescaped slashes")
        XCTAssertEqual(described["iba.layer"], "3")
        XCTAssertEqual(described["seed"], "0")
        XCTAssertEqual(described["aopc"], "true")
        XCTAssertNil(described["testSample"], "an unset optional is absent, like in the encoding")

        var other = settings
        other.seed = 7
        let statistics = try JSONSerialization.data(withJSONObject: ["layer": 3, "samples": 2, "tokens": 9,
                                                                     "mean": [Float](repeating: 0.5, count: 384), "std": [Float](repeating: 1, count: 384)])
        other.iba.estimator = .dataset(try JSONDecoder().decode(EstimatorStatistics.self, from: statistics))
        let changed = try other.described()
        let keys = Set(described.keys).union(changed.keys).filter { described[$0] != changed[$0] }
        XCTAssertTrue(keys.contains("seed"), "\(keys)")
        XCTAssertTrue(keys.allSatisfy { $0 == "seed" || $0.hasPrefix("iba.estimator") }, "\(keys)")
        let hashed = changed.filter { $0.key.hasPrefix("iba.estimator") && $0.value.hasPrefix("sha256:") }
        XCTAssertEqual(hashed.count, 2, "mean and std as hashes: \(changed.filter { $0.key.hasPrefix("iba.estimator") })")
    }
}
