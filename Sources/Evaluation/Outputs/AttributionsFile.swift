import Foundation

private struct AttributionLine: Decodable {
    var index: Int
    var attribution: [Float]
}

/// Reads precomputed attributions (`--attributions FILE`): JSONL lines
/// `{"index": row in the dataset, "attribution": [one score per token]}`.
/// A repeated index or a bad line is an error naming the line.
public func readAttributionsJSONL(_ url: URL) throws -> [Int: [Float]] {
    let decoder = JSONDecoder()
    var attributions: [Int: [Float]] = [:]
    var firstLine: [Int: Int] = [:]
    for (number, line) in splitLines(try readFileBytes(url)) {
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
        let entry: AttributionLine
        do {
            entry = try decoder.decode(AttributionLine.self, from: Data(line))
        } catch {
            throw EvaluationError.malformedRow(path: url.path, line: number,
                                               reason: "expected {\"index\": n, \"attribution\": [numbers]} (\(describeDecodingError(error)))")
        }
        if let previous = firstLine[entry.index] {
            throw EvaluationError.malformedRow(path: url.path, line: number,
                                               reason: "index \(entry.index) was already given on line \(previous)")
        }
        firstLine[entry.index] = number
        attributions[entry.index] = entry.attribution
    }
    return attributions
}
