/// Errors of the attribution methods.
public enum AttributionError: Error, CustomStringConvertible {
    case invalidOption(String)
    case invalidTarget(Int, labels: Int)
    case estimatorFile(path: String, reason: String)
    case needsTokenizer(String)
    case nothingToExplain(String)
    case needsText(String)

    public var description: String {
        switch self {
        case let .invalidOption(reason): return reason
        case let .invalidTarget(target, labels): return "target class \(target) is outside 0..<\(labels)"
        case let .estimatorFile(path, reason): return "estimator statistics \(path): \(reason)"
        case let .needsTokenizer(method): return "\(method) needs the model's vocabulary (pass --vocab)"
        case let .nothingToExplain(reason): return reason
        case let .needsText(method):
            return "\(method) perturbs the raw text: pass the example's text, not only its token ids"
        }
    }
}
