import ArgumentParser
import Foundation
import BERT
import Cluster
import Evaluation
import Reports

/// `iba-coordinator`: the evaluation of `iba evaluate`, sharded over worker processes.
public struct CoordinatorCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "iba-coordinator",
        abstract: "Run `iba evaluate` over ZeroMQ workers (local processes, SSH hosts, Slurm nodes).",
        subcommands: [CoordinatorRun.self, KeygenCommand.self], defaultSubcommand: CoordinatorRun.self)
    public init() {}
}

struct CoordinatorRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Coordinate an evaluation (the default subcommand).",
        discussion: """
        Writes the same output directory as `iba evaluate` (identical numbers and results.jsonl).
        Examples:
          iba-coordinator --workers 2                                  # demo model, embedded AG News sample
          iba-coordinator --workers 8 --model M --dataset agnews --data-path test.csv --test-sample 1000
          iba-coordinator --workers 0 --bind tcp://*:5555 --model M ...  # then on other machines:
          iba-worker --connect tcp://COORDINATOR:5555 --model M
          iba-coordinator --workers 0 --bind tcp://*:5555 --ship-model ...   # workers without the model:
          iba-worker --connect tcp://COORDINATOR:5555                      # fetch it once, then use the cache
          iba-coordinator --hosts cluster/hosts.example --advertise HOST --bind tcp://*:5555 ...
        """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var evaluation: EvaluationOptions
    @Option(help: "Local worker processes to start.") var workers = 2
    @Option(name: .customLong("worker-threads"), help: "OpenBLAS threads per worker process.") var workerThreads = 1
    @Option(help: "ZeroMQ endpoint to bind (default: a free loopback port, local workers only).") var bind: String?
    @Option(help: "Host name workers use to reach this machine (with --hosts).") var advertise: String?
    @Option(help: "Hosts file: [slots/][user@]host per line (: = this machine); workers started over SSH.") var hosts: String?
    @Option(name: .customLong("remote-worker"), help: "iba-worker path on remote hosts.") var remoteWorker = "iba-worker"
    @Option(name: .customLong("worker-model"), help: "Model path on the workers' disks (default: the same as --model).") var workerModel: String?
    @Option(name: .customLong("worker-model-cache"), help: "Where workers cache a shipped model (default: their ~/.cache/iba-swift/models).") var workerModelCache: String?
    @Option(help: "SSH client command for --hosts, e.g. \"ssh -F cluster/ssh_config\" (BatchMode is always on).") var ssh = "ssh"
    @Option(name: .customLong("worker-timeout"), help: "Seconds to wait with work left and no worker.") var workerTimeout = 600.0
    @Option(name: .customLong("curve-keys"), help: "Directory from `iba-coordinator keygen`: encrypt and admit only listed workers.") var curveKeys: String?
    @Option(name: .customLong("shard-size"), help: "Examples per lease.") var shardSize = 1
    @Option(name: .customLong("max-attempts"), help: "Attempts per example before it is recorded as failed.") var maxAttempts = 3
    @Option(name: .customLong("heartbeat"), help: "Heartbeat interval in seconds.") var heartbeat = 1.0
    @Flag(help: "Re-issue in-flight examples to idle workers when the queue is empty.") var speculate = false
    @Flag(name: .customLong("ship-model"), help: "Stream the model to workers that lack it (cached by hash on their side).") var shipModel = false
    @Flag(help: "Continue the run whose results log is in the output directory.") var resume = false

    func run() throws {
        try failing {
            let start = Date()
            let modelPath = try modelOptions.resolvedPath()
            let model = try modelOptions.load()
            let settings = try evaluation.settings(numLayers: model.config.numLayers)
            _ = try ExampleEvaluator(model: model, settings: settings)   // validates the options before any worker starts
            let plan = try EvaluationPlan(settings: settings)
            let checkpoint = try checkpointFile(modelPath, config: modelOptions.config, vocab: modelOptions.vocab)
            let shipping = shipModel ? try modelShipment(path: modelPath, config: modelOptions.config, vocab: modelOptions.vocab) : nil
            let job = ClusterJob(settings: settings, examples: Dictionary(uniqueKeysWithValues: plan.indices.map { ($0, plan.examples[$0]) }),
                                 modelPath: modelPath.path, config: modelOptions.config, vocab: modelOptions.vocab,
                                 numLabels: modelOptions.numLabels, headSize: modelOptions.headSize, shipped: shipping?.names)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            var options = settings.summaryOptions
            options["method"] = settings.method
            options["dataset"] = settings.dataset
            let manifest = JobManifest(runID: UUID().uuidString, modelHash: try shipping?.checkpointHash ?? fileContentHash(checkpoint), dataHash: plan.dataHash,
                                       options: options, seed: settings.seed, payload: try encoder.encode(job),
                                       shipment: shipping?.shipment)
            let directory = evaluation.outputDirectory(settings)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)

            var coordinatorOptions = CoordinatorOptions()
            coordinatorOptions.bind = bind ?? "tcp://127.0.0.1:0"
            coordinatorOptions.workerTimeoutSeconds = workerTimeout
            coordinatorOptions.heartbeatIntervalSeconds = heartbeat
            coordinatorOptions.maxAttempts = maxAttempts
            coordinatorOptions.shardSize = shardSize
            coordinatorOptions.speculate = speculate
            coordinatorOptions.curveKeysDirectory = curveKeys.map { URL(fileURLWithPath: $0) }
            coordinatorOptions.resultsLog = directory.appendingPathComponent("results.log.jsonl")
            coordinatorOptions.resume = resume
            coordinatorOptions.shippedFiles = shipping?.files ?? []
            coordinatorOptions.maxMessageBytes = max(64 << 20, manifest.payload.count * 2)
            let quiet = evaluation.quiet
            coordinatorOptions.log = { line in if !quiet { note("[cluster] \(line)") } }
            let coordinator = try Coordinator(manifest: manifest, indices: plan.indices, options: coordinatorOptions)

            // Workers: local processes, and hosts from --hosts (SSH), kept alive until the run ends.
            let port = coordinator.endpoint.split(separator: ":").last.map(String.init) ?? "5555"
            var hostEntries = [HostEntry]()
            if workers > 0 { hostEntries.append(HostEntry(slots: workers, host: ":")) }
            if let hosts { hostEntries += try HostEntry.parseFile(String(contentsOfFile: hosts, encoding: .utf8)) }
            let remoteAddress = advertise ?? ProcessInfo.processInfo.hostName
            let slots = hostEntries.flatMap { entry -> [WorkerLauncher.Slot] in
                let connect = entry.isLocal ? "tcp://127.0.0.1:\(port)" : "tcp://\(remoteAddress):\(port)"
                return WorkerLauncher.slots(
                    hosts: [entry], localExecutable: siblingExecutable("iba-worker"), remoteExecutable: remoteWorker,
                    workerArguments: { name in
                        var arguments = ["--connect", connect, "--name", name, "--threads", "\(workerThreads)"]
                        if let workerModel { arguments += ["--model", workerModel] }
                        if let workerModelCache { arguments += ["--model-cache", workerModelCache] }
                        if let curveKeys { arguments += ["--curve-keys", curveKeys] }
                        return arguments
                    },
                    environment: ["OPENBLAS_NUM_THREADS": "\(workerThreads)"],
                    ssh: ssh.split(separator: " ").map(String.init))
            }
            let launcher = WorkerLauncher(slots: slots)
            launcher.logDirectory = directory.appendingPathComponent("workers")
            launcher.log = coordinatorOptions.log
            try launcher.start()
            defer { launcher.stop(graceSeconds: 3) }   // workers leave on DONE; stragglers are terminated
            note("coordinator at \(coordinator.endpoint) with \(slots.count) worker process(es); logs in \(directory.path)/workers")

            let bar = ProgressBar(total: plan.indices.count, label: "cluster \(settings.method)", quiet: quiet)
            var shown = 0
            let cpuBefore = processCPUSeconds()
            let results = try coordinator.run { p in
                let done = p.done + p.failed
                if done > shown {
                    bar.advance(by: done - shown, extra: "workers \(p.liveWorkers), requeued \(p.requeues)")
                    shown = done
                }
            }
            bar.finish()
            let cpu = processCPUSeconds() - cpuBefore
            note(String(format: "coordinator CPU during the run: %.2f s, %.2f ms per example", cpu, 1000 * cpu / Double(max(1, plan.indices.count))))
            let ordered = records(from: results, plan: plan)
            let summary = try summarize(records: ordered, method: settings.method, dataset: settings.dataset,
                                        layer: settings.method == "iba" ? settings.layer : nil,
                                        seconds: Date().timeIntervalSince(start), options: settings.summaryOptions)
            try writeEvaluationOutputs(directory: directory, records: ordered, summary: summary)
            try writeDegradationPlot(summaries: [summary], to: directory.appendingPathComponent("degradation.svg"))
            print(summaryTable(summary))
            note("outputs in \(directory.path): summary.json, results.jsonl, degradation.svg, 4 .npy files (results.log.jsonl: arrival order, for --resume)")
        }
    }
}

/// `iba-coordinator keygen`: CURVE key pairs for the coordinator and named workers.
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen", abstract: "Write CURVE keys: coordinator.key/.pub, worker-NAME.key/.pub, authorized/.",
        discussion: "Example: iba-coordinator keygen --dir keys --workers alpha,beta (copy coordinator.pub and worker-NAME.* to each worker)")
    @Option(help: "Directory for the keys.") var dir = "keys"
    @Option(help: "Comma-separated worker names (each gets a key pair, listed in authorized/).") var workers = "worker"

    func run() throws {
        try failing {
            let names = workers.split(separator: ",").map(String.init)
            try CurveZMQKeyFiles.generateCluster(directory: URL(fileURLWithPath: dir), workerNames: names)
            note("wrote CURVE keys for the coordinator and \(names.count) worker(s) to \(dir)")
        }
    }
}

/// User + system CPU seconds of this process so far (all threads, libzmq's I/O thread included).
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}
