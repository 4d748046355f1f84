import ArgumentParser
import Foundation
import Attribution
import BERT
import Evaluation
import Kernels
import Reports

/// `iba explain`: a heatmap for one text, at one layer or at every layer.
struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain", abstract: "Explain one prediction with IBA (or a baseline) and render the heatmap.",
        discussion: """
        With no options, explains a built-in sentence with the demo model (models/demo-agnews).
        Examples:
          iba explain --text "Stocks rallied after the Fed held rates." --format html --output heatmap.html
          iba explain --text "..." --layers all --format svg --output layers.svg
          iba explain --text "A man is playing." --text-pair "Someone plays." --target gold --label 0 --format json
        """)

    static let builtInSentence =
        "Oil prices soared to a record high on Tuesday as hurricane fears shut refineries along the Gulf of Mexico."

    @OptionGroup var modelOptions: ModelOptions
    @Option(help: "Text to explain (default: a built-in AG News-style sentence).")
    var text: String = ExplainCommand.builtInSentence
    @Option(name: .customLong("text-pair"), help: "Second sentence of a pair.") var textPair: String?
    @Option(help: """
        Class to explain: predicted, gold (needs --label), a class index or a class name (the model's id2label).
        """)
    var target = "predicted"
    @Option(help: "Gold label of the text (for --target gold).") var label: Int?
    @Option(help: "Bottleneck layer (0-based; default 8, or the middle layer of models with 8 layers or fewer).")
    var layer: Int?
    @Option(help: "Several layers: all, or a comma-separated list (IBA only).") var layers: String?
    @Option(help: "Attribution method.") var method = AttributionMethod.iba
    @OptionGroup var iba: IBAFlags
    @Option(help: "Noise seed.") var seed: UInt64 = 0
    @Option(help: "sample (the original's) or dataset (needs --estimator-data).") var estimator = EstimatorChoice.sample
    @Option(name: .customLong("estimator-data"),
            help: "Statistics file (read if it exists, else computed from --estimator-dataset and written).")
    var estimatorData: String?
    @Option(name: .customLong("estimator-dataset"),
            help: "Dataset file (AG News CSV, RTE/MNLI TSV, JSONL) for --estimator dataset.")
    var estimatorDataset: String?
    @Option(name: .customLong("estimator-samples"), help: "Examples pooled for the dataset estimator.")
    var estimatorSamples = 100
    @Option(name: .customLong("max-length")) var maxLength = 512
    @Option(help: "Output format.") var format = HeatmapFormat.text
    @Option(help: "Write to this file instead of standard output.") var output: String?

    struct Explanation: Encodable {
        var tokens: [String]; var input_ids: [Int]; var target: Int; var target_name: String?
        var layer: Int?; var layers: [Int]?
        var method: String; var attribution: AttributionValues; var logits: [Float]; var probabilities: [Float]
        var losses: [[Float]]?; var seconds: Double
    }
    enum AttributionValues: Encodable {
        case single([Float]), perLayer([[Float]])
        func encode(to encoder: Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .single(let v): try c.encode(v)
            case .perLayer(let v): try c.encode(v)
            }
        }
    }

    func validate() throws {
        if layers != nil, method != .iba { throw ValidationError("--layers works with --method iba only") }
        if let layer, let layers {
            throw ValidationError("--layer \(layer) and --layers \(layers) both choose the layer: give one")
        }
        // A layer named twice would be computed twice and drawn as two rows.
        let listed = (layers ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        if let repeated = listed.enumerated().first(where: { listed[..<$0.offset].contains($0.element) })?.element {
            throw ValidationError("--layers names layer \(repeated) more than once")
        }
    }

    func run() throws {
        try failing {
            let start = Date()
            let model = try modelOptions.load()
            let context = modelOptions.context
            let prediction = try model.predict(
                [TextInput(text, pair: textPair)], maxLength: maxLength, context: context)[0]
            let targetClass = try ExplanationTarget(target).resolve(prediction, gold: label, config: model.config)
            let layerList = try selectedLayers(model.config)
            var rows = [[Float]](), losses: [[Float]]?
            if method == .iba {
                let source = EstimatorSource(statisticsFile: estimatorData, datasetFile: estimatorDataset,
                                             samples: estimatorSamples, maxLength: maxLength)
                (rows, losses) = try explainLayers(model: model, input: prediction.input, target: targetClass,
                                                   layers: layerList, options: iba.options(layer: layerList[0]),
                                                   seed: seed, context: context) { layer in
                    estimator == .dataset
                        ? try source.estimator(layer: layer, model: model, context: context, note: note) : .sample
                }
            } else {
                // One explanation explains the chosen class with every method (the corrected protocol).
                let attributor = try Attributor(model: model, method: method, variant: .corrected, context: context)
                let example = ExampleToExplain(input: prediction.input, text: text, pair: textPair, gold: targetClass)
                rows = [try attributor.attribute(example, seed: seed)]
            }
            let multi = layers != nil
            let explanation = Explanation(
                tokens: prediction.tokens, input_ids: prediction.inputIds, target: targetClass,
                target_name: model.config.labelName(targetClass),
                layer: multi || method != .iba ? nil : layerList[0], layers: multi ? layerList : nil,
                method: method.rawValue,
                attribution: multi ? .perLayer(rows) : .single(rows[0]), logits: prediction.logits,
                probabilities: prediction.probabilities, losses: multi ? nil : losses,
                seconds: Date().timeIntervalSince(start))
            try render(explanation, rows: rows, layerList: layerList)
        }
    }

    func selectedLayers(_ config: BertConfig) throws -> [Int] {
        guard let layers else { return [layer ?? defaultLayer(numLayers: config.numLayers)] }
        if layers == "all" { return Array(0..<config.numLayers) }
        let list = layers.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !list.isEmpty, list.allSatisfy({ (0..<config.numLayers).contains($0) }) else {
            throw ValidationError("--layers must be all or a list of layers in 0...\(config.numLayers - 1)")
        }
        return list
    }

    func render(_ e: Explanation, rows: [[Float]], layerList: [Int]) throws {
        let labels = method == .iba ? layerList.map { "layer \($0)" } : [method.rawValue]
        let p = String(format: "%.3f", e.probabilities[e.target])
        let title =
            "\(method.rawValue.uppercased()) attribution for "
            + (e.target_name.map { "\($0) (class \(e.target), p = \(p))" } ?? "class \(e.target) (p = \(p))")
        switch format {
        case .json: try writeOutput(try jsonString(e, pretty: true), to: output)
        case .html:
            let rowsHTML = zip(labels, rows).map { HeatmapRow(label: $0, tokens: e.tokens, values: $1) }
            try writeOutput(renderHTML(title: title, rows: rowsHTML, note: "text: \(text)"), to: output)
        case .svg:
            try writeOutput(
                renderHeatmapSVG(rowLabels: labels, tokens: e.tokens, values: rows, title: title), to: output)
        case .text:
            var text = terminalSafe(title) + "\n"
            let mode = output == nil ? TerminalColorMode.detect() : .plain
            for (label, row) in zip(labels, rows) {
                if rows.count > 1 { text += "\n\(label)\n" }
                text += renderTerminal(tokens: e.tokens, attribution: row, colorMode: mode) + "\n"
            }
            try writeOutput(text, to: output)
        }
    }
}
