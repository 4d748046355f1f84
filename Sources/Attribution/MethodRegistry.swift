import Foundation

/// Every attribution method the tool offers; the raw values are the command line's and summary.json's
/// spellings. Adding a method: its file (a `MethodExplainer`), a case here and its line in `makeExplainer`.
public enum AttributionMethod: String, CaseIterable, Sendable, Codable {
    case iba, ig, lime, random

    /// One line for `--help`.
    public var summary: String {
        switch self {
        case .iba: return "information bottleneck at --layer (the paper's method)"
        case .ig: return "integrated gradients of the embedding output (captum 0.2 defaults)"
        case .lime: return "LIME on words (lime 0.2.0 defaults)"
        case .random: return "uniform random values (the floor)"
        }
    }

    /// The method's explainer; `setup.variant` may change how it runs (LIME's padding under the original).
    public func makeExplainer(_ setup: MethodSetup) throws -> MethodExplainer {
        switch self {
        case .iba: return IBAExplainer(model: setup.model, options: setup.options.iba, context: setup.context)
        case .ig: return try IntegratedGradients(setup)
        case .lime: return try LIMEExplainer(setup)
        case .random: return RandomAttribution()
        }
    }

    /// The methods as the help text lists them: "iba, ig, lime, random".
    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
}
