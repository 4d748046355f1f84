import Foundation
import XCTest
import Cluster
@testable import ClusterEvaluation
@testable import Evaluation

/// Issue 13: the manifest carries the job's settings and model identity, never its examples; each
/// example travels with its task.
final class StreamedExamplesTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("iba-streamed-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { [folder] in try? FileManager.default.removeItem(at: folder!) }
    }

    /// An all-rows job over a JSONL file of `rows` sentence pairs (the file name's length is the same for any `rows`).
    func job(rows: Int, in name: String) throws -> EvaluationJob {
        let directory = folder.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let lines = (0..<rows).map { "{\"text\":\"a premise of row \($0) with some words\",\"text_pair\":\"a hypothesis\",\"label\":\($0 % 3)}" }
        let data = directory.appendingPathComponent("dev.jsonl")
        try Data(lines.joined(separator: "\n").utf8).write(to: data)
        var settings = EvaluationSettings()
        settings.dataset = .jsonl
        settings.dataPath = data.path
        settings.testSample = nil
        return try EvaluationJob(settings: settings, model: ModelReference(path: "/nowhere"), outputDirectory: directory, methods: [.random])
    }

    func identity() throws -> ModelIdentity {
        let config: [String: Any] = ["vocab_size": 30, "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
                                     "intermediate_size": 64, "num_labels": 3]
        let model = folder.appendingPathComponent("model")
        try FileManager.default.createDirectory(at: model, withIntermediateDirectories: true)
        try JSONSerialization.data(withJSONObject: config).write(to: model.appendingPathComponent("config.json"))
        try Data("[PAD]\n[UNK]\n[CLS]\n[SEP]\na\n".utf8).write(to: model.appendingPathComponent("vocab.txt"))
        try Data("weights".utf8).write(to: model.appendingPathComponent("model.safetensors"))
        let reference = ModelReference(path: model.path)
        return try ModelFiles(reference).identity(reference)
    }

    /// What every HELLO is answered with: the same size for 10 and for 10,000 examples.
    func testTheManifestDoesNotGrowWithTheNumberOfExamples() throws {
        let identity = try identity()
        let small = try job(rows: 10, in: "small"), large = try job(rows: 10_000, in: "large")
        XCTAssertEqual(large.plan.indices.count, 10_000)
        let smallPayload = try ClusterJobPayload(job: small, modelIdentity: identity, shipped: nil, gemm: .openblas).encoded()
        let largePayload = try ClusterJobPayload(job: large, modelIdentity: identity, shipped: nil, gemm: .openblas).encoded()
        XCTAssertEqual(smallPayload.count, largePayload.count, "10 examples: \(smallPayload.count) B, 10,000: \(largePayload.count) B")
        XCTAssertLessThan(largePayload.count, 8_000)
    }

    /// The coordinator's store holds no example: each is encoded from the dataset when its lease is sent, and a
    /// worker decodes the very example.
    func testExamplesAreEncodedWhenLeasedAndDecodeToThemselves() throws {
        let job = try job(rows: 1_000, in: "store")
        let store = try exampleStore(job)
        XCTAssertEqual(store.count, 0)
        XCTAssertEqual(store.totalBytes, 0)
        for index in [0, 1, 999] {
            let bytes = try store.bytes(for: index)
            XCTAssertLessThanOrEqual(bytes.count, store.largestBytes)
            XCTAssertEqual(try decodeExample(bytes, index: index), try job.plan.examples.example(index))
        }
    }

    /// A task whose example bytes are not an example is that entry's error (sent back as ERROR), not a crash.
    func testMalformedExampleBytesAreAnErrorForTheirEntry() {
        for bytes in [Data(), Data("{\"text\": 3}".utf8), Data([0xFF, 0x00, 0x12]), Data("[]".utf8)] {
            XCTAssertThrowsError(try decodeExample(bytes, index: 7), "\(bytes as NSData)") { error in
                XCTAssertTrue(error is ClusterEvaluationError, "\(error)")
                XCTAssertTrue("\(error)".contains("7"), "\(error)")
            }
        }
    }
}
