/// Everything that can go wrong in the Evaluation module, phrased so a user
/// can act on it: data errors name the file and the line.
public enum EvaluationError: Error, CustomStringConvertible, Equatable {
    /// A file or directory could not be read at all.
    case unreadable(path: String, reason: String)
    /// One row (line, record or file) of a dataset is malformed.
    case malformedRow(path: String, line: Int, reason: String)
    /// More examples were requested than the dataset holds (`np.random.choice` refuses too).
    case selectionTooLarge(requested: Int, available: Int)
    /// Arrays that must line up do not (tokens, attribution, ids, probabilities...).
    case mismatchedInput(String)
    /// The prediction closure returned something other than one distribution per input.
    case badPrediction(String)
    /// A resource that should ship inside the package is missing.
    case missingResource(String)
    /// An output file could not be written or encoded.
    case outputFailed(path: String, reason: String)
    /// Another run holds the output directory's lock.
    case outputInUse(path: String, holder: String)
    /// A setting that would make every example fail or mean nothing (the message names the flag).
    case invalidSetting(String)
    /// More examples failed for good than the run allows (`--allow-failures`); the first are listed.
    case examplesFailed(count: Int, of: Int, allowed: Int, first: [String])

    public var description: String {
        switch self {
        case let .unreadable(path, reason):
            return "cannot read \(path): \(reason)"
        case let .malformedRow(path, line, reason):
            return "\(path):\(line): \(reason)"
        case let .selectionTooLarge(requested, available):
            return "cannot select \(requested) examples: the dataset has only \(available); "
                + "ask for at most \(available) or 'all'"
        case let .mismatchedInput(what):
            return "mismatched input: \(what)"
        case let .badPrediction(what):
            return "the model's prediction has the wrong shape: \(what)"
        case let .missingResource(name):
            return "the embedded resource \(name) is missing from the package bundle; rebuild the package"
        case let .outputFailed(path, reason):
            return "cannot write \(path): \(reason)"
        case let .outputInUse(path, holder):
            return "\(path) is in use by another run\(holder.isEmpty ? "" : " (\(holder))"): "
                + "wait for it to finish or choose another --output"
        case let .invalidSetting(message):
            return message
        case let .examplesFailed(count, total, allowed, first):
            return "\(count) of \(total) examples failed (allowed: \(allowed); --allow-failures N accepts up to N):\n  "
                + first.joined(separator: "\n  ")
        }
    }
}
