import Foundation
import XCTest
import Checkpoint

/// The model a worker computes with must be the coordinator's: every weight file (a sharded checkpoint's
/// shards too), the architecture and the vocabulary. A differing copy is refused, naming what differs.
final class ModelIdentityCommandTests: XCTestCase {
    func evaluation(_ model: URL) -> [String] {
        ["--model", model.path, "--test-sample", "4", "--layer", "0", "--batch", "10"]
    }

    /// Runs the coordinator with local workers; stderr with the worker logs appended (where refusals are).
    func cluster(_ model: URL, _ extra: [String], output: URL, environment: [String: String] = [:]) throws -> CommandResult {
        let coordinator = try Executables.url("iba-coordinator")
        _ = try Executables.url("iba-worker")
        let run = try runCommand(coordinator, ["--workers", "1"] + extra + evaluation(model) + ["--output", output.path],
                                 environment: environment)
        let workerLogs = (try? FileManager.default.contentsOfDirectory(at: output.appendingPathComponent("workers"), includingPropertiesForKeys: nil)) ?? []
        let logs = workerLogs.compactMap { try? String(contentsOf: $0, encoding: .utf8) }.joined(separator: "\n")
        return CommandResult(status: run.status, stdout: run.stdout, stderr: run.stderr + "\n" + logs)
    }

    func copyModel(_ model: URL, to url: URL) throws -> URL {
        try FileManager.default.copyItem(at: model, to: url)
        return url
    }

    func testWorkerWithOtherHeadCountsOrSwappedVocabularyIsRefused() throws {
        let directory = try temporaryDirectory(self)
        let model = try makeFixtureModel(in: directory)

        // The same weights read as 2 heads of 16 instead of 4 heads of 8.
        let otherHeads = try copyModel(model, to: directory.appendingPathComponent("other-heads"))
        let configURL = otherHeads.appendingPathComponent("config.json")
        var config = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as? [String: Any])
        XCTAssertEqual(config["num_attention_heads"] as? Int, 4)
        config["num_attention_heads"] = 2
        try JSONSerialization.data(withJSONObject: config).write(to: configURL)
        let heads = try cluster(model, ["--worker-model", otherHeads.path, "--worker-timeout", "3"], output: directory.appendingPathComponent("heads"))
        XCTAssertNotEqual(heads.status, 0, "a worker with other head counts must not compute the run")
        XCTAssertTrue(heads.stderr.contains("its architecture is 2 layers, hidden size 32, 2 heads of size 16"), heads.stderr.suffix(3000).description)
        XCTAssertTrue(heads.stderr.contains("the coordinator's 2 layers, hidden size 32, 4 heads of size 8"), heads.stderr.suffix(3000).description)

        // Two vocabulary entries swapped: the same architecture, other token ids.
        let swapped = try copyModel(model, to: directory.appendingPathComponent("swapped-vocab"))
        let vocabURL = swapped.appendingPathComponent("vocab.txt")
        var lines = try String(contentsOf: vocabURL, encoding: .utf8).components(separatedBy: "\n")
        lines.swapAt(10, 11)
        try lines.joined(separator: "\n").write(to: vocabURL, atomically: true, encoding: .utf8)
        let vocab = try cluster(model, ["--worker-model", swapped.path, "--worker-timeout", "3"], output: directory.appendingPathComponent("vocab"))
        XCTAssertNotEqual(vocab.status, 0, "a worker with a swapped vocabulary must not compute the run")
        XCTAssertTrue(vocab.stderr.contains("its vocabulary differs"), vocab.stderr.suffix(3000).description)
        XCTAssertFalse(vocab.stderr.contains("its architecture is"), "only the vocabulary differs")

