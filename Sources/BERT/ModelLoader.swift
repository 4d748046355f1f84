import Foundation
import Checkpoint
import Tokenizer

extension CheckpointArchive: TensorSource {
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
    static let weightFileNames = ["model.safetensors", "pytorch_model.bin", "model.bin", "pytorch_model.pt"]

    /// The checkpoint file, config and vocabulary a location resolves to.
    public static func resolve(_ location: ModelLocation) throws -> (checkpoint: URL, config: URL?, vocab: URL?) {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: location.path.path, isDirectory: &isDirectory) else {
            throw BertError.noModel(path: location.path.path, hint: "no such file or directory; pass --model with a Hugging Face directory or a checkpoint file")
        }
        let folder = isDirectory.boolValue ? location.path : location.path.deletingLastPathComponent()
        var checkpoint = location.path
        if isDirectory.boolValue {
            guard let name = weightFileNames.first(where: { fm.fileExists(atPath: folder.appendingPathComponent($0).path) }) else {
                throw BertError.noModel(path: location.path.path, hint: "the directory has no model.safetensors or pytorch_model.bin")
            }
            checkpoint = folder.appendingPathComponent(name)
        }
        func beside(_ name: String) -> URL? {
            let url = folder.appendingPathComponent(name)
            return fm.fileExists(atPath: url.path) ? url : nil
        }
        // A single file only picks up a config/vocab beside it when it is the folder's only model file.
        let config = location.config ?? (isDirectory.boolValue ? beside("config.json") : nil)
        let vocab = location.vocab ?? beside("vocab.txt") ?? beside("tokenizer.json")
        return (checkpoint, config, vocab)
    }

    /// Loads a classifier from a Hugging Face directory, a safetensors file or a PyTorch state dict.
    public static func load(_ location: ModelLocation) throws -> BertModel {
        let (checkpointURL, configURL, vocabURL) = try resolve(location)
        var tokenizer: BertTokenizer?
        if let vocabURL {
            let vocabulary = vocabURL.lastPathComponent.hasSuffix(".json")
                ? try Vocabulary(tokenizerJSON: vocabURL) : try Vocabulary(vocabTxt: vocabURL)
            tokenizer = try BertTokenizer(vocabulary: vocabulary)
        } else if location.requireVocabulary {
            throw BertError.noVocabulary(path: location.path.path)
        }
        let archive = try CheckpointArchive.open(checkpointURL)
        var config: BertConfig
        if let configURL {
            config = try BertConfig.load(configURL)
        } else {
            config = try ParameterNames.inferConfig(from: archive, headSize: location.headSize)
        }
        let hasClassifier = archive.tensorNames.contains { ParameterNames.canonical($0) == "classifier.weight" }
        if !hasClassifier, let n = location.numLabels { config.numLabels = n }
        try config.validate(source: configURL?.path ?? checkpointURL.path)
        if let tokenizer, tokenizer.vocabulary.count > config.vocabSize {
            throw BertError.badConfig(path: vocabURL?.path ?? "", reason: "the vocabulary has \(tokenizer.vocabulary.count) tokens but the model's embeddings have \(config.vocabSize) rows")
        }
        var report = LoadReport()
        let parameters = try BertParameters(config: config, source: archive, sourcePath: checkpointURL.path, report: &report)
        return BertModel(parameters: parameters, tokenizer: tokenizer, source: checkpointURL.path, loadReport: report)
    }
}
