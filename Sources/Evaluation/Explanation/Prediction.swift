import Foundation
import BERT
import Kernels

/// A text to classify or explain, with the second sentence of a pair.
public struct TextInput: Sendable, Equatable {
    public var text: String
    public var pair: String?

    public init(_ text: String, pair: String? = nil) {
        self.text = text
        self.pair = pair
    }
}

/// A classified text: its word pieces, logits and probabilities, and the predicted class with its name.
public struct Prediction: Sendable {
    public var tokens: [String]
    public var inputIds: [Int]
    public var input: ModelInput
    public var logits: [Float]
    public var probabilities: [Float]
    public var label: Int
    /// From the model's id2label; nil when it names none.
    public var labelName: String?
}

extension BertModel {
    /// Classifies `texts` in one packed forward pass, each truncated to `maxLength` word pieces.
    public func predict(_ texts: [TextInput], maxLength: Int, context: ComputeContext) throws -> [Prediction] {
        guard let tokenizer else {
            throw EvaluationError.invalidSetting("the model has no vocabulary: pass --vocab FILE")
        }
        let encodings = texts.map { tokenizer.encode($0.text, pair: $0.pair, maxLength: maxLength) }
        let inputs = encodings.map { ModelInput(ids: $0.inputIds, types: $0.tokenTypeIds) }
        let logits = try self.logits(inputs, context: context)
        return zip(zip(encodings, inputs), logits).map { pair, z in
            let probabilities = softmax(z)
            let label = firstArgmax(probabilities)
            return Prediction(tokens: pair.0.tokens, inputIds: pair.0.inputIds, input: pair.1, logits: z,
                              probabilities: probabilities, label: label, labelName: config.labelName(label))
        }
    }
}
