import ArgumentParser
import Foundation
import Cluster
import ClusterEvaluation
import Evaluation
import Kernels
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
    @Option(help: "Local worker processes to start (at most 4 per core without --allow-many-workers).") var workers = 2
    @Flag(name: .customLong("allow-many-workers"), help: "Start more than 4 local worker processes per core.")
    var allowManyWorkers = false
    @Option(name: .customLong("worker-threads"), help: "OpenBLAS threads per worker process.") var workerThreads = 1
    @Option(help: "ZeroMQ endpoint to bind (default: a free loopback port, local workers only).") var bind: String?
    @Option(help: "Host name workers use to reach this machine (with --hosts).") var advertise: String?
    @Option(help: "Hosts file: [slots/][user@]host per line (: = this machine); workers started over SSH.")
    var hosts: String?
    @Option(name: .customLong("remote-worker"), help: "iba-worker path on remote hosts.")
    var remoteWorker = "iba-worker"
    @Option(name: .customLong("worker-model"), help: "Model path on the workers' disks (default: the same as --model).")
    var workerModel: String?
    @Option(name: .customLong("worker-model-cache"),
            help: "Where workers cache a shipped model (default: their ~/.cache/iba-swift/models).")
    var workerModelCache: String?
    @Option(help: "SSH client command for --hosts, e.g. \"ssh -F cluster/ssh_config\" (BatchMode is always on).")
    var ssh = "ssh"
    @Option(name: .customLong("worker-timeout"), help: "Seconds to wait with work left and no worker.")
    var workerTimeout = 600.0
    @Option(name: .customLong("curve-keys"),
            help: "Directory from `iba-coordinator keygen`: encrypt and admit only listed workers.")
    var curveKeys: String?
    @Option(name: .customLong("shard-size"), help: "Examples per lease.") var shardSize = 1
    @Option(name: .customLong("max-attempts"), help: "Attempts per example before it is recorded as failed.")
    var maxAttempts = 3
    @Option(name: .customLong("heartbeat"), help: "Heartbeat interval in seconds.") var heartbeat = 1.0
    @Flag(help: "Re-issue in-flight examples to idle workers when the queue is empty.") var speculate = false
    @Flag(name: .customLong("ship-model"),
          help: "Stream the model to workers that lack it (cached by hash on their side).")
    var shipModel = false
    @Option(help: """
        Fraction (0...1) of the examples, drawn from the seed, computed again by a different worker and \
        compared byte for byte; a worker that disagrees with two others gets no more work.
        """)
    var verify = 0.0

    func validate() throws {
        guard verify >= 0, verify <= 1 else {
            throw ValidationError("--verify wants a fraction between 0 and 1, got \(verify)")
        }
        // A second opinion needs a second worker; remote workers (--workers 0, --hosts) may join at any time.
        if verify > 0, workers == 1, hosts == nil {
            throw ValidationError(
                "--verify needs at least two workers (one cannot check itself): use --workers 2 or more")
        }
        do { try WorkerLauncher.checkCount(workers, allowMany: allowManyWorkers) } catch {
            throw ValidationError("--workers: \(error)")
        }
    }

    func run() throws {
        try failing {
            let job = try evaluation.job(model: modelOptions)
            let options = clusterOptions()
            let store = try ResultsLogStore(job: job, gemm: options.gemm, resume: evaluation.resume,
                                            protection: try evaluation.logProtection(), log: options.log)
            try job.execute(executor: ClusterExecutor(options: options, identity: store.identity), store: store,
                            observer: evaluation.observer(job, label: "cluster"),
                            allowedFailures: evaluation.allowFailures)
        }
    }

    func clusterOptions() -> ClusterRunOptions {
        var o = ClusterRunOptions(workerExecutable: siblingExecutable("iba-worker"))
        o.localWorkers = workers; o.allowManyWorkers = allowManyWorkers; o.workerThreads = workerThreads
        o.bind = bind; o.advertise = advertise; o.hostsFile = hosts; o.remoteWorker = remoteWorker; o.ssh = ssh
        o.workerModel = workerModel; o.workerModelCache = workerModelCache; o.curveKeys = curveKeys
        o.workerTimeoutSeconds = workerTimeout; o.heartbeatSeconds = heartbeat
        o.shardSize = shardSize; o.maxAttempts = maxAttempts; o.speculate = speculate
        o.shipModel = shipModel; o.verifyFraction = verify
        o.gemm = ComputeContext.fromEnvironment().backend
        let quiet = evaluation.quiet
        o.log = { line in if !quiet { note("[cluster] \(line)") } }
        o.announce = { line in note(line) }
        return o
    }
}

/// `iba-coordinator keygen`: CURVE key pairs for the coordinator and named workers.
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen", abstract: "Write CURVE keys: coordinator.key/.pub, worker-NAME.key/.pub, authorized/.",
        discussion: "Example: iba-coordinator keygen --dir keys --workers alpha,beta "
            + "(copy coordinator.pub and worker-NAME.* to each worker)")
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

/// Executable that sits next to the running one (iba-worker beside iba-coordinator).
func siblingExecutable(_ name: String) -> String {
    URL(fileURLWithPath: CommandLine.arguments.first ?? name).resolvingSymlinksInPath()
        .deletingLastPathComponent().appendingPathComponent(name).path
}
