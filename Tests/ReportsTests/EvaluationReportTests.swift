import Foundation
import XCTest
@testable import Reports

final class EvaluationReportTests: XCTestCase {
    static func sampleReport() -> EvaluationReport {
        let curve = [0.61, 0.42, 0.33, 0.27, 0.24]
        let methods = [
            ReportMethod(name: "iba (agnews, layer 3)", examples: 28, failed: 2, accuracy: 0.893, originalProbability: 0.87,
                         degradationProbability: curve, degradationAccuracy: [0.7, 0.5, 0.4, 0.3, 0.3],
                         extraColumns: [ReportEntry("AOPC comprehensiveness", "0.41")], examplesPerSecond: 2.5),
            ReportMethod(name: "random (agnews)", examples: 30, failed: 0, accuracy: 0.9, originalProbability: 0.87,
                         degradationProbability: curve.map { $0 + 0.2 }, degradationAccuracy: [0.8, 0.8, 0.7, 0.6, 0.6],
                         examplesPerSecond: 40),
        ]
        let values = SampleData.attribution(for: SampleData.tokens, layer: 3, layers: 6)
        let examples = (0..<10).map { i in
            ReportExample(index: 100 + i, target: "Business (class 2)", tokens: SampleData.tokens, attribution: values,
                          originalProbability: 0.95, firstStepProbability: 0.2 + 0.01 * Double(i))
        }
        return EvaluationReport(
            title: "Evaluation: iba, random on agnews",
            settings: [ReportEntry("dataset", "agnews"), ReportEntry("layer", "3"), ReportEntry("data_path", "a<b>&c.csv")],
            architecture: [ReportEntry("layers", "6"), ReportEntry("attention heads", "12 of size 32"),
                           ReportEntry("labels", "World, Sports, Business, Sci/Tech")],
            methods: methods, mostDropped: examples, leastDropped: Array(examples.prefix(3)),
            failures: [ReportFailure(index: 7, reason: "example 7 has label 3 but the model has 3 classes <&>"),
                       ReportFailure(index: 9, reason: "no result")])
    }

    func testPageHasEveryPartAndNothingExternal() throws {
        let html = renderEvaluationReportHTML(Self.sampleReport())
        try writeSampleIfRequested(html, name: "report.html")
        XCTAssertNil(xmlParseError(html), "well-formed (escaping is checked by the parser)")
        for id in ["settings", "architecture", "summary", "curves", "most-dropped", "least-dropped", "failed"] {
            XCTAssertEqual(occurrences(of: "<section id=\"\(id)\">", in: html), 1, id)
        }
        XCTAssertEqual(occurrences(of: "<svg", in: html), 1, "the curves inline")
        XCTAssertEqual(occurrences(of: "class=\"series\"", in: html), 2, "one curve per method")
        XCTAssertEqual(occurrences(of: "<div class=\"example\">", in: html), 13)
        XCTAssertTrue(html.contains("12 of size 32"))
        XCTAssertTrue(html.contains("a&lt;b&gt;&amp;c.csv"))
        XCTAssertTrue(html.contains("model has 3 classes &lt;&amp;&gt;"))
        XCTAssertTrue(html.contains("<td class=\"num\">2.5</td>"), "examples/s")
        // The SVG namespace is a name, not a fetch; nothing else may point outside the file.
        let withoutNamespace = html.replacingOccurrences(of: "xmlns=\"http://www.w3.org/2000/svg\"", with: "")
        for forbidden in ["<script", "http://", "https://", "<link", "@import", "src=", "url(http"] {
            XCTAssertFalse(withoutNamespace.contains(forbidden), "\(forbidden): the page must stand alone")
        }
    }

    /// Extra tables (a comparison's intervals, its pairs) come after the summary, escaped, in their own sections.
    func testTablesFollowTheSummary() throws {
        var report = Self.sampleReport()
        report.tables = [ReportTable(id: "pairs", heading: "Paired differences", note: "a - b <paired>",
                                     header: ["method a", "metric"], rows: [["iba", "prob_11%"], ["ig & co", "aopc"]])]
        let html = renderEvaluationReportHTML(report)
        XCTAssertNil(xmlParseError(html))
        let summary = try XCTUnwrap(html.range(of: "<section id=\"summary\">"))
        let pairs = try XCTUnwrap(html.range(of: "<section id=\"pairs\">"))
        XCTAssertLessThan(summary.lowerBound, pairs.lowerBound)
        XCTAssertTrue(html.contains("<td>ig &amp; co</td>") && html.contains("a - b &lt;paired&gt;"))
        let section = String(html[pairs.lowerBound...]).components(separatedBy: "</section>")[0]
        XCTAssertEqual(occurrences(of: "<tr>", in: section), 3, "a header and two rows")
    }

