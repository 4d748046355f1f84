import Foundation

/// What a results log was written for, read from its header without opening the log for writing: the
/// fingerprint `--resume` compares (model hash, data hash, options, seed) and the options in words. Merging
/// the parts of a job compares the parts' identities with it.
public struct ResultsLogIdentity: Sendable, Equatable {
    public var modelHash: String
    public var dataHash: String
    public var options: [String: String]
    public var seed: UInt64
    /// The settings in words (absent in logs from before them: empty).
    public var details: [String: String]

    /// Reads the header (line 1) of the log at `url`; only that line is read, however long the log.
    public static func read(_ url: URL) throws -> ResultsLogIdentity {
        guard let handle = FileHandle(forReadingAtPath: url.path) else {
            throw ClusterError.resultsLog("cannot read \(url.path)")
        }
        defer { try? handle.close() }
        var line = Data()
        while line.count < maxHeaderBytes {
            guard let chunk = try? handle.read(upToCount: 64 << 10), !chunk.isEmpty else { break }
            if let newline = chunk.firstIndex(of: 0x0A) {
                line.append(chunk[chunk.startIndex..<newline])
                return try decode(line, path: url.path)
            }
            line.append(chunk)
        }
        throw ClusterError.resultsLog("\(url.path) has no complete header line")
    }

    /// A header holds the settings in words: an estimator's statistics are hashed there, so 1 MiB is plenty.
    static let maxHeaderBytes = 1 << 20

    static func decode(_ line: Data, path: String) throws -> ResultsLogIdentity {
        guard let header = try? JSONDecoder().decode(ResultsLog.Header.self, from: line),
              header.format == ResultsLog.format else {
            throw ClusterError.resultsLog("\(path) does not start with an \(ResultsLog.format) header")
        }
        let fingerprint = header.fingerprint
        return ResultsLogIdentity(modelHash: fingerprint.modelHash, dataHash: fingerprint.dataHash,
                                  options: fingerprint.options, seed: fingerprint.seed, details: header.details ?? [:])
    }

    /// What differs from `other`, in words ("seed 0 vs 4", "options methods: iba vs iba,ig"), the settings that
    /// differ named from the details; `optionDefaults` as in `openResultsLog`. Empty when the two are one job.
    public func differences(from other: ResultsLogIdentity, optionDefaults: [String: String] = [:]) -> [String] {
        var fields = [String]()
        if modelHash != other.modelHash { fields.append("model hash \(modelHash) vs \(other.modelHash)") }
        if dataHash != other.dataHash { fields.append("data hash \(dataHash) vs \(other.dataHash)") }
        for key in Set(options.keys).union(other.options.keys).sorted() where options[key] != other.options[key] {
            let shown = { (value: String?) in value ?? optionDefaults[key] ?? "unset" }
            fields.append("\(key) \(shown(options[key])) vs \(shown(other.options[key]))")
        }
        if seed != other.seed { fields.append("seed \(seed) vs \(other.seed)") }
        let settings = Set(details.keys).union(other.details.keys).sorted().filter { details[$0] != other.details[$0] }
        if !settings.isEmpty, options["settings"] != other.options["settings"] {
            let named = settings.map { "\($0): \(details[$0] ?? "unset") vs \(other.details[$0] ?? "unset")" }
            fields.append("settings " + named.joined(separator: ", "))
        }
        return fields
    }
}
