import Foundation

/// `progress.json` in a run's output directory: what a long run has done so far, for a person or a
/// script to read while it runs (a 400,000-example evaluation takes hours). Refreshed at most every
/// `intervalSeconds` and once at the end, each time under a temporary name renamed into place, so a
/// reader never sees half a file. Thread-safe: `iba evaluate` reports examples from its worker threads.
public final class ProgressFile: @unchecked Sendable {
    /// One method's counts and its partial means over the examples done so far.
    struct MethodProgress: Codable {
        var method: String
        var done = 0
        var failed = 0
        var inFlight = 0
        var remaining = 0
        var meanOriginalProb: Double?
        var meanDegradationProb: [Double] = []
        var originalProbSum = 0.0
        var degradationProbSums: [Double] = []

        enum CodingKeys: String, CodingKey {
            case method, done, failed, remaining
            case inFlight = "in_flight"
            case meanOriginalProb = "mean_original_prob"
            case meanDegradationProb = "mean_degradation_prob"
        }

        mutating func add(_ record: ExampleRecord) {
            add(failed: record.failed != nil, originalProb: record.originalProb, steps: record.degradationProb.count) {
                record.degradationProb[$0]
            }
        }

        mutating func add(failed isFailed: Bool, originalProb: Float, steps: Int, step: (Int) -> Float) {
            guard !isFailed else { failed += 1; return }
            done += 1
            originalProbSum += Double(originalProb)
            if degradationProbSums.count < steps {
                degradationProbSums += Array(repeating: 0, count: steps - degradationProbSums.count)
            }
            for k in 0..<steps { degradationProbSums[k] += Double(step(k)) }
        }
    }

    struct Contents: Codable {
        var total: Int
        var done: Int
        /// Of `done`, read from the results log of a resumed run (not computed by this one).
        var resumed: Int
        var failed: Int
        var inFlight: Int
        var remaining: Int
        var examplesPerSecond: Double
        var etaSeconds: Double?
        var elapsedSeconds: Double
        var finished: Bool
        var methods: [MethodProgress]
        /// Peak resident memory (MiB) of each process computing examples, the largest seen so far.
        var peakRSSMiB: [String: Double]

        enum CodingKeys: String, CodingKey {
            case total, done, resumed, failed, remaining, finished, methods
            case inFlight = "in_flight"
            case examplesPerSecond = "examples_per_second"
            case etaSeconds = "eta_seconds"
            case elapsedSeconds = "elapsed_seconds"
            case peakRSSMiB = "peak_rss_mib"
        }
    }

    public let url: URL
    private let total: Int
    private let intervalSeconds: Double
    private let start: Date
    private let lock = NSLock()
    private var methods: [MethodProgress]
    /// Examples with every method's record (those of a resumed run's log among them, counted apart too:
    /// the rate is this run's), and examples given up before any record (cluster failures).
    private var examplesDone = 0
    private var examplesResumed = 0
    private var examplesLost = 0
    private var inFlight = 0
    private var lastWrite: Date?
    private var peakRSS: [String: Double] = [:]
    /// Peak resident memory (MiB) of the processes computing examples, by name: this one for `iba evaluate` (its
    /// threads are the workers); `iba-coordinator` sets its local worker processes (remote ones it cannot see).
    public var workerMemory: @Sendable () -> [String: Double] = {
        peakResidentMiB(processID: nil).map { ["iba evaluate": $0] } ?? [:]
    }

    public init(
        directory: URL, methods: [EvaluationMethod], total: Int, intervalSeconds: Double = 2, start: Date = Date()
    ) {
        url = directory.appendingPathComponent("progress.json")
        self.total = total
        self.intervalSeconds = intervalSeconds
        self.start = start
        self.methods = methods.map { MethodProgress(method: $0.rawValue) }
    }

    /// One example's records, one per method in the run's order; `resumed` when read from the results log.
    public func add(_ records: [ExampleRecord], resumed: Bool = false) {
        lock.withLock {
            for (m, record) in zip(methods.indices, records) { methods[m].add(record) }
            examplesDone += 1
            if resumed { examplesResumed += 1 }
        }
    }

    /// Examples being computed now (cluster leases; parallel threads of `iba evaluate`), and examples
    /// given up with no record (a cluster's failures for good; every method counts them failed).
    public func setCounts(inFlight: Int, lost: Int = 0) {
        lock.withLock {
            self.inFlight = inFlight
            examplesLost = lost
        }
    }

    /// Refreshes the file every `intervalSeconds` from another thread until the returned ticker is stopped, so
    /// its elapsed time and rate stay current while one long example (an IMDB review: a minute) runs.
    public func startTicker() -> ProgressTicker { ProgressTicker(self, seconds: intervalSeconds) }