    func testEmptyReportStillRenders() {
        let html = renderEvaluationReportHTML(EvaluationReport(title: "t", settings: [], architecture: [], methods: [],
                                                               mostDropped: [], leastDropped: [], failures: []))
        XCTAssertNil(xmlParseError(html))
        XCTAssertTrue(html.contains("Failed examples (0)"))
    }

    func testALoneExampleIsNotCalledMissing() {
        var report = Self.sampleReport()
        report.mostDropped = Array(report.mostDropped.prefix(1))
        report.leastDropped = []
        let html = renderEvaluationReportHTML(report)
        XCTAssertFalse(html.contains("no evaluated examples"), "one example was evaluated")
        XCTAssertTrue(html.contains("the one evaluated example is shown above"))
    }

    /// The page in a real browser: Debian's chromium, installed here if it is not (skipped when it cannot be),
    /// renders it headless; the DOM it builds has every part, and a screenshot is drawn.
    func testChromiumRendersThePage() throws {
        let browser = try Chromium.executable()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        let page = directory.appendingPathComponent("report.html")
        try Data(renderEvaluationReportHTML(Self.sampleReport()).utf8).write(to: page)

        let dom = try Chromium.run(browser, ["--dump-dom", page.absoluteString])
        XCTAssertEqual(dom.status, 0, dom.stderr)
        for part in ["id=\"settings\"", "id=\"architecture\"", "id=\"summary\"", "id=\"curves\"", "id=\"most-dropped\"",
                     "id=\"least-dropped\"", "id=\"failed\"", "Degradation test", "iba (agnews, layer 3)", "random (agnews)",
                     "12 of size 32", "Business (class 2)", "no result", "<path"] {
            XCTAssertTrue(dom.stdout.contains(part), "\(part) missing from Chromium's DOM")
        }

        let screenshot = directory.appendingPathComponent("report.png")
        let shot = try Chromium.run(browser, ["--screenshot=\(screenshot.path)", "--window-size=1200,1600", "--hide-scrollbars",
                                              page.absoluteString])
        XCTAssertEqual(shot.status, 0, shot.stderr)
        let png = try Data(contentsOf: screenshot)
        XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "a PNG")
        // IHDR: width and height, big-endian, at bytes 16..<24.
        let size = png.count >= 24 ? (png[16..<20].reduce(0) { $0 << 8 | Int($1) }, png[20..<24].reduce(0) { $0 << 8 | Int($1) }) : (0, 0)
        XCTAssertEqual(size.0, 1200)
        XCTAssertEqual(size.1, 1600)
        XCTAssertGreaterThan(png.count, 20_000, "a drawn page, not a blank one")
        if let keep = ProcessInfo.processInfo.environment["REPORTS_SAMPLE_DIR"] {
            try? FileManager.default.copyItem(at: screenshot, to: URL(fileURLWithPath: keep).appendingPathComponent("report.png"))
        }
    }
}

/// Debian's headless Chromium for rendering checks.
enum Chromium {
    static func executable() throws -> String {
        let candidates = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) { return found }
        let install = try? run("/usr/bin/apt-get", ["install", "-y", "chromium"], browser: false,
                               environment: ["DEBIAN_FRONTEND": "noninteractive"])
        if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) { return found }
        throw XCTSkip("chromium is not installed and apt-get could not install it: \(install?.stderr.suffix(300) ?? "apt-get not runnable")")
    }

    /// Runs the browser headless (no sandbox: tests may run as root) or another program; output captured.
    static func run(_ executable: String, _ arguments: [String], browser: Bool = true,
                    environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("chromium-profile-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: profile) }
        process.arguments = browser
            ? ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(profile.path)"] + arguments
            : arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Drain stderr concurrently so a chatty browser cannot fill the pipe and stall.
        let errorData = LockedData()
        let errorHandle = err.fileHandleForReading
        let reader = Thread { errorData.set(errorHandle.readDataToEndOfFile()) }
        reader.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !errorData.isSet { usleep(10_000) }
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errorData.value, as: UTF8.self))
    }
}

final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data: Data?
    func set(_ value: Data) { lock.lock(); data = value; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return data != nil }
    var value: Data { lock.lock(); defer { lock.unlock() }; return data ?? Data() }
}
