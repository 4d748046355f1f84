import ArgumentParser
import Foundation
import Cluster
import ClusterEvaluation

/// `iba-worker`: holds a model replica and computes the examples a coordinator hands out.
public struct WorkerCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "iba-worker", abstract: "Compute evaluation examples for an iba-coordinator.",
        discussion: """
        The worker loads the model from --model (default: the path the coordinator used) and checks that it is \
        the coordinator's model: the same weight files, architecture (config.json, --num-labels, --head-size), \
        vocabulary and tokenizer settings. A differing copy is refused, saying what differs. Without a \
        matching model it takes the copy a coordinator started with --ship-model streams to it, cached under \
        --model-cache by hash (the next run with the same model fetches nothing).
        Example: iba-worker --connect tcp://coordinator-host:5555 --model /data/models/demo-agnews
        """)

    @Option(help: "Coordinator endpoint, e.g. tcp://host:5555.") var connect: String
    @Option(help: "Model path on this machine (default: the coordinator's path).") var model: String?
    @Option(help: "Worker name (logs; the CURVE key file worker-NAME.key).")
    var name: String = WorkerOptions.defaultName()
    @Option(name: .customLong("curve-keys"), help: "Directory with coordinator.pub and worker-NAME.key/.pub.")
    var curveKeys: String?
    @Option(name: .customLong("key-name"),
            help: "Key file name worker-NAME.key when several workers share one key (default: --name).")
    var keyName: String?
    @Option(help: "OpenBLAS threads for this worker.") var threads = 1
    @Option(name: .customLong("idle-exit"), help: "Exit after this many seconds without hearing from the coordinator.")
    var idleExit = 300.0
    @Flag(help: "After a run, wait for the next coordinator instead of exiting.") var stay = false
    @Option(name: .customLong("model-cache"),
            help: "Directory for models shipped by the coordinator (default: ~/.cache/iba-swift/models).")
    var modelCache: String?

    public init() {}

    public func run() throws {
        try failing {
            var options = WorkerOptions(name: name)
            options.idleExitSeconds = idleExit
            options.exitWhenDone = !stay
            if let curveKeys {
                options.curve = try CurveZMQClientKeys.load(
                    directory: URL(fileURLWithPath: curveKeys), workerName: keyName ?? name)
            }
            if let modelCache { options.shipmentCache = URL(fileURLWithPath: modelCache) }
            let evaluation = EvaluationWorker(
                localModel: model, cacheRoot: options.shipmentCache, threads: threads, log: { note($0) })
            let exit = try Worker(connect: connect, options: options).run(streaming: evaluation.setUp)
            var usage = rusage()
            getrusage(RUSAGE_SELF.rawValue, &usage)
            note("worker \(name): \(exit); peak resident memory \(usage.ru_maxrss / 1024) MiB")
        }
    }
}
