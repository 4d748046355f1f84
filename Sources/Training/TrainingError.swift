/// Everything that can stop a fine-tuning run or the saving of its result.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    case invalidOptions(String)
    case noTrainingData
    case labelOutOfRange(index: Int, label: Int, numLabels: Int)
    case noTokenizer
    case nonFiniteLoss(step: Int)
    case cannotWrite(path: String, reason: String)
    case outputOverlapsInput(output: String, input: String)

    public var description: String {
        switch self {
        case let .invalidOptions(reason): return "invalid fine-tuning options: \(reason)"
        case .noTrainingData: return "no training examples: pass a non-empty training set"
        case let .labelOutOfRange(index, label, numLabels):
            return "example \(index) has label \(label) but the model has \(numLabels) labels (0..<\(numLabels)); "
                + "set the label count when loading the encoder"
        case .noTokenizer:
            return "the model has no tokenizer (vocab.txt or tokenizer.json): load it with its vocabulary"
        case let .nonFiniteLoss(step): return "the loss became NaN or infinite at step \(step): lower the learning rate"
        case let .cannotWrite(path, reason): return "cannot write \(path): \(reason)"
        case let .outputOverlapsInput(output, input):
            return "the output \(output) is or contains the input \(input): writing it would overwrite what is read; "
                + "choose another --output"
        }
    }
}
