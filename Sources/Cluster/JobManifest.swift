import Foundation

/// What every worker must agree on before computing: sent once per worker
/// session. `payload` is opaque to this module (model path, method options…).
public struct JobManifest: Codable, Sendable, Equatable {
    public var runID: String
    public var modelHash: String
    public var dataHash: String
    public var options: [String: String]
    public var seed: UInt64
    public var payload: Data
    /// Files the coordinator streams to workers that lack the model (`--ship-model`); nil = none.
    public var shipment: FileShipment?

    public init(runID: String, modelHash: String, dataHash: String, options: [String: String] = [:],
                seed: UInt64, payload: Data = Data(), shipment: FileShipment? = nil) {
        self.runID = runID
        self.modelHash = modelHash
        self.dataHash = dataHash
        self.options = options
        self.seed = seed
        self.payload = payload
        self.shipment = shipment
    }

    /// Encoded form on the wire (sorted keys: the same manifest gives the same bytes,
    /// which lets a worker recognise a manifest it has already set up).
    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do { return try encoder.encode(self) } catch {
            throw ClusterError.invalidOption("manifest cannot be encoded: \(error)")
        }
    }

    static func decode(_ data: Data) throws -> JobManifest {
        let manifest: JobManifest
        do { manifest = try JSONDecoder().decode(JobManifest.self, from: data) } catch {
            throw ClusterError.malformedMessage("manifest is not a JobManifest: \(error)")
        }
        try manifest.shipment?.validate()  // names become paths on the worker: check before any use
        return manifest
    }

    /// The part of the manifest that decides the numbers; a results log may be
    /// resumed only under the same fingerprint (the run id may differ).
    var fingerprint: ManifestFingerprint {
        ManifestFingerprint(modelHash: modelHash, dataHash: dataHash, options: options, seed: seed)
    }
}

struct ManifestFingerprint: Codable, Equatable {
    var modelHash: String
    var dataHash: String
    var options: [String: String]
    var seed: UInt64

    /// Human-readable list of the fields that differ from `other`; `optionDefaults` says what an option
    /// left out of the options stands for (the job leaves its defaults out so older logs still match).
    func differences(from other: ManifestFingerprint, optionDefaults: [String: String] = [:]) -> [String] {
        var fields: [String] = []
        if modelHash != other.modelHash { fields.append("model hash \(other.modelHash) vs \(modelHash)") }
        if dataHash != other.dataHash { fields.append("data hash \(other.dataHash) vs \(dataHash)") }
        if options != other.options {
            let changed = Self.changedEntries(logged: other.options, now: options, defaults: optionDefaults)
            fields.append("options " + changed)
        }
        if seed != other.seed { fields.append("seed \(other.seed) vs \(seed)") }
        return fields
    }

    /// "key: logged value in the log, value now" for each key whose value differs, sorted by key.
    static func changedEntries(logged: [String: String], now: [String: String],
                               defaults: [String: String] = [:]) -> String {
        func shown(_ value: String?, _ key: String) -> String { value ?? defaults[key] ?? "unset" }
        return Set(logged.keys).union(now.keys).filter { logged[$0] != now[$0] }.sorted()
            .map { "\($0): \(shown(logged[$0], $0)) in the log, \(shown(now[$0], $0)) now" }
            .joined(separator: ", ")
    }
}
