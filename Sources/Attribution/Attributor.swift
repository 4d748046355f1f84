import Foundation
import BERT
import Kernels
import Tokenizer

/// The attribution methods the original compares.
public enum AttributionMethod: String, CaseIterable, Sendable, Codable {
    case iba, ig, lime, random
}

/// Which evaluation protocol the methods follow.
public enum ProtocolVariant: String, CaseIterable, Sendable, Codable {
    /// The original's: IBA explains the gold label, IG always class 0, LIME always class 1 (while the
    /// degradation test scores the gold label); LIME predicts on 512-padded inputs without a mask.
    case original
    /// Every method explains the gold label; LIME predicts on unpadded inputs and splits pairs back.
    case corrected

    /// The class `method` explains for an example labelled `gold`.
    public func explainedClass(for method: AttributionMethod, gold: Int) -> Int {
        switch (self, method) {
        case (.original, .ig): return 0
        case (.original, .lime): return 1
        default: return gold
        }
    }
}

/// Settings of every method (each defaults to the original's).
public struct AttributionOptions: Sendable, Equatable {
    public var iba = IBAOptions()
    public var integratedGradients = IntegratedGradientsOptions()
    /// Under the corrected protocol LIME always predicts unpadded and splits pairs, whatever these say.
    public var lime = LIMEOptions()
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

/// One entry point over IBA, integrated gradients, LIME and random: attribution [n] over the encoded input's
/// tokens, explaining the class the protocol prescribes. Holds the method's workspaces: reuse one per thread.
public final class Attributor {
    public let method: AttributionMethod
    public let variant: ProtocolVariant
    private let model: BertModel
    private let iba: IBAExplainer?
    private let integratedGradients: IntegratedGradients?
    private let lime: LIMEExplainer?
    private let padId: Int

    /// `tokenizer` defaults to the model's; LIME needs one, IG needs its [PAD] id. `context`: the GEMM library
    /// and threads of every forward and backward.
    public init(model: BertModel, method: AttributionMethod, variant: ProtocolVariant = .original,
                options: AttributionOptions = AttributionOptions(), tokenizer: BertTokenizer? = nil, context: ComputeContext) throws {
        self.model = model
        self.method = method
        self.variant = variant
        let tokenizer = tokenizer ?? model.tokenizer
        iba = method == .iba ? IBAExplainer(model: model, options: options.iba, context: context) : nil
        integratedGradients = method == .ig ? IntegratedGradients(model: model, options: options.integratedGradients, context: context) : nil
        if method == .lime {
            guard let tokenizer else { throw AttributionError.needsTokenizer("LIME") }
            var limeOptions = options.lime
            if variant == .corrected { limeOptions.paddedLength = nil; limeOptions.pairPrediction = .split }
            lime = LIMEExplainer(model: model, tokenizer: tokenizer, options: limeOptions, context: context)
        } else {
            lime = nil
        }
        if method == .ig, tokenizer == nil { throw AttributionError.needsTokenizer("integrated gradients") }
        padId = tokenizer?.padId ?? 0
    }

    /// Attribution over `example.input`'s tokens; `seed` drives IBA's noise, LIME's sampling and random.
    public func attribute(_ example: ExampleToExplain, seed: UInt64) throws -> [Float] {
        let target = variant.explainedClass(for: method, gold: example.gold)
        guard (0..<model.config.numLabels).contains(target) else { throw AttributionError.invalidTarget(target, labels: model.config.numLabels) }
        try model.validate([example.input])
        switch method {
        case .iba:
            guard let iba else { throw AttributionError.invalidOption("IBA explainer missing") }
            return try iba.explain(example.input, target: target, seed: seed).attribution
        case .ig:
            guard let integratedGradients else { throw AttributionError.invalidOption("integrated gradients missing") }
            return try integratedGradients.explain(example.input, target: target, padId: padId)
        case .lime:
            guard let lime else { throw AttributionError.needsTokenizer("LIME") }
            guard let text = example.text else { throw AttributionError.needsText("LIME") }
            return try lime.explain(text: text, pair: example.pair, encoded: example.input, label: target, seed: seed).attribution
        case .random:
            return randomAttribution(count: example.input.count, seed: seed)
        }
    }
}
