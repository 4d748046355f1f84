import Digest
import Foundation

/// Append-only JSONL record of results with group commit: `append` queues a
/// line, `commit` writes every queued line and fsyncs once (the coordinator
/// commits once per drain of its socket, before it reports or finishes), so
/// a killed coordinator loses at most the lines of one uncommitted batch,
/// which it had not counted yet.
///
///   line 1   {"chain":H,"details":{option: value},"fingerprint":{modelHash,dataHash,options,seed},"format":"iba-cluster-results","version":2}
///            (details: the options in words, not compared; a refused resume shows those that differ)
///   then     {"chain":H,"index":I,"attempt":A,"by":[workers],"payload":<the result JSON, verbatim>}
///        or  {"chain":H,"index":I,"attempt":A,"by":[workers],"payloadBase64":"…"}   (payload not single-line JSON)
///        or  {"chain":H,"index":I,"attempt":A,"failed":"reason"}
///        or  {"chain":H,"untrusted":"worker","reason":"…","revoked":[I,…]}   (its earlier results no longer count)
///
/// The payload is embedded byte for byte, so a resumed run returns exactly
/// the bytes the worker sent. On resume a torn last line (no newline) is cut
/// off; any other unreadable line is an error.
///
/// Hash chain: H of line n is the SHA-256 hex of (H of line n-1, "" for the
/// header) followed by the line's bytes after its `{"chain":H,` prefix. So
/// each line carries the previous line's hash and covers itself: an edited
/// line (the last one too), a removed one or a reordered pair breaks the chain
/// at that line and `--resume` refuses the log. Lines cut from the end cannot
/// be told from a run stopped earlier; their examples are simply computed again.
/// Version 1 logs (no chain) are resumed with a warning; what is appended to them is chained.
final class ResultsLog {
    static let format = "iba-cluster-results"
    static let version = 2
    /// Logs written before the hash chain; resumed, with their unchained lines unchecked.
    static let unchainedVersion = 1

    struct Header: Codable, Equatable {
        var format: String
        var version: Int
        var fingerprint: ManifestFingerprint
        /// The options in words, not compared (the fingerprint is); absent in logs from before it.
        var details: [String: String]?
    }

    let url: URL
    private let descriptor: Int32
    /// Hash of the last line written (queued lines included): the next line's chain starts from it.
    private var lastChain: String

    /// Opens (creating, or with `resume` continuing) the log and returns what
    /// it already holds: done results by index (first record wins). Failed
    /// records are not returned: a resumed run retries them.
    static func open(_ url: URL, fingerprint: ManifestFingerprint, details: [String: String] = [:], resume: Bool,
                     log note: (String) -> Void = { _ in }) throws -> (ResultsLog, [Int: Data]) {
        let exists = FileManager.default.fileExists(atPath: url.path)
        if exists && !resume { throw ClusterError.resultsLogExists(url.path) }
        var contents = Contents()
        if exists {
            guard let bytes = FileManager.default.contents(atPath: url.path) else {
                throw ClusterError.resultsLog("cannot read \(url.path)")
            }
            contents = try read(bytes, expecting: fingerprint, details: details, path: url.path)
            contents.notes.forEach(note)
        }
        let keepBytes = contents.intactBytes
        let needsHeader = keepBytes == 0
        let descriptor = Foundation.open(url.path, O_WRONLY | O_CREAT, 0o644)
        guard descriptor >= 0 else { throw ClusterError.resultsLog("cannot open \(url.path) for writing (errno \(errno))") }
        // Cut a torn last line so the next record starts on a line of its own.
        guard ftruncate(descriptor, off_t(keepBytes)) == 0, lseek(descriptor, 0, SEEK_END) >= 0 else {
            Foundation.close(descriptor)
            throw ClusterError.resultsLog("cannot truncate \(url.path) (errno \(errno))")
        }
        let log = ResultsLog(url: url, descriptor: descriptor, lastChain: contents.lastChain)
        if needsHeader {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let header = Header(format: format, version: version, fingerprint: fingerprint, details: details.isEmpty ? nil : details)
            guard let json = try? encoder.encode(header) else { throw ClusterError.resultsLog("cannot encode header") }
            log.queue(rest: json.dropFirst())  // the chain goes in front of the header's own keys
            try log.commit()
        }
        return (log, contents.done)
    }

    private init(url: URL, descriptor: Int32, lastChain: String) {
        self.url = url
        self.descriptor = descriptor
        self.lastChain = lastChain
    }

    deinit {
        try? commit()  // a run that throws (stopped, no workers) keeps what it had accepted
        Foundation.close(descriptor)
    }

