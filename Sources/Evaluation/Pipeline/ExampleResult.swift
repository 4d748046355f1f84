import Foundation

/// One example's result, as every executor hands it over and every store keeps it: one record per method
/// (in the job's order) and each method's compute seconds. Its JSON (sorted keys) is the one wire format
/// of a worker's result and the payload of a results-log line.
public struct ExampleResult: Codable, Sendable, Equatable {
    public var records: [ExampleRecord]
    /// Per method: its attribution, degradation test and AOPC (the shared prediction is not counted).
    public var seconds: [Double]

    public init(records: [ExampleRecord], seconds: [Double]) {
        self.records = records
        self.seconds = seconds
    }

    /// Every method failed the same way (e.g. the example could not be tokenized).
    public static func failure(index: Int, example: LabeledExample, methods: Int, reason: String) -> ExampleResult {
        let record = ExampleRecord.failure(index: index, target: example.label, reason: reason)
        return ExampleResult(records: Array(repeating: record, count: methods),
                             seconds: Array(repeating: 0, count: methods))
    }

    /// The bytes a worker sends and a store keeps.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do { return try encoder.encode(self) } catch {
            throw EvaluationError.outputFailed(path: "example \(records.first?.index ?? -1)",
                                               reason: "cannot encode its result (\(error))")
        }
    }

    /// Decodes and validates a result another process (or an earlier run) made for example `index` of
    /// `job`: UTF-8 JSON only, one record and one finite time per method, each record valid for its
    /// method's settings. `legacy` also takes a bare record (what one-method workers sent before this
    /// format, still found in older results logs).
    public static func decodeValidated(_ data: Data, index: Int, job: EvaluationJob,
                                       legacy: Bool = false) -> Result<ExampleResult, RecordRejection> {
        guard job.plan.examples.indices.contains(index) else {
            return .failure(RecordRejection(reason: "example \(index) is not in the dataset"))
        }
        let label = job.plan.examples.label(index)
        guard isUTF8JSONObject(data) else { return .failure(RecordRejection(reason: "the result is not UTF-8 JSON")) }
        let result: ExampleResult
        if let decoded = try? JSONDecoder().decode(ExampleResult.self, from: data) {
            result = decoded
        } else if legacy, job.methods.count == 1,
                  let record = try? JSONDecoder().decode(ExampleRecord.self, from: data) {
            result = ExampleResult(records: [record], seconds: [0])
        } else {
            return .failure(RecordRejection(reason: "not one record and one time per method"))
        }
        guard result.records.count == job.methods.count, result.seconds.count == job.methods.count,
              result.seconds.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
            return .failure(RecordRejection(reason: "not one record and one time per method"))
        }
        for (method, record) in zip(job.methods, result.records) {
            let settings = job.settings(for: method)
            if let problem = record.validationError(expectedIndex: index, label: label, settings: settings) {
                let name = job.methods.count == 1 ? "" : "\(method.rawValue) "
                return .failure(RecordRejection(reason: "invalid \(name)record: \(problem)"))
            }
        }
        return .success(result)
    }

    /// Whether two results hold the same records (their times aside): what `--verify` compares, since
    /// records are bit-identical on any worker and times never are.
    public static func sameRecords(_ a: Data, _ b: Data) -> Bool {
        if a == b { return true }
        guard let first = try? JSONDecoder().decode(ExampleResult.self, from: a),
              let second = try? JSONDecoder().decode(ExampleResult.self, from: b) else { return false }
        return first.records == second.records
    }
}
