import Digest
import Foundation

/// Append-only JSONL record of results with group commit: `append` queues a
/// line, `commit` writes every queued line and fsyncs once (the coordinator
/// commits once per drain of its socket, before it reports or finishes), so
/// a killed coordinator loses at most the lines of one uncommitted batch,
/// which it had not counted yet.
///
///   line 1   {"chain":H,"chainMAC":"hmac-sha256","details":{option: value},
///             "fingerprint":{modelHash,dataHash,options,seed},
///             "format":"iba-cluster-results","version":2}
///            (details: the options in words, not compared; a refused resume shows those that differ;
///             chainMAC only in a keyed log)
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
/// Anyone can recompute a SHA-256 chain after editing a line; with a key
/// (`ResultsLogProtection.key`) H is an HMAC-SHA-256 instead, which nobody
/// without the key can redo, and a keyed log resumes only with its key (an
/// unkeyed log is refused when a key is given: stripping the key is a downgrade).
/// Version 1 logs (no chain) are refused unless `acceptUnchained`, since an edited
/// log relabelled as version 1 looks the same; what is appended to them is chained.
final class ResultsLog {
    static let format = "iba-cluster-results"
    static let version = 2
    /// Logs written before the hash chain; resumed only on request, their unchained lines unchecked.
    static let unchainedVersion = 1
    /// `chainMAC` of a keyed log's header.
    static let keyedChain = "hmac-sha256"

    struct Header: Codable, Equatable {
        var format: String
        var version: Int
        var fingerprint: ManifestFingerprint
        /// The options in words, not compared (the fingerprint is); absent in logs from before it.
        var details: [String: String]?
        /// `keyedChain` when the chain is an HMAC; absent in an unkeyed log.
        var chainMAC: String?
    }

    let url: URL
    private let descriptor: Int32
    private let chainer: Chainer
    /// Hash of the last line written (queued lines included): the next line's chain starts from it.
    private var lastChain: String
    /// Bytes in the file (committed lines): where the next committed line starts.
    private var committedBytes: UInt64
    /// Where each done example's payload is in the file, so a run writes its outputs from the log without
    /// holding every result (`storedPayload`); queued lines' places take effect when committed.
    private var locations = PayloadLocations()
    private var pendingLocations: [(index: Int, location: PayloadLocations.Location?)] = []
    private var reader: Int32 = -1

    /// Opens (creating, or with `resume` continuing) the log and returns what
    /// it already holds: done results by index (first record wins). Failed
    /// records are not returned: a resumed run retries them.
    static func open(_ url: URL, fingerprint: ManifestFingerprint, details: [String: String] = [:],
                     optionDefaults: [String: String] = [:], resume: Bool,
                     protection: ResultsLogProtection = ResultsLogProtection(),
                     log note: (String) -> Void = { _ in }) throws -> (ResultsLog, [Int: Data]) {
        let exists = FileManager.default.fileExists(atPath: url.path)
        if exists && !resume { throw ClusterError.resultsLogExists(url.path) }
        var contents = Contents()
        if exists {
            guard let bytes = FileManager.default.contents(atPath: url.path) else {
                throw ClusterError.resultsLog("cannot read \(url.path)")
            }
            contents = try read(bytes, expecting: fingerprint, details: details, optionDefaults: optionDefaults,
                                protection: protection, path: url.path)
            contents.notes.forEach(note)
        }
        let keepBytes = contents.intactBytes
        let needsHeader = keepBytes == 0
        let descriptor = Foundation.open(url.path, O_WRONLY | O_CREAT, 0o644)
        guard descriptor >= 0 else {
            throw ClusterError.resultsLog("cannot open \(url.path) for writing (errno \(errno))")
        }
        // Cut a torn last line so the next record starts on a line of its own.
        guard ftruncate(descriptor, off_t(keepBytes)) == 0, lseek(descriptor, 0, SEEK_END) >= 0 else {
            Foundation.close(descriptor)
            throw ClusterError.resultsLog("cannot truncate \(url.path) (errno \(errno))")
        }
        let log = ResultsLog(url: url, descriptor: descriptor, lastChain: contents.lastChain,
            chainer: Chainer(key: protection.key),
                             committedBytes: UInt64(keepBytes))
        log.locations = contents.locations
        if needsHeader {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let header = Header(
                format: format, version: version, fingerprint: fingerprint, details: details.isEmpty ? nil : details,
                chainMAC: protection.key == nil ? nil : keyedChain)
            guard let json = try? encoder.encode(header) else { throw ClusterError.resultsLog("cannot encode header") }
            log.queue(rest: json.dropFirst())  // the chain goes in front of the header's own keys
            try log.commit()
        }
        return (log, contents.done)
    }

