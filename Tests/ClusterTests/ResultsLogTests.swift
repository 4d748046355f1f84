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

    /// A refused resume names the options that differ in words (the header keeps them beside the hashes),
    /// and a log from before those words says what a hash covers.
    func testRefusedResumeNamesTheChangedOption() throws {
        let url = try temporaryDirectory("details").appendingPathComponent("results.jsonl")
        var manifest = testManifest()
        manifest.options["settings"] = "sha256:aaa"
        let details = ["dataPath": "\"/data/dev.tsv\"", "seed": "0"]
        _ = try ResultsLog.open(url, fingerprint: manifest.fingerprint, details: details, resume: false)
        _ = try ResultsLog.open(url, fingerprint: manifest.fingerprint, details: ["seed": "9"], resume: true)  // not compared
        manifest.options["settings"] = "sha256:bbb"
        XCTAssertThrowsError(try ResultsLog.open(url, fingerprint: manifest.fingerprint,
                                                 details: ["dataPath": "\"../data/dev.tsv\"", "seed": "0"], resume: true)) { error in
            XCTAssertEqual("\(error)", ClusterError.manifestMismatch(
                "options settings: sha256:aaa in the log, sha256:bbb now (dataPath: \"/data/dev.tsv\" in the log, \"../data/dev.tsv\" now)").description)
        }
        XCTAssertEqual(ResultsLog.detailsDifferences(nil, ["seed": "0"]),
                       " (this log predates readable options: a hash covers every evaluation option, and paths as written)")
        XCTAssertEqual(ResultsLog.detailsDifferences(nil, [:]), "")
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
        text = text.replacingOccurrences(of: "\"index\":1,", with: "\"index\":1")
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

    // MARK: - Hash chain (issue 12)

    /// A log with five results, and its lines (header first).
    private func chainedLog(_ name: String) throws -> (URL, [String]) {
        let url = try temporaryDirectory(name).appendingPathComponent("results.jsonl")
        do {
            let (log, _) = try ResultsLog.open(url, fingerprint: testManifest().fingerprint, resume: false)
            for index in 0..<5 { try log.append(index: index, attempt: 1, result: .done(fakeResult(index)), by: ["w-\(index)"]) }
        }
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 6)
        return (url, lines)
    }

    private func assertResumeRefused(_ url: URL, naming expected: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try ResultsLog.open(url, fingerprint: testManifest().fingerprint, resume: true), file: file, line: line) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains(expected), text, file: file, line: line)
            XCTAssertTrue(text.contains("delete it to start over"), text, file: file, line: line)
        }
    }

    func testEveryLineCarriesTheChain() throws {
        let (url, lines) = try chainedLog("chain")
        XCTAssertTrue(lines.allSatisfy { $0.hasPrefix("{\"chain\":\"") && $0.count > ResultsLog.chainedPrefixBytes }, lines.joined(separator: "\n"))
        let (_, done) = try ResultsLog.open(url, fingerprint: testManifest().fingerprint, resume: true)
        XCTAssertEqual(done, Dictionary(uniqueKeysWithValues: (0..<5).map { ($0, fakeResult($0)) }))
    }

    func testEditedPayloadIsRefusedNamingTheLine() throws {
        let (url, lines) = try chainedLog("edited")
        var edited = lines
        edited[3] = edited[3].replacingOccurrences(of: "\"value\":", with: "\"value\":1")  // line 4: example 2's number
        XCTAssertNotEqual(edited[3], lines[3])
        try Data((edited.joined(separator: "\n") + "\n").utf8).write(to: url)
        assertResumeRefused(url, naming: "line 4 does not follow line 3")
    }

    func testEditedLastLineIsRefused() throws {
        let (url, lines) = try chainedLog("last")
        var edited = lines
        edited[5] = edited[5].replacingOccurrences(of: "\"index\":4", with: "\"index\":9")
        try Data((edited.joined(separator: "\n") + "\n").utf8).write(to: url)
        assertResumeRefused(url, naming: "line 6 does not follow line 5")
    }

    func testRemovedOrReorderedLineIsRefused() throws {
        let (url, lines) = try chainedLog("removed")
        var removed = lines
        removed.remove(at: 2)
        try Data((removed.joined(separator: "\n") + "\n").utf8).write(to: url)
        assertResumeRefused(url, naming: "line 3 does not follow line 2")

        var swapped = lines
        swapped.swapAt(3, 4)
        try Data((swapped.joined(separator: "\n") + "\n").utf8).write(to: url)
        assertResumeRefused(url, naming: "line 4 does not follow line 3")
    }

    func testTornTailResumesWithANoteAndTheChainContinues() throws {
        let (url, _) = try chainedLog("torn-chain")
        var bytes = try Data(contentsOf: url)
        bytes.removeLast(7)  // a write cut short inside the last record
        try bytes.write(to: url)
        let notes = LogCapture("log")
        do {
            let (log, done) = try ResultsLog.open(url, fingerprint: testManifest().fingerprint, resume: true, log: notes.sink)
            XCTAssertEqual(Set(done.keys), [0, 1, 2, 3])
            try log.append(index: 4, attempt: 2, result: .done(fakeResult(4)))
        }
        XCTAssertTrue(notes.contains("cut a torn last line"), notes.lines.joined(separator: "\n"))
        let (_, done) = try ResultsLog.open(url, fingerprint: testManifest().fingerprint, resume: true)
        XCTAssertEqual(done[4], fakeResult(4), "the line appended after the cut follows the chain")
    }

    /// Logs written before the chain (format 1) are refused unless `--accept-unchained-log` names them; then
    /// they resume with a warning, and what is appended to them is chained and checked.
    func testUnchainedVersionOneLogResumesOnlyWhenAccepted() throws {
        let url = try temporaryDirectory("v1").appendingPathComponent("results.jsonl")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let header = try encoder.encode(ResultsLog.Header(format: ResultsLog.format, version: 1, fingerprint: testManifest().fingerprint))
        var old = header + Data("\n".utf8)
        for index in 0..<2 { old += Data("{\"index\":\(index),\"attempt\":1,\"payload\":".utf8) + fakeResult(index) + Data("}\n".utf8) }
        try old.write(to: url)
        assertResumeRefused(url, naming: "pass --accept-unchained-log")
        let accept = ResultsLogProtection(acceptUnchained: true)
        let notes = LogCapture("log")
        do {
            let (log, done) = try ResultsLog.open(url, fingerprint: testManifest().fingerprint, resume: true, protection: accept,
                                                  log: notes.sink)
            XCTAssertEqual(Set(done.keys), [0, 1])
            try log.append(index: 2, attempt: 1, result: .done(fakeResult(2)))
            try log.append(index: 3, attempt: 1, result: .done(fakeResult(3)))
        }
        XCTAssertTrue(notes.contains("predates the hash chain"), notes.lines.joined(separator: "\n"))
        let (_, done) = try ResultsLog.open(url, fingerprint: testManifest().fingerprint, resume: true, protection: accept)
        XCTAssertEqual(Set(done.keys), [0, 1, 2, 3])

        // The chained part is checked: an edit there is refused, as is removing the chain of a later line.
        var lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init)
        lines[3] = lines[3].replacingOccurrences(of: "\"index\":2", with: "\"index\":7")
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: url)
        XCTAssertThrowsError(try ResultsLog.open(url, fingerprint: testManifest().fingerprint, resume: true, protection: accept)) {
            XCTAssertTrue("\($0)".contains("line 4 does not follow line 3"), "\($0)")
        }
    }

    /// Issue 24: a chained log relabelled as format 1, its chain stripped and a value edited, is refused.
    func testDowngradedAndEditedLogIsRefused() throws {
        let (url, lines) = try chainedLog("downgrade")
        let unchained = lines.map { line -> String in
            var text = line.replacingOccurrences(of: "\"version\":2", with: "\"version\":1")
            if let range = text.range(of: #"\{"chain":"[0-9a-f]{64}","#, options: .regularExpression) {
                text.replaceSubrange(range, with: "{")
            }
            return text
        }
        var edited = unchained
        edited[3] = edited[3].replacingOccurrences(of: "\"index\":2", with: "\"index\":2,\"forged\":1")
        XCTAssertNotEqual(edited[3], unchained[3])
        XCTAssertFalse(edited.joined().contains("\"chain\""))
        try Data((edited.joined(separator: "\n") + "\n").utf8).write(to: url)
        assertResumeRefused(url, naming: "older than the format 2 this build writes")
    }

    // MARK: - Keyed chain (issue 24)

    private let key = Array("0123456789abcdef0123456789abcdef".utf8)

    private func keyedLog(_ name: String) throws -> (URL, [String]) {
        let url = try temporaryDirectory(name).appendingPathComponent("results.jsonl")
        do {
            let (log, _) = try ResultsLog.open(url, fingerprint: testManifest().fingerprint, resume: false,
                                               protection: ResultsLogProtection(key: key))
            for index in 0..<4 { try log.append(index: index, attempt: 1, result: .done(fakeResult(index)), by: ["w"]) }
        }
        return (url, try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init))
    }

    private func resumeError(_ url: URL, _ protection: ResultsLogProtection) -> String {
        do {
            _ = try ResultsLog.open(url, fingerprint: testManifest().fingerprint, resume: true, protection: protection)
            return "accepted"
        } catch { return "\(error)" }
    }

    func testKeyedLogResumesWithItsKeyOnly() throws {
        let (url, lines) = try keyedLog("keyed")
        XCTAssertTrue(lines[0].contains("\"chainMAC\":\"hmac-sha256\""), lines[0])
        let (_, done) = try ResultsLog.open(url, fingerprint: testManifest().fingerprint, resume: true,
                                            protection: ResultsLogProtection(key: key))
        XCTAssertEqual(Set(done.keys), [0, 1, 2, 3])
        XCTAssertTrue(resumeError(url, ResultsLogProtection()).contains("pass the same key"))
        var other = key
        other[0] ^= 1
        XCTAssertTrue(resumeError(url, ResultsLogProtection(key: other)).contains("or --log-key is not the key"))
    }

    /// A forger without the key edits a line and recomputes every chain value as a SHA-256 chain would:
    /// with the key it is refused, whether the header still names the HMAC or not.
    func testForgerWithoutTheKeyCannotRedoTheChain() throws {
        let (url, lines) = try keyedLog("forged")
        for stripKey in [false, true] {
            var previous = ""
            var forged = [String]()
            for (number, line) in lines.enumerated() {
                var rest = String(line.dropFirst(ResultsLog.chainedPrefixBytes))
                if number == 0 && stripKey { rest = rest.replacingOccurrences(of: "\"chainMAC\":\"hmac-sha256\",", with: "") }
                if number == 2 { rest = rest.replacingOccurrences(of: "\"index\":1", with: "\"index\":1,\"forged\":1") }
                previous = ResultsLog.Chainer(key: nil).chain(after: previous, rest: Array(rest.utf8))
                forged.append("{\"chain\":\"\(previous)\"," + rest)
            }
            try Data((forged.joined(separator: "\n") + "\n").utf8).write(to: url)
            let refusal = resumeError(url, ResultsLogProtection(key: key))
            XCTAssertTrue(refusal.contains(stripKey ? "unkeyed SHA-256 chain" : "line 1 (the header) was edited"), refusal)
        }
    }

    /// Old logs (unkeyed SHA-256 chains) still verify through swift-crypto: a chain value computed by hand
    /// with the standard's test vector.
    func testSHA256ChainIsTheStandardHash() {
        XCTAssertEqual(ResultsLog.Chainer(key: nil).chain(after: "", rest: Array("abc".utf8)),
                       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        // RFC 4231 test case 2: key "Jefe", "what do ya want for nothing?".
        XCTAssertEqual(ResultsLog.Chainer(key: Array("Jefe".utf8)).chain(after: "what do ya want ", rest: Array("for nothing?".utf8)),
                       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    /// An untrusted worker's line revokes its earlier results, also on resume.
    func testUntrustedLineRevokesResultsOnResume() throws {
        let url = try temporaryDirectory("revoke").appendingPathComponent("results.jsonl")
        do {
            let (log, _) = try ResultsLog.open(url, fingerprint: testManifest().fingerprint, resume: false)
            for index in 0..<4 { try log.append(index: index, attempt: 1, result: .done(fakeResult(index)), by: [index % 2 == 0 ? "liar" : "honest"]) }
            try log.appendUntrusted(worker: "liar", reason: "result for example 9 differs", revoked: [0, 2])
            try log.append(index: 2, attempt: 2, result: .done(fakeResult(2)), by: ["honest"])
        }
        let (_, done) = try ResultsLog.open(url, fingerprint: testManifest().fingerprint, resume: true)
        XCTAssertEqual(Set(done.keys), [1, 2, 3], "example 0 is computed again; 2 was, after the revocation")
    }
}

/// The payload places the log keeps (`storedPayload`): what a run writes its outputs from, without holding them.
final class StoredPayloadTests: XCTestCase {
    func testCommittedPayloadsReadBackByteForByteAlsoAfterReopening() throws {
        let url = try temporaryDirectory("stored").appendingPathComponent("results.jsonl")
        let fingerprint = testManifest().fingerprint
        let binary = Data([0, 1, 2, 0x0A, 0xFF])
        do {
            let (log, _) = try ResultsLog.open(url, fingerprint: fingerprint, resume: false)
            try log.append(index: 3, attempt: 1, result: .done(fakeResult(3)), by: ["w/1", "w2"])
            try log.append(index: 4, attempt: 1, result: .done(binary))
            XCTAssertNil(try log.storedPayload(index: 3), "queued, not committed")
            try log.commit()
            XCTAssertEqual(try log.storedPayload(index: 3), fakeResult(3))
            XCTAssertEqual(try log.storedPayload(index: 4), binary, "a base64 line decodes back")
            try log.append(index: 5, attempt: 1, result: .failed("lost"))
            try log.appendUntrusted(worker: "w2", reason: "lied", revoked: [3])
            try log.commit()
            XCTAssertNil(try log.storedPayload(index: 5), "a failure has no payload")
            XCTAssertNil(try log.storedPayload(index: 3), "revoked")
            try log.append(index: 3, attempt: 2, result: .done(fakeResult(33)))
            try log.commit()
            XCTAssertEqual(try log.storedPayload(index: 3), fakeResult(33))
        }
        let (log, done) = try ResultsLog.open(url, fingerprint: fingerprint, resume: true)
        XCTAssertEqual(done, [3: fakeResult(33), 4: binary])
        XCTAssertEqual(try log.storedPayload(index: 3), fakeResult(33))
        XCTAssertEqual(try log.storedPayload(index: 4), binary)
        try log.append(index: 6, attempt: 1, result: .done(fakeResult(6)))
        try log.commit()
        XCTAssertEqual(try log.storedPayload(index: 6), fakeResult(6), "a place after the resumed lines")
    }

    /// The "by" list is written as JSONEncoder writes it, with or without the shortcut for plain names.
    func testWorkerNamesAreEncodedAsJSONEncoderDoes() throws {
        for names in [[], ["local-0-1"], ["a", "b-2"], ["we/ird", "quo\"te", "back\\slash", "é", "tab\t"]] {
            XCTAssertEqual(ResultsLog.encodeNames(names), try JSONEncoder().encode(names), "\(names)")
        }
    }

    func testPayloadLocationsPackAndKeepLargeOnesApart() {
        var locations = PayloadLocations()
        locations[1] = .init(offset: 123_456_789, length: 2_000, base64: true)
        locations[2] = .init(offset: 1 << 40, length: 1 << 25, base64: false)
        XCTAssertEqual(locations[1], .init(offset: 123_456_789, length: 2_000, base64: true))
        XCTAssertEqual(locations[2], .init(offset: 1 << 40, length: 1 << 25, base64: false))
        locations[1] = nil
        XCTAssertNil(locations[1])
    }
}
