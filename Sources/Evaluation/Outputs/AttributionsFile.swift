import Foundation

private struct AttributionLine: Decodable {
    var index: Int
    /// Doubles, so a value beyond float32 is reported as such rather than as "invalid JSON".
    var attribution: [Double]
}

/// Reads precomputed attributions (`--attributions FILE`): JSONL lines
/// `{"index": row in the dataset, "attribution": [one score per token]}`.
/// A repeated index, a value outside float32, bytes that are not UTF-8 or a bad line
/// is an error naming the line.
public func readAttributionsJSONL(_ url: URL) throws -> [Int: [Float]] {
    let decoder = JSONDecoder()
    var attributions: [Int: [Float]] = [:]
    var firstLine: [Int: Int] = [:]
    for (number, line) in splitLines(try readFileBytes(url)) {
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
        if case let .failure(invalid) = decodeText(line, encoding: .utf8, firstLine: number) {
            throw EvaluationError.malformedRow(path: url.path, line: number, reason: invalid.reason)
        }
        let entry: AttributionLine
        do {
            entry = try decoder.decode(AttributionLine.self, from: Data(line))
        } catch {
            throw EvaluationError.malformedRow(
                path: url.path, line: number,
                reason: "expected {\"index\": n, \"attribution\": [numbers]} (\(describeDecodingError(error)))")
        }
        if let previous = firstLine[entry.index] {
            throw EvaluationError.malformedRow(path: url.path, line: number,
                                               reason: "index \(entry.index) was already given on line \(previous)")
        }
        // Float(_:) rounds to nearest, so the text of the largest float32 (3.4028235e38) still fits.
        if let position = entry.attribution.firstIndex(where: { !Float($0).isFinite }) {
            throw EvaluationError.malformedRow(
                path: url.path, line: number,
                reason: "attribution value \(entry.attribution[position]) at position \(position) "
                    + "(index \(entry.index)) is outside the float32 range ±\(Float.greatestFiniteMagnitude)")
        }
        firstLine[entry.index] = number
        attributions[entry.index] = entry.attribution.map { Float($0) }
    }
    return attributions
}
