import Foundation

/// Starts worker processes (local, or on other hosts through `ssh -o BatchMode=yes`) and relaunches any
/// that exit before the run is over, with exponential backoff. Knows nothing of what the workers compute.
///
/// No local worker outlives the launcher's process: each gets as standard input the read end of a pipe whose
/// only write end the launcher holds (close-on-exec, so no child inherits it), and `ParentWatch` in the worker
/// exits when it reads end-of-file, i.e. when the launcher's process is gone, even after kill -9.
public final class WorkerLauncher: @unchecked Sendable {
    /// One worker process to keep alive: argv[0] is an executable path (or a name looked up on PATH).
    public struct Slot: Sendable {
        public var name: String
        public var arguments: [String]
        public var environment: [String: String]
        /// A process on this machine, tied to the launcher's life by the pipe (not an ssh client).
        public var local: Bool
        public init(name: String, arguments: [String], environment: [String: String] = [:], local: Bool = true) {
            self.name = name; self.arguments = arguments; self.environment = environment; self.local = local
        }
    }

    /// Processes started at once before a pause (`batchPauseSeconds`), so a large start is not a fork storm
    /// and a stop or signal in the middle of it starts no more.
    public var batchSize = 16
    public var batchPauseSeconds = 0.05

    public let slots: [Slot]
    public var logDirectory: URL?
    public var initialBackoffSeconds = 1.0
    public var maximumBackoffSeconds = 30.0
    /// Give up on a slot after this many launches in a row that ran less than `healthySeconds`.
    public var maximumQuickFailures = 5
    public var healthySeconds = 10.0
    public var log: @Sendable (String) -> Void = standardErrorLog

    private let lock = NSLock()
    private var running: [Int: ChildProcess] = [:]
    private var stopped = false
    private let queue = DispatchQueue(label: "worker-launcher")
    public private(set) var launches = 0

    /// The pipe tying local workers to this process: [read end, write end], both close-on-exec.
    private let parentPipe: [Int32]

    public init(slots: [Slot]) {
        self.slots = slots
        var ends: [Int32] = [-1, -1]
        // Close-on-exec at once (no pipe2 in Swift's Glibc): a worker must never hold the write end.
        if pipe(&ends) != 0 || fcntl(ends[0], F_SETFD, FD_CLOEXEC) != 0 || fcntl(ends[1], F_SETFD, FD_CLOEXEC) != 0 {
            ends = [-1, -1]  // then workers run untied, as before
        }
        parentPipe = ends
    }

    deinit {
        // Workers still running then see end-of-file and leave.
        for end in parentPipe where end >= 0 { close(end) }
    }

    /// Refuses a number of worker processes this machine cannot hold: above `manyPerCore` per core unless
    /// `allowMany` (each worker is a process of several hundred MiB), and always above what the coordinator's
    /// file descriptors can connect (`fileDescriptorsPerWorker` each, RLIMIT_NOFILE).
    public static func checkCount(
        _ count: Int, allowMany: Bool, cores: Int = ProcessInfo.processInfo.activeProcessorCount,
        fileDescriptors: Int = openFileLimit()
    ) throws {
        guard count >= 0 else { throw ClusterError.invalidOption("--workers must be 0 or more, got \(count)") }
        let byDescriptors = max(0, (fileDescriptors - reservedDescriptors) / fileDescriptorsPerWorker)
        if count > byDescriptors {
            throw ClusterError.invalidOption(
                "\(count) worker processes need about \(count * fileDescriptorsPerWorker + reservedDescriptors) "
                    + "file descriptors, and this process may open \(fileDescriptors) (ulimit -n): "
                    + "at most \(byDescriptors) workers")
        }
        let sane = max(minimumLimit, manyPerCore * cores)
        if count > sane && !allowMany {
            throw ClusterError.invalidOption(
                "\(count) worker processes on \(cores) core(s) is more than \(sane) (\(manyPerCore) per core): "
                    + "they would compete for the cores and memory (each loads a model); "
                    + "pass --allow-many-workers if you mean it")
        }
    }

    public static let manyPerCore = 4
    static let minimumLimit = 8
    static let fileDescriptorsPerWorker = 4
    static let reservedDescriptors = 64

