import ArgumentParser
import Foundation
import Attribution
import BERT
import Cluster
import Evaluation
import Reports

/// The options of a dataset evaluation, shared by `iba evaluate` and `iba-coordinator`.
/// The original's flag spellings (`--data_path`, `--layer_idx`, ...) are accepted too.
public struct EvaluationOptions: ParsableArguments {
    @Option(help: "Attribution method (default iba).") var method: AttributionMethod?
    @Option(
        help: ArgumentHelp(
            "Several methods on the same examples, comma-separated: each example is predicted once, "
                + "then every method runs; one subdirectory per method and comparison.md/.csv/.svg.",
            discussion: "Names: " + EvaluationMethod.listHelp + "."))
    var methods: MethodList?
    @Option(help: "Dataset format.") var dataset = DatasetKind.agnews
    @Option(name: [.customLong("data-path"), .customLong("data_path")],
            help: "Dataset file or directory (default: the embedded 200-row AG News sample).")
    var dataPath: String?
    @Option(name: [.customLong("layer"), .customLong("layer_idx")],
            help: "Bottleneck layer (default 8, or the middle layer of small models).")
    var layer: Int?
    @Option(name: [.customLong("test-sample"), .customLong("test_sample")],
            help: "N examples chosen as the original (seed 3), or all.")
    var testSample = "all"
    @Option(name: [.customLong("degrad-steps"), .customLong("degrad_step")],
            help: "Degradation linspace points (9 degraded inputs for 10).")
    var degradSteps = 10
    @Flag(help: "Remove the least important tokens first.") var reverse = false
    @Flag(help: "Replace removed tokens with [MASK] instead of deleting them.") var replace = false
    @OptionGroup var iba: IBAFlags
    @Option(help: "Run seed (noise of example i is seeded from the run seed and i).") var seed: UInt64 = 0
    @Option(name: .customLong("protocol"),
            help: "original (the paper's quirks) or corrected (gold label for every method, masked LIME).")
    var protocolVariant = ProtocolVariant.original
    @Option(name: .customLong("max-length"),
            help: "Truncate inputs to this many word pieces ([CLS] and [SEP] included).")
    var maxLength = 512
    @Option(help: "Dataset text encoding: utf-8 (a byte that is not UTF-8 is a bad row) or latin-1.")
    var encoding: TextEncoding?
    @Flag(name: .customLong("skip-bad-rows"), help: "Skip and count malformed dataset rows instead of stopping.")
    var skipBadRows = false
    @Flag(name: .customLong("no-aopc"), help: "Skip the AOPC comprehensiveness/sufficiency forwards.")
    var noAOPC = false
    @Option(name: .customLong("estimator-data"),
            help: "Dataset-estimator statistics file for IBA (see iba explain --estimator).")
    var estimatorData: String?
    @Option(help: "Evaluate attributions computed elsewhere: JSONL {\"index\", \"attribution\"}.")
    var attributions: String?
    @Option(name: [.customLong("output"), .customLong("output_path")],
            help: "Output directory (default out/<method>-<dataset>).")
    var output: String?
    @Option(name: .customLong("allow-failures"),
            help: "Examples that may fail for good before the run exits with an error.")
    var allowFailures = 0
    @Flag(help: "No progress bar.") var quiet = false
    @Flag(help: "Continue the run whose results log (results.log.jsonl) is in the output directory.") var resume = false
    @Option(
        name: .customLong("log-key"),
        help: """
            File with a secret key (16+ bytes, e.g. head -c 32 /dev/urandom): the results log's chain \
            becomes an HMAC that nobody without the key can redo; --resume then needs the same key.
            """)
    var logKey: String?
    @Flag(
        name: .customLong("accept-unchained-log"),
        help: "With --resume, accept a results log of format 1 (no hash chain: its lines cannot be checked for edits).")
    var acceptUnchainedLog = false
    @Option(
        help: ArgumentHelp(
            "K/N: run the K-th of N disjoint slices of the selected examples (one coordinator each); "
                + "`iba merge` puts the parts' output directories together.",
            valueName: "K/N"))
    var part: String?

