// cluster-demo swarm: N simulated workers in this one process (Cluster's `SimulatedWorkers`: a DEALER
// socket, a routing id and the real worker state machine each), to load a coordinator with many peers.
//
//   cluster-demo swarm --connect EP --workers N [--delay-ms MS] [--heartbeat S] [--results demo|evaluation]
//                      [--max-seconds S]
//
// --results demo        {"index":i,"value":sin(i)}, what `cluster-demo coordinator` expects
// --results evaluation  a synthetic but valid `ExampleResult` for an iba-coordinator job (one record per
//                       method of the job, the example's words as tokens, its gold label as target, values
//                       from the index): the coordinator's whole path runs without any model computation.
// Prints one line: workers, results sent, tasks, RESETs received, workers finished by DONE.
import Cluster
import Foundation

func runSwarm(_ arguments: Arguments) throws {
    var options = SimulatedWorkers.Options(count: Int(arguments.double("workers", 100)))
    options.delaySeconds = arguments.double("delay-ms", 0) / 1000
    options.heartbeatIntervalSeconds = arguments.double("heartbeat", 1)
    options.maxSeconds = arguments.double("max-seconds", 3600)
    let kind = arguments.string("results", "demo")
    guard ["demo", "evaluation"].contains(kind) else { fail("--results is demo or evaluation, not \(kind)") }
    let swarm = try SimulatedWorkers(connect: arguments.string("connect"), options: options) { manifest in
        if kind == "demo" { return { index, _ in fakeResult(index) } }
        let job = try SyntheticJob(manifest.payload)
        return { index, example in try job.result(index: index, example: example) }
    }
    let report = try swarm.run()
    print("swarm: \(report.workers) workers, \(report.resultsSent) results sent, \(report.tasksReceived) tasks, "
          + "\(report.resets) resets, \(report.finished) finished by DONE, \(report.refused) refused")
}

/// What a synthetic evaluation result needs of the job: its methods, steps and whether AOPC is asked for.
struct SyntheticJob {
    let methods: Int
    let steps: Int
    let maxTokens: Int

    init(_ payload: Data) throws {
        guard let job = try JSONSerialization.jsonObject(with: payload) as? [String: Any],
              let methods = job["methods"] as? [Any], let settings = job["settings"] as? [String: Any],
              let steps = settings["degradationSteps"] as? Int, let maxLength = settings["maxLength"] as? Int else {
            throw CocoaError(.coderReadCorrupt)
        }
        self.methods = methods.count
        self.steps = steps - 1
        maxTokens = max(1, maxLength - 2)
    }

    /// One record per method: deterministic in the index, so two runs of the same job log the same bytes.
    func result(index: Int, example: Data) throws -> Data {
        guard let fields = try JSONSerialization.jsonObject(with: example) as? [String: Any],
              let label = fields["label"] as? Int, let text = fields["text"] as? String else {
            throw CocoaError(.coderReadCorrupt)
        }
        let words = text.split(separator: " ").prefix(maxTokens).map(String.init)
        let tokens = ["[CLS]"] + words + ["[SEP]"]
        let records = (0..<methods).map { m -> [String: Any] in
            let base = 0.5 + 0.45 * sin(Double(index * (m + 1)))
            return [
                "index": index, "target": label, "tokens": tokens,
                "attribution": tokens.indices.map { Double(Float(cos(Double(index + $0)))) },
                "original_prob": Double(Float(base)), "original_correct": index % 3 != 0,
                "degradation_prob": (1...max(1, steps)).prefix(steps).map { Double(Float(base / Double($0 + 1))) },
                "degradation_correct": (0..<steps).map { ($0 + index) % 2 == 0 },
                "aopc_comprehensiveness": Double(Float(base / 3)), "aopc_sufficiency": Double(Float(base / 5)),
            ]
        }
        let result: [String: Any] = ["records": records, "seconds": Array(repeating: 0.001, count: methods)]
        return try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
    }
}
