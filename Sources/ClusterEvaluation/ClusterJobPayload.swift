import Foundation
import Cluster
import Evaluation
import Kernels

/// What a worker needs to compute a job's examples, sent once in the manifest's payload: the settings
/// and where the coordinator found the model. Its size does not depend on the dataset: each example
/// travels with its task (`encodeExample`), so workers need no copy of the dataset and hold only the
/// examples they compute. The manifest's options carry only the settings' fingerprint.
public struct ClusterJobPayload: Codable, Sendable {
    public var settings: EvaluationSettings
    /// The methods every example runs (a task is one example; its result holds one record per method).
    public var methods: [EvaluationMethod]
    public var model: ModelReference
    /// With --ship-model: the shipped files' names (the checkpoint or index, config and vocabulary in the cache
    /// directory; a sharded checkpoint's shards keep the names its index gives them).
    public var shipped: ShippedModelNames?
    /// The parts of the manifest's model hash (its architecture included), so a worker whose copy differs
    /// can say how.
    public var modelIdentity: ModelIdentity
    /// The coordinator's GEMM library: every worker computes with it, whatever its own `IBA_GEMM` or CPU
    /// would pick, so one run's numbers come from one library (bit-identical for any worker count).
    public var gemm: GEMMBackend
    /// The coordinator's activation budget (`ComputeContext.activationBudget`; nil: unbounded, and what a payload
    /// without the key means). Long inputs run in passes the budget cuts, and a pass's size can move results
    /// by ~1e-7 (small GEMMs of the [CLS] rows), so every worker uses the coordinator's: `--verify` compares bytes.
    public var activationBudget: Int?
    /// The coordinator's attention kernel (`IBA_FUSED_ATTENTION`; absent: the sgemm path, all a coordinator
    /// before the fused kernel ran). The two paths differ by float rounding, so every worker uses this one.
    public var attention: AttentionKernel?

    public init(job: EvaluationJob, modelIdentity: ModelIdentity, shipped: ShippedModelNames?, gemm: GEMMBackend,
                activationBudget: Int? = ComputeContext.defaultActivationBudget,
                attention: AttentionKernel = .fromEnvironment) {
        settings = job.settings
        methods = job.methods
        model = job.model
        self.shipped = shipped
        self.modelIdentity = modelIdentity
        self.gemm = gemm
        self.activationBudget = activationBudget
        self.attention = attention
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
            throw ClusterEvaluationError.payload(
                "the coordinator's job is not an evaluation job of this version (\(error))")
        }
    }
}

/// An example as its task carries it (sorted-key JSON: the worker decodes the very example the
/// coordinator selected, as `iba evaluate` holds it).
func encodeExample(_ example: LabeledExample, encoder: JSONEncoder = exampleEncoder()) throws -> Data {
    do { return try encoder.encode(example) } catch {
        throw ClusterEvaluationError.payload("an example cannot be encoded (\(error))")
    }
}

func exampleEncoder() -> JSONEncoder {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return encoder
}

/// The example a task carried for `index`; a malformed one is this entry's error, never a crash.
func decodeExample(_ bytes: Data, index: Int) throws -> LabeledExample {
    guard !bytes.isEmpty else { throw ClusterEvaluationError.exampleNotInJob(index) }
    do { return try JSONDecoder().decode(LabeledExample.self, from: bytes) } catch {
        throw ClusterEvaluationError.payload(
            "the task's example \(index) is not an example (\(bytes.count) bytes: \(error))")
    }
}

/// The selected examples' encoded bytes, for the coordinator to send with their tasks.
/// Each example encoded when its lease is sent (the coordinator's dataset stays an offset index, or the rows
/// the plan holds anyway): nothing per example is held for the run.
func exampleStore(_ job: EvaluationJob) throws -> ExampleStore {
    let rows = job.plan.examples
    return ExampleStore(encodingWhenLeased: { index in try encodeExample(try rows.example(index)) },
                        largestBytes: rows.encodedExampleBound)
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
    /// `iba merge` refused its parts (of different jobs, overlapping, missing, unfinished).
    case parts(String)

    public var description: String {
        switch self {
        case .payload(let reason): return reason
        case .exampleNotInJob(let index):
            return "example \(index) came without its text (a coordinator of an older version?)"
        case .parts(let reason): return "cannot merge: \(reason)"
        }
    }
}