        // With --ship-model the worker takes the coordinator's files instead of its wrong copy: iba evaluate's output.
        let reference = directory.appendingPathComponent("evaluate")
        let single = try runCommand(try Executables.url("iba"), ["evaluate"] + evaluation(model) + ["--quiet", "--output", reference.path])
        XCTAssertEqual(single.status, 0, single.stderr)
        let shipped = directory.appendingPathComponent("shipped")
        let run = try cluster(model, ["--worker-model", otherHeads.path, "--ship-model", "--worker-timeout", "20"], output: shipped,
                              environment: ["XDG_CACHE_HOME": directory.appendingPathComponent("cache").path])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stderr.contains("using the shipped model"), run.stderr.suffix(3000).description)
        try assertSameEvaluation(reference, shipped)
    }

    /// A sharded checkpoint: --ship-model ships the index and every shard (the worker loads them), and a
    /// worker whose copy differs in one shard only is refused.
    func testShardedCheckpointIsShippedWholeAndEveryShardIsChecked() throws {
        let directory = try temporaryDirectory(self)
        let model = try makeFixtureModel(in: directory)
        let sharded = directory.appendingPathComponent("sharded")
        try FileManager.default.createDirectory(at: sharded, withIntermediateDirectories: true)
        for name in ["config.json", "vocab.txt"] {
            try FileManager.default.copyItem(at: model.appendingPathComponent(name), to: sharded.appendingPathComponent(name))
        }
        let archive = try CheckpointArchive.open(model.appendingPathComponent("model.safetensors"))
        var weightMap = [String: String]()
        for shard in 0..<2 {
            let shardName = "model-0000\(shard + 1)-of-00002.safetensors"
            var tensors = [String: (shape: [Int], values: [Float])]()
            for (i, name) in archive.tensorNames.sorted().enumerated() where i % 2 == shard {
                tensors[name] = (try XCTUnwrap(archive.info(name)).shape, try archive.float32(name))
                weightMap[name] = shardName
            }
            try SafetensorsWriter.write(tensors, to: sharded.appendingPathComponent(shardName))
        }
        try JSONSerialization.data(withJSONObject: ["metadata": ["total_size": 0], "weight_map": weightMap])
            .write(to: sharded.appendingPathComponent("model.safetensors.index.json"))

        let reference = directory.appendingPathComponent("evaluate")
        let single = try runCommand(try Executables.url("iba"), ["evaluate"] + evaluation(sharded) + ["--quiet", "--output", reference.path])
        XCTAssertEqual(single.status, 0, single.stderr)

        // Workers without a copy: the shipment carries the index and both shards.
        let cache = directory.appendingPathComponent("cache")
        let shipped = directory.appendingPathComponent("shipped")
        let run = try cluster(sharded, ["--worker-model", directory.appendingPathComponent("not-here").path, "--ship-model", "--worker-timeout", "20"],
                              output: shipped, environment: ["XDG_CACHE_HOME": cache.path])
        XCTAssertEqual(run.status, 0, run.stderr)
        try assertSameEvaluation(reference, shipped)
        let models = cache.appendingPathComponent("iba-swift/models")
        let key = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: models.path).first { !$0.contains(".") })
        for shard in ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"] {
            XCTAssertEqual(try Data(contentsOf: models.appendingPathComponent(key).appendingPathComponent(shard)),
                           try Data(contentsOf: sharded.appendingPathComponent(shard)), shard)
        }

        // The same index, one value changed in the second shard only.
        let changed = try copyModel(sharded, to: directory.appendingPathComponent("changed-shard"))
        let shardURL = changed.appendingPathComponent("model-00002-of-00002.safetensors")
        let shard = try CheckpointArchive.open(shardURL)
        var tensors = [String: (shape: [Int], values: [Float])]()
        for name in shard.tensorNames { tensors[name] = (try XCTUnwrap(shard.info(name)).shape, try shard.float32(name)) }
        let first = try XCTUnwrap(tensors.keys.sorted().first)
        tensors[first]?.values[0] += 0.5
        try SafetensorsWriter.write(tensors, to: shardURL)
        let refused = try cluster(sharded, ["--worker-model", changed.path, "--worker-timeout", "3"], output: directory.appendingPathComponent("refused"))
        XCTAssertNotEqual(refused.status, 0, "a worker whose second shard differs must not compute the run")
        XCTAssertTrue(refused.stderr.contains("its weights differ"), refused.stderr.suffix(3000).description)
    }
}
