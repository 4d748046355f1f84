// cluster-demo: the Cluster module with a fake computation instead of BERT,
// for multi-process tests (kill -9, network namespaces) and for trying a
// deployment before the model is involved. Each example's result is
// {"index":i,"value":sin(i)} after a configurable delay.
//
//   cluster-demo keygen DIR NAME...
//   cluster-demo coordinator --bind tcp://*:5555 --count 100 [--out FILE] [--log FILE] [--resume]
//                            [--keys DIR] [--heartbeat S] [--worker-timeout S] [--shard N] [--speculate]
//                            [--workers N [--delay-ms MS] [--liars K]] [--payload-bytes N] [--ship FILE]
//                            [--verify F]
//   cluster-demo worker --connect tcp://HOST:5555 [--name NAME] [--keys DIR] [--delay-ms MS]
//                       [--heartbeat S] [--idle-exit S] [--fabricate]
//   cluster-demo hostile --connect EP --mode MODE ...   (see Hostile.swift; for cluster/test/chaos-loopback.sh)
//   cluster-demo swarm --connect EP --workers N ...     (see Swarm.swift: N simulated workers in one process)
//
// --fabricate (and --liars K: the first K local workers fabricate) makes a worker return wrong
// but well-formed results, which only --verify can catch. Results are checked on arrival by a
// demo validator (exactly {"index":i,"value":v}, v finite in [-1, 1]), as iba's are by theirs.
//
// The coordinator writes the results in index order, one line each, to
// --out (default stdout); two runs are identical iff those files are.
import Cluster
import Foundation

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("cluster-demo: \(message)\n".utf8))
    exit(2)
}

/// --flag value pairs and bare --switches after the subcommand.
struct Arguments {
    var values: [String: String] = [:]
    var switches: Set<String> = []
    var positional: [String] = []

    init(_ arguments: ArraySlice<String>, switches known: Set<String>) {
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            if argument.hasPrefix("--") {
                let key = String(argument.dropFirst(2))
                if known.contains(key) {
                    switches.insert(key)
                } else if let value = rest.popFirst() {
                    values[key] = value
                } else {
                    fail("--\(key) needs a value")
                }
            } else {
                positional.append(argument)
            }
        }
    }

    func string(_ key: String, _ fallback: String? = nil) -> String {
        guard let value = values[key] ?? fallback else { fail("missing --\(key)") }
        return value
    }

    func double(_ key: String, _ fallback: Double) -> Double {
        guard let text = values[key] else { return fallback }
        guard let value = Double(text) else { fail("--\(key) wants a number, got \(text)") }
        return value
    }
}

func fakeResult(_ index: Int) -> Data {
    Data("{\"index\":\(index),\"value\":\(String(format: "%.17g", sin(Double(index))))}".utf8)
}

/// The demo's result validator: why `payload` is not a record of example `index`, or nil.
func demoRecordProblem(_ index: Int, _ payload: Data) -> String? {
    guard payload.first == UInt8(ascii: "{"), !payload.contains(0), String(data: payload, encoding: .utf8) != nil else {
        return "not UTF-8 JSON"
    }
    guard let object = (try? JSONSerialization.jsonObject(with: payload)) as? [String: Any] else {
        return "not a JSON object"
    }
    guard object.count == 2 else { return "\(object.count) fields, a demo record has 2 (index, value)" }
    guard (object["index"] as? Int) == index else { return "its index is not \(index)" }
    guard let value = (object["value"] as? NSNumber)?.doubleValue, value.isFinite, abs(value) <= 1 else {
        return "value is not a finite number in [-1, 1]"
    }
    return nil
}

