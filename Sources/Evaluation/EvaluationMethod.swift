import Foundation
import Attribution

/// A method a dataset evaluation scores: an attribution method, IBA at a named layer (`iba@3`), or
/// attributions computed elsewhere (`external`, read from `attributionsFile`). Its raw value is the command
/// line's and summary.json's spelling, and its JSON form (a plain string, as the enum it replaces).
public struct EvaluationMethod: Hashable, Sendable, Codable, RawRepresentable, CustomStringConvertible {
    /// nil for `external`.
    public var attributionMethod: AttributionMethod?
    /// IBA's bottleneck layer when the method names one (`iba@3`); nil: the settings' `--layer`.
    public var layer: Int?

    public init(_ method: AttributionMethod, layer: Int? = nil) {
        attributionMethod = method
        self.layer = method == .iba ? layer : nil
    }

    private init(external: Void) { attributionMethod = nil; layer = nil }

    public static let iba = EvaluationMethod(.iba), ig = EvaluationMethod(.ig), lime = EvaluationMethod(.lime)
    public static let random = EvaluationMethod(.random), external = EvaluationMethod(external: ())

    /// "iba", "ig", ..., "iba@3" (0-based layer, as --layer), or "external". `iba@all` is a list: see `parseList`.
    public init?(rawValue: String) {
        if rawValue == "external" { self = .external; return }
        let parts = rawValue.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let method = AttributionMethod(rawValue: parts[0]) else { return nil }
        guard parts.count == 2 else { self.init(method); return }
        guard method == .iba, let layer = Int(parts[1]), layer >= 0, String(layer) == parts[1] else { return nil }
        self.init(.iba, layer: layer)
    }

    public var rawValue: String {
        guard let attributionMethod else { return "external" }
        return layer.map { "\(attributionMethod.rawValue)@\($0)" } ?? attributionMethod.rawValue
    }

    public var description: String { rawValue }
    public var isIBA: Bool { attributionMethod == .iba }

    /// The method without its layer: what summary.json names (the layer is its own field there).
    public var withoutLayer: EvaluationMethod {
        var plain = self
        plain.layer = nil
        return plain
    }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let method = EvaluationMethod(rawValue: text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "unknown method \(text)"))
        }
        self = method
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    /// `--methods`: comma-separated names; `iba@all` stands for `iba@0,...,iba@(numLayers-1)`. nil: a name is
    /// not a method (or a layer is written oddly). Layers are checked against the model later (`validate`).
    public static func parseList(_ text: String, numLayers: Int) -> [EvaluationMethod]? {
        var methods = [EvaluationMethod]()
        for name in text.split(separator: ",", omittingEmptySubsequences: false) {
            let name = name.trimmingCharacters(in: .whitespaces)
            if name == "iba@all" {
                methods += (0..<max(numLayers, 0)).map { EvaluationMethod(.iba, layer: $0) }
            } else if let method = EvaluationMethod(rawValue: name), method != .external {
                methods.append(method)
            } else {
                return nil
            }
        }
        return methods.isEmpty ? nil : methods
    }

    /// Every name `--methods` accepts, for help texts and errors.
    public static var listHelp: String {
        AttributionMethod.names + ", iba@L (IBA at layer L, 0-based), iba@all (every layer)"
    }
}

extension EvaluationSettings {
    /// The settings one method of a job runs with: `iba@L` is `--method iba --layer L`, so its records and
    /// summary are those of that separate run.
    public func forMethod(_ method: EvaluationMethod) -> EvaluationSettings {
        var one = self
        one.method = method.withoutLayer
        if let layer = method.layer { one.iba.layer = layer }
        return one
    }
}

extension EvaluationMethod {
    /// What the method's attributions explain under `variant`: "gold label", or "class K" for the original
    /// protocol's IG (0) and LIME (1); "as given" for external attributions.
    public func explains(under variant: ProtocolVariant) -> String {
        guard let attributionMethod else { return "as given" }
        return variant.fixedClass(for: attributionMethod).map { "class \($0)" } ?? "gold label"
    }
}

extension EvaluationJob {
    /// Per method, what it explains (the comparison's `explains` column).
    public var explainedTargets: [String] { methods.map { $0.explains(under: settings.protocolVariant) } }

    /// A warning when the job's methods explain different classes (the original protocol with ig or lime beside
    /// another method) while the degradation test scores the gold label for all: their rows do not measure the
    /// same thing. nil when they all explain the same.
    public var targetWarning: String? {
        let targets = explainedTargets
        guard Set(targets).count > 1 else { return nil }
        // Grouped by target in order of appearance: "iba@0, iba@1, random: the gold label; ig: class 0".
        var groups = [(target: String, names: [String])]()
        for (method, target) in zip(methods, targets) {
            if let g = groups.firstIndex(where: { $0.target == target }) { groups[g].names.append(method.rawValue) }
            else { groups.append((target, [method.rawValue])) }
        }
        let listed = groups.map { group in
            group.names.joined(separator: ", ") + ": "
                + (group.target == "gold label" ? "the gold label" : group.target)
        }.joined(separator: "; ")
        return "the methods explain different classes (\(listed)) while the degradation test scores the gold label "
            + "for all of them, so their rows are not comparable; "
            + "--protocol corrected explains the gold label with every method"
    }
}