    private init(url: URL, descriptor: Int32, lastChain: String, chainer: Chainer, committedBytes: UInt64) {
        self.url = url
        self.descriptor = descriptor
        self.lastChain = lastChain
        self.chainer = chainer
        self.committedBytes = committedBytes
    }

    deinit {
        try? commit()  // a run that throws (stopped, no workers) keeps what it had accepted
        Foundation.close(descriptor)
        if reader >= 0 { Foundation.close(reader) }
    }

    /// The done result of example `index` as committed: the last one appended by this process, else the
    /// first the log held when opened (as `open` returns it); nil when it has none (or it was revoked).
    func storedPayload(index: Int) throws -> Data? {
        guard let location = locations[index] else { return nil }
        if reader < 0 {
            reader = Foundation.open(url.path, O_RDONLY)
            guard reader >= 0 else {
                throw ClusterError.resultsLog("cannot open \(url.path) for reading (errno \(errno))")
            }
        }
        var bytes = Data(count: location.length)
        let read = bytes.withUnsafeMutableBytes { buffer -> Int in
            var done = 0
            while done < location.length {
                let n = pread(reader, buffer.baseAddress.map { $0 + done }, location.length - done,
                              off_t(location.offset) + off_t(done))
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                done += n
            }
            return done
        }
        guard read == location.length else {
            throw ClusterError.resultsLog("\(url.path) is shorter than the results it held (truncated under the run?)")
        }
        guard location.base64 else { return bytes }
        guard let decoded = Data(base64Encoded: bytes) else {
            throw ClusterError.resultsLog("\(url.path): the result of example \(index) no longer decodes "
                                          + "(changed under the run?)")
        }
        return decoded
    }

