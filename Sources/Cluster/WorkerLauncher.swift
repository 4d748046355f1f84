import Foundation

/// Starts worker processes (local, or on other hosts through `ssh -o BatchMode=yes`) and relaunches any
/// that exit before the run is over, with exponential backoff. Knows nothing of what the workers compute.
public final class WorkerLauncher: @unchecked Sendable {
    /// One worker process to keep alive: argv[0] is an executable path (or a name looked up on PATH).
    public struct Slot: Sendable {
        public var name: String
        public var arguments: [String]
        public var environment: [String: String]
        public init(name: String, arguments: [String], environment: [String: String] = [:]) {
            self.name = name; self.arguments = arguments; self.environment = environment
        }
    }

    public let slots: [Slot]
    public var logDirectory: URL?
    public var initialBackoffSeconds = 1.0
    public var maximumBackoffSeconds = 30.0
    /// Give up on a slot after this many launches in a row that ran less than `healthySeconds`.
    public var maximumQuickFailures = 5
    public var healthySeconds = 10.0
    public var log: @Sendable (String) -> Void = standardErrorLog

    private let lock = NSLock()
    private var running: [Int: Process] = [:]
    private var stopped = false
    private let queue = DispatchQueue(label: "worker-launcher")
    public private(set) var launches = 0

    public init(slots: [Slot]) { self.slots = slots }

    /// The slots for `hosts` (slots per host, `:` = local) running `workerCommand` with `connectArguments`.
    /// `ssh` is the client command (argv), e.g. ["ssh", "-F", "cluster/ssh_config"]; BatchMode is always added.
    public static func slots(hosts: [HostEntry], localExecutable: String, remoteExecutable: String,
                             workerArguments: (_ name: String) -> [String], environment: [String: String],
                             ssh: [String] = ["ssh"]) -> [Slot] {
        var result = [Slot]()
        for (h, host) in hosts.enumerated() {
            for s in 0..<(host.slots ?? 1) {
                let name = host.isLocal ? "local-\(h)-\(s)" : "\(host.host)-\(s)"
                if host.isLocal {
                    result.append(Slot(name: name, arguments: [localExecutable] + workerArguments(name), environment: environment))
                } else {
                    // Environment travels inside the remote command line; arguments are quoted for the remote shell.
                    let assignments = environment.sorted { $0.key < $1.key }.map { "\($0.key)=\(shellQuoted($0.value))" }
                    let remote = (assignments + [remoteExecutable] + workerArguments(name).map(shellQuoted)).joined(separator: " ")
                    result.append(Slot(name: name, arguments: ssh + ["-o", "BatchMode=yes", "-o", "ConnectTimeout=10", host.sshDestination, remote]))
                }
            }
        }
        return result
    }

    public func start() throws {
        for index in slots.indices { try launch(index, quickFailures: 0) }
    }

    /// Stops relaunching; gives workers `graceSeconds` to leave on their own (after DONE they exit and
    /// log their summary), then terminates every worker still running.
    public func stop(graceSeconds: Double = 0) {
        lock.lock()
        stopped = true
        let processes = Array(running.values)
        lock.unlock()
        let deadline = Date().addingTimeInterval(graceSeconds)
        while processes.contains(where: \.isRunning), Date() < deadline { usleep(20_000) }
        for p in processes where p.isRunning { p.terminate() }
    }

    /// Live worker processes (for progress lines and tests).
    public var liveProcessIDs: [Int32] {
        lock.lock(); defer { lock.unlock() }
        return running.values.filter(\.isRunning).map(\.processIdentifier)
    }

    private func launch(_ index: Int, quickFailures: Int) throws {
        let slot = slots[index]
        let process = Process()
        let executable = slot.arguments[0]
        if executable.contains("/") {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = Array(slot.arguments.dropFirst())
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = slot.arguments
        }
        var environment = ProcessInfo.processInfo.environment
        for (k, v) in slot.environment { environment[k] = v }
        process.environment = environment
        if let logDirectory {
            try FileManager.default.createDirectory(at: logDirectory, withIntermediateDirectories: true)
            let url = logDirectory.appendingPathComponent("\(slot.name).log")
            if !FileManager.default.fileExists(atPath: url.path) { FileManager.default.createFile(atPath: url.path, contents: nil) }
            let handle = try FileHandle(forWritingTo: url)
            handle.seekToEndOfFile()
            process.standardError = handle
            process.standardOutput = handle
        }
        process.standardInput = FileHandle.nullDevice
        let started = Date()
        process.terminationHandler = { [weak self] p in
            self?.exited(index, process: p, ranSeconds: Date().timeIntervalSince(started), quickFailures: quickFailures)
        }
        lock.lock()
        guard !stopped else { lock.unlock(); return }
        running[index] = process
        launches += 1
        lock.unlock()
        do { try process.run() } catch {
            throw ClusterError.invalidOption("cannot start worker \(slot.name) (\(slot.arguments.joined(separator: " "))): \(error)")
        }
    }

    private func exited(_ index: Int, process: Process, ranSeconds: Double, quickFailures: Int) {
        lock.lock()
        let stop = stopped
        if running[index] === process { running[index] = nil }
        lock.unlock()
        guard !stop else { return }
        let failures = ranSeconds < healthySeconds ? quickFailures + 1 : 0
        let name = slots[index].name
        guard failures <= maximumQuickFailures else {
            log("worker \(name) failed \(failures) times in a row; not relaunching it")
            return
        }
        let delay = min(maximumBackoffSeconds, initialBackoffSeconds * pow(2, Double(max(failures - 1, 0))))
        let status = process.terminationStatus, seconds = String(format: "%.0f", delay)
        // A failure is told at once; a clean exit only if the relaunch happens, since workers leaving on
        // DONE exit just before the run stops this launcher.
        if status != 0 { log("worker \(name) exited (status \(status)); relaunching in \(seconds) s") }
        queue.asyncAfter(deadline: .now() + delay) { [weak self] in
            guard let self, !self.lock.withLock({ self.stopped }) else { return }
            if status == 0 { self.log("worker \(name) exited (status 0) \(seconds) s ago; relaunching it") }
            do { try self.launch(index, quickFailures: failures) } catch { self.log("\(error)") }
        }
    }
}

/// Single-quotes a word for a POSIX shell.
func shellQuoted(_ word: String) -> String {
    if !word.isEmpty, word.allSatisfy({ $0.isLetter || $0.isNumber || "-_./:=@,+".contains($0) }) { return word }
    return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
