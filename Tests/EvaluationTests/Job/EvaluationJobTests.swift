import Foundation
import XCTest
@testable import Evaluation

final class EvaluationJobTests: XCTestCase {
    func job(in directory: URL, configure: (inout EvaluationSettings) -> Void = { _ in }) throws -> EvaluationJob {
        var settings = EvaluationSettings()
        settings.dataPath = try EmbeddedData.agnewsDemoTest().path
        settings.testSample = 3
        configure(&settings)
        return try EvaluationJob(settings: settings, model: ModelReference(path: "/nowhere"), outputDirectory: directory.appendingPathComponent("out"))
    }

    /// Records made up for the job's examples (no model needed): what `finish` writes them to.
    func records(_ job: EvaluationJob) -> [ExampleRecord] {
        job.plan.indices.map { index in
            ExampleRecord(index: index, target: job.plan.examples[index].label, tokens: ["[CLS]", "a", "[SEP]"], attribution: [0, 1, 0],
                          originalProb: 0.5, originalCorrect: true, degradationProb: Array(repeating: 0.25, count: 9),
                          degradationCorrect: Array(repeating: false, count: 9), aopcComprehensiveness: 0.25, aopcSufficiency: 0.5)
        }
    }

    func testFinishWritesEveryOutputInOnePlace() throws {
        let job = try job(in: try temporaryDirectory(self))
        try FileManager.default.createDirectory(at: job.outputDirectory, withIntermediateDirectories: true)
        let summary = try job.finish(MethodRecords(methods: job.methods, records: [records(job)], seconds: [0]), seconds: 1).summaries[0]
        XCTAssertEqual(summary.n, 3)
        XCTAssertEqual(summary.layer, 8)
        let names = try FileManager.default.contentsOfDirectory(atPath: job.outputDirectory.path).sorted()
        XCTAssertEqual(names, ["degrad_prob_iba_agnews.npy", "degradation.svg", "degrade_acc_iba_agnews.npy", "original_acc_iba_agnews.npy",
                               "original_prob_iba_agnews.npy", "report.html", "results.jsonl", "summary.json"])
        XCTAssertTrue(try String(contentsOf: job.outputDirectory.appendingPathComponent("degradation.svg"), encoding: .utf8).contains("<svg"))
        let report = try String(contentsOf: job.outputDirectory.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertTrue(report.contains("<html"))
        XCTAssertFalse(report.contains("id=\"pairs\""), "one method: no paired comparison")
    }

    func testInvalidSettingsAreRefusedBeforeTheDatasetIsRead() throws {
        let directory = try temporaryDirectory(self)
        XCTAssertThrowsError(try job(in: directory) { $0.degradationSteps = 1; $0.dataPath = "/missing.csv" }) { error in
            XCTAssertTrue("\(error)".contains("--degrad-steps"), "\(error)")
        }
    }

    /// A write that fails part-way (here: the results' temporary name is taken by a directory) leaves the
    /// previous outputs as they were and no temporary files.
    func testAFailedWriteLeavesNoPartialOutputs() throws {
        let directory = try temporaryDirectory(self)
        let files = [OutputFile(name: "summary.json", data: Data("new".utf8)), OutputFile(name: "results.jsonl", data: Data("new".utf8))]
        try Data("old".utf8).write(to: directory.appendingPathComponent("summary.json"))
        let blocker = directory.appendingPathComponent(".results.jsonl.partial-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: blocker, withIntermediateDirectories: true)
        XCTAssertThrowsError(try writeOutputFiles(files, into: directory))
        XCTAssertEqual(try String(contentsOf: directory.appendingPathComponent("summary.json"), encoding: .utf8), "old")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        XCTAssertEqual(names, [blocker.lastPathComponent, "summary.json"], "no other temporary file left")
        try FileManager.default.removeItem(at: blocker)
        try writeOutputFiles(files, into: directory)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted(), ["results.jsonl", "summary.json"])
        XCTAssertEqual(try String(contentsOf: directory.appendingPathComponent("results.jsonl"), encoding: .utf8), "new")
    }
}

final class OutputDirectoryLockTests: XCTestCase {
    func testCreatesTheDirectoryAndRefusesAFileInTheWay() throws {
        let directory = try temporaryDirectory(self)
        let nested = directory.appendingPathComponent("a/b")
        let lock = try OutputDirectoryLock(nested)
        XCTAssertTrue(FileManager.default.fileExists(atPath: nested.path))
        withExtendedLifetime(lock) {}
        let file = directory.appendingPathComponent("file")
        try Data("x".utf8).write(to: file)
        XCTAssertThrowsError(try OutputDirectoryLock(file)) { XCTAssertTrue("\($0)".contains("not a directory"), "\($0)") }
    }

