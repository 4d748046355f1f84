#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Progress of a long run on stderr: a redrawn line on a terminal, occasional plain lines in logs.
/// Safe to call from several threads (workers finishing examples concurrently).
public final class ProgressBar: @unchecked Sendable {
    private let total: Int
    private let label: String
    private let unit: String
    private let isTTY: Bool
    private let quiet: Bool
    private let clock: @Sendable () -> Double
    private let write: @Sendable (String) -> Void
    private let lock = NSLock()
    private let start: Double
    private var done = 0
    /// Items done before this run started (a resumed run's): counted, but not in the rate.
    private var alreadyDone = 0
    private var extra: String?
    private var lastDraw = -Double.infinity
    private var lastLoggedDecile = 0
    private var lastLoggedDone = -1
    private var finished = false

    /// Seconds between redraws on a terminal, so a fast loop does not flood it.
    private let redrawInterval = 0.1
    /// Seconds between plain lines when not on a terminal.
    private let logInterval = 5.0

    /// A bar for `total` items named `unit` in the rate ("ex" for examples); `isTTY` nil asks isatty(stderr);
    /// `quiet` prints nothing.
    public convenience init(total: Int, label: String, unit: String = "ex", isTTY: Bool? = nil, quiet: Bool = false) {
        self.init(total: total, label: label, unit: unit, isTTY: isTTY, quiet: quiet,
                  clock: { ProcessInfo.processInfo.systemUptime },
                  write: { FileHandle.standardError.write(Data($0.utf8)) })
    }

    /// A bar with an injected time source (seconds) and output sink, for tests.
    public init(total: Int, label: String, unit: String = "ex", isTTY: Bool?, quiet: Bool,
                clock: @escaping @Sendable () -> Double, write: @escaping @Sendable (String) -> Void) {
        self.total = max(0, total)
        self.label = label
        self.unit = unit
        self.isTTY = isTTY ?? (isatty(STDERR_FILENO) != 0)
        self.quiet = quiet
        self.clock = clock
        self.write = write
        self.start = clock()
        // A terminal shows the bar at once; a log waits for the first 10% or the first interval.
        self.lastDraw = self.isTTY ? -Double.infinity : start
    }

    /// Items completed so far.
    public var completed: Int {
        lock.lock()
        defer { lock.unlock() }
        return done
    }

    /// Items done by an earlier run (resumed from its log): shown in the count, kept out of the rate and ETA.
    public func resume(from count: Int) {
        lock.lock()
        defer { lock.unlock() }
        alreadyDone = max(0, count)
        done = max(done, alreadyDone)
    }

    /// Records `count` more items done; `extra` (e.g. "workers 3, requeued 1") replaces the previous note.
    public func advance(by count: Int = 1, extra: String? = nil) {
        lock.lock()
        defer { lock.unlock() }
        done += count
        if let extra { self.extra = extra }
        guard !quiet && !finished else { return }
        let now = clock()
        if isTTY {
            if now - lastDraw >= redrawInterval || done >= total { redraw(now: now) }
        } else {
            let decile = total > 0 ? min(10, done * 10 / total) : 10
            if decile > lastLoggedDecile || now - lastDraw >= logInterval {
                lastLoggedDecile = decile
                logLine(now: now)
            }
        }
    }

    /// Draws the final state and ends the line; later calls do nothing.
    public func finish() {
        lock.lock()
        defer { lock.unlock() }
        guard !finished else { return }
        finished = true
        guard !quiet else { return }
        let now = clock()
        if isTTY {
            redraw(now: now)
            write("\n")
        } else if lastLoggedDone != done {
            logLine(now: now)
        }
    }

    private func line(now: Double, barWidth: Int) -> String {
        label + "  " + formatProgressLine(done: done, total: total, elapsedSeconds: now - start, extra: extra,
                                          width: barWidth, unit: unit, alreadyDone: alreadyDone)
    }

    private func redraw(now: Double) {
        lastDraw = now
        // Keep within the terminal width: a wrapped line cannot be redrawn with \r.
        let columns = ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init) ?? 120
        let text = String(line(now: now, barWidth: 30).prefix(max(20, columns - 1)))
        write("\r" + text + "\u{1B}[K")
    }

    private func logLine(now: Double) {
        lastDraw = now
        lastLoggedDone = done
        write(line(now: now, barWidth: 0) + "\n")
    }
}
