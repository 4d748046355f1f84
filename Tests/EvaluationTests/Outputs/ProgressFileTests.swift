import Foundation
import XCTest
@testable import Evaluation

/// progress.json: counts, rate, ETA and partial means while a run goes, exact counts at its end.
final class ProgressFileTests: XCTestCase {
    func record(_ index: Int, original: Float, degraded: [Float]) -> ExampleRecord {
        ExampleRecord(index: index, target: 0, tokens: ["[CLS]", "a", "[SEP]"], attribution: [0, 1, 0], originalProb: original,
                      originalCorrect: true, degradationProb: degraded, degradationCorrect: degraded.map { _ in true })
    }

    func read(_ url: URL) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    }

    /// peak_rss_mib: each worker process's peak memory, the largest seen (a process that left keeps its entry);
    /// by default this process's own VmHWM, which a 64 MiB allocation touched page by page must raise.
    func testPeakMemoryPerWorkerProcess() throws {
        let directory = try temporaryDirectory(self)
        let file = ProgressFile(directory: directory, methods: [.random], total: 1, intervalSeconds: 0)
        file.refresh()
        let own = try XCTUnwrap((try read(file.url)["peak_rss_mib"] as? [String: Double])?["iba evaluate"])
        // Earlier tests in this process may have left the high-water mark far above the resident set: the block
        // is sized to rise 64 MiB above the mark whatever the resident set is now.
        let resident = try XCTUnwrap(residentMiB())
        let megabytes = 64 + Int(max(0, own - resident).rounded(.up))
        let block = UnsafeMutableRawPointer.allocate(byteCount: megabytes << 20, alignment: 4096)
        defer { block.deallocate() }
        for page in stride(from: 0, to: megabytes << 20, by: 4096) { block.storeBytes(of: 1, toByteOffset: page, as: UInt8.self) }
        file.refresh()
        let after = try XCTUnwrap((try read(file.url)["peak_rss_mib"] as? [String: Double])?["iba evaluate"])
        XCTAssertGreaterThanOrEqual(after, own + 63)

        let readings = Locked([["pid 1": 300.0, "pid 2": 500.0], ["pid 2": 450.0]])
        file.workerMemory = {
            var next = [String: Double]()
            readings.mutate { next = $0.count > 1 ? $0.removeFirst() : $0[0] }
            return next
        }
        file.refresh(); file.refresh()
        XCTAssertEqual(try read(file.url)["peak_rss_mib"] as? [String: Double],
                       ["iba evaluate": after, "pid 1": 300, "pid 2": 500])
    }

    func testCountsRateEtaAndPartialMeansThenTheFinalCounts() throws {
        let directory = try temporaryDirectory(self)
        let start = Date(timeIntervalSince1970: 1000)
        let file = ProgressFile(directory: directory, methods: [.iba, .random], total: 10, intervalSeconds: 2, start: start)
        file.add([record(3, original: 0.5, degraded: [0.25, 0.5]), record(3, original: 0.5, degraded: [0.5, 0.5])])
        file.add([record(5, original: 1, degraded: [0.75, 0.5]), .failure(index: 5, target: 0, reason: "no tokens")])
        file.setCounts(inFlight: 2, lost: 1)
        file.refresh(now: start.addingTimeInterval(4))
        var json = try read(file.url)
        XCTAssertEqual(json["total"] as? Int, 10)
        XCTAssertEqual(json["done"] as? Int, 2)
        XCTAssertEqual(json["failed"] as? Int, 1)
        XCTAssertEqual(json["in_flight"] as? Int, 2)
        XCTAssertEqual(json["remaining"] as? Int, 5)
        XCTAssertEqual(json["elapsed_seconds"] as? Double, 4)
        XCTAssertEqual(json["examples_per_second"] as? Double, 0.75)
        XCTAssertEqual(try XCTUnwrap(json["eta_seconds"] as? Double), 7 / 0.75, accuracy: 1e-9)
        XCTAssertEqual(json["finished"] as? Bool, false)
        let methods = try XCTUnwrap(json["methods"] as? [[String: Any]])
        XCTAssertEqual(methods.map { $0["method"] as? String }, ["iba", "random"])
        XCTAssertEqual(methods.map { $0["done"] as? Int }, [2, 1])
        XCTAssertEqual(methods.map { $0["failed"] as? Int }, [1, 2], "the lost example counts for every method")
        XCTAssertEqual(methods.map { $0["remaining"] as? Int }, [5, 5])
        XCTAssertEqual(methods[0]["mean_original_prob"] as? Double, 0.75)
        XCTAssertEqual(methods[0]["mean_degradation_prob"] as? [Double], [0.5, 0.5])
        XCTAssertEqual(methods[1]["mean_degradation_prob"] as? [Double], [0.5, 0.5])

        // Not due again within the interval: the file keeps its contents.
        file.add([record(6, original: 0, degraded: [0, 0]), record(6, original: 0, degraded: [0, 0])])
        file.refresh(now: start.addingTimeInterval(5))
        XCTAssertEqual(try read(file.url)["done"] as? Int, 2)

        let final = MethodRecords(methods: [.iba, .random], perExample: (0..<10).map { index in
            [record(index, original: 1, degraded: [1, 0]), index == 4 ? .failure(index: 4, target: 0, reason: "x") : record(index, original: 0, degraded: [0, 0])]
        }, seconds: [1, 1])
        try file.finish(final, now: start.addingTimeInterval(10))
        json = try read(file.url)
        XCTAssertEqual(json["finished"] as? Bool, true)
        XCTAssertEqual(json["done"] as? Int, 10)
        XCTAssertEqual(json["remaining"] as? Int, 0)
        XCTAssertEqual(json["eta_seconds"] as? Double, 0)
        let finalMethods = try XCTUnwrap(json["methods"] as? [[String: Any]])
        XCTAssertEqual(finalMethods.map { $0["done"] as? Int }, [10, 9])
        XCTAssertEqual(finalMethods.map { $0["failed"] as? Int }, [0, 1])
        XCTAssertEqual(finalMethods.map { $0["in_flight"] as? Int }, [0, 0])
        XCTAssertEqual(finalMethods[0]["mean_degradation_prob"] as? [Double], [1, 0])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["progress.json"], "no temporary file left")
    }

    /// A resumed run: 6 of 10 examples from the results log, then 2 computed in 4 s. Counts and means include
    /// the resumed ones; the rate is this run's (0.5 ex/s), so the 2 left take 4 s, not the 1 s that
    /// counting the resumed 6 would claim.
    func testResumedExamplesCountButDoNotMakeTheRate() throws {
        let directory = try temporaryDirectory(self)
        let start = Date(timeIntervalSince1970: 1000)
        let file = ProgressFile(directory: directory, methods: [.iba], total: 10, intervalSeconds: 2, start: start)
        for index in 0..<6 { file.add([record(index, original: 1, degraded: [0.5])], resumed: true) }
        for index in 6..<8 { file.add([record(index, original: 0, degraded: [0.5])]) }
        file.refresh(now: start.addingTimeInterval(4))
        let json = try read(file.url)
        XCTAssertEqual(json["done"] as? Int, 8)
        XCTAssertEqual(json["resumed"] as? Int, 6)
        XCTAssertEqual(json["remaining"] as? Int, 2)
        XCTAssertEqual(json["examples_per_second"] as? Double, 0.5)
        XCTAssertEqual(json["eta_seconds"] as? Double, 4)
        let methods = try XCTUnwrap(json["methods"] as? [[String: Any]])
        XCTAssertEqual(methods[0]["done"] as? Int, 8)
        XCTAssertEqual(methods[0]["remaining"] as? Int, 2)
        XCTAssertEqual(methods[0]["mean_original_prob"] as? Double, 0.75)
    }

    /// VmRSS of this process in MiB.
    func residentMiB() -> Double? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
        return kilobytes / 1024
    }
}
