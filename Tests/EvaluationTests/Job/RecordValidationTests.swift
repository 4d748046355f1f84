import Foundation
import XCTest
@testable import Evaluation

/// The check a coordinator applies to each record a worker sends (issue 12, item 2).
final class RecordValidationTests: XCTestCase {
    let example = LabeledExample(text: "oil prices rise", label: 2)

    func settings() -> EvaluationSettings {
        var settings = EvaluationSettings()
        settings.degradationSteps = 4
        settings.maxLength = 8
        return settings
    }

    func validRecord() -> ExampleRecord {
        ExampleRecord(index: 7, target: 2, tokens: ["[CLS]", "oil", "prices", "rise", "[SEP]"], attribution: [0, 1, 0.5, 0.25, 0],
                      originalProb: 0.75, originalCorrect: true, degradationProb: [0.5, 0.25, 0.125], degradationCorrect: [true, false, false],
                      aopcComprehensiveness: 0.25, aopcSufficiency: 0.5)
    }

    func testAValidRecordAndAFailedOnePass() {
        XCTAssertNil(validRecord().validationError(expectedIndex: 7, example: example, settings: settings()))
        let failed = ExampleRecord.failure(index: 7, target: 2, reason: "IBA diverged")
        XCTAssertNil(failed.validationError(expectedIndex: 7, example: example, settings: settings()))
    }

    func testEachInconsistencyIsNamed() {
        let cases: [(String, (inout ExampleRecord) -> Void)] = [
            ("expected 7", { $0.index = 8 }),
            ("label", { $0.target = 1 }),
            ("steps", { $0.degradationProb.removeLast(); $0.degradationCorrect.removeLast() }),
            ("steps", { $0.degradationCorrect.append(true) }),
            ("attribution values", { $0.attribution.removeLast() }),
            ("tokens", { $0.tokens = Array(repeating: "x", count: 9); $0.attribution = Array(repeating: 0, count: 9) }),
            ("non-finite attribution", { $0.attribution[1] = .nan }),
            ("non-finite probability", { $0.degradationProb[0] = .infinity }),
            ("non-finite probability", { $0.aopcSufficiency = .nan }),
            ("outside 0...1", { $0.originalProb = 3 }),
            ("AOPC", { $0.aopcComprehensiveness = nil }),
            ("without a reason", { $0.failed = "" }),
        ]
        for (expected, corrupt) in cases {
            var record = validRecord()
            corrupt(&record)
            let problem = record.validationError(expectedIndex: 7, example: example, settings: settings())
            XCTAssertTrue(problem?.contains(expected) == true, "\(expected): \(problem ?? "accepted")")
        }
    }

    func testDecodingRefusesWhatIsNotUTF8JSONOrNotValid() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(validRecord())
        XCTAssertEqual(try ExampleRecord.decodeValidated(data, expectedIndex: 7, example: example, settings: settings()).get(), validRecord())
        let utf16 = try XCTUnwrap(String(decoding: data, as: UTF8.self).data(using: .utf16LittleEndian))
        for (label, bytes) in [("UTF-16", utf16), ("garbage", Data([0xff, 0xfe, 0x00])), ("truncated", data.prefix(20))] {
            guard case .failure = ExampleRecord.decodeValidated(bytes, expectedIndex: 7, example: example, settings: settings()) else {
                return XCTFail("\(label) accepted")
            }
        }
        guard case .failure(let rejection) = ExampleRecord.decodeValidated(data, expectedIndex: 8, example: example, settings: settings()) else {
            return XCTFail("a record for another example accepted")
        }
        XCTAssertTrue(rejection.reason.contains("invalid record"), rejection.reason)
    }

    func testFailuresAboveTheAllowanceAreAnErrorListingThem() throws {
        let records = [validRecord(), .failure(index: 3, target: 0, reason: "no entry"), .failure(index: 5, target: 1, reason: "diverged")]
        XCTAssertNoThrow(try checkFailures(records, allowed: 2))
        XCTAssertThrowsError(try checkFailures(records, allowed: 1)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("2 of 3") && text.contains("example 3: no entry") && text.contains("example 5: diverged"), text)
        }
        XCTAssertNoThrow(try checkFailures([validRecord()], allowed: 0))
    }
}
