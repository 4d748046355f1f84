import Foundation
import XCTest
@testable import Cluster

/// Issue 13: examples travel with their tasks, so what a worker receives grows with what it computes,
/// not with the dataset.
final class StreamingTests: XCTestCase {
    func store(_ indices: [Int], bytesEach: Int = 40) throws -> ExampleStore {
        var store = ExampleStore()
        for index in indices {
            let text = "example \(index) "
            try store.append(index: index, bytes: Data(String(repeating: text, count: bytesEach / text.utf8.count + 1).utf8.prefix(bytesEach)))
        }
        return store
    }

    /// Runs `indices` on one in-process worker whose computation returns the bytes its task carried.
    func run(_ indices: [Int], examples: ExampleStore, shardSize: Int = 1) throws -> (results: [Int: WorkResult], sent: [String: UInt64], log: LogCapture) {
        let log = LogCapture("coordinator")
        var options = testCoordinatorOptions(log)
        options.shardSize = shardSize
        let coordinator = try Coordinator(manifest: testManifest(), indices: indices, examples: examples, options: options)
        let worker = try Worker(connect: coordinator.endpoint, options: testWorkerOptions("w0", log))
        let finished = DispatchSemaphore(value: 0)
        Thread {
            _ = try? worker.run(streaming: { _ in { _, example in example } })
            finished.signal()
        }.start()
        let results = try coordinator.run()
        XCTAssertEqual(finished.wait(timeout: .now() + 10), .success)
        return (results, coordinator.bytesSentPerWorker, log)
    }

    func testWorkersComputeTheExamplesTheirTasksCarry() throws {
        let indices = [9, 3, 700, 12]
        let examples = try store(indices)
        let (results, sent, log) = try run(indices, examples: examples, shardSize: 2)
        reportOnFailure([log])
        for index in indices {
            XCTAssertEqual(results[index], .done(try XCTUnwrap(examples[index])), "example \(index)")
        }
        XCTAssertGreaterThan(sent["w0"] ?? 0, UInt64(4 * 40))
        XCTAssertTrue(log.contains("sent \(sent["w0"] ?? 0) bytes to worker w0"), "the egress is logged at the end")
    }

    /// A worker computing 5 examples of a 5,000-example store receives about what it receives from a
    /// 5-example store: the examples it does not compute never reach it.
    func testEgressPerWorkerDoesNotGrowWithTheDataset() throws {
        let small = try run(Array(0..<5), examples: try store(Array(0..<5), bytesEach: 200)).sent["w0"] ?? 0
        // Coordinator finishes when 5 are done: select 5 of a store of 5,000.
        let large = try run(Array(0..<5), examples: try store(Array(0..<5000), bytesEach: 200)).sent["w0"] ?? 0
        XCTAssertGreaterThan(small, 5 * 200)
        // Heartbeats vary with timing; the 4,995 other examples (~1 MB) must not be there.
        XCTAssertLessThan(Double(large), Double(small) + 20_000, "small \(small) B, large \(large) B")
    }

    func testStoresThatCannotBeSentAreRefusedBeforeBinding() throws {
        var options = testCoordinatorOptions(LogCapture("c"))
        XCTAssertThrowsError(try Coordinator(manifest: testManifest(), indices: [1, 2], examples: try store([1]), options: options)) { error in
            XCTAssertTrue("\(error)".contains("example 2"), "\(error)")
        }
        var huge = ExampleStore()
        XCTAssertThrowsError(try huge.append(index: 1, bytes: Data(count: Wire.maxExampleBytes + 1)))
        try huge.append(index: 1, bytes: Data(count: 10))
        XCTAssertThrowsError(try huge.append(index: 1, bytes: Data(count: 10)), "an index twice")
        var big = ExampleStore()
        try big.append(index: 1, bytes: Data(count: Wire.maxExampleBytes))
        options.shardSize = 64
        XCTAssertThrowsError(try Coordinator(manifest: testManifest(), indices: [1], examples: big, options: options)) { error in
            XCTAssertTrue("\(error)".contains("shard"), "\(error)")
        }
    }
}
