import Foundation
import XCTest
import Training

/// Issue 24, through the executables.
final class HardeningCommandTests: XCTestCase {
    /// `iba finetune` refuses an output that is, or contains, its input model, and leaves the weights alone.
    func testFinetuneRefusesToOverwriteItsInput() throws {
        let iba = try Executables.url("iba")
        let directory = try temporaryDirectory(self)
        let model = try makeFixtureModel(in: directory)
        let weights = try Data(contentsOf: model.appendingPathComponent("model.safetensors"))
        for output in [model.path, model.path + "/.", directory.path] {
            let result = try runCommand(iba, ["finetune", "--model", model.path, "--epochs", "1", "--output", output, "--quiet"])
            XCTAssertNotEqual(result.status, 0, output)
            XCTAssertTrue(result.stderr.contains("is or contains the input"), result.stderr)
        }
        XCTAssertEqual(try Data(contentsOf: model.appendingPathComponent("model.safetensors")), weights)
        XCTAssertThrowsError(try checkOutputIsNotAnInput(directory.path, inputs: ["/elsewhere", model.path]))
        XCTAssertNoThrow(try checkOutputIsNotAnInput(directory.appendingPathComponent("new").path, inputs: [model.path]))
    }

    /// IBA, IG and LIME attributions are bit-identical at 1, 2 and 3 threads, also on OpenBLAS's AVX2 kernels
    /// (where a row's result used to depend on the rows a thread was given). Needs models/demo-agnews: its
    /// products are large enough to be split.
    func testAttributionsDoNotDependOnTheThreadCount() throws {
        let iba = try Executables.url("iba")
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let model = root.appendingPathComponent("models/demo-agnews")
        guard FileManager.default.fileExists(atPath: model.appendingPathComponent("config.json").path) else {
            throw XCTSkip("models/demo-agnews is not there (scripts/setup.sh makes it)")
        }
        let text = Array(repeating: "the stock market rallied on strong earnings while oil prices fell", count: 10).joined(separator: " ")
        for environment in [["IBA_GEMM": "openblas", "OPENBLAS_CORETYPE": "Haswell"], [:]] {
            for method in ["iba", "ig", "lime"] {
                let outputs = try [1, 2, 3].map { threads -> String in
                    let result = try runCommand(iba, ["explain", "--model", model.path, "--method", method, "--threads", "\(threads)",
                                                      "--text", text, "--format", "json"], environment: environment)
                    XCTAssertEqual(result.status, 0, result.stderr)
                    return result.stdout.split(separator: "\n").filter { !$0.contains("\"seconds\"") }.joined(separator: "\n")
                }
                XCTAssertEqual(outputs[0], outputs[1], "\(method) \(environment): 1 vs 2 threads")
                XCTAssertEqual(outputs[0], outputs[2], "\(method) \(environment): 1 vs 3 threads")
            }
        }
    }
}
