/// Everything that can go wrong turning files into a runnable classifier.
public enum BertError: Error, CustomStringConvertible {
    case noModel(path: String, hint: String)
    case badConfig(path: String, reason: String)
    case missingTensor(name: String, path: String)
    case shapeMismatch(name: String, expected: [Int], found: [Int])
    case cannotInferArchitecture(reason: String)
    case noVocabulary(path: String)
    case invalidInput(String)

    public var description: String {
        switch self {
        case let .noModel(path, hint): return "no model at \(path): \(hint)"
        case let .badConfig(path, reason): return "cannot read the config \(path): \(reason)"
        case let .missingTensor(name, path):
            return "the checkpoint \(path) has no tensor \(name) (a BERT classifier needs it)"
        case let .shapeMismatch(name, expected, found):
            return "tensor \(name) has shape \(found) but the config implies \(expected): is --config the right one?"
        case let .cannotInferArchitecture(reason):
            return "cannot infer the architecture from the tensors: \(reason); pass --config FILE"
        case let .noVocabulary(path):
            return "no vocabulary found next to \(path) (vocab.txt or tokenizer.json): pass --vocab FILE"
        case let .invalidInput(reason): return "invalid model input: \(reason)"
        }
    }
}
