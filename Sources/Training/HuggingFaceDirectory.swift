import Foundation
import BERT
import Checkpoint

/// Writes `model` as a Hugging Face `BertForSequenceClassification` directory that transformers'
/// `from_pretrained` and our `ModelLoader` both load: config.json, model.safetensors (float32,
/// `bert.`-prefixed encoder and pooler keys, bare `classifier.*`), vocab.txt and tokenizer_config.json.
/// `labelNames` (one per label) fill id2label/label2id; default the model's own names, else LABEL_i.
public func saveHuggingFaceDirectory(_ model: BertModel, to directory: URL, labelNames: [String]? = nil) throws {
    guard let tokenizer = model.tokenizer else { throw TrainingError.noTokenizer }
    let config = model.config
    let names = labelNames ?? config.labelNames ?? (0..<config.numLabels).map { "LABEL_\($0)" }
    guard names.count == config.numLabels else {
        throw TrainingError.invalidOptions("\(names.count) label names for a model with \(config.numLabels) labels")
    }
    guard Set(names).count == names.count else { throw TrainingError.invalidOptions("label names must be distinct") }
    do {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    } catch {
        throw TrainingError.cannotWrite(path: directory.path, reason: error.localizedDescription)
    }

    var tensors = [String: (shape: [Int], values: [Float])]()
    for tensor in model.parameters.exportTensors() {
        tensors[huggingFaceKey(tensor.name)] = (tensor.shape, tensor.values)
    }
    // transformers refuses safetensors files whose metadata lacks the framework.
    let weightsURL = directory.appendingPathComponent("model.safetensors")
    do {
        try SafetensorsWriter.write(tensors, to: weightsURL, dtype: .float32, metadata: ["format": "pt"])
    } catch {
        throw TrainingError.cannotWrite(path: weightsURL.path, reason: "\(error)")
    }

    var vocabulary = ""
    for id in 0..<tokenizer.vocabulary.count {
        guard let token = tokenizer.vocabulary.token(id), !token.contains("\n"), !token.contains("\r") else {
            throw TrainingError.cannotWrite(path: "vocab.txt", reason: "token id \(id) cannot be written as one line")
        }
        vocabulary += token + "\n"
    }
    try write(Data(vocabulary.utf8), to: directory.appendingPathComponent("vocab.txt"))
    try write(try json(configDictionary(config, labelNames: names)),
              to: directory.appendingPathComponent("config.json"))
    let tokenizerConfig: [String: Any] = [
        "tokenizer_class": "BertTokenizer", "do_lower_case": tokenizer.lowercase,
        "model_max_length": config.maxPositions,
        "unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]", "cls_token": "[CLS]", "mask_token": "[MASK]",
    ]
    try write(try json(tokenizerConfig), to: directory.appendingPathComponent("tokenizer_config.json"))
}

/// The checkpoint key of a canonical parameter name in a `BertForSequenceClassification` state dict.
public func huggingFaceKey(_ canonical: String) -> String {
    canonical.hasPrefix("classifier.") ? canonical : "bert." + canonical
}

/// BertConfig's own keys plus what transformers' BertConfig expects of a classifier's config.json.
func configDictionary(_ config: BertConfig, labelNames: [String]) throws -> [String: Any] {
    let encoded = try JSONEncoder().encode(config)
    guard var dictionary = try JSONSerialization.jsonObject(with: encoded) as? [String: Any] else {
        throw TrainingError.cannotWrite(path: "config.json", reason: "BertConfig did not encode as a JSON object")
    }
    dictionary["id2label"] = Dictionary(
        uniqueKeysWithValues: labelNames.enumerated().map { ("\($0.offset)", $0.element) })
    dictionary["label2id"] = Dictionary(uniqueKeysWithValues: labelNames.enumerated().map { ($0.element, $0.offset) })
    let defaults: [String: Any] = [
        "pad_token_id": 0, "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1, "initializer_range": 0.02,
        "position_embedding_type": "absolute", "problem_type": "single_label_classification", "use_cache": true,
        "classifier_dropout": NSNull(),
    ]
    for (key, value) in defaults where dictionary[key] == nil { dictionary[key] = value }
    // A Float layer_norm_eps widens to 9.9999999600419720e-13 through JSONSerialization; write the decimal.
    dictionary["layer_norm_eps"] = Double("\(config.layerNormEps)") ?? Double(config.layerNormEps)
    return dictionary
}

private func json(_ object: [String: Any]) throws -> Data {
    do {
        return try JSONSerialization.data(
            withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    } catch {
        throw TrainingError.cannotWrite(path: "config.json", reason: "\(error)")
    }
}

private func write(_ data: Data, to url: URL) throws {
    do { try data.write(to: url, options: .atomic) } catch {
        throw TrainingError.cannotWrite(path: url.path, reason: error.localizedDescription)
    }
}
