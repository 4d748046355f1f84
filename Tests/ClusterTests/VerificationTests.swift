import Foundation
import XCTest
@testable import Cluster

/// `--verify` (issue 12, item 11): a worker that returns wrong results is caught by a second opinion.
final class VerificationTests: XCTestCase {
    /// What a lying worker returns: well-formed, plausible and wrong.
    static func fabricated(_ index: Int) -> Data { Data("{\"index\":\(index),\"value\":0.5}".utf8) }

    /// Runs `indices` with the given workers (name -> liar?) and verify fraction; returns the results, the log and the report.
    private func run(_ indices: [Int], workers: [(String, Bool)], fraction: Double, resultsLog: URL? = nil)
        throws -> ([Int: WorkResult], LogCapture, VerificationReport) {
        let log = LogCapture("coordinator")
        reportOnFailure([log])
        var options = testCoordinatorOptions(log)
        options.verifyFraction = fraction
        options.resultsLog = resultsLog
        let coordinator = try Coordinator(manifest: testManifest(), indices: indices, options: options)
        let threads = try workers.map { name, lies in
            let thread = try WorkerThread(endpoint: coordinator.endpoint, options: testWorkerOptions(name, log))
            thread.start { index in
                Thread.sleep(forTimeInterval: 0.005)
                return lies ? Self.fabricated(index) : fakeResult(index)
            }
            return thread
        }
        let results = try coordinator.run()
        for thread in threads { _ = thread.join() }
        return (results, log, coordinator.verificationReport)
    }

    func testLyingWorkerIsCaughtAndItsExamplesRecomputed() throws {
        let indices = Array(0..<30)
        let url = try temporaryDirectory("verify").appendingPathComponent("results.jsonl")
        let (results, log, report) = try run(indices, workers: [("liar", true), ("honest-a", false), ("honest-b", false)],
                                             fraction: 1, resultsLog: url)
        XCTAssertEqual(results, expectedResults(indices), "the final results are the honest run's")
        XCTAssertEqual(report.untrusted, ["liar"])
        XCTAssertTrue(report.suspects.isEmpty)
        XCTAssertTrue(log.lines.contains { $0.contains("worker liar untrusted: result for example ") && $0.contains("differs from worker honest-") },
                      log.lines.joined(separator: "\n"))
        // Only final results reach the log: a resume takes them as they are, and nothing the liar made.
        let text = try String(contentsOf: url, encoding: .utf8)
        XCTAssertFalse(text.contains("0.5}"), "a fabricated result reached the results log")
        let (_, done) = try ResultsLog.open(url, fingerprint: testManifest().fingerprint, resume: true)
        XCTAssertEqual(done.mapValues { WorkResult.done($0) }, expectedResults(indices))
    }

    /// Verifying part of the examples: once the liar is caught, the results nobody checked are revoked
    /// (in the log too) and computed again by the honest workers.
    func testUncheckedResultsOfAnUntrustedWorkerAreRevoked() throws {
        let indices = Array(0..<40)
        let url = try temporaryDirectory("revoke").appendingPathComponent("results.jsonl")
        let (results, _, report) = try run(indices, workers: [("liar", true), ("honest-a", false), ("honest-b", false)],
                                           fraction: 0.5, resultsLog: url)
        XCTAssertEqual(report.untrusted, ["liar"])
        XCTAssertEqual(results, expectedResults(indices))
        let (_, done) = try ResultsLog.open(url, fingerprint: testManifest().fingerprint, resume: true)
        XCTAssertEqual(done.mapValues { WorkResult.done($0) }, expectedResults(indices), "a resume would take a revoked result")
    }

    /// Two workers that disagree and no third: the examples fail and both are suspect (neither can be believed).
    func testTwoWorkersDisagreeingWithNoThirdAreBothSuspect() throws {
        let indices = Array(0..<6)
        let (results, log, report) = try run(indices, workers: [("liar", true), ("honest", false)], fraction: 1)
        for index in indices {
            guard case let .failed(reason)? = results[index] else { return XCTFail("example \(index): \(String(describing: results[index]))") }
            XCTAssertTrue(reason.contains("no third worker"), reason)
        }
        XCTAssertEqual(Set(report.suspects), ["liar", "honest"])
        XCTAssertTrue(report.untrusted.isEmpty)
        XCTAssertTrue(log.contains("disagree on example"))
    }

    /// Honest workers agree: every drawn example is verified, nobody is untrusted.
    func testHonestWorkersAgree() throws {
        let indices = Array(0..<12)
        let (results, _, report) = try run(indices, workers: [("a", false), ("b", false)], fraction: 1)
        XCTAssertEqual(results, expectedResults(indices))
        XCTAssertEqual(report.verified, indices.count)
        XCTAssertTrue(report.untrusted.isEmpty && report.suspects.isEmpty && report.unverified.isEmpty)
    }

    /// One worker cannot check itself: the drawn examples are kept and reported as unverified.
    func testASingleWorkerLeavesDrawnExamplesUnverified() throws {
        let indices = Array(0..<5)
        let (results, log, report) = try run(indices, workers: [("alone", false)], fraction: 1)
        XCTAssertEqual(results, expectedResults(indices))
        XCTAssertEqual(report.unverified.sorted(), indices)
        XCTAssertTrue(log.contains("cannot be verified: no trusted worker but alone is left"))
    }

    func testTheDrawIsReproducibleAndNearTheFraction() {
        let a = Verification(fraction: 0.25, seed: 7), b = Verification(fraction: 0.25, seed: 7), c = Verification(fraction: 0.25, seed: 8)
        let drawn = (0..<4000).filter(a.isDrawn)
        XCTAssertEqual(drawn, (0..<4000).filter(b.isDrawn), "the same seed draws the same examples")
        XCTAssertNotEqual(drawn, (0..<4000).filter(c.isDrawn))
        XCTAssertEqual(Double(drawn.count) / 4000, 0.25, accuracy: 0.03)
        XCTAssertTrue((0..<100).allSatisfy(Verification(fraction: 1, seed: 1).isDrawn))
        XCTAssertFalse((0..<100).contains(where: Verification(fraction: 0, seed: 1).isDrawn))
    }

    func testVerdicts() {
        var verification = Verification(fraction: 1, seed: 0)
        let (a, b, c) = (Data("a".utf8), Data("b".utf8), Data("c".utf8))
        XCTAssertEqual(verification.record(index: 1, worker: a, payload: Data("x".utf8)), .needsAnother(excluding: [a]))
        XCTAssertEqual(verification.record(index: 1, worker: b, payload: Data("y".utf8)), .needsAnother(excluding: [a, b]))
        XCTAssertEqual(verification.record(index: 1, worker: c, payload: Data("y".utf8)),
                       .final(Data("y".utf8), agreeing: [b, c], dissenters: [a]))
        verification.recordUnchecked(index: 5, worker: a)
        XCTAssertEqual(verification.distrust(a), [5], "its unchecked results are revoked")
    }

    func testVerifyFractionIsValidated() {
        var options = CoordinatorOptions()
        options.verifyFraction = 1.5
        XCTAssertThrowsError(try Coordinator(manifest: testManifest(), indices: [0], options: options))
    }
}
