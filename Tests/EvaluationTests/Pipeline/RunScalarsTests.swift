import Foundation
import XCTest
@testable import Evaluation

/// The numbers a run keeps per example (`RunScalars`) give exactly what the whole records give: the summaries,
/// the comparison and pairs files, the report's examples and the progress file, bit for bit.
final class RunScalarsTests: XCTestCase {
    func job(_ directory: URL, steps: Int = 5) throws -> EvaluationJob {
        var settings = EvaluationSettings()
        settings.dataPath = try EmbeddedData.agnewsDemoTest().path
        settings.testSample = 40
        settings.degradationSteps = steps
        settings.aopc = false  // the records below leave one AOPC value out
        return try EvaluationJob(settings: settings, model: ModelReference(path: "/nowhere"),
            outputDirectory: directory,
                                 methods: [.iba, .random])
    }

    /// Varied records: values whose Double sums depend on their order, a failed example, missing AOPC values.
    func records(_ job: EvaluationJob, method m: Int) -> [ExampleRecord] {
        var generator = SplitMix(seed: UInt64(17 + m))
        return job.plan.indices.enumerated().map { p, index in
            if p == 7 { return .failure(index: index, target: job.plan.examples.label(index), reason: "too long \(m)") }
            let steps = job.settings.degradationSteps - 1
            // Magnitudes from 1 down to 2^-89: their Double sums round, so only the records' order gives their sum.
            let scale = Float(pow(2.0, -Double((p * 37) % 90)))
            return ExampleRecord(index: index, target: job.plan.examples.label(index), tokens: ["[CLS]", "x", "[SEP]"],
                                 attribution: [0, 1, 0], originalProb: generator.float() * scale,
                                 originalCorrect: generator.float() < 0.6,
                                 degradationProb: (0..<steps).map { _ in generator.float() * scale },
                                 degradationCorrect: (0..<steps).map { _ in generator.float() < 0.5 },
                                 aopcComprehensiveness: p == 3 ? nil : generator.float() * scale + 0.1,
                                 aopcSufficiency: generator.float() * scale)
        }
    }

    func testSummariesComparisonAndReportChoiceEqualTheRecordsOnes() throws {
        let job = try job(try temporaryDirectory(self))
        let run = MethodRecords(methods: job.methods, records: [records(job, method: 0), records(job, method: 1)],
                                seconds: [1.5, 2.5])
        let finished = job.finishedRecords(run)
        var summaries = [Summary]()
        for (m, method) in job.methods.enumerated() {
            let fromRecords = try job.summary(of: method, records: run.records[m], seconds: 3)
            XCTAssertEqual(try job.summary(of: method, m, finished, seconds: 3), fromRecords, "\(method)")
            summaries.append(fromRecords)
        }
        let steps = summaries.map(\.degradationProb.count).max() ?? 0
        let (comparison, pairs) = try compareMethods(summaries: summaries, records: run.records,
            secondsPerExample: [1, 2],
                                                     seed: 5, resamples: 200)
        let values = job.methods.indices.map { exampleValues(finished.scalars, method: $0, steps: steps) }
        let (fromScalars, pairsFromScalars) = try compareMethods(summaries: summaries, values: values,
                                                                 count: run.records[0].count, secondsPerExample: [1, 2],
                                                                 seed: 5, resamples: 200)
        XCTAssertEqual(fromScalars.files.map(\.data), comparison.files.map(\.data))
        XCTAssertEqual(pairsFromScalars.files.map(\.data), pairs.files.map(\.data))

        let picked = examplesForReport(run.records[0])
        let scalars = finished.scalars
        let positions = reportPositions(count: scalars.positions, steps: scalars.steps[0],
                                        failed: { scalars.isFailed(method: 0, position: $0) },
                                        drop: { scalars.originalProbability(method: 0, position: $0)
                                                - scalars.stepProbability(method: 0, position: $0, step: 0) })
        XCTAssertEqual(positions.most.map { run.records[0][$0] }, picked.mostDropped)
        XCTAssertEqual(positions.least.map { run.records[0][$0] }, picked.leastDropped)
    }

    /// A run finished from the numbers and its store writes the same files as one finished from whole records.
    func testFinishingFromTheStoreWritesWhatTheRecordsWrite() throws {
        let directory = try temporaryDirectory(self)
        let fromRecords = try job(directory.appendingPathComponent("records"))
        let fromStore = try job(directory.appendingPathComponent("store"))
        let run = MethodRecords(methods: fromRecords.methods,
                                records: [records(fromRecords, method: 0), records(fromRecords,
                                    method: 1)], seconds: [0, 0])
        try fromRecords.finish(run, seconds: 1)
        let store = MemoryResultStore()
        _ = try store.open()
        let intake = ResultIntake(job: fromStore, observer: RunObserver(), start: Date())
        for (p, index) in fromStore.plan.indices.enumerated().reversed() {  // any arrival order
            let result = ExampleResult(records: [run.records[0][p], run.records[1][p]], seconds: [0, 0])
            try store.append(index: index, attempt: 1, payload: try result.encoded(), by: [])
            intake.accept(result, index: index)
        }
        try store.commit()
        try fromStore.finish(intake.finishedRecords(failures: [:], store: store), seconds: 1)
        for name in ["iba/results.jsonl", "iba/summary.json", "random/results.jsonl",
            "random/degrad_prob_random_agnews.npy",
                     "comparison.csv", "pairs.csv", "report.html"] {
            let a = try Data(contentsOf: fromRecords.outputDirectory.appendingPathComponent(name))
            let b = try Data(contentsOf: fromStore.outputDirectory.appendingPathComponent(name))
            XCTAssertEqual(a, b, name)
        }
    }

    func testPositionsAreFoundByIndex() {
        let index = PositionIndex([40, 3, 17, 0, 99])
        XCTAssertEqual([40, 3, 17, 0, 99].map { index.position(of: $0) }, [0, 1, 2, 3, 4])
        XCTAssertNil(index.position(of: 4))
        XCTAssertNil(index.position(of: -1))
        XCTAssertNil(index.position(of: 100))
    }
}

/// A small deterministic generator for test values.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func float() -> Float { Float(next() >> 40) / Float(1 << 24) }
}
