import Foundation
import Checkpoint
import Tokenizer

extension CheckpointArchive: TensorSource {
    public func shape(of name: String) -> [Int]? { info(name)?.shape }
    public func isFloatingPoint(_ name: String) -> Bool { info(name)?.dtype.isFloatingPoint ?? false }
}

extension ShardedCheckpoint: TensorSource {
    public func shape(of name: String) -> [Int]? { info(name)?.shape }
    public func isFloatingPoint(_ name: String) -> Bool { info(name)?.dtype.isFloatingPoint ?? false }
}

/// How to find a model: `--model PATH` plus the optional overrides of the command line.
public struct ModelLocation: Sendable {
    public var path: URL
    public var config: URL?
    public var vocab: URL?
    /// Label count for a checkpoint without a classifier (an encoder-only checkpoint).
    public var numLabels: Int?
    /// Head size used when the architecture is inferred from shapes.
    public var headSize: Int = 64
    public var requireVocabulary = true

    public init(path: URL, config: URL? = nil, vocab: URL? = nil, numLabels: Int? = nil) {
        self.path = path; self.config = config; self.vocab = vocab; self.numLabels = numLabels
    }
}

public enum ModelLoader {
    /// Hugging Face's weight file names in a model directory, in the order they are preferred.
    static let weightFileNames = ["model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                                  "pytorch_model.bin.index.json", "model.bin", "pytorch_model.pt"]

    /// The checkpoint file (or a sharded checkpoint's index), config and vocabulary a location resolves to.
    /// A single file uses a config.json and vocab.txt (or tokenizer.json) beside it, as a directory does.
    public static func resolve(_ location: ModelLocation) throws -> (checkpoint: URL, config: URL?, vocab: URL?) {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: location.path.path, isDirectory: &isDirectory) else {
            throw BertError.noModel(
                path: location.path.path,
                hint: "no such file or directory; pass --model with a Hugging Face directory or a checkpoint file")
        }
        let folder = isDirectory.boolValue ? location.path : location.path.deletingLastPathComponent()
        var checkpoint = location.path
        if isDirectory.boolValue {
            guard let name = weightFileNames.first(where: {
                fm.fileExists(atPath: folder.appendingPathComponent($0).path)
            }) else {
                if let foreign = ForeignFormat.directoryFileNames.first(where: {
                    fm.fileExists(atPath: folder.appendingPathComponent($0.name).path)
                }) {
                    throw CheckpointError.inFile(
                        path: folder.appendingPathComponent(foreign.name).path, .foreignFormat(foreign.format))
                }
                throw BertError.noModel(
                    path: location.path.path,
                    hint: "the directory has no model.safetensors or pytorch_model.bin "
                        + "(nor a sharded checkpoint's .index.json)")
            }
            checkpoint = folder.appendingPathComponent(name)
        }
        func beside(_ name: String) -> URL? {
            let url = folder.appendingPathComponent(name)
            return fm.fileExists(atPath: url.path) ? url : nil
        }
        let config = location.config ?? beside("config.json")
        let vocab = location.vocab ?? beside("vocab.txt") ?? beside("tokenizer.json")
        return (checkpoint, config, vocab)
    }

    /// Every file the weights are read from: the checkpoint, or a sharded checkpoint's index and its shards
    /// (what a content hash or a shipment of the weights must cover).
    public static func weightFiles(checkpoint: URL) throws -> [URL] {
        guard ShardedCheckpoint.isIndexName(checkpoint.lastPathComponent) else { return [checkpoint] }
        return [checkpoint] + (try ShardedCheckpoint.shardFiles(index: checkpoint))
    }

    /// The tensors of a checkpoint file or of a sharded checkpoint's index; a TensorFlow, Flax or ONNX
    /// file is named as such.
    public static func openWeights(_ checkpoint: URL) throws -> TensorSource {
        if ShardedCheckpoint.isIndexName(checkpoint.lastPathComponent) {
            return try ShardedCheckpoint.open(index: checkpoint)
        }
        do {
            return try CheckpointArchive.open(checkpoint)
        } catch let error as CheckpointError {
            if case .unrecognizedFormat = error.underlying,
               let foreign = ForeignFormat.byExtension(checkpoint.lastPathComponent) {
                throw CheckpointError.inFile(path: checkpoint.path, .foreignFormat(foreign))
            }
            throw error
        }
    }

    /// Loads a classifier from a Hugging Face directory, a safetensors file or a PyTorch state dict.
    /// The weights and the architecture are checked before the vocabulary, so the first error is the true one.
    public static func load(_ location: ModelLocation) throws -> BertModel {
        let (checkpointURL, configURL, vocabURL) = try resolve(location)
        let weights = try openWeights(checkpointURL)
        var config: BertConfig
        var report = LoadReport()
        if let configURL {
            config = try BertConfig.load(configURL)
        } else {
            config = try ParameterNames.inferConfig(from: weights, headSize: location.headSize)
            report.architectureInferred = true
        }
        let hasClassifier = weights.tensorNames.contains { ParameterNames.canonical($0) == "classifier.weight" }
        if !hasClassifier, let n = location.numLabels, n != config.numLabels {
            config.numLabels = n
            config.labelNames = nil
        }
        try config.validate(source: configURL?.path ?? checkpointURL.path)
        if let warning = config.labelNamesWarning { report.warnings.append(warning) }
        if report.architectureInferred {
            // The head count cannot be read from any shape: say what was assumed and how to correct it.
            report.warnings.append(
                "no config.json beside \(checkpointURL.lastPathComponent): the architecture was inferred from "
                    + "the tensor shapes, assuming heads of size \(location.headSize): "
                    + "\(config.architecture(inferred: true).summary). "
                    + "If that is wrong (e.g. MiniLM has 12 heads of size 32), pass --config config.json "
                    + "or --head-size N")
        }
        var tokenizer: BertTokenizer?
        if let vocabURL {
            let vocabulary = vocabURL.lastPathComponent.hasSuffix(".json")
                ? try Vocabulary(tokenizerJSON: vocabURL) : try Vocabulary(vocabTxt: vocabURL)
            tokenizer = try BertTokenizer(vocabulary: vocabulary)
        } else if location.requireVocabulary {
            throw BertError.noVocabulary(path: location.path.path)
        }
        if let tokenizer, tokenizer.vocabulary.count > config.vocabSize {
            throw BertError.badConfig(
                path: vocabURL?.path ?? "",
                reason: "the vocabulary has \(tokenizer.vocabulary.count) tokens but the model's embeddings have "
                    + "\(config.vocabSize) rows")
        }
        if let sharded = weights as? ShardedCheckpoint, !sharded.unindexedTensorNames.isEmpty {
            let named = sharded.unindexedTensorNames.map { "\($0) (\(sharded.shardOfUnindexed[$0] ?? "?"))" }
            report.warnings.append("the index \(checkpointURL.lastPathComponent) omits \(named.count) tensor(s) "
                + "its shards hold, read from those shards: \(named.joined(separator: ", ")); "
                + "add them to its weight_map")
        }
        let parameters = try BertParameters(
            config: config, source: weights, sourcePath: checkpointURL.path, report: &report)
        return BertModel(parameters: parameters, tokenizer: tokenizer, source: checkpointURL.path, loadReport: report)
    }
}
