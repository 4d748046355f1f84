import Foundation
import XCTest

/// `--part K/N` and `iba merge` (issue 25, item 4): a job split over several coordinators and put back
/// together is the unsliced job, file for file; parts that cannot make one job are refused by name.
final class PartsCommandTests: XCTestCase {
    /// One method in three uneven parts (7 examples: 3, 2, 2), merged: every output equals the unsliced run's.
    func testThreePartsMergeIntoTheUnslicedJob() throws {
        let iba = try Executables.url("iba")
        let directory = try temporaryDirectory(self)
        let model = try makeFixtureModel(in: directory)
        let options = ["evaluate", "--model", model.path, "--test-sample", "7", "--layer", "0", "--quiet"]
        let whole = directory.appendingPathComponent("whole")
        XCTAssertEqual(try runCommand(iba, options + ["--output", whole.path]).status, 0)
        let parts = try (1...3).map { number -> URL in
            let out = directory.appendingPathComponent("part\(number)")
            let run = try runCommand(iba, options + ["--part", "\(number)/3", "--output", out.path])
            XCTAssertEqual(run.status, 0, run.stderr)
            return out
        }
        XCTAssertEqual(parts.map { lineCount($0.appendingPathComponent("results.jsonl")) }, [3, 2, 2])
        let merged = directory.appendingPathComponent("merged")
        // Given in any order: the parts say which slice they are.
        let merge = try runCommand(iba, ["merge", parts[2].path, parts[0].path, parts[1].path, "--output", merged.path])
        XCTAssertEqual(merge.status, 0, merge.stderr)
        XCTAssertTrue(merge.stdout.contains("method iba  dataset agnews  layer 0  n 7"), merge.stdout)
        XCTAssertTrue(merge.stderr.contains("merged 3 part(s), 7 examples"), merge.stderr)
        try assertSameOutputs(whole, merged, files: ["results.jsonl", "summary.json", "degradation.svg", "report.html"]
                              + npyNames(whole))
        let wholeSeconds = try summarySeconds(merged)
        XCTAssertEqual(wholeSeconds, try parts.map(summarySeconds).reduce(0, +), accuracy: 1e-9,
                       "a merged summary's seconds is the parts' wall times summed")
    }

    /// Several methods, IBA at every layer among them (layers.svg): one part from `iba evaluate`, the other
    /// from `iba-coordinator`; the merge equals the unsliced job's comparison, pairs, layers and report.
    func testMethodsPartsFromEvaluateAndTheCoordinatorMergeIntoTheUnslicedJob() throws {
        let iba = try Executables.url("iba"), coordinator = try Executables.url("iba-coordinator")
        _ = try Executables.url("iba-worker")
        let directory = try temporaryDirectory(self)
        let model = try makeFixtureModel(in: directory)
        let methods = ["iba@all", "ig", "random"]
        let options = ["--model", model.path, "--methods", methods.joined(separator: ","), "--test-sample", "6",
                       "--quiet"]
        let whole = directory.appendingPathComponent("whole")
        let run = try runCommand(iba, ["evaluate"] + options + ["--output", whole.path])
        XCTAssertEqual(run.status, 0, run.stderr)
        let first = directory.appendingPathComponent("evaluate-part")
        let second = directory.appendingPathComponent("cluster-part")
        let local = try runCommand(iba, ["evaluate"] + options + ["--part", "1/2", "--output", first.path])
        XCTAssertEqual(local.status, 0, local.stderr)
        let cluster = try runCommand(coordinator, ["--workers", "1"] + options
                                     + ["--part", "2/2", "--output", second.path])
        XCTAssertEqual(cluster.status, 0, cluster.stderr)
        let merged = directory.appendingPathComponent("merged")
        let merge = try runCommand(iba, ["merge", first.path, second.path, "--output", merged.path])
        XCTAssertEqual(merge.status, 0, merge.stderr)
        XCTAssertTrue(merge.stdout.contains("| iba@0 | iba@1 | prob_11% |"), "pairs printed:\n\(merge.stdout)")
        let top = ["comparison.md", "comparison.csv", "comparison.svg", "pairs.csv", "pairs.md", "layers.svg",
                   "report.html"]
        try assertSameOutputs(whole, merged, files: top)
        for method in ["iba@0", "iba@1", "ig", "random"] {
            let (a, b) = (whole.appendingPathComponent(method), merged.appendingPathComponent(method))
            try assertSameOutputs(a, b, files: ["results.jsonl", "summary.json", "degradation.svg"] + npyNames(a))
        }
    }

