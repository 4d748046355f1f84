import Foundation

/// A Hugging Face sharded checkpoint: an index (`model.safetensors.index.json` or
/// `pytorch_model.bin.index.json`) whose `weight_map` names the shard file, beside the index, of every
/// tensor. Each shard is any format `CheckpointArchive` reads and stays mapped while this lives.
public final class ShardedCheckpoint: @unchecked Sendable {
    /// Tensor names in sorted order: every tensor the index maps and every one a shard holds besides.
    public let tensorNames: [String]
    /// The shard files, in the order the index first names them.
    public let shardURLs: [URL]
    /// Tensors a shard holds that the index's weight_map omits (read all the same), sorted.
    public let unindexedTensorNames: [String]
    /// The shard file name of each unindexed tensor.
    public let shardOfUnindexed: [String: String]
    private let shardOf: [String: CheckpointArchive]

    /// True for a file name Hugging Face gives to the index of a sharded checkpoint.
    public static func isIndexName(_ name: String) -> Bool { name.hasSuffix(".index.json") }

    /// The shard files an index names, in the order it first names them (without opening them).
    public static func shardFiles(index url: URL) throws -> [URL] {
        try readWeightMap(url).shards.map { url.deletingLastPathComponent().appendingPathComponent($0) }
    }

    /// Opens the index and every shard it names; each mapped tensor must be in its shard. A tensor a shard
    /// holds but the index omits is read from that shard too and listed in `unindexedTensorNames`: the
    /// files are what the model is (and what a cluster hashes), so an index that forgot the classifier must
    /// not turn into a random one. One held by two shards has no single value and is refused by name.
    public static func open(index url: URL) throws -> ShardedCheckpoint {
        let (weightMap, shards) = try readWeightMap(url)
        let folder = url.deletingLastPathComponent()
        var archives = [String: CheckpointArchive]()
        for shard in shards {
            let shardURL = folder.appendingPathComponent(shard)
            guard FileManager.default.fileExists(atPath: shardURL.path) else {
                throw CheckpointError.inFile(path: url.path, .badShardIndex(
                    "the index names the shard \(shard), which is not beside it; download every shard"))
            }
            archives[shard] = try CheckpointArchive.open(shardURL)
        }
        var shardOf = [String: CheckpointArchive]()
        for (tensor, shard) in weightMap {
            guard let archive = archives[shard], archive.info(tensor) != nil else {
                throw CheckpointError.inFile(path: url.path, .badShardIndex(
                    "tensor \(tensor) is mapped to \(shard) but that shard does not hold it"))
            }
            shardOf[tensor] = archive
        }
        var unindexed = [String: String]()
        for shard in shards {
            guard let archive = archives[shard] else { continue }
            for tensor in archive.tensorNames where weightMap[tensor] == nil {
                if let other = unindexed[tensor] {
                    throw CheckpointError.inFile(path: url.path, .badShardIndex(
                        "tensor \(tensor) is not in the index and both \(other) and \(shard) hold it; "
                        + "add it to the weight_map"))
                }
                unindexed[tensor] = shard
                shardOf[tensor] = archive
            }
        }
        return ShardedCheckpoint(shardOf: shardOf, shardURLs: shards.map { folder.appendingPathComponent($0) },
                                 unindexed: unindexed)
    }

    private init(shardOf: [String: CheckpointArchive], shardURLs: [URL], unindexed: [String: String]) {
        self.shardOf = shardOf
        self.shardURLs = shardURLs
        tensorNames = shardOf.keys.sorted()
        unindexedTensorNames = unindexed.keys.sorted()
        shardOfUnindexed = unindexed
    }

    /// `weight_map` (tensor name -> shard file name) and the distinct shard names in first-mention order.
    private static func readWeightMap(_ url: URL) throws -> (map: [String: String], shards: [String]) {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw CheckpointError.cannotOpen(path: url.path, reason: error.localizedDescription)
        }
        struct Index: Decodable { var weight_map: [String: String] }
        let index: Index
        do { index = try JSONDecoder().decode(Index.self, from: data) } catch {
            throw CheckpointError.inFile(
                path: url.path,
                .badShardIndex("not a JSON object with a \"weight_map\" of tensor name to shard file (\(error))"))
        }
        var shards = [String]()
        // Sorted by tensor name so the shard order is the same on every run (JSON objects have no order).
        for (tensor, shard) in index.weight_map.sorted(by: { $0.key < $1.key }) {
            // Shards live beside the index: a path would let an index reach any file on the machine.
            guard !shard.isEmpty, !shard.contains("/"), !shard.contains("\\"), shard != ".", shard != ".." else {
                throw CheckpointError.inFile(
                    path: url.path,
                    .badShardIndex(
                        "tensor \(tensor) names the shard \"\(shard)\", not a plain file name beside the index"))
            }
            if !shards.contains(shard) { shards.append(shard) }
        }
        guard !shards.isEmpty else {
            throw CheckpointError.inFile(path: url.path, .badShardIndex("the weight_map is empty"))
        }
        return (index.weight_map, shards)
    }

    public func info(_ name: String) -> TensorInfo? { shardOf[name]?.info(name) }

    public func float32(_ name: String) throws -> [Float] {
        guard let archive = shardOf[name] else { throw CheckpointError.tensorNotFound(name) }
        return try archive.float32(name)
    }

    public func float32Storage(_ name: String) -> UnsafeBufferPointer<Float>? { shardOf[name]?.float32Storage(name) }
}
