import ArgumentParser
import Foundation
import Reports
import BERT
import Evaluation
import Kernels

/// `iba predict`: label and probabilities for a text (or JSON lines on standard input).
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Classify a text, or JSON lines {\"text\", \"text_pair\"?} from standard input.",
        discussion: "Example: iba predict --text \"Oil prices rise as supply falls\" --json")

    @OptionGroup var modelOptions: ModelOptions
    @Option(help: "The text to classify (omit to read JSON lines from standard input).") var text: String?
    @Option(name: .customLong("text-pair"), help: "Second sentence of a pair.") var textPair: String?
    @Option(name: .customLong("max-length"), help: "Truncate to this many word pieces.") var maxLength = 512
    @Flag(help: "Print JSON instead of a line of text.") var json = false
    @Option(name: .customLong("batch-size"), help: "Examples per forward pass when reading standard input.")
    var batchSize = 32

    /// The JSON a prediction prints (the library's `Prediction` under the original's key names).
    struct Prediction: Encodable {
        var tokens: [String]; var input_ids: [Int]; var logits: [Float]; var probabilities: [Float]; var label: Int
        /// The class's name from the model's id2label (omitted when it has none).
        var label_name: String?
    }

    func run() throws {
        try failing {
            let model = try modelOptions.load()
            let context = modelOptions.context
            func predict(_ items: [TextInput]) throws -> [Prediction] {
                try model.predict(items, maxLength: maxLength, context: context).map { p in
                    Prediction(tokens: p.tokens, input_ids: p.inputIds, logits: p.logits,
                               probabilities: p.probabilities, label: p.label, label_name: p.labelName)
                }
            }
            if let text {
                let p = try predict([TextInput(text, pair: textPair)])[0]
                if json { print(try jsonString(p)) } else {
                    let name = p.label_name.map { " (\(terminalSafe($0)))" } ?? ""
                    print(
                        "label \(p.label)\(name)  probabilities "
                            + p.probabilities.map { String(format: "%.4f", $0) }.joined(separator: " "))
                }
                return
            }
            // JSON lines from standard input, answered in batches, one output line per input line.
            struct Line: Decodable { var text: String; var text_pair: String? }
            var pending = [TextInput]()
            var lineNumber = 0
            func flush() throws {
                for p in try predict(pending) { print(try jsonString(p)) }
                pending.removeAll()
            }
            while let line = readLine() {
                lineNumber += 1
                if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
                guard let item = try? JSONDecoder().decode(Line.self, from: Data(line.utf8)) else {
                    throw ValidationError("standard input line \(lineNumber) is not a JSON object with \"text\"")
                }
                pending.append(TextInput(item.text, pair: item.text_pair))
                if pending.count >= batchSize { try flush() }
            }
            try flush()
        }
    }
}
