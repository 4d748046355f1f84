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
    /// The results log's HMAC key and acceptance of unchained (format 1) logs on resume.
    public var resultsLogProtection = ResultsLogProtection()
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
    public var resume = false
    /// `--verify`: fraction of the examples computed twice, by different workers, and compared.
    public var verifyFraction = 0.0
    /// The GEMM library every worker uses (the coordinator's `IBA_GEMM`, else the one preferred on its CPU).
    public var gemm = GEMMBackend.preferred
    /// Cluster diagnostics (the command prints or silences them).
    public var log: @Sendable (String) -> Void = { _ in }
    /// Lines the user always sees (where the coordinator listens, where the worker logs go).
    public var announce: @Sendable (String) -> Void = { _ in }
    /// Each accepted example's records (one per method), as they arrive, after those of a resumed run's
    /// log (`resumed` true): for progress.json.
    public var onRecords: @Sendable (_ records: [ExampleRecord], _ resumed: Bool) -> Void = { _, _ in }

    public init(workerExecutable: String) { self.workerExecutable = workerExecutable }
}

/// Runs a job's examples on cluster workers and returns their records per method in selection order
/// (what `EvaluationJob.finish` writes). A task is one example; its worker runs every method on it. The model is not loaded here: the manifest
/// needs only its identity (files' hashes and architecture).
public func runClusterEvaluation(_ job: EvaluationJob, options: ClusterRunOptions,
                                 progress: (ClusterProgress) -> Void = { _ in }) throws -> MethodRecords {
    // Counted before the coordinator binds and opens its log: a refused count leaves nothing behind.
    try WorkerLauncher.checkCount(try workerSlots(options, endpoint: "tcp://127.0.0.1:0").count, allowMany: options.allowManyWorkers)
    let files = try ModelFiles(job.model)
    let identity = try files.identity(job.model)
    let shipping = options.shipModel ? try files.shipping() : nil
    let payload = try ClusterJobPayload(job: job, modelIdentity: identity, shipped: shipping?.names, gemm: options.gemm).encoded()
    let manifest = JobManifest(runID: UUID().uuidString, modelHash: identity.hash,
                               dataHash: job.plan.dataHash, options: try manifestOptions(job, gemm: options.gemm),
                               seed: job.settings.seed, payload: payload, shipment: shipping?.shipment)
    let coordinator = try Coordinator(manifest: manifest, indices: job.plan.indices, examples: try exampleStore(job),
                                      options: coordinatorOptions(job, options, shippedFiles: shipping?.files ?? [], payloadBytes: payload.count))
    let launcher = WorkerLauncher(slots: try workerSlots(options, endpoint: coordinator.endpoint))
    launcher.logDirectory = job.outputDirectory.appendingPathComponent("workers")
    launcher.log = options.log
    try launcher.start()
    defer { launcher.stop(graceSeconds: 3) }   // workers leave on DONE; stragglers are terminated
    options.announce("coordinator at \(coordinator.endpoint) with \(launcher.slots.count) worker process(es); logs in \(job.outputDirectory.path)/workers")
    let results = try coordinator.run(progress: progress)
    launcher.stop(graceSeconds: 3)  // before decoding: workers that left on DONE are not relaunched meanwhile
    announceVerification(coordinator.verificationReport, options)
    let sent = coordinator.bytesSentPerWorker.values
    options.announce("sent \(sent.reduce(0, +)) bytes to \(sent.count) worker(s), at most \(sent.max() ?? 0) to one")
    return records(from: results, job: job)
}

/// What `--verify` found, shown even with --quiet: a worker that returned wrong results matters more than progress.
func announceVerification(_ report: VerificationReport, _ options: ClusterRunOptions) {
    guard options.verifyFraction > 0 else { return }
    var line = "verification: \(report.verified) example(s) agreed by two workers"
    if !report.untrusted.isEmpty {
        line += "; UNTRUSTED worker(s) \(report.untrusted.joined(separator: ", ")) (their results were computed again by others)"
    }
    if !report.suspects.isEmpty {
        line += "; SUSPECT worker(s) \(report.suspects.joined(separator: ", ")) disagreed with no third worker to decide (those examples failed)"
    }
    if !report.unverified.isEmpty { line += "; \(report.unverified.count) drawn example(s) unverified (no second worker was left)" }
    options.announce(line)
}

/// What the options `manifestOptions` leaves out stand for, so a refused resume names them truly.
let manifestOptionDefaults = ["gemm": GEMMBackend.onednn.rawValue]

/// What `--resume` compares: a hash of the encoded settings, the methods when several run, and the GEMM
/// library unless it is oneDNN (logs from before the library was compared are oneDNN runs, and resume).
func manifestOptions(_ job: EvaluationJob, gemm: GEMMBackend) throws -> [String: String] {
    var options = ["settings": try job.settings.fingerprint()]
    if job.methods.count > 1 { options["methods"] = job.methods.map(\.rawValue).joined(separator: ",") }
    if gemm != .onednn { options["gemm"] = gemm.rawValue }
    return options
}

