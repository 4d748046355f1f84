/// Errors of the attribution methods.
public enum AttributionError: Error, CustomStringConvertible {
    case invalidOption(String)
    case invalidTarget(Int, labels: Int)
    case estimatorFile(path: String, reason: String)
    case needsTokenizer(String)

    public var description: String {
        switch self {
        case let .invalidOption(reason): return reason
        case let .invalidTarget(target, labels): return "target class \(target) is outside 0..<\(labels)"
        case let .estimatorFile(path, reason): return "estimator statistics \(path): \(reason)"
        case let .needsTokenizer(method): return "\(method) needs the model's vocabulary (pass --vocab)"
        }
    }
}
