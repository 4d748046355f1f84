import Foundation

/// Append-only JSONL record of results with group commit: `append` queues a
/// line, `commit` writes every queued line and fsyncs once (the coordinator
/// commits once per drain of its socket, before it reports or finishes), so
/// a killed coordinator loses at most the lines of one uncommitted batch,
/// which it had not counted yet.
///
///   line 1   {"format":"iba-cluster-results","version":1,"fingerprint":{modelHash,dataHash,options,seed}}
///   then     {"index":I,"attempt":A,"payload":<the result JSON, verbatim>}
///        or  {"index":I,"attempt":A,"payloadBase64":"…"}     (payload not single-line JSON)
///        or  {"index":I,"attempt":A,"failed":"reason"}
///
/// The payload is embedded byte for byte, so a resumed run returns exactly
/// the bytes the worker sent. On resume a torn last line (no newline) is cut
/// off; any other unreadable line is an error.
final class ResultsLog {
    static let format = "iba-cluster-results"
    static let version = 1

    struct Header: Codable, Equatable {
        var format: String
        var version: Int
        var fingerprint: ManifestFingerprint
    }

    let url: URL
    private let descriptor: Int32

    /// Opens (creating, or with `resume` continuing) the log and returns what
    /// it already holds: done results by index (first record wins). Failed
    /// records are not returned: a resumed run retries them.
    static func open(_ url: URL, fingerprint: ManifestFingerprint, resume: Bool) throws -> (ResultsLog, [Int: Data]) {
        let exists = FileManager.default.fileExists(atPath: url.path)
        if exists && !resume { throw ClusterError.resultsLogExists(url.path) }
        var done: [Int: Data] = [:]
        var keepBytes = 0
        var needsHeader = true
        if exists {
            guard let contents = FileManager.default.contents(atPath: url.path) else {
                throw ClusterError.resultsLog("cannot read \(url.path)")
            }
            (done, keepBytes) = try read(contents, expecting: fingerprint, path: url.path)
            needsHeader = keepBytes == 0
        }
        let descriptor = Foundation.open(url.path, O_WRONLY | O_CREAT, 0o644)
        guard descriptor >= 0 else { throw ClusterError.resultsLog("cannot open \(url.path) for writing (errno \(errno))") }
        // Cut a torn last line so the next record starts on a line of its own.
        guard ftruncate(descriptor, off_t(keepBytes)) == 0, lseek(descriptor, 0, SEEK_END) >= 0 else {
            Foundation.close(descriptor)
            throw ClusterError.resultsLog("cannot truncate \(url.path) (errno \(errno))")
        }
        let log = ResultsLog(url: url, descriptor: descriptor)
        if needsHeader {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let header = Header(format: format, version: version, fingerprint: fingerprint)
            guard let line = try? encoder.encode(header) else { throw ClusterError.resultsLog("cannot encode header") }
            try log.writeAll(line + Data([0x0A]))
        }
        return (log, done)
    }

    private init(url: URL, descriptor: Int32) {
        self.url = url
        self.descriptor = descriptor
    }

    deinit {
        try? commit()  // a run that throws (stopped, no workers) keeps what it had accepted
        Foundation.close(descriptor)
    }

    func append(index: Int, attempt: UInt32, result: WorkResult) throws {
        var line = Data("{\"index\":\(index),\"attempt\":\(attempt),".utf8)
        switch result {
        case let .done(payload):
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
        pending.append(line)
        pending.append(0x0A)
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

    /// Parses a whole log; returns the done payloads and how many leading
    /// bytes are intact (everything up to the last newline).
    static func read(_ contents: Data, expecting fingerprint: ManifestFingerprint, path: String) throws -> ([Int: Data], Int) {
        let bytes = [UInt8](contents)
        guard let lastNewline = bytes.lastIndex(of: 0x0A) else { return ([:], 0) }  // not even a whole header
        let lines = bytes[..<lastNewline].split(separator: 0x0A, omittingEmptySubsequences: false)
        guard let headerLine = lines.first,
              let header = try? JSONDecoder().decode(Header.self, from: Data(headerLine)),
              header.format == format else {
            throw ClusterError.resultsLog("\(path) does not start with an \(format) header")
        }
        guard header.version == version else {
            throw ClusterError.resultsLog("\(path) has format version \(header.version), this build reads \(version)")
        }
        let differences = fingerprint.differences(from: header.fingerprint)
        guard differences.isEmpty else { throw ClusterError.manifestMismatch(differences.joined(separator: "; ")) }

        var done: [Int: Data] = [:]
        for (number, line) in lines.enumerated().dropFirst() where !line.isEmpty {
            guard let record = parseRecord(Data(line)) else {
                throw ClusterError.resultsLog("\(path) line \(number + 1) is unreadable (only a torn last line is tolerated)")
            }
            if case let .done(payload) = record.result, done[record.index] == nil {
                done[record.index] = payload
            }
        }
        return (done, lastNewline + 1)
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