    public init() {}

    public func validate() throws {
        if testSample != "all", (Int(testSample) ?? 0) < 1 {
            throw ValidationError("--test-sample must be a positive number or all")
        }
        guard allowFailures >= 0 else { throw ValidationError("--allow-failures must be 0 or more") }
        if methods != nil, attributions != nil {
            throw ValidationError("--attributions evaluates one method: use it without --methods")
        }
        if let method, let methods {
            throw ValidationError("--method \(method.rawValue) and --methods \(methods.text) both name what to run: "
                + "give one (--methods \(method.rawValue),\(methods.text) runs them all)")
        }
        do { try settings(numLayers: 1, requireDataPath: false).validate() } catch { throw ValidationError("\(error)") }
        do { _ = try jobPart() } catch { throw ValidationError("\(error)") }
    }

    /// `--part K/N`, parsed (nil without it).
    func jobPart() throws -> JobPart? { try part.map(JobPart.init(parsing:)) }

    /// The run's settings for a model with `numLayers` layers (the default layer depends on it).
    func settings(numLayers: Int, requireDataPath: Bool = true) throws -> EvaluationSettings {
        var s = EvaluationSettings()
        let single = EvaluationMethod(method ?? .iba)
        s.method = attributions == nil ? (methods?.methods(numLayers: numLayers).first ?? single) : .external
        s.dataset = dataset
        if let dataPath {
            s.dataPath = dataPath
        } else if dataset == .agnews {
            s.dataPath = try EmbeddedData.agnewsDemoTest().path
        } else if requireDataPath {
            throw ValidationError("--data-path is required for --dataset \(dataset.rawValue)")
        }
        s.testSample = Int(testSample)
        s.iba = iba.options(layer: layer ?? defaultLayer(numLayers: numLayers))
        s.degradationSteps = degradSteps
        s.reverse = reverse; s.replace = replace; s.seed = seed
        s.protocolVariant = protocolVariant
        s.maxLength = maxLength; s.skipBadRows = skipBadRows; s.aopc = !noAOPC
        s.encoding = encoding == .utf8 ? nil : encoding
        s.estimatorFile = estimatorData.map { URL(fileURLWithPath: $0).path }
        s.attributionsFile = attributions.map { URL(fileURLWithPath: $0).path }
        return s
    }

    func outputDirectory(_ settings: EvaluationSettings) -> URL {
        let name = (methods?.count ?? 1) > 1 ? "compare" : settings.method.rawValue
        let part = (try? jobPart()).map { "-part\($0.number)of\($0.count)" } ?? ""
        return URL(fileURLWithPath: output ?? "out/\(name)-\(settings.dataset.rawValue)\(part)")
    }

    /// The job: settings checked against the model's config (read from its files, the weights not loaded).
    func job(model: ModelOptions) throws -> EvaluationJob {
        let reference = try model.reference()
        let (config, architecture) = try reference.readArchitecture()
        let settings = try settings(numLayers: config.numLayers)
        return try EvaluationJob(
            settings: settings, model: reference, outputDirectory: outputDirectory(settings), modelConfig: config,
            architecture: architecture, methods: methods?.methods(numLayers: config.numLayers), part: try jobPart())
    }
}

/// `--methods iba,ig,lime,random` (also `iba@3`, `iba@all`): kept as written until the model's layer count
/// is known, since `iba@all` expands to every layer.
struct MethodList: ExpressibleByArgument {
    var text: String

    init?(argument: String) {
        guard EvaluationMethod.parseList(argument, numLayers: 1) != nil else { return nil }
        text = argument
    }

    func methods(numLayers: Int) -> [EvaluationMethod] { EvaluationMethod.parseList(text, numLayers: numLayers) ?? [] }

    /// How many methods the list names (`iba@all` counts as several).
    var count: Int { methods(numLayers: 2).count }
}

