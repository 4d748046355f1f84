import Foundation
import BERT
import Kernels
import Tokenizer

/// Leave-one-out occlusion: attribution[i] = p_target(x) - p_target(x with word piece i deleted), the deletion
/// the degradation test makes (the token and its token type id removed, no padding); [CLS] and [SEP] get 0.
/// The input and its n - 2 (single) or n - 3 (pair) deletions run as packed batches. Not thread-safe.
public final class Occlusion: MethodExplainer {
    public let model: BertModel
    private let specialIds: Set<Int>
    private let tape: ForwardTape
    /// Packed tokens per forward pass (memory only: results are unchanged).
    public var predictionRows = 4096

    public init(model: BertModel, tokenizer: BertTokenizer, context: ComputeContext) {
        self.model = model
        specialIds = [tokenizer.clsId, tokenizer.sepId]
        tape = ForwardTape.forwardOnly(config: model.config, context: context)
    }

    public convenience init(_ setup: MethodSetup) throws {
        self.init(model: setup.model, tokenizer: try setup.requireTokenizer("occlusion"), context: setup.context)
    }

    public func releaseMemory() { tape.releaseMemory() }

    public func attribution(of example: ExampleToExplain, target: Int, seed: UInt64) throws -> [Float] {
        let input = example.input
        let occluded = input.ids.indices.filter { !specialIds.contains(input.ids[$0]) }
        var result = [Float](repeating: 0, count: input.count)
        guard !occluded.isEmpty else { return result }
        // Row 0 is the input itself, predicted in the same packed passes as its deletions.
        let batch = [input] + occluded.map { input.deleting([$0]) }
        let probabilities = try model.probabilities(batch, tape: tape, maxRows: predictionRows)
        guard probabilities.count == batch.count else {
            throw AttributionError.invalidOption(
                "occlusion got \(probabilities.count) predictions for \(batch.count) inputs")
        }
        let full = probabilities[0][target]
        for (row, position) in occluded.enumerated() { result[position] = full - probabilities[row + 1][target] }
        return result
    }
}
