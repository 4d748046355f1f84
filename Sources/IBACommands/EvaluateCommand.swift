import ArgumentParser
import Foundation
import Kernels
import Evaluation
import Reports

/// `iba evaluate`: the degradation test over a dataset in one process.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate", abstract: "Degradation test of an attribution method over a dataset (the paper's evaluation).",
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
            if let warning = job.targetWarning { note("warning: \(warning)") }
            let lock = try OutputDirectoryLock(job.outputDirectory)
            let model = try modelOptions.load()
            if job.plan.skippedRows > 0 { note("skipped \(job.plan.skippedRows) malformed rows (--skip-bad-rows)") }
            let progress = ProgressBar(total: job.plan.indices.count, label: "evaluate \(job.methods.map(\.rawValue).joined(separator: ","))", quiet: evaluation.quiet)
            let jobs = modelOptions.threads ?? ProcessInfo.processInfo.activeProcessorCount
            let start = Date()
            let progressFile = ProgressFile(directory: job.outputDirectory, methods: job.methods, total: job.plan.indices.count, start: start)
            progressFile.setCounts(inFlight: jobs)  // every thread busy until the tail (capped by what is left)
            let run = try job.run(model: model, jobs: jobs, backend: modelOptions.context.backend) { records in
                let failed = records.first { $0.failed != nil }
                progress.advance(extra: failed.map { "failed example \($0.index)" })
                progressFile.add(records)
                progressFile.refresh()
            }
            progress.finish()
            let outcome = try job.finish(run, seconds: Date().timeIntervalSince(start))
            try progressFile.finish(run)  // after the outputs: a progress file never costs a run its results
            withExtendedLifetime(lock) {}
            print(resultsTable(outcome))
            note(outputsNote(job))
            openNote(job.outputDirectory.appendingPathComponent("report.html").path)
            try checkFailures(run, allowed: evaluation.allowFailures)
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
