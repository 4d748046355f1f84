import Foundation

/// The original's four `.npy` outputs for a summary, by file name. As its
/// `main.py` saves them (`np.save` of the values `EvaluationDegradation.process`
/// returns, which are means over examples, not per-example arrays):
/// - `original_prob_{method}_{dataset}.npy`: 0-d float64 (`sum(list) / n`);
/// - `original_acc_{method}_{dataset}.npy`: 0-d float64;
/// - `degrad_prob_{method}_{dataset}.npy`: shape (steps-1,), float32 (a float32
///   NumPy sum there; our mean is a Double sum rounded to float32);
/// - `degrade_acc_{method}_{dataset}.npy` (sic): shape (steps-1,), float64.
public func originalOutputArrays(summary: Summary) throws -> [(fileName: String, array: NPYArray)] {
    let suffix = "\(summary.method)_\(summary.dataset).npy"
    return [
        ("original_prob_" + suffix, try NPYArray(float64: [summary.originalProb], shape: [])),
        ("original_acc_" + suffix, try NPYArray(float64: [summary.originalAccuracy], shape: [])),
        ("degrad_prob_" + suffix, try NPYArray(float32: summary.degradationProb.map(Float.init))),
        ("degrade_acc_" + suffix, try NPYArray(float64: summary.degradationAccuracy)),
    ]
}

/// Writes a run's outputs into `directory` (created if needed): `summary.json`
/// (pretty, sorted keys), `results.jsonl` (one record per line, in selection
/// order) and the original's four `.npy` files.
public func writeEvaluationOutputs(directory: URL, records: [ExampleRecord], summary: Summary) throws {
    do {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    } catch {
        throw EvaluationError.outputFailed(path: directory.path, reason: error.localizedDescription)
    }
    let summaryURL = directory.appendingPathComponent("summary.json")
    let summaryEncoder = JSONEncoder()
    summaryEncoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    var summaryData = try encode(summary, with: summaryEncoder, path: summaryURL)
    summaryData.append(UInt8(ascii: "\n"))
    try write(summaryData, to: summaryURL)

    let resultsURL = directory.appendingPathComponent("results.jsonl")
    var results = Data()
    for record in records { results.append(try resultLine(record, path: resultsURL)) }
    try write(results, to: resultsURL)

    for (fileName, array) in try originalOutputArrays(summary: summary) {
        try array.write(to: directory.appendingPathComponent(fileName))
    }
}

func encode<T: Encodable>(_ value: T, with encoder: JSONEncoder, path: URL) throws -> Data {
    do { return try encoder.encode(value) } catch {
        throw EvaluationError.outputFailed(path: path.path, reason: "cannot encode as JSON (\(error))")
    }
}

func write(_ data: Data, to url: URL) throws {
    do { try data.write(to: url, options: .atomic) } catch {
        throw EvaluationError.outputFailed(path: url.path, reason: error.localizedDescription)
    }
}
