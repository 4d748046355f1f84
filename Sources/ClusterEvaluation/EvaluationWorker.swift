import Foundation
import BERT
import Cluster
import Evaluation
import Kernels

/// The worker side of a cluster evaluation: sets up a model replica for a coordinator's job and
/// computes its examples, one `ExampleResult` (JSON) per example.
public struct EvaluationWorker: Sendable {
    /// Model path on this machine (nil: the coordinator's path).
    public var localModel: String?
    /// Where shipped models are cached (nil: never use a shipment).
    public var cacheRoot: URL?
    /// Threads of this worker's computations (the GEMM library is the job's: `context(for:)`).
    public var threads: Int
    public var log: @Sendable (String) -> Void

    public init(localModel: String?, cacheRoot: URL?, threads: Int, log: @escaping @Sendable (String) -> Void) {
        self.localModel = localModel
        self.cacheRoot = cacheRoot
        self.threads = threads
        self.log = log
    }

    /// `Worker.run(streaming:)`'s setup: decodes the job, loads the replica, and returns the per-example
    /// computation, which reads the example from the bytes its task carried.
    public func setUp(_ manifest: JobManifest) throws -> (Int, Data) throws -> Data {
        let job = try ClusterJobPayload.decode(manifest.payload)
        let model = try replicaReference(manifest: manifest, job: job).load()
        for warning in model.loadReport.warnings { log("warning: \(warning)") }
        let context = context(for: job)
        log("GEMMs on \(context.backend.rawValue) (the coordinator's library), \(context.threads) thread(s)")
        let evaluator = try ExampleEvaluator(
            model: model, settings: job.settings, methods: job.methods, context: context)
        return { index, bytes in
            let example = try decodeExample(bytes, index: index)
            // As `iba evaluate`: an example that cannot be evaluated becomes a failed record, not a retry.
            return try evaluator.evaluateAll(example, index: index).encoded()
        }
    }

    /// This worker's threads with the job's GEMM library, activation budget and attention kernel.
    func context(for job: ClusterJobPayload) -> ComputeContext {
        ComputeContext(backend: job.gemm, threads: threads, activationBudget: job.activationBudget,
                       attention: job.attention ?? .gemm)
    }

    /// Where the replica comes from: this machine's copy when its identity (weights, architecture,
    /// vocabulary, tokenizer) is the coordinator's model, else the shipped copy in the cache (every file
    /// checked against its hash, then its identity). Throws `ClusterError.modelUnavailable`, saying what
    /// differs, when neither is usable, so the worker fetches the shipment.
    func replicaReference(manifest: JobManifest, job: ClusterJobPayload) throws -> ModelReference {
        let own = job.model.at(path: localModel ?? job.model.path, config: job.model.config, vocab: job.model.vocab)
        let localProblem: String
        switch mismatch(own, manifest: manifest, job: job) {
        case nil:
            log("model \(own.path): \(job.modelIdentity.architecture.summary)")
            return own
        case let problem?: localProblem = "the model at \(own.path) \(problem)"
        }
        guard let shipment = manifest.shipment, let names = job.shipped, let cacheRoot,
              let directory = ShipmentCache(root: cacheRoot).directory(for: shipment) else {
            throw ClusterError.modelUnavailable(localProblem)
        }
        for file in shipment.files {
            let hash = try fileContentHash(directory.appendingPathComponent(file.name))
            guard hash == file.hash else {
                throw ClusterError.modelUnavailable(
                    "the cached \(file.name) in \(directory.path) hashes to \(hash), not \(file.hash)")
            }
        }
        let shipped = job.model.at(path: directory.appendingPathComponent(names.checkpoint).path,
                                   config: names.config.map { directory.appendingPathComponent($0).path },
                                   vocab: names.vocab.map { directory.appendingPathComponent($0).path })
        if let problem = mismatch(shipped, manifest: manifest, job: job) {
            throw ClusterError.modelUnavailable("the shipped model in \(directory.path) \(problem)")
        }
        log("using the shipped model in \(directory.path) (\(localProblem)): \(job.modelIdentity.architecture.summary)")
        return shipped
    }

    /// Nil when `model` has the manifest's model identity, else why not, as the end of a sentence about it
    /// ("is not the coordinator's: its vocabulary differs"; a differing architecture is named).
    func mismatch(_ model: ModelReference, manifest: JobManifest, job: ClusterJobPayload) -> String? {
        let identity: ModelIdentity
        do { identity = try ModelFiles(model).identity(model) } catch { return "cannot be used (\(error))" }
        if identity.hash == manifest.modelHash { return nil }
        let differences = job.modelIdentity.differences(from: identity)
        // The payload's parts agree with the manifest's hash unless one of them was altered on the way.
        return "is not the coordinator's: "
            + (differences.isEmpty
                ? "its identity \(identity.hash) is not the manifest's \(manifest.modelHash)"
                : differences.joined(separator: "; "))
    }
}
