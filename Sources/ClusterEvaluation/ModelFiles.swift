import Foundation
import BERT
import Cluster
import Evaluation

/// The files a model reference resolves to, found once: what the model identity covers and what
/// --ship-model serves.
struct ModelFiles {
    var checkpoint: URL
    /// The checkpoint, or a sharded checkpoint's index followed by its shards.
    var weights: [URL]
    var config: URL?
    var vocab: URL?

    init(_ model: ModelReference) throws {
        var location = model.location
        location.requireVocabulary = false
        (checkpoint, config, vocab) = try ModelLoader.resolve(location)
        weights = try ModelLoader.weightFiles(checkpoint: checkpoint)
    }

    /// What a replica computes with: every weight file, the effective architecture and the tokenizer.
    func identity(_ model: ModelReference) throws -> ModelIdentity {
        ModelIdentity(weights: try weights.map(fileContentHash),
                      config: try config.map(fileContentHash),
                      architecture: try model.readArchitecture().architecture,
                      numLabels: model.numLabels, headSize: model.headSize,
                      vocabulary: try vocab.map(fileContentHash),
                      // ModelLoader builds every tokenizer with BertTokenizer's default, lower-casing.
                      lowercase: true)
    }

    /// The shipment of these files (--ship-model): the checkpoint (or index) under a plain name, a sharded
    /// checkpoint's shards under the names its index gives them (the loader looks for them beside the
    /// index), config and vocabulary; keyed by their hashes.
    func shipping() throws -> ModelShipping {
        var names = ShippedModelNames(checkpoint: "checkpoint-" + FileShipment.plainName(checkpoint.lastPathComponent))
        var entries = [(url: checkpoint, name: names.checkpoint)]
        for shard in weights.dropFirst() {
            let name = shard.lastPathComponent
            guard FileShipment.plainName(name) == name,
                  shard.deletingLastPathComponent().standardizedFileURL
                      == checkpoint.deletingLastPathComponent().standardizedFileURL else {
                throw ClusterEvaluationError.payload("--ship-model: the shard \(name) named by \(checkpoint.path) "
                    + "is not a plain file name beside its index, so it cannot be shipped")
            }
            entries.append((shard, name))
        }
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
            let size =
                (try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.uint64Value ?? 0
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
}

/// What makes two copies of a model compute the same records: the content of every weight file, the
/// effective architecture (config.json's content, or the configuration inferred from tensor shapes, and the
/// --num-labels/--head-size that shape it), the vocabulary and the tokenizer's settings. Its `hash` is the
/// manifest's model hash; the job's payload carries the parts so a worker can say which one differs.
public struct ModelIdentity: Codable, Sendable, Equatable {
    /// Content hashes of the checkpoint, or of a sharded checkpoint's index and then its shards.
    public var weights: [String]
    /// config.json's content hash; nil when the architecture was inferred.
    public var config: String?
    public var architecture: ModelArchitecture
    public var numLabels: Int?
    public var headSize: Int
    public var vocabulary: String?
    public var lowercase: Bool

    /// The manifest's model hash: one hash over every part.
    public var hash: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Encoding strings, integers and booleans cannot fail; an empty fallback would still differ from any
        // real identity.
        return contentHash((try? encoder.encode(self)) ?? Data())
    }

    /// Why a copy with identity `other` is not this model, one phrase per differing part (empty when none).
    public func differences(from other: ModelIdentity) -> [String] {
        var parts = [String]()
        if weights != other.weights {
            parts.append(
                weights.count == other.weights.count
                    ? "its weights differ"
                    : "its weights are \(other.weights.count) file(s), the coordinator's \(weights.count)")
        }
        if architecture != other.architecture {
            parts.append("its architecture is \(other.architecture.summary), the coordinator's \(architecture.summary)")
        } else if config != other.config {
            parts.append(
                other.config == nil
                    ? "it has no config.json"
                    : config == nil
                        ? "it has a config.json the coordinator has not"
                        : "its config.json differs")
        }
        if numLabels != other.numLabels || headSize != other.headSize {
            parts.append("its --num-labels/--head-size differ")
        }
        if vocabulary != other.vocabulary {
            parts.append(other.vocabulary == nil ? "it has no vocabulary" : "its vocabulary differs")
        }
        if lowercase != other.lowercase { parts.append("its tokenizer lower-cases differently") }
        return parts
    }
}