    /// Two runs cannot hold one directory; the lock is free again once its holder is gone.
    func testOneRunPerDirectory() throws {
        let directory = try temporaryDirectory(self).appendingPathComponent("out")
        var first: OutputDirectoryLock? = try OutputDirectoryLock(directory)
        XCTAssertThrowsError(try OutputDirectoryLock(directory)) { error in
            guard case EvaluationError.outputInUse = error else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("pid \(ProcessInfo.processInfo.processIdentifier)"), "\(error)")
        }
        withExtendedLifetime(first) {}
        first = nil
        XCTAssertNoThrow(try OutputDirectoryLock(directory))
    }
}

final class EvaluationJobMethodsTests: XCTestCase {
    func settings() throws -> EvaluationSettings {
        var settings = EvaluationSettings()
        settings.dataPath = try EmbeddedData.agnewsDemoTest().path
        settings.testSample = 2
        return settings
    }

    func testSeveralMethodsWriteOneDirectoryEachAndTheComparison() throws {
        let directory = try temporaryDirectory(self).appendingPathComponent("out")
        let job = try EvaluationJob(settings: settings(), model: ModelReference(path: "/nowhere"), outputDirectory: directory,
                                    methods: [.iba, .random])
        XCTAssertEqual(job.settings.method, .iba)
        XCTAssertEqual(job.directory(for: .random), directory.appendingPathComponent("random"))
        let perExample = job.plan.indices.map { index in
            [0.75, 0.25].map { p in
                ExampleRecord(index: index, target: job.plan.examples[index].label, tokens: ["[CLS]", "a", "[SEP]"], attribution: [0, 1, 0],
                              originalProb: 0.5, originalCorrect: true, degradationProb: Array(repeating: Float(p), count: 9),
                              degradationCorrect: Array(repeating: p > 0.5, count: 9))
            }
        }
        let outcome = try job.finish(MethodRecords(methods: job.methods, perExample: perExample, seconds: [4, 1]), seconds: 10)
        XCTAssertEqual(outcome.summaries.map(\.method), [.iba, .random])
        XCTAssertEqual(outcome.summaries.map(\.seconds), [4, 1], "each method's own compute time")
        let top = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        XCTAssertEqual(top, ["comparison.csv", "comparison.md", "comparison.svg", "iba", "pairs.csv", "pairs.md",
                             "random", "report.html"])
        let csv = try String(contentsOf: directory.appendingPathComponent("comparison.csv"), encoding: .utf8).split(separator: "\n")
        XCTAssertTrue(csv[1].hasPrefix("iba,gold label,2,0.5000,1.0000,0.7500"), String(csv[1]))
        XCTAssertTrue(csv[2].hasPrefix("random,gold label,2,0.5000,1.0000,0.2500"), String(csv[2]))
        XCTAssertTrue(csv[1].hasSuffix(",2.000"), "seconds per example: \(csv[1])")
        // Every example: iba 0.75, random 0.25 after each step, so the difference is 0.5 with a [0.5, 0.5] interval.
        let pairs = try String(contentsOf: directory.appendingPathComponent("pairs.csv"), encoding: .utf8)
            .split(separator: "\n")
        XCTAssertEqual(pairs.count, 2, "one pair, one metric (no AOPC): \(pairs)")
        XCTAssertTrue(pairs[1].hasPrefix("iba,random,prob_11%,2,0.5000,0.5000,0.5000,"), String(pairs[1]))
        XCTAssertTrue(pairs[1].hasSuffix(",random removes evidence faster"), String(pairs[1]))
        let report = try String(contentsOf: directory.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertTrue(report.contains("<section id=\"comparison\">") && report.contains("<section id=\"pairs\">"))
        for method in ["iba", "random"] {
            let names = try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent(method).path)
            XCTAssertTrue(names.contains("summary.json") && names.contains("degradation.svg") && names.contains("results.jsonl"), "\(names)")
        }
    }

    func testMethodsAreNamedOnceAndNotMixedWithExternalAttributions() throws {
        let directory = try temporaryDirectory(self)
        XCTAssertThrowsError(try EvaluationJob(settings: settings(), model: ModelReference(path: "/nowhere"), outputDirectory: directory,
                                               methods: [.iba, .iba]))
        var external = try settings()
        external.attributionsFile = "/a.jsonl"
        XCTAssertThrowsError(try EvaluationJob(settings: external, model: ModelReference(path: "/nowhere"), outputDirectory: directory,
                                               methods: [.external, .random]))
    }
}
