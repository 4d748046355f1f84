import Foundation
import XCTest
@testable import Reports

/// A settable clock and an output recorder shared with the bar under test.
private final class Harness: @unchecked Sendable {
    private let lock = NSLock()
    private var time = 0.0
    private var written: [String] = []
    func now() -> Double { lock.lock(); defer { lock.unlock() }; return time }
    func tick(_ seconds: Double) { lock.lock(); time += seconds; lock.unlock() }
    func record(_ s: String) { lock.lock(); written.append(s); lock.unlock() }
    var output: [String] { lock.lock(); defer { lock.unlock() }; return written }

    func bar(total: Int, isTTY: Bool, quiet: Bool = false) -> ProgressBar {
        ProgressBar(total: total, label: "attributing", isTTY: isTTY, quiet: quiet,
                    clock: { [self] in now() }, write: { [self] in record($0) })
    }
}

final class ProgressTests: XCTestCase {
    func testLineRateAndETA() {
        // 25 of 100 in 50 s: 2 s per example, 75 left, so 150 s to go.
        let line = formatProgressLine(done: 25, total: 100, elapsedSeconds: 50, extra: "workers 3, requeued 1", width: 20)
        XCTAssertEqual(line, "[#####...............]   25%   25/100  2 s/ex  ETA 2m30s  workers 3, requeued 1")
        // 300 of 1000 in 60 s: 5 ex/s, 700 left, 140 s.
        XCTAssertEqual(formatProgressLine(done: 300, total: 1000, elapsedSeconds: 60, extra: nil, width: 0),
                       " 30%   300/1000  5 ex/s  ETA 2m20s")
    }

    /// A resumed run: 600 of 1,000 came from the results log, 10 more in 20 s. The rate is this run's (2 s/ex),
    /// so 390 left take 13 minutes, not the 20 s that counting the resumed 600 would claim.
    func testResumedItemsStayOutOfTheRate() {
        XCTAssertEqual(formatProgressLine(done: 610, total: 1000, elapsedSeconds: 20, extra: nil, width: 0, alreadyDone: 600),
                       " 61%   610/1000  2 s/ex  ETA 13m00s")
        XCTAssertTrue(formatProgressLine(done: 600, total: 1000, elapsedSeconds: 5, extra: nil, width: 0, alreadyDone: 600).hasSuffix("ETA ?"))
        let time = TestClock()
        let lines = LineSink()
        let bar = ProgressBar(total: 1000, label: "cluster", isTTY: false, quiet: false, clock: { time.now }, write: { lines.append($0) })
        bar.resume(from: 600)
        time.now = 20
        bar.advance(by: 10)
        bar.finish()
        XCTAssertTrue(lines.text.contains("610/1000  2 s/ex  ETA 13m00s"), lines.text)
    }

    func testLineBeforeStartAndAtEnd() {
        XCTAssertTrue(formatProgressLine(done: 0, total: 10, elapsedSeconds: 3, extra: nil, width: 4).hasSuffix("ETA ?"))
        let end = formatProgressLine(done: 10, total: 10, elapsedSeconds: 4020, extra: nil, width: 4)
        XCTAssertTrue(end.hasPrefix("[####]  100%  10/10  402 s/ex"), end)
        XCTAssertTrue(end.hasSuffix("done in 1h07m"), end)
    }

    func testDurations() {
        XCTAssertEqual(formatDuration(42.4), "42s")
        XCTAssertEqual(formatDuration(185), "3m05s")
        XCTAssertEqual(formatDuration(3720), "1h02m")
        XCTAssertEqual(formatDuration(2 * 86400 + 3 * 3600), "2d03h")
        XCTAssertEqual(formatDuration(.infinity), "?")
    }

    func testLogModePrintsEveryTenPercentAndOnceAtTheEnd() {
        let h = Harness()
        let bar = h.bar(total: 100, isTTY: false)
        for _ in 0..<100 { h.tick(0.01); bar.advance() }
        bar.finish()
        XCTAssertEqual(h.output.count, 10, h.output.joined())
        XCTAssertTrue(h.output.allSatisfy { $0.hasSuffix("\n") && !$0.contains("\r") && !$0.contains("\u{1B}") })
        XCTAssertTrue(h.output.last?.contains("100/100") ?? false)
    }

    func testLogModePrintsAfterAPauseEvenWithinADecile() {
        let h = Harness()
        let bar = h.bar(total: 1000, isTTY: false)
        h.tick(1); bar.advance()
        XCTAssertEqual(h.output.count, 0)
        h.tick(6); bar.advance(extra: "workers 2")
        XCTAssertEqual(h.output.count, 1)
        XCTAssertTrue(h.output.last?.contains("workers 2") ?? false)
    }

    func testTerminalModeRedrawsOneLineAndThrottles() {
        let h = Harness()
        let bar = h.bar(total: 10, isTTY: true)
        bar.advance()                       // first draw
        bar.advance()                       // same instant: throttled
        h.tick(1); bar.advance()            // drawn
        bar.finish()
        let out = h.output
        XCTAssertEqual(out.filter { $0.hasPrefix("\r") }.count, 3, out.debugDescription)
        XCTAssertEqual(out.last, "\n")
        XCTAssertTrue(out.dropLast().last?.contains("3/10") ?? false)
    }

    func testQuietPrintsNothing() {
        let h = Harness()
        let bar = h.bar(total: 3, isTTY: true, quiet: true)
        bar.advance(by: 3)
        bar.finish()
        XCTAssertTrue(h.output.isEmpty)
        XCTAssertEqual(bar.completed, 3)
    }

    func testConcurrentAdvancesAreAllCounted() {
        let h = Harness()
        let bar = h.bar(total: 4000, isTTY: false)
        DispatchQueue.concurrentPerform(iterations: 4000) { _ in bar.advance() }
        XCTAssertEqual(bar.completed, 4000)
        XCTAssertEqual(h.output.count, 10)
    }
}

/// A settable time source for bars (thread-safe).
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0.0
    var now: Double {
        get { lock.withLock { value } }
        set { lock.withLock { value = newValue } }
    }
}

/// Collects what a bar writes (thread-safe).
final class LineSink: @unchecked Sendable {
    private let lock = NSLock()
    private var parts: [String] = []
    func append(_ part: String) { lock.withLock { parts.append(part) } }
    var text: String { lock.withLock { parts.joined() } }
}
