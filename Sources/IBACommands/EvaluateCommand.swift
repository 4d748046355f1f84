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
            let model = try modelOptions.load()
            let settings = try evaluation.settings(numLayers: model.config.numLayers)
            let plan = try EvaluationPlan(settings: settings)
            if plan.skippedRows > 0 { note("skipped \(plan.skippedRows) malformed rows (--skip-bad-rows)") }
            let progress = ProgressBar(total: plan.indices.count, label: "evaluate \(settings.method)", quiet: evaluation.quiet)
            let jobs = modelOptions.threads ?? ProcessInfo.processInfo.activeProcessorCount
            let (records, summary) = try runEvaluation(model: model, settings: settings, plan: plan, jobs: jobs, backend: modelOptions.context.backend) { record in
                progress.advance(extra: record.failed == nil ? nil : "failed example \(record.index)")
            }
            progress.finish()
            let directory = evaluation.outputDirectory(settings)
            try writeEvaluationOutputs(directory: directory, records: records, summary: summary)
            try writeDegradationPlot(summaries: [summary], to: directory.appendingPathComponent("degradation.svg"))
            print(summaryTable(summary))
            note("outputs in \(directory.path): summary.json, results.jsonl, degradation.svg, 4 .npy files")
        }
    }
}

/// Probability against the fraction of tokens removed, one curve per summary.
func writeDegradationPlot(summaries: [Summary], to url: URL) throws {
    let series = summaries.map { s -> CurveSeries in
        let steps = s.degradationProb.count
        let x = [0.0] + (1...max(steps, 1)).map { Double($0) / Double(steps) }
        return CurveSeries(name: "\(s.method) (\(s.dataset)\(s.layer.map { ", layer \($0)" } ?? ""))", x: x, y: [s.originalProb] + s.degradationProb)
    }
    let svg = renderCurvesSVG(title: "Degradation test", xLabel: "fraction of tokens removed (most important first)",
                              yLabel: "probability of the target class", series: series)
    try Data(svg.utf8).write(to: url, options: .atomic)
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
                return try JSONDecoder().decode(Summary.self, from: Data(contentsOf: url))
            }
            try writeDegradationPlot(summaries: loaded, to: URL(fileURLWithPath: output))
            note("wrote \(output)")
        }
    }
}
