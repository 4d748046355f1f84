import Foundation
import Cluster
import Evaluation
import Kernels

/// How a cluster evaluation finds and runs its workers (the coordinator's command-line flags).
public struct ClusterRunOptions: Sendable {
    /// Local worker processes to start.
    public var localWorkers = 2
    /// Start more worker processes than `WorkerLauncher.checkCount` finds sane for this machine.
    public var allowManyWorkers = false
    /// iba-worker beside the running coordinator.
    public var workerExecutable: String
    public var workerThreads = 1
    /// ZeroMQ endpoint to bind (nil: a free loopback port, local workers only).
    public var bind: String?
    /// Host name remote workers use to reach this machine.
    public var advertise: String?
    /// Hosts file ([slots/][user@]host per line); workers started over SSH.
    public var hostsFile: String?
    public var remoteWorker = "iba-worker"
    public var ssh = "ssh"
    /// Model path on the workers' disks (nil: the coordinator's).
    public var workerModel: String?
    public var workerModelCache: String?
    public var curveKeys: String?
    public var workerTimeoutSeconds = 600.0
    public var heartbeatSeconds = 1.0
    public var shardSize = 1
    public var maxAttempts = 3
    public var speculate = false
    public var shipModel = false
    /// `--verify`: fraction of the examples computed twice, by different workers, and compared.
    public var verifyFraction = 0.0
    /// The GEMM library every worker uses (the coordinator's `IBA_GEMM`, else the one preferred on its CPU).
    public var gemm = GEMMBackend.preferred
    /// Cluster diagnostics (the command prints or silences them).
    public var log: @Sendable (String) -> Void = { _ in }
    /// Lines the user always sees (where the coordinator listens, where the worker logs go).
    public var announce: @Sendable (String) -> Void = { _ in }

    public init(workerExecutable: String) { self.workerExecutable = workerExecutable }
}

/// Computes a job's examples on cluster workers: a task is one example, its worker runs every method on
/// it and sends one `ExampleResult`. The coordinator checks each result once through the intake (an
/// invalid one is that attempt's error: issued again, never stored) and writes the final ones to the
/// run's store. The model is not loaded here: the manifest needs only its identity.
public struct ClusterExecutor: EvaluationExecutor {
    public var options: ClusterRunOptions
    /// The run's identity when the caller has it already (the results log's); computed otherwise.
    public var identity: RunIdentity?

    /// Refuses more worker processes than this machine takes (`--allow-many-workers` aside) before the run's
    /// store is opened or anything is bound: a refused count leaves nothing behind.
    public init(options: ClusterRunOptions, identity: RunIdentity? = nil) throws {
        let slots = try workerSlots(options, endpoint: "tcp://127.0.0.1:0").count
        try WorkerLauncher.checkCount(slots, allowMany: options.allowManyWorkers)
        self.options = options
        self.identity = identity
    }

    public func evaluate(_ job: EvaluationJob, pending: [Int], held: [Int: Data], store: any ResultStore,
                         intake: ResultIntake) throws -> [Int: String] {
        let cpuBefore = processCPUSeconds()
        let identity = try self.identity ?? RunIdentity(job: job, gemm: options.gemm)
        let shipping = options.shipModel ? try identity.files.shipping() : nil
        let payload = try ClusterJobPayload(job: job, modelIdentity: identity.model, shipped: shipping?.names,
                                            gemm: options.gemm).encoded()
        let manifest = JobManifest(runID: UUID().uuidString, modelHash: identity.model.hash,
                                   dataHash: job.plan.dataHash, options: identity.options, seed: job.settings.seed,
                                   payload: payload, shipment: shipping?.shipment)
        var coordinatorOptions = coordinatorOptions(job, options, shippedFiles: shipping?.files ?? [],
                                                    payloadBytes: payload.count)
        // Checked once here; the accepted bytes are the ones just checked. Held results the intake has already.
        coordinatorOptions.resultValidator = { index, data in intake.check(data, index: index) }
        coordinatorOptions.resultAccepted = { index, data, resumed in
            if !resumed { intake.accept(data, index: index) }
        }
        coordinatorOptions.sameResult = ExampleResult.sameRecords
        coordinatorOptions.returnsPayloads = false  // each result is in the store and the intake already
        let coordinator = try Coordinator(manifest: manifest, indices: job.plan.indices,
                                          examples: try exampleStore(job), options: coordinatorOptions,
                                          journal: OpenedJournal(journal: StoreJournal(store), done: held))
        let results = try run(coordinator, job: job, intake: intake)
        options.announce(cpuNote(since: cpuBefore, examples: job.plan.indices.count))
        return results.compactMapValues { result in
            if case .failed(let reason) = result { return reason }
            return nil
        }
    }

