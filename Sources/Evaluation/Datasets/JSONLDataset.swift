import Foundation

/// Generic JSONL: one `{"text": ..., "text_pair": ... (optional), "label": n}` per
/// line, label a class index >= 0. Blank lines are skipped.
func readJSONLDataset(_ url: URL, into collector: inout RowCollector) throws {
    let decoder = JSONDecoder()
    for (line, bytes) in splitLines(try readFileBytes(url)) {
        let text: String
        switch decodeText(bytes, encoding: collector.encoding, firstLine: line) {
        case let .success(decoded): text = decoded
        case let .failure(invalid):
            try collector.reject(file: url, line: line, reason: invalid.reason)
            continue
        }
        if pythonStrip(text).isEmpty { continue }
        let example: LabeledExample
        do {
            // Decoded text re-encoded, so a Latin-1 line reaches JSONDecoder as UTF-8.
            example = try decoder.decode(LabeledExample.self, from: Data(text.utf8))
        } catch {
            try collector.reject(file: url, line: line,
                                 reason: "not a JSON object with \"text\", optional \"text_pair\" and integer \"label\" (\(describeDecodingError(error)))")
            continue
        }
        guard example.label >= 0 else {
            try collector.reject(file: url, line: line, reason: "label \(example.label) is negative; labels are class indices 0, 1, ...")
            continue
        }
        collector.examples.append(example)
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
