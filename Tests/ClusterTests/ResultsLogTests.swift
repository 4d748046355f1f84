import Foundation
import XCTest
@testable import Cluster

final class ResultsLogTests: XCTestCase {
    func testRecordsSurviveReopenByteForByte() throws {
        let url = try temporaryDirectory("log").appendingPathComponent("results.jsonl")
        let fingerprint = testManifest().fingerprint
        let binary = Data([0, 1, 2, 0x0A, 0xFF])
        let pretty = Data("{\n  \"a\": 1\n}".utf8)
        do {
            let (log, done) = try ResultsLog.open(url, fingerprint: fingerprint, resume: false)
            XCTAssertTrue(done.isEmpty)
            try log.append(index: 3, attempt: 1, result: .done(fakeResult(3)))
            try log.append(index: 4, attempt: 2, result: .done(binary))
            try log.append(index: 5, attempt: 1, result: .done(pretty))
            try log.append(index: 6, attempt: 3, result: .failed("worker lost \"twice\""))
            try log.append(index: 3, attempt: 2, result: .done(Data("{\"late\":true}".utf8)))
        }
        let (_, done) = try ResultsLog.open(url, fingerprint: fingerprint, resume: true)
        XCTAssertEqual(done, [3: fakeResult(3), 4: binary, 5: pretty], "first record wins; failures are retried")
    }

    // Issue 13: one write and fsync per batch (group commit), not per result.
    func testAppendsAreWrittenTogetherAtCommit() throws {
        let url = try temporaryDirectory("group").appendingPathComponent("results.jsonl")
        let (log, _) = try ResultsLog.open(url, fingerprint: testManifest().fingerprint, resume: false)
        let header = try Data(contentsOf: url)
        for index in 0..<3 { try log.append(index: index, attempt: 1, result: .done(fakeResult(index))) }
        XCTAssertTrue(log.hasPending)
        XCTAssertEqual(try Data(contentsOf: url), header, "nothing written before the commit")
        try log.commit()
        XCTAssertFalse(log.hasPending)
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8).split(separator: "\n").count, 4)
    }

    func testTornLastLineIsCutAndCorruptionElsewhereRefused() throws {
        let url = try temporaryDirectory("torn").appendingPathComponent("results.jsonl")
        let fingerprint = testManifest().fingerprint
        do {
            let (log, _) = try ResultsLog.open(url, fingerprint: fingerprint, resume: false)
            for index in 0..<4 { try log.append(index: index, attempt: 1, result: .done(fakeResult(index))) }
        }
        var bytes = try Data(contentsOf: url)
        bytes.removeLast(10)  // inside the last record
        try bytes.write(to: url)
        do {
            let (log, done) = try ResultsLog.open(url, fingerprint: fingerprint, resume: true)
            XCTAssertEqual(done, [0: fakeResult(0), 1: fakeResult(1), 2: fakeResult(2)])
            try log.append(index: 3, attempt: 2, result: .done(fakeResult(3)))
        }
        let (_, done) = try ResultsLog.open(url, fingerprint: fingerprint, resume: true)
        XCTAssertEqual(done[3], fakeResult(3), "the appended record starts on its own line")

        var text = try String(contentsOf: url, encoding: .utf8)
        text = text.replacingOccurrences(of: "{\"index\":1,", with: "{\"index\":1")
        try Data(text.utf8).write(to: url)
        XCTAssertThrowsError(try ResultsLog.open(url, fingerprint: fingerprint, resume: true)) { error in
            guard case ClusterError.resultsLog = error else { return XCTFail("\(error)") }
        }
    }

    func testResumeNeedsTheSameFingerprintButNotTheSameRunID() throws {
        let url = try temporaryDirectory("mismatch").appendingPathComponent("results.jsonl")
        _ = try ResultsLog.open(url, fingerprint: testManifest().fingerprint, resume: false)
        XCTAssertNoThrow(try ResultsLog.open(url, fingerprint: testManifest(runID: "other").fingerprint, resume: true))
        XCTAssertThrowsError(try ResultsLog.open(url, fingerprint: testManifest(modelHash: "other").fingerprint, resume: true)) { error in
            guard case let ClusterError.manifestMismatch(text) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(text.contains("model hash"), text)
        }
        XCTAssertThrowsError(try ResultsLog.open(url, fingerprint: testManifest().fingerprint, resume: false)) { error in
            XCTAssertEqual(error as? ClusterError, .resultsLogExists(url.path))
        }
    }
}