    /// The soft RLIMIT_NOFILE.
    public static func openFileLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        return limit.rlim_cur >= UInt64(Int.max / 2) ? Int.max / 2 : Int(limit.rlim_cur)  // RLIM_INFINITY too
    }

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
                    result.append(Slot(name: name, arguments: [localExecutable] + workerArguments(name),
                                       environment: environment))
                } else {
                    // Environment travels inside the remote command line; arguments are quoted for the remote shell.
                    let assignments = environment.sorted { $0.key < $1.key }.map {
                        "\($0.key)=\(shellQuoted($0.value))"
                    }
                    let remote = (assignments + [remoteExecutable] + workerArguments(name).map(shellQuoted))
                        .joined(separator: " ")
                    result.append(Slot(name: name,
                                       arguments: ssh + ["-o", "BatchMode=yes", "-o", "ConnectTimeout=10",
                                                         host.sshDestination, remote],
                                       local: false))
                }
            }
        }
        return result
    }

    /// Starts every slot, `batchSize` at a time; after `stop()` (e.g. from a signal) it starts no more.
    public func start() throws {
        for index in slots.indices {
            if index > 0 && index % batchSize == 0 {
                Thread.sleep(forTimeInterval: batchPauseSeconds)
            }
            guard !lock.withLock({ stopped }) else { return }
            try launch(index, quickFailures: 0)
        }
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
        var environment = ProcessInfo.processInfo.environment
        for (k, v) in slot.environment { environment[k] = v }
        environment[ParentWatch.variable] = nil
        var input: Int32?
        if slot.local && parentPipe[0] >= 0 {
            environment[ParentWatch.variable] = ParentWatch.standardInput
            input = parentPipe[0]
        }
        var logHandle: FileHandle?
        if let logDirectory {
            try FileManager.default.createDirectory(at: logDirectory, withIntermediateDirectories: true)
            let url = logDirectory.appendingPathComponent("\(slot.name).log")
            if !FileManager.default.fileExists(atPath: url.path) {
                _ = FileManager.default.createFile(atPath: url.path, contents: nil)
            }
            logHandle = try FileHandle(forWritingTo: url)
            logHandle?.seekToEndOfFile()
        }
        let started = Date()
        lock.lock()
        defer { lock.unlock() }
        guard !stopped else { return }
        let process: ChildProcess
        do {
            process = try ChildProcess.spawn(
                arguments: slot.arguments, environment: environment, input: input,
                output: logHandle?.fileDescriptor
            ) { [weak self] p in
                self?.exited(index, process: p, ranSeconds: Date().timeIntervalSince(started), quickFailures: quickFailures)
            }
        } catch let ChildProcess.SpawnError.failed(reason) {
            throw ClusterError.invalidOption(
                "cannot start worker \(slot.name) (\(slot.arguments.joined(separator: " "))): \(reason)")
        }
        running[index] = process
        launches += 1
    }

    private func exited(_ index: Int, process: ChildProcess, ranSeconds: Double, quickFailures: Int) {
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
        let status = process.terminationStatus ?? 255, seconds = String(format: "%.0f", delay)
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

/// A worker started by a `WorkerLauncher` on this machine leaves when the launcher's process is gone: its
/// standard input is the launcher's pipe, which reads end-of-file only once every write end is closed.
public enum ParentWatch {
    static let variable = "IBA_EXIT_WITH_PARENT"
    static let standardInput = "stdin"

    /// Starts the watch when the environment asks for it (a worker launched locally); else does nothing.
    public static func startIfLaunched(environment: [String: String] = ProcessInfo.processInfo.environment) {
        guard environment[variable] == standardInput else { return }
        _ = watching
    }

    /// One watch per process, however many `Worker`s it creates.
    private static let watching: Void = {
        let thread = Thread {
            var byte: UInt8 = 0
            while true {
                let n = read(0, &byte, 1)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
            }
            FileHandle.standardError.write(
                Data("worker: the process that launched this worker is gone; exiting\n".utf8))
            _exit(3)
        }
        thread.name = "parent-watch"
        thread.start()
    }()
}
