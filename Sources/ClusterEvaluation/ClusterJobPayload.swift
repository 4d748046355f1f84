import Foundation
import Cluster
import Evaluation

/// What a worker needs to compute a job's examples, sent once in the manifest's payload: the settings,
/// the selected examples themselves (so workers need no copy of the dataset) and where the coordinator
/// found the model. The manifest's options carry only the settings' fingerprint.
public struct ClusterJobPayload: Codable, Sendable {
    public var settings: EvaluationSettings
    /// The methods every example runs (a task is one example; its result holds one record per method).
    public var methods: [EvaluationMethod]
    public var examples: [Int: LabeledExample]
    public var model: ModelReference
    /// With --ship-model: the shipped files' names (the checkpoint or index, config and vocabulary in the cache
    /// directory; a sharded checkpoint's shards keep the names its index gives them).
    public var shipped: ShippedModelNames?
    /// The parts of the manifest's model hash (its architecture included), so a worker whose copy differs
    /// can say how.
    public var modelIdentity: ModelIdentity

    public init(job: EvaluationJob, modelIdentity: ModelIdentity, shipped: ShippedModelNames?) {
        settings = job.settings
        methods = job.methods
        examples = job.selectedExamples
        model = job.model
        self.shipped = shipped
        self.modelIdentity = modelIdentity
    }

    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do { return try encoder.encode(self) } catch {
            throw ClusterEvaluationError.payload("the job cannot be encoded (\(error))")
        }
    }

    static func decode(_ data: Data) throws -> ClusterJobPayload {
        do { return try JSONDecoder().decode(ClusterJobPayload.self, from: data) } catch {
            throw ClusterEvaluationError.payload("the coordinator's job is not an evaluation job of this version (\(error))")
        }
    }
}

/// A worker's result for one example when several methods run: one record per method, in the job's
/// order, and each method's compute seconds. With one method the result is the bare record, as before.
struct MethodsResult: Codable {
    var records: [ExampleRecord]
    var seconds: [Double]
}

/// The shipped files' names in a worker's cache directory.
public struct ShippedModelNames: Codable, Sendable, Equatable {
    public var checkpoint: String
    public var config: String?
    public var vocab: String?
}

/// What can go wrong in the cluster evaluation layer (the Cluster and Evaluation modules have their own).
public enum ClusterEvaluationError: Error, CustomStringConvertible {
    case payload(String)
    case exampleNotInJob(Int)

    public var description: String {
        switch self {
        case .payload(let reason): return reason
        case .exampleNotInJob(let index): return "example \(index) is not part of this job"
        }
    }
}
