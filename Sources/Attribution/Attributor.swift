import Foundation
import BERT
import Kernels
import Tokenizer

/// Which evaluation protocol the methods follow.
public enum ProtocolVariant: String, CaseIterable, Sendable, Codable {
    /// The original's: IBA explains the gold label, IG always class 0, LIME always class 1 (while the
    /// degradation test scores the gold label); LIME predicts on 512-padded inputs without a mask.
    case original
    /// Every method explains the gold label; LIME predicts on unpadded inputs and splits pairs back.
    case corrected

    /// The class `method` explains for an example labelled `gold`.
    public func explainedClass(for method: AttributionMethod, gold: Int) -> Int {
        fixedClass(for: method) ?? gold
    }

    /// The class `method` explains whatever the example's label (the original's IG and LIME), or nil when it
    /// explains the gold label.
    public func fixedClass(for method: AttributionMethod) -> Int? {
        switch (self, method) {
        case (.original, .ig): return 0
        case (.original, .lime): return 1
        default: return nil
        }
    }
}

/// Settings of every method (each defaults to the original's).
public struct AttributionOptions: Sendable, Equatable {
    public var iba = IBAOptions()
    public var integratedGradients = IntegratedGradientsOptions()
    /// Under the corrected protocol LIME always predicts unpadded and splits pairs, whatever these say.
    public var lime = LIMEOptions()
    /// Predicts as LIME does under the same protocol (`lime`'s padding and pair handling).
    public var kernelSHAP = KernelSHAPOptions()
    public init() {}
}

/// One example as the methods need it: the encoded input (whose tokens get the attribution), the raw
/// text(s) for LIME, and the gold label.
public struct ExampleToExplain: Sendable {
    public var input: ModelInput
    public var text: String?
    public var pair: String?
    public var gold: Int
    public init(input: ModelInput, text: String? = nil, pair: String? = nil, gold: Int) {
        self.input = input; self.text = text; self.pair = pair; self.gold = gold
    }
}

/// One entry point over every method: attribution [n] over the encoded input's tokens, explaining the class
/// the protocol prescribes. Holds the method's workspaces: reuse one per thread.
public final class Attributor {
    public let method: AttributionMethod
    public let variant: ProtocolVariant
    private let model: BertModel
    private let explainer: MethodExplainer

    /// `tokenizer` defaults to the model's (LIME needs one, IG its [PAD] id). `context`: the GEMM library
    /// and threads of every forward and backward.
    public init(model: BertModel, method: AttributionMethod, variant: ProtocolVariant = .original,
                options: AttributionOptions = AttributionOptions(), tokenizer: BertTokenizer? = nil,
                context: ComputeContext) throws {
        self.model = model
        self.method = method
        self.variant = variant
        explainer = try method.makeExplainer(MethodSetup(model: model, variant: variant, options: options,
                                                         tokenizer: tokenizer, context: context))
    }

    /// Attribution over `example.input`'s tokens for the class the protocol prescribes (see `explainedClass`);
    /// `seed` drives IBA's noise, LIME's sampling and random.
    public func attribute(_ example: ExampleToExplain, seed: UInt64) throws -> [Float] {
        try attribute(example, target: variant.explainedClass(for: method, gold: example.gold), seed: seed)
    }

    /// Attribution for an explicit class (`iba explain --target`).
    public func attribute(_ example: ExampleToExplain, target: Int, seed: UInt64) throws -> [Float] {
        guard (0..<model.config.numLabels).contains(target) else {
            throw AttributionError.invalidTarget(target, labels: model.config.numLabels)
        }
        try model.validate([example.input])
        return try explainer.attribution(of: example, target: target, seed: seed)
    }

    /// Frees the method's workspaces (see `MethodExplainer.releaseMemory`).
    public func releaseMemory() { explainer.releaseMemory() }
}
