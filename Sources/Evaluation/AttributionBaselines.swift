import Attribution
import BERT
import Tokenizer

/// Dispatch to the baseline methods (random, IG, LIME) under the original or corrected protocol.
public enum AttributionBaselines {
    public static func supports(_ method: String) -> Bool { method == "random" }

    public static func attribute(method: String, model: BertModel, input: ModelInput, encoding: Encoding,
                          example: (text: String, pair: String?), gold: Int, corrected: Bool, seed: UInt64) throws -> [Float] {
        switch method {
        case "random":
            var generator = NoiseGenerator(seed: seed)
            return (0..<input.count).map { _ in Float(generator.uniform()) }
        default:
            throw EvaluationError.mismatchedInput("unknown method \(method)")
        }
    }
}
