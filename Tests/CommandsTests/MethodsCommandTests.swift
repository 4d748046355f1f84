import Foundation
import XCTest

/// `--methods` (issue 13): several methods on the same examples in one job, in `iba evaluate` and in
/// `iba-coordinator`, each method's outputs identical to a run of that method alone.
final class MethodsCommandTests: XCTestCase {
    func testMethodsMatchSingleRunsAndTheClusterMatchesEvaluate() throws {
        let iba = try Executables.url("iba"), coordinator = try Executables.url("iba-coordinator")
        _ = try Executables.url("iba-worker")
        let directory = try temporaryDirectory(self)
        let model = try makeFixtureModel(in: directory)
        let options = ["--model", model.path, "--test-sample", "4", "--layer", "0", "--quiet"]
        let methods = ["iba", "ig", "random"]
        let together = directory.appendingPathComponent("together")
        let run = try runCommand(iba, ["evaluate", "--methods", methods.joined(separator: ",")] + options + ["--output", together.path])
        XCTAssertEqual(run.status, 0, run.stderr)
        for method in methods {
            XCTAssertTrue(run.stdout.contains("| \(method) |"), "the comparison table is printed:\n\(run.stdout)")
            XCTAssertTrue(run.stdout.contains("| \(method) | random | prob_11% |") || method == "random",
                          "then the pairs table:\n\(run.stdout)")
            let alone = directory.appendingPathComponent("alone-\(method)")
            let single = try runCommand(iba, ["evaluate", "--method", method] + options + ["--output", alone.path])
            XCTAssertEqual(single.status, 0, single.stderr)
            try assertSameEvaluation(alone, together.appendingPathComponent(method))
            XCTAssertTrue(FileManager.default.fileExists(atPath: together.appendingPathComponent("\(method)/degradation.svg").path))
        }
        let csv = try String(contentsOf: together.appendingPathComponent("comparison.csv"), encoding: .utf8)
        let rows = csv.split(separator: "\n")
        XCTAssertEqual(rows.count, 1 + methods.count)
        XCTAssertTrue(rows[0].hasPrefix("method,explains,n,original_prob,original_acc,prob_11%"), String(rows[0]))
        XCTAssertEqual(rows.dropFirst().map { String($0.prefix { $0 != "," }) }, methods)
        XCTAssertTrue(rows[2].hasPrefix("ig,class 0,"), "the original protocol's IG explains class 0: \(rows[2])")
        let markdown = try String(contentsOf: together.appendingPathComponent("comparison.md"), encoding: .utf8)
        XCTAssertTrue(markdown.hasPrefix("> **Warning:** the methods explain different classes"), markdown)
        XCTAssertTrue(try String(contentsOf: together.appendingPathComponent("comparison.md"), encoding: .utf8).contains("| random |"))
        XCTAssertTrue(try String(contentsOf: together.appendingPathComponent("comparison.svg"), encoding: .utf8).contains("random (floor)"))

        // A task is one example; a worker runs every method on it: the same files for any worker count.
        for workers in [1, 2] {
            let out = directory.appendingPathComponent("cluster-\(workers)")
            let cluster = try runCommand(coordinator, ["--workers", "\(workers)", "--methods", methods.joined(separator: ",")] + options + ["--output", out.path])
            XCTAssertEqual(cluster.status, 0, cluster.stderr)
            for method in methods { try assertSameEvaluation(together.appendingPathComponent(method), out.appendingPathComponent(method)) }
            func withoutSeconds(_ url: URL) throws -> [String] {
                try String(contentsOf: url.appendingPathComponent("comparison.csv"), encoding: .utf8)
                    .split(separator: "\n").map { $0.split(separator: ",").dropLast().joined(separator: ",") }
            }
            XCTAssertEqual(try withoutSeconds(out), try withoutSeconds(together), "comparison.csv apart from the seconds column")
            XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent("pairs.csv")),
                           try Data(contentsOf: together.appendingPathComponent("pairs.csv")), "the same pairs.csv")
            XCTAssertTrue(cluster.stdout.contains("| iba | ig | prob_11% |"), "pairs printed:\n\(cluster.stdout)")
        }
    }

    /// The standard baselines reach `iba explain --method` (listed in its help) and `iba evaluate --methods`.
    func testStandardBaselinesInExplainAndEvaluate() throws {
        let iba = try Executables.url("iba")
        let directory = try temporaryDirectory(self)
        let model = try makeFixtureModel(in: directory)
        let methods = ["saliency", "gradxinput", "occlusion", "attention", "kernelshap"]
        let help = try runCommand(iba, ["explain", "--help"])
        let flattened = help.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for method in methods {
            XCTAssertTrue(flattened.contains(method), "explain --help lists \(method):\n\(help.stdout)")
            let run = try runCommand(iba, ["explain", "--model", model.path, "--method", method, "--target", "1",
                                           "--format", "json"])
            XCTAssertEqual(run.status, 0, "\(method): \(run.stderr)")
            let object = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
            let tokens = object?["tokens"] as? [String] ?? [], attribution = object?["attribution"] as? [Double] ?? []
            XCTAssertFalse(tokens.isEmpty, method)
            XCTAssertEqual(tokens.count, attribution.count, method)
            XCTAssertEqual(object?["target"] as? Int, 1, method)
        }
        let out = directory.appendingPathComponent("baselines")
        let run = try runCommand(iba, ["evaluate", "--methods", methods.joined(separator: ","),
                                       "--protocol", "corrected", "--model", model.path, "--test-sample", "2",
                                       "--quiet", "--output", out.path])
        XCTAssertEqual(run.status, 0, run.stderr)
        for method in methods {
            XCTAssertTrue(run.stdout.contains("| \(method) |"), "\(method) in the table:\n\(run.stdout)")
        }
    }
}