    /// `by`: the workers whose results these are (two when verified), as the coordinator names them.
    func append(index: Int, attempt: UInt32, result: WorkResult, by workers: [String] = []) throws {
        var line = Data("\"index\":\(index),\"attempt\":\(attempt),".utf8)
        let lineStart = committedBytes + UInt64(pending.count) + UInt64(Self.chainedPrefixBytes)
        switch result {
        case let .done(payload):
            line.append(Data("\"by\":".utf8))
            line.append(Self.encodeNames(workers))
            line.append(Data(",".utf8))
            if payloadsAreJSON ? Self.isSingleLine(payload) : Self.isSingleLineJSON(payload) {
                line.append(Data("\"payload\":".utf8))
                pendingLocations.append((index, .init(offset: lineStart + UInt64(line.count), length: payload.count,
                                                      base64: false)))
                line.append(payload)
            } else {
                line.append(Data("\"payloadBase64\":\"".utf8))
                let encoded = Data(payload.base64EncodedString().utf8)
                pendingLocations.append((index, .init(offset: lineStart + UInt64(line.count), length: encoded.count,
                                                      base64: true)))
                line.append(encoded)
                line.append(Data("\"".utf8))
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
        for index in revoked { pendingLocations.append((index, nil)) }
    }

    /// Queues `{"chain":H,` + rest + newline, H chained to the previous line.
    private func queue(rest: Data) {
        lastChain = chainer.chain(after: lastChain, rest: rest)
        pending.append(Data("\(Self.chainPrefix)\(lastChain)\",".utf8))
        pending.append(rest)
        pending.append(0x0A)
    }

    static let chainPrefix = "{\"chain\":\""
    /// `{"chain":"` + 64 hex digits + `",`
    static let chainedPrefixBytes = chainPrefix.utf8.count + 64 + 2

    /// A line's chain value: SHA-256, or HMAC-SHA-256 under the log's key, of the previous value and the line.
    struct Chainer {
        let key: [UInt8]?

        func chain(after previous: String, rest: some Sequence<UInt8>) -> String {
            guard let key else {
                var hash = SHA256()
                hash.add(Array(previous.utf8))
                hash.add(rest)
                return hash.finish()
            }
            var mac = HMACSHA256(key: key)
            mac.add(Array(previous.utf8))
            mac.add(rest)
            return mac.finish()
        }
    }

    /// Lines appended and not yet committed.
    var hasPending: Bool { !pending.isEmpty }

    /// Writes the queued lines and fsyncs them.
    func commit() throws {
        guard !pending.isEmpty else { return }
        defer {
            pending.removeAll(keepingCapacity: true)
            pendingLocations.removeAll(keepingCapacity: true)
        }
        try writeAll(pending)
        committedBytes += UInt64(pending.count)
        for (index, location) in pendingLocations { locations[index] = location }
    }

    /// The payloads appended come from a validator that decoded them as JSON (the evaluation's results), so
    /// only their being on one line is checked here, not their JSON again (a parse per result).
    var payloadsAreJSON = false

    /// A JSON array of names, as JSONEncoder writes it (it escapes "/" too); names of plain characters, as
    /// routing ids and worker names are, skip the encoder (one per result was a large part of its cost).
    static func encodeNames(_ names: [String]) -> Data {
        let plain = names.allSatisfy { name in
            name.utf8.allSatisfy { (0x21...0x7E).contains($0) && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\")
                && $0 != UInt8(ascii: "/") }
        }
        guard plain else { return (try? JSONEncoder().encode(names)) ?? Data("[]".utf8) }
        return Data(("[" + names.map { "\"\($0)\"" }.joined(separator: ",") + "]").utf8)
    }

    static func isSingleLine(_ payload: Data) -> Bool {
        // memchr, not Data's element iterator: this runs on every result's bytes.
        payload.withUnsafeBytes { bytes in
            guard let base = bytes.baseAddress, !bytes.isEmpty else { return false }
            return memchr(base, 0x0A, bytes.count) == nil && memchr(base, 0x0D, bytes.count) == nil
        }
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
        var locations = PayloadLocations()
        var intactBytes = 0
        var lastChain = ""
        var notes: [String] = []
    }

    /// Parses a whole log and checks its hash chain.
    static func read(_ contents: Data, expecting fingerprint: ManifestFingerprint, details: [String: String] = [:],
                     optionDefaults: [String: String] = [:],
                     protection: ResultsLogProtection = ResultsLogProtection(), path: String) throws -> Contents {
        let bytes = [UInt8](contents)
        var result = Contents()
        let lastNewline = bytes.lastIndex(of: 0x0A)
        let torn = bytes.count - (lastNewline.map { $0 + 1 } ?? 0)
        if torn > 0 {
            result.notes.append(
                "results log \(path): cut a torn last line (\(torn) bytes, a write interrupted by a crash)")
        }
        guard let lastNewline else { return result }  // not even a whole header
        let lines = bytes[..<lastNewline].split(separator: 0x0A, omittingEmptySubsequences: false)
        guard let headerLine = lines.first else { return result }
        var chain = ChainCheck(path: path, chainer: Chainer(key: protection.key))
        let header = try readHeader(headerLine, chain: &chain, expecting: fingerprint, details: details,
                                    optionDefaults: optionDefaults, protection: protection, path: path)
        if header.version == unchainedVersion {
            result.notes.append(
                "results log \(path) predates the hash chain (format \(unchainedVersion)), resumed as "
                    + "--accept-unchained-log asks: its \(lines.count - 1) result line(s) cannot be checked for "
                    + "edits; lines appended from now on are chained")
        }
        for (offset, line) in lines.enumerated().dropFirst() {
            let number = offset + 1
            try chain.check(line, number: number, chained: header.version != unchainedVersion)
            guard !line.isEmpty else { continue }  // only in an unchained version 1 log: a chained line is never empty
            if let revoked = parseRevocation(Data(line)) {
                for index in revoked {
                    result.done[index] = nil
                    result.locations[index] = nil
                }
                continue
            }
            guard let record = parseRecord(Data(line)) else {
                throw ClusterError.resultsLog(
                    "\(path) line \(number) is unreadable (only a torn last line is tolerated)")
            }
            if case let .done(payload) = record.result, result.done[record.index] == nil {
                result.done[record.index] = payload
                result.locations[record.index] = payloadLocation(line)
            }
        }
        result.intactBytes = lastNewline + 1
        result.lastChain = chain.last
        return result
    }

    private static func readHeader(
        _ line: ArraySlice<UInt8>, chain: inout ChainCheck, expecting fingerprint: ManifestFingerprint,
        details: [String: String], optionDefaults: [String: String],
        protection: ResultsLogProtection, path: String
    ) throws -> Header {
        let chained = line.starts(with: chainPrefix.utf8)
        let header = try? JSONDecoder().decode(Header.self, from: Data(line))
        guard let header, header.format == format else {
            throw ClusterError.resultsLog("\(path) does not start with an \(format) header")
        }
        guard header.version == (chained ? version : unchainedVersion) else {
            throw ClusterError.resultsLog(
                "\(path) has format version \(header.version)\(chained ? "" : " without a hash chain"), "
                    + "this build reads \(version) (and \(unchainedVersion)); delete the log to start over")
        }
        try checkProtection(header, protection, path: path)
        chain.keyed = header.chainMAC != nil
        try chain.check(line, number: 1, chained: chained)
        let differences = fingerprint.differences(from: header.fingerprint, optionDefaults: optionDefaults)
        guard differences.isEmpty else {
            throw ClusterError.manifestMismatch(
                differences.joined(separator: "; ") + detailsDifferences(header.details, details))
        }
        return header
    }

    /// Refuses a log older or weaker than asked for: format 1 (no chain) unless accepted by name, a keyed
    /// log without its key, an unkeyed one when a key is given (a forger would strip the key).
    private static func checkProtection(_ header: Header, _ protection: ResultsLogProtection, path: String) throws {
        if header.version == unchainedVersion {
            guard protection.acceptUnchained, protection.key == nil else {
                let keyed = protection.key == nil ? "" : " (and --log-key cannot apply to it)"
                throw ClusterError.resultsLog(
                    "\(path) is format \(unchainedVersion), older than the format \(version) this build "
                        + "writes: it has no hash chain, so its lines cannot be checked for edits, "
                        + "and an edited log relabelled as format \(unchainedVersion) looks the same\(keyed); "
                        + "delete it to start over, or pass "
                        + "--accept-unchained-log to resume it unchecked if you know where it came from")
            }
            return
        }
        switch (header.chainMAC, protection.key) {
        case (nil, nil), (keyedChain?, _?): return
        case (keyedChain?, nil):
            throw ClusterError.resultsLog(
                "\(path) was written with --log-key (an HMAC chain): pass the same key to resume it")
        case (nil, _?):
            throw ClusterError.resultsLog(
                "\(path) has an unkeyed SHA-256 chain, which anyone can recompute, but --log-key was "
                    + "given: a keyed log with its key stripped looks like this; delete it to start over, "
                    + "or resume without --log-key if it was written without one")
        case (let other?, _):
            throw ClusterError.resultsLog("\(path) has a chain of kind \(other); this build knows \(keyedChain)")
        }
    }

    /// What a refused resume adds to the fingerprint's hashes: the options that differ, in words, when the
    /// log has them (else a hint that a hash covers every option, and paths as written).
    static func detailsDifferences(_ logged: [String: String]?, _ now: [String: String]) -> String {
        guard let logged else {
            return now.isEmpty
                ? ""
                : " (this log predates readable options: a hash covers every evaluation option, and paths as written)"
        }
        let changed = ManifestFingerprint.changedEntries(logged: logged, now: now)
        return changed.isEmpty ? "" : " (\(changed))"
    }

    /// Follows the chain line by line. In a version 1 log, lines without a chain (written before it
    /// existed) are hashed whole into it until the first chained line; after that every line must be chained.
    struct ChainCheck {
        let path: String
        let chainer: Chainer
        /// The log's header names an HMAC chain (mismatches may mean another key).
        var keyed = false
        var last = ""
        private var chainStarted = false

        init(path: String, chainer: Chainer = Chainer(key: nil)) {
            self.path = path
            self.chainer = chainer
        }

        mutating func check(_ line: ArraySlice<UInt8>, number: Int, chained: Bool) throws {
            let hasChain = line.count >= chainedPrefixBytes && line.starts(with: chainPrefix.utf8)
            if !hasChain && !chainStarted && !chained {
                last = chainer.chain(after: last, rest: line)
                return
            }
            let start = line.startIndex
            guard hasChain, line[start + chainedPrefixBytes - 2] == UInt8(ascii: "\""),
                  line[start + chainedPrefixBytes - 1] == UInt8(ascii: ","),
                  let stored = String(bytes: line[(start + chainPrefix.utf8.count)..<(start + chainedPrefixBytes - 2)],
                                      encoding: .utf8) else {
                throw ClusterError.resultsLog(
                    "\(path) line \(number) has no chain hash (edited?): the log cannot be trusted; "
                        + "delete it to start over")
            }
            let expected = chainer.chain(after: last, rest: line[(start + chainedPrefixBytes)...])
            guard constantTimeEqual(stored, expected) else {
                let key = keyed ? ", or --log-key is not the key it was written with" : ""
                let what = number == 1 ? "line 1 (the header) was edited\(key)"
                    : "line \(number) does not follow line \(number - 1) "
                        + "(line \(number) edited, or lines removed or reordered\(key))"
                throw ClusterError.resultsLog(
                    "\(path) \(what): its chain hash is \(stored.prefix(12))…, the lines before it give "
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

    /// Where a done line's payload is in the file (`line`'s indices are file offsets): after `"payload":` up to
    /// the closing brace, or the string after `"payloadBase64":"`.
    static func payloadLocation(_ line: ArraySlice<UInt8>) -> PayloadLocations.Location? {
        let bytes = [UInt8](line)
        if let start = firstRange(of: Array("\"payload\":".utf8), in: bytes) {
            let from = start + "\"payload\":".utf8.count
            return .init(offset: UInt64(line.startIndex + from), length: bytes.count - 1 - from, base64: false)
        }
        guard let start = firstRange(of: Array("\"payloadBase64\":\"".utf8), in: bytes) else { return nil }
        let from = start + "\"payloadBase64\":\"".utf8.count
        return .init(offset: UInt64(line.startIndex + from), length: bytes.count - 2 - from, base64: true)
    }

    private static func firstRange(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count)
        where haystack[start..<start + needle.count].elementsEqual(needle) {
            return start
        }
        return nil
    }
}

/// Where each done example's payload is in the results log: offset, length and whether it is base64, packed
/// in one UInt64 (39 + 24 + 1 bits: a 512 GB log, payloads under 16 MiB; larger ones apart), so 400,000
/// results cost about 10 MB here instead of their bytes.
struct PayloadLocations {
    struct Location: Equatable {
        var offset: UInt64
        var length: Int
        var base64: Bool
    }

    private var packed: [Int: UInt64] = [:]
    private var large: [Int: Location] = [:]

    subscript(index: Int) -> Location? {
        get {
            if let value = packed[index] {
                return Location(offset: value >> 25, length: Int((value >> 1) & 0xFF_FFFF), base64: value & 1 != 0)
            }
            return large[index]
        }
        set {
            packed[index] = nil
            large[index] = nil
            guard let location = newValue else { return }
            if location.length < 1 << 24, location.offset < 1 << 39 {
                packed[index] = location.offset << 25 | UInt64(location.length) << 1 | (location.base64 ? 1 : 0)
            } else {
                large[index] = location
            }
        }
    }
}