    /// Starts the workers, runs the coordinator to the end and stops them.
    func run(_ coordinator: Coordinator, job: EvaluationJob, intake: ResultIntake) throws -> [Int: WorkResult] {
        let launcher = WorkerLauncher(slots: try workerSlots(options, endpoint: coordinator.endpoint))
        launcher.logDirectory = job.outputDirectory.appendingPathComponent("workers")
        launcher.log = options.log
        try launcher.start()
        defer { launcher.stop(graceSeconds: 3) }
        intake.setWorkerMemory { [launcher] in
            Dictionary(launcher.liveProcessIDs.compactMap { pid in
                peakResidentMiB(processID: pid).map { ("pid \(pid)", $0) }
            }, uniquingKeysWith: max)
        }   // workers leave on DONE; stragglers are terminated
        options.announce("coordinator at \(coordinator.endpoint) with \(launcher.slots.count) worker process(es); "
                         + "logs in \(job.outputDirectory.path)/workers")
        let results = try coordinator.run { p in
            intake.setCounts(inFlight: p.inFlight, lost: p.failed,
                             detail: "workers \(p.liveWorkers), requeued \(p.requeues)")
        }
        launcher.stop(graceSeconds: 3)  // workers that left on DONE are not relaunched meanwhile
        announceVerification(coordinator.verificationReport, options)
        let sent = coordinator.bytesSentPerWorker.values
        options.announce("sent \(sent.reduce(0, +)) bytes to \(sent.count) worker(s), "
                         + "at most \(sent.max() ?? 0) to one")
        return results
    }
}

/// The coordinator's CPU time over the run, and the peak memory of this process.
func cpuNote(since before: Double, examples: Int) -> String {
    let cpu = processCPUSeconds() - before
    let perExample = 1000 * cpu / Double(max(1, examples))
    return String(format: "coordinator CPU during the run: %.2f s, %.2f ms per example", cpu, perExample)
        + (peakResidentMiB(processID: nil).map { String(format: "; peak resident memory %.0f MiB", $0) } ?? "")
}

/// User + system CPU seconds of this process so far (all threads, libzmq's I/O thread included).
func processCPUSeconds() -> Double { ProcessUsage.cpuSeconds() }

/// This process's peak resident set in MiB; nil where there is none (not Linux).
func peakResidentMiB() -> Double? { ProcessUsage.peakResidentMiB() }

/// What `--verify` found, shown even with --quiet: a worker that returned wrong results matters more than progress.
func announceVerification(_ report: VerificationReport, _ options: ClusterRunOptions) {
    guard options.verifyFraction > 0 else { return }
    var line = "verification: \(report.verified) example(s) agreed by two workers"
    if !report.untrusted.isEmpty {
        line += "; UNTRUSTED worker(s) \(report.untrusted.joined(separator: ", ")) "
            + "(their results were computed again by others)"
    }
    if !report.suspects.isEmpty {
        line += "; SUSPECT worker(s) \(report.suspects.joined(separator: ", ")) "
            + "disagreed with no third worker to decide (those examples failed)"
    }
    if !report.unverified.isEmpty {
        line += "; \(report.unverified.count) drawn example(s) unverified (no second worker was left)"
    }
    options.announce(line)
}

func coordinatorOptions(_ job: EvaluationJob, _ options: ClusterRunOptions, shippedFiles: [URL],
                        payloadBytes: Int) -> CoordinatorOptions {
    var c = CoordinatorOptions()
    c.bind = options.bind ?? "tcp://127.0.0.1:0"
    c.workerTimeoutSeconds = options.workerTimeoutSeconds
    c.heartbeatIntervalSeconds = options.heartbeatSeconds
    c.maxAttempts = options.maxAttempts
    c.shardSize = options.shardSize
    c.speculate = options.speculate
    c.curveKeysDirectory = options.curveKeys.map { URL(fileURLWithPath: $0) }
    c.verifyFraction = options.verifyFraction
    c.shippedFiles = shippedFiles
    c.maxMessageBytes = max(64 << 20, payloadBytes * 2)
    c.log = options.log
    return c
}

/// Local worker processes and hosts from the hosts file (SSH), each told how to reach the coordinator.
func workerSlots(_ options: ClusterRunOptions, endpoint: String) throws -> [WorkerLauncher.Slot] {
    let port = endpoint.split(separator: ":").last.map(String.init) ?? "5555"
    var hostEntries = [HostEntry]()
    if options.localWorkers > 0 { hostEntries.append(HostEntry(slots: options.localWorkers, host: ":")) }
    if let hostsFile = options.hostsFile {
        let text: String
        do { text = try String(contentsOfFile: hostsFile, encoding: .utf8) } catch {
            throw ClusterEvaluationError.payload(
                "cannot read the hosts file \(hostsFile): \(error.localizedDescription)")
        }
        hostEntries += try HostEntry.parseFile(text)
    }
    let remoteAddress = options.advertise ?? ProcessInfo.processInfo.hostName
    return hostEntries.flatMap { entry -> [WorkerLauncher.Slot] in
        let connect = entry.isLocal ? "tcp://127.0.0.1:\(port)" : "tcp://\(remoteAddress):\(port)"
        return WorkerLauncher.slots(
            hosts: [entry], localExecutable: options.workerExecutable, remoteExecutable: options.remoteWorker,
            workerArguments: { name in
                var arguments = ["--connect", connect, "--name", name, "--threads", "\(options.workerThreads)"]
                if let workerModel = options.workerModel { arguments += ["--model", workerModel] }
                if let cache = options.workerModelCache { arguments += ["--model-cache", cache] }
                if let curveKeys = options.curveKeys { arguments += ["--curve-keys", curveKeys] }
                return arguments
            },
            environment: ["OPENBLAS_NUM_THREADS": "\(options.workerThreads)"],
            ssh: options.ssh.split(separator: " ").map(String.init))
    }
}
