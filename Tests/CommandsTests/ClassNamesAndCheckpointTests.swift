import Foundation
import XCTest
import BERT
import Evaluation
@testable import IBACommands

/// What a new user meets first: class names instead of numbers, a warning when the architecture is a guess,
/// a readable fine-tuning progress line, help text that the terminal wraps.
final class ClassNamesAndCheckpointTests: XCTestCase {
    /// The first 48 rows of the embedded AG News training sample, as a small training file.
    func smallAGNewsFile(in directory: URL) throws -> URL {
        let rows = try String(contentsOf: EmbeddedData.agnewsDemoTrain(), encoding: .utf8).split(separator: "\n").prefix(48)
        let url = directory.appendingPathComponent("train.csv")
        try (rows.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// iba finetune names AG News's classes in config.json; predict and explain then use the names.
    func testFinetuneWritesClassNamesThatPredictAndExplainShow() throws {
        let iba = try Executables.url("iba")
        let directory = try temporaryDirectory(self)
        let pretrained = try makeFixtureModel(in: directory)
        let data = try smallAGNewsFile(in: directory)
        let output = directory.appendingPathComponent("tuned")
        let tune = try runCommand(iba, ["finetune", "--model", pretrained.path, "--train", data.path, "--eval", data.path,
                                        "--epochs", "2", "--batch-size", "8", "--output", output.path])
        XCTAssertEqual(tune.status, 0, tune.stderr)
        // The progress line: the first epoch is epoch 1, and the bar counts steps, not examples.
        let progress = tune.stderr.split(separator: "\n").filter { $0.hasPrefix("finetune") }
        XCTAssertTrue(progress.first?.contains("epoch 1 ") ?? false, tune.stderr)
        XCTAssertTrue(progress.last?.contains("epoch 2 ") ?? false, tune.stderr)
        XCTAssertFalse(progress.contains { $0.contains("epoch 3") }, tune.stderr)
        XCTAssertTrue(progress.allSatisfy { $0.contains("step/s") || $0.contains("s/step") }, tune.stderr)
        XCTAssertFalse(progress.contains { $0.contains("s/ex") }, tune.stderr)

        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: output.appendingPathComponent("config.json"))) as? [String: Any]
        XCTAssertEqual(config?["id2label"] as? [String: String], ["0": "World", "1": "Sports", "2": "Business", "3": "Sci/Tech"])
        XCTAssertEqual(config?["label2id"] as? [String: Int], ["World": 0, "Sports": 1, "Business": 2, "Sci/Tech": 3])

        let names = ["World", "Sports", "Business", "Sci/Tech"]
        let json = try runCommand(iba, ["predict", "--model", output.path, "--text", "Oil prices rise", "--json"])
        XCTAssertEqual(json.status, 0, json.stderr)
        let prediction = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let label = try XCTUnwrap(prediction?["label"] as? Int)
        XCTAssertEqual(prediction?["label_name"] as? String, names[label])
        let text = try runCommand(iba, ["predict", "--model", output.path, "--text", "Oil prices rise"])
        XCTAssertTrue(text.stdout.hasPrefix("label \(label) (\(names[label]))"), text.stdout)

        // --target by name; the name in the title of every format.
        let explained = try runCommand(iba, ["explain", "--model", output.path, "--layer", "1", "--target", "business", "--format", "json"])
        XCTAssertEqual(explained.status, 0, explained.stderr)
        let explanation = try JSONSerialization.jsonObject(with: Data(explained.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(explanation?["target"] as? Int, 2)
        XCTAssertEqual(explanation?["target_name"] as? String, "Business")
        for format in ["text", "html", "svg"] {
            let run = try runCommand(iba, ["explain", "--model", output.path, "--layer", "1", "--target", "Business", "--format", format])
            XCTAssertEqual(run.status, 0, run.stderr)
            XCTAssertTrue(run.stdout.contains("IBA attribution for Business (class 2, p = 0."), "\(format): \(run.stdout.prefix(400))")
        }
        let unknown = try runCommand(iba, ["explain", "--model", output.path, "--target", "Weather"])
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(unknown.stderr.contains("World, Sports, Business, Sci/Tech"), unknown.stderr)
    }

    /// A checkpoint file without its config loads with a warning that says what was assumed and how to fix it.
    func testInferredArchitectureIsAWarningOnStandardError() throws {
        let iba = try Executables.url("iba")
        let directory = try temporaryDirectory(self)
        let model = try makeFixtureModel(in: directory)
        let alone = directory.appendingPathComponent("alone")
        try FileManager.default.createDirectory(at: alone, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: model.appendingPathComponent("model.safetensors"), to: alone.appendingPathComponent("weights.safetensors"))
        let run = try runCommand(iba, ["predict", "--model", alone.appendingPathComponent("weights.safetensors").path,
                                       "--vocab", model.appendingPathComponent("vocab.txt").path, "--head-size", "16", "--text", "oil"])
        XCTAssertEqual(run.status, 0, run.stderr)
        for part in ["warning:", "2 layers", "hidden size 32", "2 heads of size 16", "intermediate size 64", "512 positions",
                     "4 labels", "--config", "--head-size"] {
            XCTAssertTrue(run.stderr.contains(part), "\(part) missing from: \(run.stderr)")
        }
        // With the config beside it, the same file is no guess.
        try FileManager.default.copyItem(at: model.appendingPathComponent("config.json"), to: alone.appendingPathComponent("config.json"))
        let configured = try runCommand(iba, ["predict", "--model", alone.appendingPathComponent("weights.safetensors").path,
                                              "--vocab", model.appendingPathComponent("vocab.txt").path, "--text", "oil"])
        XCTAssertEqual(configured.status, 0, configured.stderr)
        XCTAssertFalse(configured.stderr.contains("warning"), configured.stderr)
    }

    /// A 4-class AG News evaluation of a 3-label model stops before any example, naming both numbers.
    func testTooFewLabelsIsAnUpFrontError() throws {
        let iba = try Executables.url("iba")
        let directory = try temporaryDirectory(self)
        let model = try makeFixtureModel(in: directory, numLabels: 3)
        let run = try runCommand(iba, ["evaluate", "--model", model.path, "--test-sample", "4", "--layer", "0",
                                       "--output", directory.appendingPathComponent("out").path])
        XCTAssertNotEqual(run.status, 0)
        XCTAssertTrue(run.stderr.contains("3 labels") && run.stderr.contains("4 classes"), run.stderr)
        // The coordinator refuses too, before it starts a worker.
        let coordinator = try runCommand(try Executables.url("iba-coordinator"), [
            "--workers", "1", "--model", model.path, "--test-sample", "4", "--layer", "0",
            "--output", directory.appendingPathComponent("cluster").path])
        XCTAssertNotEqual(coordinator.status, 0)
        XCTAssertTrue(coordinator.stderr.contains("3 labels") && coordinator.stderr.contains("4 classes"), coordinator.stderr)
        XCTAssertFalse(coordinator.stderr.contains("worker process"), "no worker started: \(coordinator.stderr)")
    }

    /// Discussion paragraphs and option help are single lines, in every command of every executable:
    /// swift-argument-parser wraps them to the terminal. Read from the parser's own description of the
    /// commands (--experimental-dump-help), so no command is left out.
    func testHelpParagraphsAreNotHardWrapped() throws {
        var seen = [String]()
        func check(_ command: [String: Any], path: String) {
            let name = path.isEmpty ? (command["commandName"] as? String ?? "?") : path + " " + (command["commandName"] as? String ?? "?")
            seen.append(name)
            let discussion = command["discussion"] as? String ?? ""
            for line in discussion.split(separator: "\n") where !line.hasPrefix(" ") && !line.hasPrefix("Example") {
                XCTAssertTrue(line.last.map { ".:)".contains($0) } ?? true, "\(name): a paragraph broken mid-sentence: \(line)")
            }
            XCTAssertFalse((command["abstract"] as? String ?? "").contains("\n"), "\(name)'s abstract")
            for argument in command["arguments"] as? [[String: Any]] ?? [] {
                for key in ["abstract", "discussion"] {
                    let text = argument[key] as? String ?? ""
                    XCTAssertFalse(text.contains("\n"), "\(name) \(argument["valueName"] ?? ""): help broken across lines: \(text)")
                }
            }
            for subcommand in command["subcommands"] as? [[String: Any]] ?? [] { check(subcommand, path: name) }
        }
        for executable in ["iba", "iba-coordinator", "iba-worker"] {
            let run = try runCommand(try Executables.url(executable), ["--experimental-dump-help"])
            XCTAssertEqual(run.status, 0, run.stderr)
            let tool = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
            check(try XCTUnwrap(tool["command"] as? [String: Any]), path: "")
        }
        for name in ["iba", "iba explain", "iba predict", "iba evaluate", "iba plot", "iba finetune",
                     "iba-coordinator", "iba-coordinator run", "iba-coordinator keygen", "iba-worker"] {
            XCTAssertTrue(seen.contains(name), "\(name) not checked; seen: \(seen)")
        }
    }

    /// report.html of a real (fixture) evaluation: class names, failed rows, ten examples each way.
    func testEvaluationReportPage() throws {
        let iba = try Executables.url("iba")
        let directory = try temporaryDirectory(self)
        let model = try makeFixtureModel(in: directory, labelNames: ["World", "Sports", "Business", "Sci/Tech"])
        let out = directory.appendingPathComponent("out")
        let run = try runCommand(iba, ["evaluate", "--model", model.path, "--test-sample", "24", "--layer", "0", "--output", out.path])
        XCTAssertEqual(run.status, 0, run.stderr)
        let summary = try JSONDecoder().decode(Summary.self, from: Data(contentsOf: out.appendingPathComponent("summary.json")))
        var records = try readResultsJSONL(out.appendingPathComponent("results.jsonl"), tolerateTornLastLine: false).records
        records[3] = .failure(index: records[3].index, target: records[3].target, reason: "a worker returned an unreadable record")
        let loaded = try ModelLoader.load(ModelLocation(path: model))
        let html = evaluationReportHTML(summaries: [summary], records: records, architecture: loaded.architecture)
        if let keep = ProcessInfo.processInfo.environment["IBA_REPORT_SAMPLE"] { try html.write(toFile: keep, atomically: true, encoding: .utf8) }
        XCTAssertEqual(html.components(separatedBy: "<div class=\"example\">").count - 1, 20)
        XCTAssertTrue(html.contains("a worker returned an unreadable record"))
        XCTAssertTrue(html.contains("(class 2)") || html.contains("(class 0)") || html.contains("(class 1)") || html.contains("(class 3)"))
        XCTAssertTrue(["World (class 0)", "Sports (class 1)", "Business (class 2)", "Sci/Tech (class 3)"].contains { html.contains($0) })
        XCTAssertTrue(html.contains("4 of size 8"), "the architecture table")
        XCTAssertTrue(html.contains("<th>layer</th><td>0</td>"), "the settings table")
    }
}
