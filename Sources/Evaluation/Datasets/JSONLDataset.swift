import Foundation

/// Generic JSONL: one `{"text": ..., "text_pair": ... (optional), "label": n}` per
/// line, label a class index >= 0. Blank lines are skipped.
func readJSONLDataset(_ url: URL, into collector: inout RowCollector) throws {
    for (line, bytes) in splitLines(try readFileBytes(url)) {
        switch parseJSONLRow(bytes, encoding: collector.encoding, line: line) {
        case nil: continue
        case .success(let example)?: collector.examples.append(example)
        case .failure(let problem)?: try collector.reject(file: url, line: line, reason: problem.reason)
        }
    }
}

/// A short, readable reason from a JSONDecoder error.
public func describeDecodingError(_ error: Error) -> String {
    switch error {
    case let DecodingError.keyNotFound(key, _): return "missing key \"\(key.stringValue)\""
    case let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context):
        let path = context.codingPath.map(\.stringValue).joined(separator: ".")
        return "wrong type at \"\(path)\": \(context.debugDescription)"
    case let DecodingError.dataCorrupted(context): return "invalid JSON: \(context.debugDescription)"
    default: return "\(error)"
    }
}