func runCoordinator(_ arguments: Arguments) throws {
    var options = CoordinatorOptions()
    options.bind = arguments.string("bind", "tcp://*:5555")
    options.heartbeatIntervalSeconds = arguments.double("heartbeat", 1)
    options.workerTimeoutSeconds = arguments.double("worker-timeout", 60)
    options.shardSize = Int(arguments.double("shard", 1))
    options.speculate = arguments.switches.contains("speculate")
    options.resume = arguments.switches.contains("resume")
    options.resultsLog = arguments.values["log"].map { URL(fileURLWithPath: $0) }
    options.curveKeysDirectory = arguments.values["keys"].map { URL(fileURLWithPath: $0, isDirectory: true) }
    options.verifyFraction = arguments.double("verify", 0)
    options.resultValidator = demoRecordProblem
    let count = Int(arguments.double("count", 100))
    // --payload-bytes: a manifest as large as a real job's (to measure what floods cost);
    // --ship FILE: serve FILE to workers that FETCH it.
    let payload = Data(repeating: UInt8(ascii: "x"), count: Int(arguments.double("payload-bytes", 0)))
    var shipment: FileShipment?
    if let path = arguments.values["ship"] {
        let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.uint64Value ?? 0
        shipment = FileShipment(key: "demo", files: [.init(name: "model.bin", size: size, hash: "demo")])
        options.shippedFiles = [URL(fileURLWithPath: path)]
    }
    let manifest = JobManifest(runID: UUID().uuidString, modelHash: "demo-model", dataHash: "demo-data",
                               options: ["count": "\(count)"], seed: 1, payload: payload, shipment: shipment)
    let coordinator = try Coordinator(manifest: manifest, indices: Array(0..<count), options: options)
    FileHandle.standardError.write(Data("cluster-demo: coordinator on \(coordinator.endpoint)\n".utf8))
    // --workers N: local worker processes (this executable), stopped with the run, also on SIGINT/TERM/HUP.
    var launcher: WorkerLauncher?
    if let workers = arguments.values["workers"].flatMap(Int.init), workers > 0 {
        try WorkerLauncher.checkCount(workers, allowMany: arguments.switches.contains("allow-many-workers"))
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
        let connect = coordinator.endpoint.replacingOccurrences(of: "0.0.0.0", with: "127.0.0.1")
        if options.verifyFraction > 0, workers < 2 {
            FileHandle.standardError.write(Data("""
                cluster-demo: warning: --verify with one worker verifies nothing \
                (a worker cannot check itself)\n
                """.utf8))
        }
        let liars = Int(arguments.double("liars", 0))
        let slots = (0..<workers).map { k in
            var workerArguments = [executable, "worker", "--connect", connect, "--name", "local-\(k)",
                                   "--delay-ms", arguments.string("delay-ms", "50"),
                                   "--heartbeat", arguments.string("heartbeat", "1"), "--idle-exit", "300"]
            if let keys = arguments.values["keys"] { workerArguments += ["--keys", keys] }
            if k < liars { workerArguments.append("--fabricate") }
            return WorkerLauncher.Slot(name: "local-\(k)", arguments: workerArguments)
        }
        launcher = WorkerLauncher(slots: slots)
        try launcher?.start()
        FileHandle.standardError.write(Data("""
            cluster-demo: worker pids \(launcher?.liveProcessIDs.map(String.init).joined(separator: " ") ?? "")\n
            """.utf8))
    }
    defer { launcher?.stop(graceSeconds: 1) }
    var lastLine = ""
    let cpuBefore = ProcessUsage.cpuSeconds()
    var mostDescriptors = ProcessUsage.openDescriptors() ?? 0
    let results = try coordinator.run { progress in
        mostDescriptors = max(mostDescriptors, ProcessUsage.openDescriptors() ?? 0)
        let line = "progress \(progress.done)/\(progress.total) failed \(progress.failed) "
            + "workers \(progress.liveWorkers) requeues \(progress.requeues)"
        if line != lastLine {
            FileHandle.standardError.write(Data("cluster-demo: \(line)\n".utf8))
            lastLine = line
        }
    }
    let cpu = ProcessUsage.cpuSeconds() - cpuBefore
    FileHandle.standardError.write(Data(String(
        format: "cluster-demo: coordinator CPU %.2f s (%.3f ms per result), peak resident %.1f MiB, "
            + "at most %d open file descriptors\n",
        cpu, 1000 * cpu / Double(max(1, count)), ProcessUsage.peakResidentMiB() ?? 0, mostDescriptors).utf8))
    let report = coordinator.verificationReport
    if options.verifyFraction > 0 {
        FileHandle.standardError.write(Data(("cluster-demo: verification: \(report.verified) verified, "
                                             + "untrusted [\(report.untrusted.joined(separator: " "))], "
                                             + "suspect [\(report.suspects.joined(separator: " "))], "
                                             + "unverified \(report.unverified.count)\n").utf8))
    }
    var output = Data()
    for index in 0..<count {
        switch results[index] {
        case let .done(payload)?: output.append(payload)
        case let .failed(reason)?: output.append(Data("{\"index\":\(index),\"failed\":\"\(reason)\"}".utf8))
        case nil: output.append(Data("{\"index\":\(index),\"missing\":true}".utf8))
        }
        output.append(0x0A)
    }
    if let path = arguments.values["out"] {
        try output.write(to: URL(fileURLWithPath: path))
    } else {
        FileHandle.standardOutput.write(output)
    }
}

func runWorker(_ arguments: Arguments) throws {
    var options = WorkerOptions(name: arguments.string("name", WorkerOptions.defaultName()))
    options.heartbeatIntervalSeconds = arguments.double("heartbeat", 1)
    options.idleExitSeconds = arguments.double("idle-exit", 60)
    if let keys = arguments.values["keys"] {
        options.curve = try CurveZMQClientKeys.load(
            directory: URL(fileURLWithPath: keys, isDirectory: true), workerName: options.name)
    }
    let delay = arguments.double("delay-ms", 50) / 1000
    let fabricate = arguments.switches.contains("fabricate")
    let worker = try Worker(connect: arguments.string("connect"), options: options)
    let exit = try worker.run { manifest in
        guard manifest.modelHash == "demo-model" else { throw CocoaError(.featureUnsupported) }
        return { index in
            Thread.sleep(forTimeInterval: delay)
            return fabricate ? Data("{\"index\":\(index),\"value\":0.5}".utf8) : fakeResult(index)
        }
    }
    FileHandle.standardError.write(Data("cluster-demo: worker \(options.name) exits: \(exit)\n".utf8))
}

let argv = CommandLine.arguments
guard argv.count >= 2 else { fail("usage: cluster-demo keygen|coordinator|worker|hostile|swarm ...") }
let arguments = Arguments(argv.dropFirst(2), switches: ["resume", "speculate", "fabricate", "allow-many-workers"])
do {
    switch argv[1] {
    case "keygen":
        guard let directory = arguments.positional.first else { fail("usage: cluster-demo keygen DIR NAME...") }
        try CurveZMQKeyFiles.generateCluster(directory: URL(fileURLWithPath: directory, isDirectory: true),
                                          workerNames: Array(arguments.positional.dropFirst()))
    case "coordinator": try runCoordinator(arguments)
    case "worker": try runWorker(arguments)
    case "hostile": try runHostile(arguments)
    case "swarm": try runSwarm(arguments)
    default: fail("unknown subcommand \(argv[1])")
    }
} catch {
    fail("\(error)")
}
