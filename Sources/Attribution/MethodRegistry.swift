import Foundation

/// Every attribution method the tool offers; the raw values are the command line's and summary.json's
/// spellings. Adding a method: its file (a `MethodExplainer`), a case here and its line in `makeExplainer`.
public enum AttributionMethod: String, CaseIterable, Sendable, Codable {
    case iba, ig, lime, random, saliency, gradxinput, occlusion, attention, kernelshap

    /// One line for `--help`.
    public var summary: String {
        switch self {
        case .iba: return "information bottleneck at --layer (the paper's method)"
        case .ig: return "integrated gradients of the embedding output (captum 0.2 defaults)"
        case .lime: return "LIME on words (lime 0.2.0 defaults)"
        case .random: return "uniform random values (the floor)"
        case .saliency: return "L2 norm of the gradient of p(target) w.r.t. the embedding output"
        case .gradxinput: return "gradient x input on the embedding output (summed over hidden units)"
        case .occlusion: return "leave-one-out: p(target) drop when each word piece is deleted"
        case .attention: return "last layer's attention from [CLS], averaged over heads"
        case .kernelshap: return "KernelSHAP on LIME's words (exact Shapley when every coalition fits the budget)"
        }
    }

    /// The method's explainer; `setup.variant` may change how it runs (LIME's padding under the original).
    public func makeExplainer(_ setup: MethodSetup) throws -> MethodExplainer {
        switch self {
        case .iba: return IBAExplainer(model: setup.model, options: setup.options.iba, context: setup.context)
        case .ig: return try IntegratedGradients(setup)
        case .lime: return try LIMEExplainer(setup)
        case .random: return RandomAttribution()
        case .saliency: return Saliency(model: setup.model, context: setup.context)
        case .gradxinput: return GradientTimesInput(model: setup.model, context: setup.context)
        case .occlusion: return try Occlusion(setup)
        case .attention: return AttentionAttribution(model: setup.model, context: setup.context)
        case .kernelshap: return try KernelSHAPExplainer(setup)
        }
    }

    /// The methods as the help text lists them: "iba, ig, lime, random, ...".
    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
}
