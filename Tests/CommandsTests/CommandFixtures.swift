import Foundation
import TestSupport
import XCTest
import BERT
import Evaluation
import Training
import Tokenizer

/// The built executables (next to the test bundle) and a small real model to run them on.
enum Executables {
    static func url(_ name: String) throws -> URL {
        let bundle = Bundle.main.bundleURL
        let candidates = [bundle.appendingPathComponent(name), bundle.deletingLastPathComponent().appendingPathComponent(name)]
        guard let url = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw XCTSkip("\(name) is not built next to the tests (run swift build -c release first)")
        }
        return url
    }
}

struct CommandResult { var status: Int32; var stdout: String; var stderr: String }

/// Runs an executable to completion with a timeout; output captured.
@discardableResult
func runCommand(_ executable: URL, _ arguments: [String], timeout: Double = 300, environment: [String: String] = [:]) throws -> CommandResult {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    for (k, v) in environment { env[k] = v }
    process.environment = env
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let deadline = Date().addingTimeInterval(timeout)
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    while process.isRunning, Date() < deadline { usleep(20_000) }
    if process.isRunning { process.terminate(); XCTFail("\(executable.lastPathComponent) timed out") }
    process.waitUntilExit()
    return CommandResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
}

/// A small random BERT classifier (4 AG News classes) saved as a Hugging Face directory, with a vocabulary
/// made from the embedded AG News sample's words: no shared files needed.
func makeFixtureModel(in directory: URL, numLabels: Int = 4, labelNames: [String]? = nil) throws -> URL {
    let text = try String(contentsOf: EmbeddedData.agnewsDemoTest(), encoding: .utf8).lowercased()
    var counts = [String: Int]()
    for word in text.split(whereSeparator: { !$0.isLetter && !$0.isNumber }) { counts[String(word), default: 0] += 1 }
    let words = counts.filter { $0.value >= 3 }.keys.sorted()
    let characters = "abcdefghijklmnopqrstuvwxyz0123456789".map(String.init)
    let punctuation = ".,;:!?'\"()-$&/%#".map(String.init)
    var tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + characters + characters.map { "##" + $0 } + punctuation
    tokens += words.filter { !tokens.contains($0) }
    let config = BertConfig(vocabSize: tokens.count, hiddenSize: 32, numLayers: 2, numHeads: 4, intermediateSize: 64,
                            maxPositions: 512, typeVocabSize: 2, layerNormEps: 1e-12, numLabels: numLabels)
    let parameters = try tinyParameters(config, seed: 7, scale: 0.3, gainSpread: 0.1, sourcePath: "fixture")
    let model = BertModel(parameters: parameters, tokenizer: try BertTokenizer(vocabulary: Vocabulary(tokens: tokens)))
    let url = directory.appendingPathComponent("fixture-model")
    try saveHuggingFaceDirectory(model, to: url, labelNames: labelNames)
    return url
}

func temporaryDirectory(_ test: XCTestCase) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("iba-commands-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

/// Asserts two evaluation output directories hold the same numbers: results.jsonl and the .npy files
/// byte for byte, summary.json equal except its wall-clock `seconds`.
func assertSameEvaluation(_ a: URL, _ b: URL, file: StaticString = #filePath, line: UInt = #line) throws {
    let resultsA = try Data(contentsOf: a.appendingPathComponent("results.jsonl"))
    XCTAssertFalse(resultsA.isEmpty, file: file, line: line)
    XCTAssertEqual(resultsA, try Data(contentsOf: b.appendingPathComponent("results.jsonl")), "results.jsonl \(a.lastPathComponent) vs \(b.lastPathComponent)", file: file, line: line)
    let npys = try FileManager.default.contentsOfDirectory(atPath: a.path).filter { $0.hasSuffix(".npy") }
    XCTAssertEqual(npys.count, 4, file: file, line: line)
    for name in npys {
        XCTAssertEqual(try Data(contentsOf: a.appendingPathComponent(name)), try Data(contentsOf: b.appendingPathComponent(name)), name, file: file, line: line)
    }
    func summary(_ url: URL) throws -> NSDictionary {
        guard let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url.appendingPathComponent("summary.json"))) as? [String: Any] else { return [:] }
        return NSDictionary(dictionary: object.filter { $0.key != "seconds" })
    }
    XCTAssertEqual(try summary(a), try summary(b), "summary.json", file: file, line: line)
}

/// progress.json of a finished run: parses, and its counts are the run's (every example done, one method).
func assertFinishedProgress(_ directory: URL, total: Int, file: StaticString = #filePath, line: UInt = #line) throws {
    let data = try Data(contentsOf: directory.appendingPathComponent("progress.json"))
    let json = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any], file: file, line: line)
    XCTAssertEqual(json["finished"] as? Bool, true, file: file, line: line)
    XCTAssertEqual(json["total"] as? Int, total, file: file, line: line)
    XCTAssertEqual(json["done"] as? Int, total, file: file, line: line)
    XCTAssertEqual(json["remaining"] as? Int, 0, file: file, line: line)
    let methods = try XCTUnwrap(json["methods"] as? [[String: Any]], file: file, line: line)
    let results = try String(contentsOf: directory.appendingPathComponent("results.jsonl"), encoding: .utf8)
    let failed = results.split(separator: "\n").filter { $0.contains("\"failed\"") }.count
    XCTAssertEqual(methods.first?["done"] as? Int, total - failed, file: file, line: line)
    XCTAssertEqual(methods.first?["failed"] as? Int, failed, file: file, line: line)
    XCTAssertNotNil(methods.first?["mean_original_prob"] as? Double, file: file, line: line)
}

func lineCount(_ url: URL) -> Int {
    guard let data = try? Data(contentsOf: url) else { return 0 }
    return data.filter { $0 == UInt8(ascii: "\n") }.count
}

func childProcessIDs(of pid: Int32) -> [Int32] {
    guard let output = try? runCommand(URL(fileURLWithPath: "/usr/bin/pgrep"), ["-P", "\(pid)"], timeout: 10) else { return [] }
    return output.stdout.split(separator: "\n").compactMap { Int32($0) }
}
