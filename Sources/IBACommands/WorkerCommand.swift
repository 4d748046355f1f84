import ArgumentParser
import Foundation
import BERT
import Cluster
import Evaluation
import Kernels

/// `iba-worker`: holds a model replica and computes the examples a coordinator hands out.
public struct WorkerCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "iba-worker", abstract: "Compute evaluation examples for an iba-coordinator.",
        discussion: """
        The worker loads the model from --model (default: the path the coordinator used), checks that its
        bytes hash to the coordinator's model hash, then asks for work until the run is done. Without a
        matching model it takes the copy a coordinator started with --ship-model streams to it, cached
        under --model-cache by hash (the next run with the same model fetches nothing).
        Example: iba-worker --connect tcp://coordinator-host:5555 --model /data/models/demo-agnews
        """)

    @Option(help: "Coordinator endpoint, e.g. tcp://host:5555.") var connect: String
    @Option(help: "Model path on this machine (default: the coordinator's path).") var model: String?
    @Option(help: "Worker name (logs; the CURVE key file worker-NAME.key).") var name: String = WorkerOptions.defaultName()
    @Option(name: .customLong("curve-keys"), help: "Directory with coordinator.pub and worker-NAME.key/.pub.") var curveKeys: String?
    @Option(name: .customLong("key-name"), help: "Key file name worker-NAME.key when several workers share one key (default: --name).") var keyName: String?
    @Option(help: "OpenBLAS threads for this worker.") var threads = 1
    @Option(name: .customLong("idle-exit"), help: "Exit after this many seconds without hearing from the coordinator.") var idleExit = 300.0
    @Flag(help: "After a run, wait for the next coordinator instead of exiting.") var stay = false
    @Option(name: .customLong("model-cache"), help: "Directory for models shipped by the coordinator (default: ~/.cache/iba-swift/models).") var modelCache: String?

    public init() {}

    public func run() throws {
        try failing {
            BLASThreads.set(threads)
            var options = WorkerOptions(name: name)
            options.idleExitSeconds = idleExit
            options.exitWhenDone = !stay
            if let curveKeys { options.curve = try CurveZMQClientKeys.load(directory: URL(fileURLWithPath: curveKeys), workerName: keyName ?? name) }
            if let modelCache { options.shipmentCache = URL(fileURLWithPath: modelCache) }
            let localModel = model
            let cacheRoot = options.shipmentCache
            let worker = try Worker(connect: connect, options: options)
            let exit = try worker.run { manifest in
                let job = try JSONDecoder().decode(ClusterJob.self, from: manifest.payload)
                let source = try modelReplicaSource(manifest: manifest, job: job, localModel: localModel, cacheRoot: cacheRoot)
                let replica = try loadModel(path: source.path, config: source.config, vocab: source.vocab,
                                            numLabels: job.numLabels, headSize: job.headSize)
                let evaluator = try ExampleEvaluator(model: replica, settings: job.settings)
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                return { index in
                    guard let example = job.examples[index] else { throw CommandError("example \(index) is not part of this job") }
                    // As `iba evaluate`: an example that cannot be evaluated becomes a failed record, not a retry.
                    return try encoder.encode(evaluateOrRecordFailure(evaluator, example, index: index))
                }
            }
            var usage = rusage()
            getrusage(RUSAGE_SELF.rawValue, &usage)
            note("worker \(name): \(exit); peak resident memory \(usage.ru_maxrss / 1024) MiB")
        }
    }
}

/// Where a worker's replica comes from: its own copy when that hashes to the coordinator's model,
/// else the shipped copy in the cache (every file checked against its hash). Throws
/// `ClusterError.modelUnavailable` when neither is usable, so the worker fetches the shipment.
func modelReplicaSource(manifest: JobManifest, job: ClusterJob, localModel: String?, cacheRoot: URL?) throws
    -> (path: URL, config: String?, vocab: String?) {
    let path = URL(fileURLWithPath: localModel ?? job.modelPath)
    let localProblem: String
    do {
        let checkpoint = try checkpointFile(path, config: job.config, vocab: job.vocab)
        let hash = try fileContentHash(checkpoint)
        if hash == manifest.modelHash { return (path, job.config, job.vocab) }
        localProblem = "model at \(checkpoint.path) hashes to \(hash), the coordinator's to \(manifest.modelHash)"
    } catch {
        localProblem = "\(error)"
    }
    guard let shipment = manifest.shipment, let names = job.shipped, let cacheRoot else {
        throw ClusterError.modelUnavailable(localProblem)
    }
    let cache = ShipmentCache(root: cacheRoot)
    guard let directory = cache.directory(for: shipment) else { throw ClusterError.modelUnavailable(localProblem) }
    for file in shipment.files {
        let hash = try fileContentHash(directory.appendingPathComponent(file.name))
        guard hash == file.hash else {
            throw ClusterError.modelUnavailable("the cached \(file.name) in \(directory.path) hashes to \(hash), not \(file.hash)")
        }
    }
    note("using the shipped model in \(directory.path) (\(localProblem))")
    return (directory.appendingPathComponent(names.checkpoint),
            names.config.map { directory.appendingPathComponent($0).path },
            names.vocab.map { directory.appendingPathComponent($0).path })
}