func coordinatorOptions(_ job: EvaluationJob, _ options: ClusterRunOptions, shippedFiles: [URL], payloadBytes: Int) -> CoordinatorOptions {
    var c = CoordinatorOptions()
    c.bind = options.bind ?? "tcp://127.0.0.1:0"
    c.workerTimeoutSeconds = options.workerTimeoutSeconds
    c.heartbeatIntervalSeconds = options.heartbeatSeconds
    c.maxAttempts = options.maxAttempts
    c.shardSize = options.shardSize
    c.speculate = options.speculate
    c.curveKeysDirectory = options.curveKeys.map { URL(fileURLWithPath: $0) }
    c.resultsLog = job.outputDirectory.appendingPathComponent("results.log.jsonl")
    c.resume = options.resume
    c.resultsLogProtection = options.resultsLogProtection
    c.resultsLogDetails = (try? job.settings.described()) ?? [:]
    c.manifestOptionDefaults = manifestOptionDefaults
    c.verifyFraction = options.verifyFraction
    c.shippedFiles = shippedFiles
    c.maxMessageBytes = max(64 << 20, payloadBytes * 2)
    c.log = options.log
    // A result that does not decode to a valid record of its example is an error for that attempt: the
    // example is issued again and the record never reaches the results log.
    c.resultValidator = { index, data in resultValidationError(data, index: index, job: job) }
    let onRecords = options.onRecords
    c.resultAccepted = { index, data, resumed in
        guard job.plan.examples.indices.contains(index),
              case .success(let result) = decodeResult(data, index: index, example: job.plan.examples[index], job: job) else { return }
        onRecords(result.records, resumed)
    }
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
            throw ClusterEvaluationError.payload("cannot read the hosts file \(hostsFile): \(error.localizedDescription)")
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

/// Records from the coordinator's results, per method in selection order. A result that does not decode,
/// or is not a valid record of its example in this run, is a failed record saying why (never a "done"
/// example).
func records(from results: [Int: WorkResult], job: EvaluationJob) -> MethodRecords {
    var seconds = [Double](repeating: 0, count: job.methods.count)
    let perExample = job.plan.indices.map { index -> [ExampleRecord] in
        let example = job.plan.examples[index]
        func failed(_ reason: String) -> [ExampleRecord] {
            job.methods.map { _ in .failure(index: index, target: example.label, reason: reason) }
        }
        switch results[index] {
        case .done(let data)?:
            switch decodeResult(data, index: index, example: example, job: job) {
            case .success(let result):
                for (m, s) in result.seconds.enumerated() { seconds[m] += s }
                return result.records
            case .failure(let rejection): return failed("a worker returned an unusable record: \(rejection.reason)")
            }
        case .failed(let reason)?: return failed(reason)
        case nil: return failed("no result")
        }
    }
    return MethodRecords(methods: job.methods, perExample: perExample, seconds: seconds)
}

/// One example's result: the bare record (one method) or a `MethodsResult`, each record validated
/// against its method's settings.
func decodeResult(_ data: Data, index: Int, example: LabeledExample, job: EvaluationJob) -> Result<MethodsResult, RecordRejection> {
    if job.methods.count == 1 {
        return ExampleRecord.decodeValidated(data, expectedIndex: index, example: example, settings: job.settings)
            .map { MethodsResult(records: [$0], seconds: [0]) }
    }
    guard isUTF8JSONObject(data), let result = try? JSONDecoder().decode(MethodsResult.self, from: data),
          result.records.count == job.methods.count, result.seconds.count == job.methods.count,
          result.seconds.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
        return .failure(RecordRejection(reason: "not one record and one time per method"))
    }
    for (method, record) in zip(job.methods, result.records) {
        if let problem = record.validationError(expectedIndex: index, example: example, settings: job.settings(for: method)) {
            return .failure(RecordRejection(reason: "invalid \(method.rawValue) record: \(problem)"))
        }
    }
    return .success(result)
}

/// The coordinator's check of one worker result as it arrives (for a result-validation hook in
/// `CoordinatorOptions`): nil when `data` is a valid result of example `index` in this job, else why not.
/// An invalid result should be an error for that attempt (the example is issued again), never logged.
public func resultValidationError(_ data: Data, index: Int, job: EvaluationJob) -> String? {
    guard job.plan.examples.indices.contains(index) else { return "example \(index) is not in the dataset" }
    switch decodeResult(data, index: index, example: job.plan.examples[index], job: job) {
    case .success: return nil
    case .failure(let rejection): return rejection.reason
    }
}
