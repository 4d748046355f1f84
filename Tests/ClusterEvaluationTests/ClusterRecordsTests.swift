import Foundation
import XCTest
import Cluster
@testable import ClusterEvaluation
@testable import Evaluation

/// How the coordinator turns worker results into records: decoded, checked against the example and the
/// run, and a failure (never a "done" example) when unusable.
final class ClusterRecordsTests: XCTestCase {
    func job(methods: [EvaluationMethod]) throws -> EvaluationJob {
        var settings = EvaluationSettings()
        settings.dataPath = try EmbeddedData.agnewsDemoTest().path
        settings.testSample = 2
        settings.aopc = false
        return try EvaluationJob(settings: settings, model: ModelReference(path: "/nowhere"),
                                 outputDirectory: FileManager.default.temporaryDirectory, methods: methods)
    }

    func record(_ job: EvaluationJob, _ index: Int, steps: Int = 9) -> ExampleRecord {
        ExampleRecord(index: index, target: job.plan.examples[index].label, tokens: ["[CLS]", "a", "[SEP]"], attribution: [0, 1, 0],
                      originalProb: 0.5, originalCorrect: true, degradationProb: Array(repeating: 0.25, count: steps),
                      degradationCorrect: Array(repeating: false, count: steps))
    }

    func encoded<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(value)
    }

    func testOneMethodResultsAreDecodedAndCheckedEach() throws {
        let job = try job(methods: [.iba])
        let (first, second) = (job.plan.indices[0], job.plan.indices[1])
        let results: [Int: WorkResult] = [first: .done(try encoded(record(job, first))), second: .done(try encoded(record(job, second, steps: 3)))]
        let run = records(from: results, job: job)
        XCTAssertEqual(run.records.count, 1)
        XCTAssertEqual(run.records[0][0], record(job, first))
        let rejected = try XCTUnwrap(run.records[0][1].failed)
        XCTAssertTrue(rejected.contains("unusable record") && rejected.contains("steps"), rejected)
        XCTAssertNil(resultValidationError(try encoded(record(job, first)), index: first, job: job))
        XCTAssertNotNil(resultValidationError(Data("{\"index\": 1}".utf8), index: first, job: job))
        XCTAssertNotNil(resultValidationError(try encoded(record(job, first)), index: 999_999, job: job), "an index outside the dataset")
    }

    func testSeveralMethodsGiveOneRecordEachAndTheirSeconds() throws {
        let job = try job(methods: [.iba, .random])
        let (first, second) = (job.plan.indices[0], job.plan.indices[1])
        let good = MethodsResult(records: [record(job, first), record(job, first)], seconds: [2, 0.5])
        let short = MethodsResult(records: [record(job, second)], seconds: [1])
        let run = records(from: [first: .done(try encoded(good)), second: .done(try encoded(short))], job: job)
        XCTAssertEqual(run.records.map { $0[0] }, [record(job, first), record(job, first)])
        XCTAssertEqual(run.seconds, [2, 0.5])
        XCTAssertTrue(run.records.allSatisfy { $0[1].failed?.contains("one record and one time per method") == true })
        // A bare record where a list is expected, and a missing result: failures for every method.
        let bare = records(from: [first: .done(try encoded(record(job, first)))], job: job)
        XCTAssertTrue(bare.records.allSatisfy { $0.allSatisfy { $0.failed != nil } })
    }
}
