import Foundation
import XCTest
@testable import Evaluation

/// How a result made elsewhere (a worker, an earlier run) becomes an example's records: decoded once,
/// checked against the example and each method's settings, refused with the reason when unusable.
final class ExampleResultTests: XCTestCase {
    func job(methods: [EvaluationMethod]) throws -> EvaluationJob {
        var settings = EvaluationSettings()
        settings.dataPath = try EmbeddedData.agnewsDemoTest().path
        settings.testSample = 2
        settings.aopc = false
        return try EvaluationJob(settings: settings, model: ModelReference(path: "/nowhere"),
                                 outputDirectory: FileManager.default.temporaryDirectory, methods: methods)
    }

    func record(_ job: EvaluationJob, _ index: Int, steps: Int = 9) -> ExampleRecord {
        ExampleRecord(index: index, target: job.plan.examples.label(index), tokens: ["[CLS]", "a", "[SEP]"],
                      attribution: [0, 1, 0], originalProb: 0.5, originalCorrect: true,
                      degradationProb: Array(repeating: 0.25, count: steps),
                      degradationCorrect: Array(repeating: false, count: steps))
    }

    func encoded<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(value)
    }

    func rejection(_ data: Data, _ index: Int, _ job: EvaluationJob, legacy: Bool = false) -> String? {
        switch ExampleResult.decodeValidated(data, index: index, job: job, legacy: legacy) {
        case .failure(let rejection): return rejection.reason
        case .success: return nil
        }
    }

    func testOneMethodResultIsDecodedAndChecked() throws {
        let job = try job(methods: [.iba])
        let first = job.plan.indices[0]
        let good = ExampleResult(records: [record(job, first)], seconds: [0.5])
        XCTAssertEqual(try ExampleResult.decodeValidated(try good.encoded(), index: first, job: job).get(), good)
        let badSteps = try ExampleResult(records: [record(job, first, steps: 3)], seconds: [0.5]).encoded()
        XCTAssertTrue(rejection(badSteps, first, job)?.contains("steps") == true)
        XCTAssertNotNil(rejection(Data("{\"index\": 1}".utf8), first, job))
        XCTAssertEqual(rejection(try good.encoded(), 999_999, job), "example 999999 is not in the dataset")
        XCTAssertEqual(rejection(Data("[1]".utf8), first, job), "the result is not UTF-8 JSON")
    }

    func testABareRecordIsOnlyReadFromOlderLogs() throws {
        let job = try job(methods: [.iba])
        let first = job.plan.indices[0]
        let bare = try encoded(record(job, first))
        XCTAssertEqual(rejection(bare, first, job), "not one record and one time per method",
                       "one wire format from workers")
        let legacy = try ExampleResult.decodeValidated(bare, index: first, job: job, legacy: true).get()
        XCTAssertEqual(legacy.records, [record(job, first)])
        let several = try self.job(methods: [.iba, .random])
        XCTAssertNotNil(rejection(bare, first, several, legacy: true),
                        "older logs of several methods held lists already")
    }

    func testSeveralMethodsNeedOneRecordAndOneTimeEach() throws {
        let job = try job(methods: [.iba, .random])
        let first = job.plan.indices[0]
        let good = ExampleResult(records: [record(job, first), record(job, first)], seconds: [2, 0.5])
        XCTAssertNil(rejection(try good.encoded(), first, job))
        let short = ExampleResult(records: [record(job, first)], seconds: [1])
        XCTAssertEqual(rejection(try short.encoded(), first, job), "not one record and one time per method")
        let negative = ExampleResult(records: good.records, seconds: [2, -1])
        XCTAssertEqual(rejection(try negative.encoded(), first, job), "not one record and one time per method")
        let wrong = ExampleResult(records: [record(job, first), record(job, first, steps: 2)], seconds: [1, 1])
        XCTAssertTrue(rejection(try wrong.encoded(), first, job)?.hasPrefix("invalid random record") == true)
    }

    func testVerificationComparesRecordsNotTimes() throws {
        let job = try job(methods: [.iba])
        let first = job.plan.indices[0]
        let a = try ExampleResult(records: [record(job, first)], seconds: [1]).encoded()
        let b = try ExampleResult(records: [record(job, first)], seconds: [2]).encoded()
        var other = record(job, first)
        other.originalProb = 0.75
        XCTAssertTrue(ExampleResult.sameRecords(a, b))
        XCTAssertFalse(ExampleResult.sameRecords(a, try ExampleResult(records: [other], seconds: [1]).encoded()))
        XCTAssertFalse(ExampleResult.sameRecords(a, Data("garbage".utf8)))
    }
}