extension EvaluationOptions {
    /// `--log-key` and `--accept-unchained-log`: how the results log is chained and which old logs resume.
    func logProtection() throws -> ResultsLogProtection {
        ResultsLogProtection(key: try logKey.map(ResultsLogProtection.readKey), acceptUnchained: acceptUnchainedLog)
    }

    /// What both commands show of a run: a progress bar (resumed examples counted apart), notes, and at
    /// the end the results table and where the outputs are.
    func observer(_ job: EvaluationJob, label: String) -> RunObserver {
        let methods = job.methods.map(\.rawValue).joined(separator: ",")
        let bar = ProgressBar(total: job.plan.indices.count, label: "\(label) \(methods)", quiet: quiet)
        let shown = ShownCount()
        return RunObserver(
            progress: { p in
                if shown.value == 0, p.resumed > 0 {
                    bar.resume(from: p.resumed)
                    shown.value = p.resumed
                }
                let finished = p.done + p.lost
                if finished > shown.value {
                    bar.advance(by: finished - shown.value, extra: p.detail)
                    shown.value = finished
                }
                if finished >= p.total { bar.finish() }  // before the notes that follow the computation
            },
            note: { note($0) },
            finished: { outcome in
                bar.finish()
                print(resultsTable(outcome))
                note(outputsNote(job) + " (results.log.jsonl: arrival order, for --resume)")
                openNote(job.outputDirectory.appendingPathComponent("report.html").path)
            })
    }
}

/// The examples a progress bar has shown (the observer is called one event at a time).
final class ShownCount: @unchecked Sendable {
    var value = 0
}

/// What a run prints at its end: the summary table, or the comparison of its methods followed by the
/// paired differences between them.
func resultsTable(_ outcome: EvaluationJob.Outcome) -> String {
    guard let comparison = outcome.comparison else {
        return outcome.summaries.map(summaryTable).joined(separator: "\n")
    }
    return comparison.markdown + (outcome.pairs.map { "\n" + $0.markdown } ?? "")
}

/// Where a run's outputs went.
func outputsNote(_ job: EvaluationJob) -> String {
    guard job.methods.count > 1 else {
        return "outputs in \(job.outputDirectory.path): summary.json, results.jsonl, degradation.svg, 4 .npy files"
    }
    return "outputs in \(job.outputDirectory.path): comparison.md, comparison.csv, comparison.svg, pairs.csv, "
        + "pairs.md, and "
        + job.methods.map { $0.rawValue + "/" }.joined(separator: ", ")
        + " (summary.json, results.jsonl, degradation.svg, 4 .npy files each)"
}

/// The summary as a table for standard output.
func summaryTable(_ s: Summary) -> String {
    var lines = [
        "method \(s.method)  dataset \(s.dataset)  layer \(s.layer.map(String.init) ?? "-")  n \(s.n)  "
            + "(\(String(format: "%.1f", s.seconds)) s)"
    ]
    lines.append(String(format: "original accuracy %.4f   original prob %.4f", s.originalAccuracy, s.originalProb))
    let steps = s.degradationProb.count
    if steps > 0 {   // no curve when no example was evaluated
        let fractions = (1...steps).map { String(format: "%6.0f%%", 100 * Double($0) / Double(steps)) }
        lines.append("removed          " + fractions.joined(separator: " "))
        lines.append("degraded prob    " + s.degradationProb.map { String(format: "%7.4f", $0) }.joined(separator: " "))
        lines.append(
            "degraded acc     " + s.degradationAccuracy.map { String(format: "%7.4f", $0) }.joined(separator: " "))
    }
    if let c = s.aopcComprehensiveness, let u = s.aopcSufficiency {
        lines.append(String(format: "AOPC comprehensiveness %.4f   sufficiency %.4f", c, u))
    }
    if !s.failed.isEmpty {
        lines.append("failed examples: \(s.failed.count) "
            + "(indices \(s.failed.prefix(10).map(String.init).joined(separator: ", ")))")
    }
    return lines.joined(separator: "\n")
}
