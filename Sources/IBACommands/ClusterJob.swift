import Foundation
import BERT
import Cluster
import Evaluation

/// What a worker needs to compute the run's examples: the settings, the selected examples themselves
/// (so workers need no copy of the dataset) and where the coordinator found the model.
struct ClusterJob: Codable {
    var settings: EvaluationSettings
    var examples: [Int: LabeledExample]
    var modelPath: String
    var config: String?
    var vocab: String?
    var numLabels: Int?
    var headSize: Int
}

/// The checkpoint file a model location resolves to (what the manifest's model hash covers).
func checkpointFile(_ path: URL, config: String?, vocab: String?) throws -> URL {
    var location = ModelLocation(path: path)
    location.config = config.map { URL(fileURLWithPath: $0) }
    location.vocab = vocab.map { URL(fileURLWithPath: $0) }
    location.requireVocabulary = false
    return try ModelLoader.resolve(location).checkpoint
}

/// Executable that sits next to the running one (iba-worker beside iba-coordinator).
func siblingExecutable(_ name: String) -> String {
    URL(fileURLWithPath: CommandLine.arguments.first ?? name).resolvingSymlinksInPath()
        .deletingLastPathComponent().appendingPathComponent(name).path
}

/// Records from the coordinator's results in selection order (examples without a result are failed).
func records(from results: [Int: WorkResult], plan: EvaluationPlan) -> [ExampleRecord] {
    plan.indices.map { index in
        let label = plan.examples[index].label
        switch results[index] {
        case .done(let data)?:
            if let record = try? JSONDecoder().decode(ExampleRecord.self, from: data), record.index == index { return record }
            return .failure(index: index, target: label, reason: "a worker returned an unreadable record")
        case .failed(let reason)?:
            return .failure(index: index, target: label, reason: reason)
        case nil:
            return .failure(index: index, target: label, reason: "no result")
        }
    }
}
