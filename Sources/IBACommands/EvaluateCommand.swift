import ArgumentParser
import Foundation
import Kernels
import ClusterEvaluation
import Evaluation
import Reports

/// `iba evaluate`: the degradation test over a dataset in one process.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Degradation test of an attribution method over a dataset (the paper's evaluation).",
        discussion: """
        With no options, evaluates IBA on the embedded 200-row AG News sample with the demo model.
        Examples:
          iba evaluate --model M --dataset agnews --data-path test.csv --method iba --layer 8 --test-sample 100
          python-style flags work too: --data_path test.csv --layer_idx 8 --test_sample 100 --output_path out/
        """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var evaluation: EvaluationOptions

    func run() throws {
        try failing {
            let job = try evaluation.job(model: modelOptions)
            let backend = modelOptions.context.backend
            let store = try ResultsLogStore(job: job, gemm: backend, resume: evaluation.resume,
                                            protection: try evaluation.logProtection(), log: note)
            let threads = modelOptions.threads ?? ProcessInfo.processInfo.activeProcessorCount
            let executor = LocalExecutor(threads: threads, backend: backend, loadModel: modelOptions.load)
            try job.execute(executor: executor, store: store, observer: evaluation.observer(job, label: "evaluate"),
                            allowedFailures: evaluation.allowFailures)
        }
    }
}

/// `iba plot`: several runs' summaries on one degradation plot.
struct PlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot", abstract: "Plot the degradation curves of several summary.json files together.",
        discussion: "Example: iba plot out/iba-agnews/summary.json out/random-agnews/summary.json --output curves.svg")

    @Argument(help: "summary.json files (or run directories).") var summaries: [String]
    @Option(help: "SVG file to write.") var output = "degradation.svg"

    func run() throws {
        try failing {
            let loaded = try summaries.map { path -> Summary in
                var url = URL(fileURLWithPath: path)
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue {
                    url.appendPathComponent("summary.json")
                }
                let data = try readFile(url)
                do { return try JSONDecoder().decode(Summary.self, from: data) } catch {
                    throw CommandError("\(url.path) is not a summary.json (\(describeDecodingError(error)))")
                }
            }
            try writeFile(Data(degradationPlotSVG(summaries: loaded).utf8), to: output)
            openNote(output)
        }
    }
}
