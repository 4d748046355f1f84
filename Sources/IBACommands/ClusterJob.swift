import Foundation
import BERT
import Cluster
import Evaluation

/// What a worker needs to compute the run's examples: the settings, the selected examples themselves
/// (so workers need no copy of the dataset) and where the coordinator found the model.
struct ClusterJob: Codable {
    var settings: EvaluationSettings
    var examples: [Int: LabeledExample]
    var modelPath: String
    var config: String?
    var vocab: String?
    var numLabels: Int?
    var headSize: Int
    /// With --ship-model: the shipped files' names (the checkpoint, config and vocabulary in the cache directory).
    var shipped: ShippedModelNames?
}

struct ShippedModelNames: Codable {
    var checkpoint: String
    var config: String?
    var vocab: String?
}

/// A model offered to workers (--ship-model): the shipment the manifest lists, the local files in its order,
/// and the names the worker loads them by.
struct ModelShipping {
    var shipment: FileShipment
    var files: [URL]
    var names: ShippedModelNames
    /// The checkpoint's content hash (the manifest's model hash).
    var checkpointHash: String { shipment.files[0].hash }
}

/// The shipment of a model (--ship-model): checkpoint, config and vocabulary under plain names, keyed by their hashes.
func modelShipment(path: URL, config: String?, vocab: String?) throws -> ModelShipping {
    let resolved = try modelFiles(path, config: config, vocab: vocab)
    var names = ShippedModelNames(checkpoint: "checkpoint-" + FileShipment.plainName(resolved.checkpoint.lastPathComponent))
    var entries = [(url: resolved.checkpoint, name: names.checkpoint)]
    if let url = resolved.config {
        names.config = "config.json"
        entries.append((url, "config.json"))
    }
    if let url = resolved.vocab {
        let name = url.lastPathComponent.hasSuffix(".json") ? "tokenizer.json" : "vocab.txt"
        names.vocab = name
        entries.append((url, name))
    }
    let files = try entries.map { url, name in
        let size = (try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.uint64Value ?? 0
        return FileShipment.File(name: name, size: size, hash: try fileContentHash(url))
    }
    let key = contentHash(Data(files.map { "\($0.name)\u{0}\($0.size)\u{0}\($0.hash)\n" }.joined().utf8))
        .replacingOccurrences(of: ":", with: "-")
    return ModelShipping(shipment: FileShipment(key: key, files: files), files: entries.map(\.url), names: names)
}

/// The checkpoint, config and vocabulary files a model location resolves to.
func modelFiles(_ path: URL, config: String?, vocab: String?) throws -> (checkpoint: URL, config: URL?, vocab: URL?) {
    var location = ModelLocation(path: path)
    location.config = config.map { URL(fileURLWithPath: $0) }
    location.vocab = vocab.map { URL(fileURLWithPath: $0) }
    location.requireVocabulary = false
    return try ModelLoader.resolve(location)
}

/// The checkpoint file a model location resolves to (what the manifest's model hash covers).
func checkpointFile(_ path: URL, config: String?, vocab: String?) throws -> URL {
    try modelFiles(path, config: config, vocab: vocab).checkpoint
}

/// Executable that sits next to the running one (iba-worker beside iba-coordinator).
func siblingExecutable(_ name: String) -> String {
    URL(fileURLWithPath: CommandLine.arguments.first ?? name).resolvingSymlinksInPath()
        .deletingLastPathComponent().appendingPathComponent(name).path
}

/// Records from the coordinator's results in selection order (examples without a result are failed).
func records(from results: [Int: WorkResult], plan: EvaluationPlan) -> [ExampleRecord] {
    plan.indices.map { index in
        let label = plan.examples[index].label
        switch results[index] {
        case .done(let data)?:
            if let record = try? JSONDecoder().decode(ExampleRecord.self, from: data), record.index == index { return record }
            return .failure(index: index, target: label, reason: "a worker returned an unreadable record")
        case .failed(let reason)?:
            return .failure(index: index, target: label, reason: reason)
        case nil:
            return .failure(index: index, target: label, reason: "no result")
        }
    }
}
