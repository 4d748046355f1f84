import Foundation
import BERT
import Kernels
import Tokenizer

/// What every attribution method is to the rest of the tool: an object that holds its workspaces (one per
/// thread) and gives one value per token of the encoded input, explaining the class it is told.
public protocol MethodExplainer: AnyObject {
    /// Attribution [n] over `example.input`'s tokens for class `target`; `seed` drives any randomness.
    func attribution(of example: ExampleToExplain, target: Int, seed: UInt64) throws -> [Float]
    /// Frees the workspaces' memory (they regrow on the next call): when several methods take turns on one
    /// example, each would otherwise keep its own peak.
    func releaseMemory()
}

extension MethodExplainer {
    public func releaseMemory() {}
}

/// What a method may need to set itself up (`AttributionMethod.makeExplainer`).
public struct MethodSetup {
    public var model: BertModel
    public var variant: ProtocolVariant
    public var options: AttributionOptions
    /// The model's tokenizer unless another was given; nil when the model has no vocabulary.
    public var tokenizer: BertTokenizer?
    public var context: ComputeContext

    public init(model: BertModel, variant: ProtocolVariant, options: AttributionOptions, tokenizer: BertTokenizer?,
                context: ComputeContext) {
        self.model = model; self.variant = variant; self.options = options
        self.tokenizer = tokenizer ?? model.tokenizer; self.context = context
    }

    /// The tokenizer, or an error naming the method that needs it.
    public func requireTokenizer(_ method: String) throws -> BertTokenizer {
        guard let tokenizer else { throw AttributionError.needsTokenizer(method) }
        return tokenizer
    }
}