    /// `by`: the workers whose results these are (two when verified), as the coordinator names them.
    func append(index: Int, attempt: UInt32, result: WorkResult, by workers: [String] = []) throws {
        var line = Data("\"index\":\(index),\"attempt\":\(attempt),".utf8)
        switch result {
        case let .done(payload):
            line.append(Data("\"by\":".utf8))
            line.append((try? JSONEncoder().encode(workers)) ?? Data("[]".utf8))
            line.append(Data(",".utf8))
            if Self.isSingleLineJSON(payload) {
                line.append(Data("\"payload\":".utf8))
                line.append(payload)
            } else {
                line.append(Data("\"payloadBase64\":\"\(payload.base64EncodedString())\"".utf8))
            }
        case let .failed(reason):
            let quoted = (try? JSONEncoder().encode(reason)) ?? Data("\"\"".utf8)
            line.append(Data("\"failed\":".utf8))
            line.append(quoted)
        }
        line.append(Data("}".utf8))
        queue(rest: line)
    }

    /// A worker found untrusted: its earlier results (`revoked`) no longer count, on resume either.
    func appendUntrusted(worker: String, reason: String, revoked: [Int]) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let fields = ["\"untrusted\":", "\"reason\":", "\"revoked\":"]
        let values = [try? encoder.encode(worker), try? encoder.encode(reason), try? encoder.encode(revoked.sorted())]
        var line = Data()
        for (field, value) in zip(fields, values) {
            guard let value else { throw ClusterError.resultsLog("cannot encode the untrusted worker's record") }
            line.append(Data((line.isEmpty ? "" : ",").utf8) + Data(field.utf8) + value)
        }
        queue(rest: line + Data("}".utf8))
    }

    /// Queues `{"chain":H,` + rest + newline, H chained to the previous line.
    private func queue(rest: Data) {
        lastChain = Self.chain(after: lastChain, rest: rest)
        pending.append(Data("\(Self.chainPrefix)\(lastChain)\",".utf8))
        pending.append(rest)
        pending.append(0x0A)
    }

    static let chainPrefix = "{\"chain\":\""
    /// `{"chain":"` + 64 hex digits + `",`
    static let chainedPrefixBytes = chainPrefix.utf8.count + 64 + 2

    static func chain(after previous: String, rest: some Sequence<UInt8>) -> String {
        var hash = SHA256()
        hash.add(Array(previous.utf8))
        hash.add(rest)
        return hash.finish()
    }

    /// Lines appended and not yet committed.
    var hasPending: Bool { !pending.isEmpty }

    /// Writes the queued lines and fsyncs them.
    func commit() throws {
        guard !pending.isEmpty else { return }
        defer { pending.removeAll(keepingCapacity: true) }
        try writeAll(pending)
    }

    private var pending = Data()

    private func writeAll(_ bytes: Data) throws {
        let written = bytes.withUnsafeBytes { buffer -> Bool in
            var offset = 0
            while offset < buffer.count {
                let n = write(descriptor, buffer.baseAddress.map { $0 + offset }, buffer.count - offset)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return false }
                offset += n
            }
            return true
        }
        guard written, fsync(descriptor) == 0 else {
            throw ClusterError.resultsLog("cannot append to \(url.path) (errno \(errno)); disk full?")
        }
    }

    static func isSingleLineJSON(_ payload: Data) -> Bool {
        guard !payload.isEmpty, !payload.contains(0x0A), !payload.contains(0x0D) else { return false }
        return (try? JSONSerialization.jsonObject(with: payload, options: [.fragmentsAllowed])) != nil
    }

    /// What a log holds: done payloads (revoked ones removed), how many leading bytes are intact
    /// (everything up to the last newline), the chain hash of the last intact line, notes for the user.
    struct Contents {
        var done: [Int: Data] = [:]
        var intactBytes = 0
        var lastChain = ""
        var notes: [String] = []
    }

    /// Parses a whole log and checks its hash chain.
    static func read(_ contents: Data, expecting fingerprint: ManifestFingerprint, details: [String: String] = [:],
                     path: String) throws -> Contents {
        let bytes = [UInt8](contents)
        var result = Contents()
        let lastNewline = bytes.lastIndex(of: 0x0A)
        let torn = bytes.count - (lastNewline.map { $0 + 1 } ?? 0)
        if torn > 0 { result.notes.append("results log \(path): cut a torn last line (\(torn) bytes, a write interrupted by a crash)") }
        guard let lastNewline else { return result }  // not even a whole header
        let lines = bytes[..<lastNewline].split(separator: 0x0A, omittingEmptySubsequences: false)
        guard let headerLine = lines.first else { return result }
        var chain = ChainCheck(path: path)
        let header = try readHeader(headerLine, chain: &chain, expecting: fingerprint, details: details, path: path)
        if header.version == unchainedVersion {
            result.notes.append("results log \(path) predates the hash chain (format \(unchainedVersion)): its \(lines.count - 1) "
                                + "result line(s) cannot be checked for edits; lines appended from now on are chained")
        }
        for (offset, line) in lines.enumerated().dropFirst() {
            let number = offset + 1
            try chain.check(line, number: number, chained: header.version != unchainedVersion)
            guard !line.isEmpty else { continue }  // only in an unchained version 1 log: a chained line is never empty
            if let revoked = parseRevocation(Data(line)) {
                for index in revoked { result.done[index] = nil }
                continue
            }
            guard let record = parseRecord(Data(line)) else {
                throw ClusterError.resultsLog("\(path) line \(number) is unreadable (only a torn last line is tolerated)")
            }
            if case let .done(payload) = record.result, result.done[record.index] == nil {
                result.done[record.index] = payload
            }
        }
        result.intactBytes = lastNewline + 1
        result.lastChain = chain.last
        return result
    }

    private static func readHeader(_ line: ArraySlice<UInt8>, chain: inout ChainCheck, expecting fingerprint: ManifestFingerprint,
                                   details: [String: String], path: String) throws -> Header {
        let chained = line.starts(with: chainPrefix.utf8)
        let header = try? JSONDecoder().decode(Header.self, from: Data(line))
        guard let header, header.format == format else {
            throw ClusterError.resultsLog("\(path) does not start with an \(format) header")
        }
        guard header.version == (chained ? version : unchainedVersion) else {
            throw ClusterError.resultsLog("\(path) has format version \(header.version)\(chained ? "" : " without a hash chain"), "
                                          + "this build reads \(version) (and \(unchainedVersion)); delete the log to start over")
        }
        try chain.check(line, number: 1, chained: chained)
        let differences = fingerprint.differences(from: header.fingerprint)
        guard differences.isEmpty else {
            throw ClusterError.manifestMismatch(differences.joined(separator: "; ") + detailsDifferences(header.details, details))
        }
        return header
    }

    /// What a refused resume adds to the fingerprint's hashes: the options that differ, in words, when the
    /// log has them (else a hint that a hash covers every option, and paths as written).
    static func detailsDifferences(_ logged: [String: String]?, _ now: [String: String]) -> String {
        guard let logged else {
            return now.isEmpty ? "" : " (this log predates readable options: a hash covers every evaluation option, and paths as written)"
        }
        let changed = ManifestFingerprint.changedEntries(logged: logged, now: now)
        return changed.isEmpty ? "" : " (\(changed))"
    }

    /// Follows the chain line by line. In a version 1 log, lines without a chain (written before it
    /// existed) are hashed whole into it until the first chained line; after that every line must be chained.
    struct ChainCheck {
        let path: String
        var last = ""
        private var chainStarted = false

        init(path: String) { self.path = path }

        mutating func check(_ line: ArraySlice<UInt8>, number: Int, chained: Bool) throws {
            let hasChain = line.count >= chainedPrefixBytes && line.starts(with: chainPrefix.utf8)
            if !hasChain && !chainStarted && !chained {
                last = ResultsLog.chain(after: last, rest: line)
                return
            }
            let start = line.startIndex
            guard hasChain, line[start + chainedPrefixBytes - 2] == UInt8(ascii: "\""),
                  line[start + chainedPrefixBytes - 1] == UInt8(ascii: ","),
                  let stored = String(bytes: line[(start + chainPrefix.utf8.count)..<(start + chainedPrefixBytes - 2)], encoding: .utf8) else {
                throw ClusterError.resultsLog("\(path) line \(number) has no chain hash (edited?): the log cannot be trusted; "
                                              + "delete it to start over")
            }
            let expected = ResultsLog.chain(after: last, rest: line[(start + chainedPrefixBytes)...])
            guard stored == expected else {
                let what = number == 1 ? "line 1 (the header) was edited"
                    : "line \(number) does not follow line \(number - 1) (line \(number) edited, or lines removed or reordered)"
                throw ClusterError.resultsLog("\(path) \(what): its chain hash is \(stored.prefix(12))…, the lines before it give "
                                              + "\(expected.prefix(12))…; the log cannot be trusted: delete it to start over")
            }
            last = stored
            chainStarted = true
        }
    }

    /// The indices of an `untrusted` line, or nil for any other line.
    static func parseRevocation(_ line: Data) -> [Int]? {
        guard let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any],
              object["untrusted"] is String else { return nil }
        return (object["revoked"] as? [Int]) ?? []
    }

    static func parseRecord(_ line: Data) -> (index: Int, attempt: Int, result: WorkResult)? {
        guard let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any],
              let index = object["index"] as? Int, index >= 0,
              let attempt = object["attempt"] as? Int else { return nil }
        if let reason = object["failed"] as? String { return (index, attempt, .failed(reason)) }
        if let base64 = object["payloadBase64"] as? String {
            guard let payload = Data(base64Encoded: base64) else { return nil }
            return (index, attempt, .done(payload))
        }
        guard object["payload"] != nil else { return nil }
        // We wrote {"index":…,"attempt":…,"payload":RAW}: RAW is everything
        // between the first "payload": key (index and attempt are numbers, so
        // it cannot occur earlier) and the closing brace.
        let bytes = [UInt8](line)
        let key = Array("\"payload\":".utf8)
        guard bytes.last == UInt8(ascii: "}"),
              let start = firstRange(of: key, in: bytes) else { return nil }
        let raw = Data(bytes[(start + key.count)..<(bytes.count - 1)])
        guard isSingleLineJSON(raw) else { return nil }
        return (index, attempt, .done(raw))
    }

    private static func firstRange(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start..<start + needle.count].elementsEqual(needle) {
            return start
        }
        return nil
    }
}
