import Foundation

extension ExampleRecord {
    /// Why a record another process computed cannot be the record of `example` (dataset index
    /// `expectedIndex`) in a run with `settings`, or nil when it can. A worker's record must match the
    /// example (index, gold label), the run (degradation steps, AOPC present when asked, at most
    /// --max-length tokens with one attribution value each) and hold only finite probabilities.
    /// A failed record is valid when it names its example and says why.
    public func validationError(expectedIndex: Int, example: LabeledExample, settings: EvaluationSettings) -> String? {
        validationError(expectedIndex: expectedIndex, label: example.label, settings: settings)
    }

    /// `validationError` knowing only the example's gold label (all it checks of the example).
    public func validationError(expectedIndex: Int, label: Int, settings: EvaluationSettings) -> String? {
        guard index == expectedIndex else { return "record for example \(index), expected \(expectedIndex)" }
        guard target == label else { return "target \(target), the example's label is \(label)" }
        if let failed {
            return failed.isEmpty ? "a failed record without a reason" : nil
        }
        guard (1...settings.maxLength).contains(tokens.count) else {
            return "\(tokens.count) tokens, the run allows 1...\(settings.maxLength)"
        }
        guard attribution.count == tokens.count else {
            return "\(attribution.count) attribution values for \(tokens.count) tokens"
        }
        let steps = settings.degradationSteps - 1
        guard degradationProb.count == steps, degradationCorrect.count == steps else {
            return "\(degradationProb.count) degradation probabilities and \(degradationCorrect.count) flags, "
                + "the run has \(steps) steps"
        }
        guard attribution.allSatisfy(\.isFinite) else { return "a non-finite attribution value" }
        let probabilities =
            [originalProb] + degradationProb + [aopcComprehensiveness, aopcSufficiency].compactMap { $0 }
        guard probabilities.allSatisfy({ $0.isFinite }) else { return "a non-finite probability or AOPC value" }
        // Softmax outputs; the slack allows for rounding in the kernels.
        guard ([originalProb] + degradationProb).allSatisfy({ (-1e-3...1.001).contains($0) }) else {
            return "a probability outside 0...1"
        }
        if settings.aopc, aopcComprehensiveness == nil || aopcSufficiency == nil {
            return "no AOPC values, the run asks for them"
        }
        return nil
    }

    /// Decodes a record another process sent: UTF-8 JSON only (a UTF-16 or binary payload is refused
    /// rather than guessed at), then `validationError`.
    public static func decodeValidated(_ data: Data, expectedIndex: Int, example: LabeledExample,
                                       settings: EvaluationSettings) -> Result<ExampleRecord, RecordRejection> {
        guard isUTF8JSONObject(data) else {
            return .failure(RecordRejection(reason: "the record is not UTF-8 JSON"))
        }
        let record: ExampleRecord
        do { record = try JSONDecoder().decode(ExampleRecord.self, from: data) } catch {
            return .failure(RecordRejection(reason: "the record cannot be decoded (\(describeDecodingError(error)))"))
        }
        if let problem = record.validationError(expectedIndex: expectedIndex, example: example, settings: settings) {
            return .failure(RecordRejection(reason: "invalid record: \(problem)"))
        }
        return .success(record)
    }
}

/// Why a record was refused.
public struct RecordRejection: Error, Equatable, CustomStringConvertible {
    public var reason: String
    public init(reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// The examples that failed for good, when more than `allowed` did: the run's exit status depends on it.
/// With several methods each failed (example, method) pair counts.
public func checkFailures(_ run: MethodRecords, allowed: Int) throws {
    let labelled = run.methods.count > 1
    let failed = zip(run.methods, run.records).flatMap { method, records in
        records.filter { $0.failed != nil }.map { (method: method, record: $0) }
    }
    guard failed.count > allowed else { return }
    let listed = failed.prefix(10).map {
        "example \($0.record.index)\(labelled ? " (\($0.method.rawValue))" : ""): \($0.record.failed ?? "")"
    }
    throw EvaluationError.examplesFailed(
        count: failed.count, of: run.records.map(\.count).reduce(0, +), allowed: allowed,
        first: listed + (failed.count > 10 ? ["... and \(failed.count - 10) more (summary.json lists all)"] : []))
}

/// `checkFailures` from a run's numbers (the failed records' reasons are kept whole).
func checkFailures(_ run: FinishedRecords, methods: [EvaluationMethod], allowed: Int) throws {
    let labelled = methods.count > 1
    var failed = [String]()
    var count = 0
    for (m, method) in methods.enumerated() {
        for p in 0..<run.scalars.positions where run.scalars.isFailed(method: m, position: p) {
            count += 1
            if failed.count < 10 {
                let reason = run.scalars.failureReasons[m][p] ?? ""
                failed.append("example \(run.indices[p])\(labelled ? " (\(method.rawValue))" : ""): \(reason)")
            }
        }
    }
    guard count > allowed else { return }
    throw EvaluationError.examplesFailed(count: count, of: run.scalars.positions * methods.count, allowed: allowed,
                                         first: failed + (count > 10
                                            ? ["... and \(count - 10) more (summary.json lists all)"] : []))
}

/// `checkFailures` of one method's records.
public func checkFailures(_ records: [ExampleRecord], allowed: Int) throws {
    try checkFailures(MethodRecords(methods: [.iba], records: [records], seconds: [0]), allowed: allowed)
}

/// Whether bytes are a JSON object in UTF-8 (what a worker sends): a UTF-16 or binary payload is refused
/// rather than guessed at, as JSONDecoder would.
public func isUTF8JSONObject(_ data: Data) -> Bool {
    // memchr, not Data's element iterator: the coordinator checks every result's bytes.
    let hasZero = data.withUnsafeBytes { bytes in bytes.baseAddress.map { memchr($0, 0, bytes.count) != nil } ?? false }
    return data.first == UInt8(ascii: "{") && !hasZero && String(data: data, encoding: .utf8) != nil
}