    /// Writes now (the ticker: its own period is the interval).
    func refreshNow(now: Date = Date()) {
        lock.withLock { lastWrite = now }
        try? write(now: now, finished: false)
    }

    /// Writes when `intervalSeconds` have passed since the last write.
    public func refresh(now: Date = Date()) {
        let due: Bool = lock.withLock {
            guard lastWrite.map({ now.timeIntervalSince($0) >= intervalSeconds }) ?? true else { return false }
            lastWrite = now
            return true
        }
        if due { try? write(now: now, finished: false) }
    }

    /// The last write, from the run's final records (exact counts and means, resumed examples included).
    public func finish(_ run: MethodRecords, now: Date = Date()) throws {
        lock.withLock {
            methods = zip(run.methods, run.records).map { method, records in
                records.reduce(into: MethodProgress(method: method.rawValue)) { $0.add($1) }
            }
            examplesDone = run.records.first?.count ?? 0
            examplesLost = 0
            inFlight = 0
        }
        try write(now: now, finished: true)
    }

    /// `finish` from a run's numbers (the same sums, in selection order).
    func finish(_ scalars: RunScalars, methods names: [EvaluationMethod], now: Date = Date()) throws {
        lock.withLock {
            methods = names.enumerated().map { m, method in
                var progress = MethodProgress(method: method.rawValue)
                for p in 0..<scalars.positions {
                    let failed = scalars.isFailed(method: m, position: p)
                    progress.add(failed: failed, originalProb: scalars.originalProbability(method: m, position: p),
                                 steps: scalars.steps[m]) { scalars.stepProbability(method: m, position: p, step: $0) }
                }
                return progress
            }
            examplesDone = scalars.positions
            examplesLost = 0
            inFlight = 0
        }
        try write(now: now, finished: true)
    }

    func contents(now: Date, finished: Bool) -> Contents {
        let memory = workerMemory()
        return lock.withLock {
            peakRSS.merge(memory, uniquingKeysWith: max)
            let elapsed = max(0, now.timeIntervalSince(start))
            let finishedExamples = examplesDone + examplesLost
            let rate = elapsed > 0 ? Double(finishedExamples - examplesResumed) / elapsed : 0
            let left = max(0, total - finishedExamples)
            let running = min(inFlight, left)
            let perMethod = methods.map { progress -> MethodProgress in
                var progress = progress
                progress.failed += examplesLost
                progress.inFlight = running
                progress.remaining = max(0, total - progress.done - progress.failed - running)
                if progress.done > 0 {
                    progress.meanOriginalProb = progress.originalProbSum / Double(progress.done)
                    progress.meanDegradationProb = progress.degradationProbSums.map { $0 / Double(progress.done) }
                }
                return progress
            }
            return Contents(
                total: total, done: examplesDone, resumed: examplesResumed, failed: examplesLost, inFlight: running,
                remaining: max(0, left - running), examplesPerSecond: rate,
                etaSeconds: left == 0 ? 0 : (rate > 0 ? Double(left) / rate : nil),
                elapsedSeconds: elapsed, finished: finished, methods: perMethod, peakRSSMiB: peakRSS)
        }
    }

    private func write(now: Date, finished: Bool) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".progress.json.tmp")
        do {
            try encoder.encode(contents(now: now, finished: finished)).write(to: temporary)
            guard rename(temporary.path, url.path) == 0 else {
                throw EvaluationError.outputFailed(path: url.path, reason: String(cString: strerror(errno)))
            }
        } catch let error as EvaluationError {
            throw error
        } catch {
            throw EvaluationError.outputFailed(path: url.path, reason: "\(error)")
        }
    }
}

/// A timer refreshing a `ProgressFile` (`ProgressFile.startTicker`).
public final class ProgressTicker: @unchecked Sendable {
    private let queue = DispatchQueue(label: "iba-progress-ticker")
    private let timer: DispatchSourceTimer

    init(_ file: ProgressFile, seconds: Double) {
        timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now() + seconds, repeating: seconds)
        timer.setEventHandler { [weak file] in file?.refreshNow() }
        timer.resume()
    }

    /// Stops the timer and waits for a refresh under way, so nothing is written after the caller's last write.
    public func stop() {
        timer.cancel()
        queue.sync {}
    }

    deinit { timer.cancel() }
}

/// The peak resident set (VmHWM in /proc/PID/status) of a process (nil: this one) in MiB; nil where there is
/// none (not Linux, or the process is gone).
public func peakResidentMiB(processID: Int32?) -> Double? {
    let path = "/proc/\(processID.map(String.init) ?? "self")/status"
    guard let status = try? String(contentsOfFile: path, encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
    return kilobytes / 1024
}