    /// Parts that do not make one job are refused before anything is written, naming the directories.
    func testMergeRefusesPartsOfOtherJobsOverlappingMissingOrUnfinished() throws {
        let iba = try Executables.url("iba")
        let directory = try temporaryDirectory(self)
        let model = try makeFixtureModel(in: directory)
        let options = ["evaluate", "--model", model.path, "--test-sample", "5", "--layer", "0", "--no-aopc", "--quiet"]
        func part(_ name: String, _ extra: [String]) throws -> URL {
            let out = directory.appendingPathComponent(name)
            let run = try runCommand(iba, options + extra + ["--output", out.path])
            XCTAssertEqual(run.status, 0, "\(name): \(run.stderr)")
            return out
        }
        let one = try part("one", ["--part", "1/3"]), two = try part("two", ["--part", "2/3"])
        let three = try part("three", ["--part", "3/3"])
        let otherSeed = try part("three-seed1", ["--part", "3/3", "--seed", "1"])
        let otherMethod = try part("three-random", ["--part", "3/3", "--method", "random"])
        let halves = try part("half", ["--part", "2/2"])
        let merged = directory.appendingPathComponent("merged")
        func refusal(_ parts: [URL], output: URL? = nil) throws -> String {
            let run = try runCommand(iba, ["merge"] + parts.map(\.path) + ["--output", (output ?? merged).path])
            XCTAssertNotEqual(run.status, 0, "merge of \(parts.map(\.lastPathComponent)) must be refused")
            XCTAssertFalse(FileManager.default.fileExists(atPath: merged.appendingPathComponent("results.jsonl").path),
                           "nothing is written: \(parts.map(\.lastPathComponent))")
            return run.stderr
        }
        var text = try refusal([one, two, otherSeed])
        let named = "\(one.path) (part 1/3) and \(otherSeed.path) (part 3/3) are parts of different jobs"
        XCTAssertTrue(text.contains(named), text)
        XCTAssertTrue(text.contains("seed 0 vs 1"), text)
        text = try refusal([one, two, otherMethod])
        XCTAssertTrue(text.contains("are parts of different jobs"), text)
        XCTAssertTrue(text.contains("method: \"iba\" vs \"random\""), "the setting that differs is named: \(text)")
        text = try refusal([one, two, three, two])
        XCTAssertTrue(text.contains("\(two.path) and \(two.path) are both part 2/3: their examples overlap"), text)
        text = try refusal([one, three])
        XCTAssertTrue(text.contains("part 2/3 of the job missing (given: 1/3 in \(one.path), 3/3 in \(three.path))"),
                      text)
        text = try refusal([one, two, halves])
        XCTAssertTrue(text.contains("\(one.path) is part 1/3 but \(halves.path) is part 2/2"), text)
        let unsliced = try part("unsliced", [])
        text = try refusal([one, two, unsliced])
        XCTAssertTrue(text.contains("\(unsliced.path) has no part.json: it is not the output of a finished --part K/N"),
                      text)
        text = try refusal([one, two, three], output: two)
        XCTAssertTrue(text.contains("the output \(two.path) is one of the parts"), text)

        // The three parts of one job do merge.
        let merge = try runCommand(iba, ["merge", one.path, two.path, three.path, "--output", merged.path])
        XCTAssertEqual(merge.status, 0, merge.stderr)
        XCTAssertEqual(lineCount(merged.appendingPathComponent("results.jsonl")), 5)
    }

    /// `--part` is checked before any work, and a part's results log resumes only as that part.
    func testPartOptionIsCheckedAndAPartResumesOnlyAsItself() throws {
        let iba = try Executables.url("iba"), coordinator = try Executables.url("iba-coordinator")
        let directory = try temporaryDirectory(self)
        let model = try makeFixtureModel(in: directory)
        let options = ["--model", model.path, "--test-sample", "3", "--layer", "0", "--no-aopc", "--quiet"]
        for (executable, command) in [(iba, ["evaluate"]), (coordinator, ["--workers", "1"])] {
            for bad in ["0/3", "4/3", "2", "x/3"] {
                let output = directory.appendingPathComponent("bad").path
                let run = try runCommand(executable, command + options + ["--part", bad, "--output", output])
                XCTAssertNotEqual(run.status, 0, bad)
                XCTAssertTrue(run.stderr.contains("--part"), "\(bad): \(run.stderr)")
            }
            let output = directory.appendingPathComponent("empty").path
            let empty = try runCommand(executable, command + options + ["--part", "4/4", "--output", output])
            XCTAssertNotEqual(empty.status, 0)
            XCTAssertTrue(empty.stderr.contains("--part 4/4 holds no example: the job selects 3"), empty.stderr)
        }
        let out = directory.appendingPathComponent("p1")
        XCTAssertEqual(try runCommand(iba, ["evaluate"] + options + ["--part", "1/2", "--output", out.path]).status, 0)
        let resumed = try runCommand(iba, ["evaluate"] + options + ["--part", "2/2", "--resume", "--output", out.path])
        XCTAssertNotEqual(resumed.status, 0)
        XCTAssertTrue(resumed.stderr.contains("part: 1/2 in the log, 2/2 now"), resumed.stderr)
        let unsliced = try runCommand(iba, ["evaluate"] + options + ["--resume", "--output", out.path])
        XCTAssertNotEqual(unsliced.status, 0)
        XCTAssertTrue(unsliced.stderr.contains("part: 1/2 in the log, the whole job now"), unsliced.stderr)
    }
}

