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
    let suffix = "\(summary.method.rawValue)_\(summary.dataset.rawValue).npy"
    return [
        ("original_prob_" + suffix, try NPYArray(float64: [summary.originalProb], shape: [])),
        ("original_acc_" + suffix, try NPYArray(float64: [summary.originalAccuracy], shape: [])),
        ("degrad_prob_" + suffix, try NPYArray(float32: summary.degradationProb.map(Float.init))),
        ("degrade_acc_" + suffix, try NPYArray(float64: summary.degradationAccuracy)),
    ]
}

/// One output file, encoded and ready to write.
public struct OutputFile: Sendable {
    public var name: String
    public var data: Data
    public init(name: String, data: Data) { self.name = name; self.data = data }
}

/// A run's `summary.json` (pretty, sorted keys), `results.jsonl` (one record per line, in selection
/// order) and the original's four `.npy` files, encoded.
public func evaluationOutputFiles(records: [ExampleRecord], summary: Summary) throws -> [OutputFile] {
    let summaryEncoder = JSONEncoder()
    summaryEncoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    var summaryData = try encode(summary, with: summaryEncoder, path: URL(fileURLWithPath: "summary.json"))
    summaryData.append(UInt8(ascii: "\n"))
    var results = Data()
    for record in records { results.append(try resultLine(record, path: URL(fileURLWithPath: "results.jsonl"))) }
    var files = [OutputFile(name: "summary.json", data: summaryData), OutputFile(name: "results.jsonl", data: results)]
    for (fileName, array) in try originalOutputArrays(summary: summary) {
        files.append(OutputFile(name: fileName, data: Data(array.fileBytes)))
    }
    return files
}

/// Writes a run's outputs into `directory` (created if needed): see `evaluationOutputFiles`.
public func writeEvaluationOutputs(directory: URL, records: [ExampleRecord], summary: Summary) throws {
    do {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    } catch {
        throw EvaluationError.outputFailed(path: directory.path, reason: error.localizedDescription)
    }
    try writeOutputFiles(try evaluationOutputFiles(records: records, summary: summary), into: directory)
}

/// Writes every file under a temporary name, then renames them all into place: a failure (a full disk)
/// removes what it wrote and leaves the directory's previous files as they were.
public func writeOutputFiles(_ files: [OutputFile], into directory: URL) throws {
    let suffix = ".partial-\(ProcessInfo.processInfo.processIdentifier)"
    let staged = files.map { (file: $0, temporary: directory.appendingPathComponent("." + $0.name + suffix)) }
    var written = [URL]()   // only what this call wrote is removed on failure
    do {
        for (file, temporary) in staged {
            try write(file.data, to: temporary)
            written.append(temporary)
        }
    } catch {
        for temporary in written { try? FileManager.default.removeItem(at: temporary) }
        throw error
    }
    for (number, (file, temporary)) in staged.enumerated() {
        let destination = directory.appendingPathComponent(file.name)
        guard rename(temporary.path, destination.path) == 0 else {
            let reason = String(cString: strerror(errno))
            for later in staged[number...] { try? FileManager.default.removeItem(at: later.temporary) }
            throw EvaluationError.outputFailed(path: destination.path, reason: reason)
        }
    }
}

func encode<T: Encodable>(_ value: T, with encoder: JSONEncoder, path: URL) throws -> Data {
    do { return try encoder.encode(value) } catch {
        throw EvaluationError.outputFailed(path: path.path, reason: "cannot encode as JSON (\(error))")
    }
}

func write(_ data: Data, to url: URL) throws {
    do { try data.write(to: url) } catch {
        throw EvaluationError.outputFailed(path: url.path, reason: error.localizedDescription)
    }
}
