import Foundation
import BERT

/// The examples a run evaluates: the dataset and the original's selection of indices.
public struct EvaluationPlan: Sendable {
    public var examples: [LabeledExample]
    /// Dataset positions in selection order.
    public var indices: [Int]
    public var skippedRows: Int
    public var dataHash: String

    public init(settings: EvaluationSettings) throws {
        guard let kind = DatasetKind(rawValue: settings.dataset) else {
            throw EvaluationError.mismatchedInput("unknown dataset \(settings.dataset) (\(DatasetKind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let url = URL(fileURLWithPath: settings.dataPath)
        let load = try loadDataset(kind, path: url, skipBadRows: settings.skipBadRows)
        examples = load.examples
        skippedRows = load.skippedRows.count
        indices = try originalSelection(populationSize: examples.count, count: settings.testSample, seed: settings.selectionSeed)
        dataHash = try datasetHash(kind, path: url)
    }
}

/// Runs every selected example in one process, in selection order. `onRecord` sees each record as it is made.
public func runEvaluation(model: BertModel, settings: EvaluationSettings, plan: EvaluationPlan,
                          onRecord: (ExampleRecord) -> Void = { _ in }) throws -> (records: [ExampleRecord], summary: Summary) {
    let start = Date()
    let evaluator = try ExampleEvaluator(model: model, settings: settings)
    var records = [ExampleRecord]()
    for index in plan.indices {
        let example = plan.examples[index]
        let record: ExampleRecord
        do {
            record = try evaluator.evaluate(example, index: index)
        } catch {
            record = .failure(index: index, target: example.label, reason: "\(error)")
        }
        records.append(record)
        onRecord(record)
    }
    let summary = try summarize(records: records, method: settings.method, dataset: settings.dataset,
                                layer: settings.method == "iba" ? settings.layer : nil,
                                seconds: Date().timeIntervalSince(start), options: settings.summaryOptions)
    return (records, summary)
}
