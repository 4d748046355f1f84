import Foundation
import XCTest

/// `--methods iba@L` / `iba@all`: IBA at several layers as methods of one job, each identical to a separate
/// `--method iba --layer L` run, in `iba evaluate` and through the cluster; and the warning when the methods
/// of a comparison explain different classes.
final class LayerMethodsCommandTests: XCTestCase {
    func testEveryLayerIsItsOwnMethodIdenticalToASeparateRun() throws {
        let iba = try Executables.url("iba"), coordinator = try Executables.url("iba-coordinator")
        _ = try Executables.url("iba-worker")
        let directory = try temporaryDirectory(self)
        let model = try makeFixtureModel(in: directory)   // 2 layers
        let options = ["--model", model.path, "--test-sample", "3", "--quiet", "--protocol", "corrected"]
        let together = directory.appendingPathComponent("together")
        let run = try runCommand(iba, ["evaluate", "--methods", "iba@all,random"] + options + ["--output", together.path])
        XCTAssertEqual(run.status, 0, run.stderr)
        for layer in [0, 1] {
            XCTAssertTrue(run.stdout.contains("| iba@\(layer) |"), "a row per layer:\n\(run.stdout)")
            let alone = directory.appendingPathComponent("alone-\(layer)")
            let single = try runCommand(iba, ["evaluate", "--method", "iba", "--layer", "\(layer)"] + options
                                        + ["--output", alone.path])
            XCTAssertEqual(single.status, 0, single.stderr)
            try assertSameEvaluation(alone, together.appendingPathComponent("iba@\(layer)"))
        }
        let layers = try String(contentsOf: together.appendingPathComponent("layers.svg"), encoding: .utf8)
        XCTAssertEqual(layers.components(separatedBy: "class=\"layer-point\"").count - 1, 4, "2 layers x 2 metrics")
        XCTAssertEqual(layers.components(separatedBy: "class=\"reference\"").count - 1, 2, "random in both panels")
        let report = try String(contentsOf: together.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertTrue(report.contains("<section id=\"layers\">"), "the figure is in report.html too")
        let cluster = directory.appendingPathComponent("cluster")
        let clusterRun = try runCommand(coordinator, ["--workers", "2", "--methods", "iba@all,random"] + options
                                        + ["--output", cluster.path])
        XCTAssertEqual(clusterRun.status, 0, clusterRun.stderr)
        for method in ["iba@0", "iba@1", "random"] {
            try assertSameEvaluation(together.appendingPathComponent(method), cluster.appendingPathComponent(method))
        }
        XCTAssertEqual(try Data(contentsOf: cluster.appendingPathComponent("layers.svg")), Data(layers.utf8))
        XCTAssertEqual(try Data(contentsOf: cluster.appendingPathComponent("pairs.csv")),
                       try Data(contentsOf: together.appendingPathComponent("pairs.csv")))
        // A layer the model lacks is refused before any work, naming the range.
        let bad = try runCommand(iba, ["evaluate", "--methods", "iba@2,random"] + options
                                 + ["--output", directory.appendingPathComponent("bad").path])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("outside 0...1"), bad.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("bad/iba@2").path))
    }

    func testMethodsExplainingDifferentClassesAreWarnedBeforeAnyWork() throws {
        let iba = try Executables.url("iba")
        let directory = try temporaryDirectory(self)
        let model = try makeFixtureModel(in: directory)
        let options = ["--model", model.path, "--test-sample", "1", "--quiet", "--layer", "0"]
        let original = try runCommand(iba, ["evaluate", "--methods", "iba,ig"] + options
                                      + ["--output", directory.appendingPathComponent("o").path])
        XCTAssertEqual(original.status, 0, original.stderr)
        XCTAssertTrue(original.stderr.contains("warning: the methods explain different classes (iba: the gold label; ig: class 0)"),
                      original.stderr)
        XCTAssertTrue(original.stderr.contains("--protocol corrected"))
        let corrected = try runCommand(iba, ["evaluate", "--methods", "iba,ig", "--protocol", "corrected"] + options
                                       + ["--output", directory.appendingPathComponent("c").path])
        XCTAssertEqual(corrected.status, 0, corrected.stderr)
        XCTAssertFalse(corrected.stderr.contains("warning"), corrected.stderr)
    }
}
