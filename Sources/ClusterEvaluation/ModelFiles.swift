import Foundation
import BERT
import Cluster
import Evaluation

/// The files a model reference resolves to, found once: what the manifest's model hash covers and what
/// --ship-model serves.
struct ModelFiles {
    var checkpoint: URL
    var config: URL?
    var vocab: URL?

    init(_ model: ModelReference) throws {
        var location = model.location
        location.requireVocabulary = false
        (checkpoint, config, vocab) = try ModelLoader.resolve(location)
    }

    /// The checkpoint's content hash (the manifest's model hash).
    func checkpointHash() throws -> String { try fileContentHash(checkpoint) }

    /// The shipment of these files (--ship-model): checkpoint, config and vocabulary under plain names,
    /// keyed by their hashes.
    func shipping() throws -> ModelShipping {
        var names = ShippedModelNames(checkpoint: "checkpoint-" + FileShipment.plainName(checkpoint.lastPathComponent))
        var entries = [(url: checkpoint, name: names.checkpoint)]
        if let config {
            names.config = "config.json"
            entries.append((config, "config.json"))
        }
        if let vocab {
            let name = vocab.lastPathComponent.hasSuffix(".json") ? "tokenizer.json" : "vocab.txt"
            names.vocab = name
            entries.append((vocab, name))
        }
        let files = try entries.map { url, name in
            let size = (try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.uint64Value ?? 0
            return FileShipment.File(name: name, size: size, hash: try fileContentHash(url))
        }
        let key = contentHash(Data(files.map { "\($0.name)\u{0}\($0.size)\u{0}\($0.hash)\n" }.joined().utf8))
            .replacingOccurrences(of: ":", with: "-")
        return ModelShipping(shipment: FileShipment(key: key, files: files), files: entries.map(\.url), names: names)
    }
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