/// The original's four .npy files of an output directory.
func npyNames(_ directory: URL) throws -> [String] {
    let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        .filter { $0.hasSuffix(".npy") }.sorted()
    XCTAssertEqual(names.count, 4, directory.path)
    return names
}

func summarySeconds(_ directory: URL) throws -> Double {
    let data = try Data(contentsOf: directory.appendingPathComponent("summary.json"))
    let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
    return try XCTUnwrap(object?["seconds"] as? Double)
}

/// Asserts that each file is the same in both directories, byte for byte once the times in it (which no two
/// runs share) are blanked by `withoutTimes`; files without times are compared as they are.
func assertSameOutputs(_ a: URL, _ b: URL, files: [String], file: StaticString = #filePath, line: UInt = #line) throws {
    for name in files {
        let first = try Data(contentsOf: a.appendingPathComponent(name))
        let second = try Data(contentsOf: b.appendingPathComponent(name))
        XCTAssertFalse(first.isEmpty, name, file: file, line: line)
        let (x, y) = (withoutTimes(first, name: name), withoutTimes(second, name: name))
        guard x != y else { continue }
        let (linesA, linesB) = (x.split(separator: "\n", omittingEmptySubsequences: false),
                                y.split(separator: "\n", omittingEmptySubsequences: false))
        let differing = zip(linesA, linesB).first { $0 != $1 }
            .map { "\n  \($0.0.prefix(300))\n  \($0.1.prefix(300))" } ?? ""
        XCTFail("\(name) differs: \(a.path) vs \(b.path) (\(linesA.count) vs \(linesB.count) lines)\(differing)",
                file: file, line: line)
    }
}

/// The file with its timing values replaced by `T`: summary.json's `seconds`, the seconds per example of
/// comparison.csv and comparison.md (their last column), report.html's examples/s column of the summary
/// table, the last column of its table at a glance and its "s / example" row of the comparison. Everything else (every number computed from the
/// records) is kept.
func withoutTimes(_ data: Data, name: String) -> String {
    let text = String(decoding: data, as: UTF8.self)
    func replacing(_ pattern: String, in text: String) -> String {
        text.replacingOccurrences(of: pattern, with: "$1T", options: .regularExpression)
    }
    switch name {
    case "summary.json":
        return replacing("(\"seconds\" : )[0-9.e+-]+", in: text)
    case "comparison.csv":
        return replacing("(,)[0-9.]+(?=\n)", in: text)
    case "comparison.md":
        return replacing("(\\| )[0-9.]+(?= \\|\n)", in: text)
    case "report.html":
        var inSummary = false, inHeadline = false
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            if line.contains("<th>examples/s</th>") { inSummary = true }
            if line.contains("<th>s / example</th></tr>") { inHeadline = true }
            if line.hasPrefix("</table>") { (inSummary, inHeadline) = (false, false) }
            if inHeadline, line.hasPrefix("<tr><td>") {   // the table at a glance: seconds per example come last
                return replacing("(<td>)[0-9.]+(?=</td></tr>$)", in: String(line))
            }
            if inSummary, line.hasPrefix("<tr><td>") {   // the 5th cell: method, examples, failed, accuracy, examples/s
                return replacing("^(<tr><td>[^<]*</td>(?:<td class=\"num\">[^<]*</td>){3}<td class=\"num\">)[^<]*",
                                 in: String(line))
            }
            return line.contains(">s / example<") ? replacing("(<td[^>]*>)[0-9.]+(?=</td>)", in: String(line))
                : String(line)
        }.joined(separator: "\n")
    default:
        return text
    }
}
