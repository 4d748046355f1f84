import CSpawn
import Foundation

/// A child process started with posix_spawn and reaped by its exact pid.
///
/// Not Foundation.Process: on Linux it learns of a child's exit from a socket the child inherits, and waits
/// for the child on one manager thread shared by all children. OpenSSH's `ssh` closes inherited descriptors
/// at start, so that socket reads end-of-file at once and the manager thread blocks in `waitpid` for that ssh
/// client until it exits; meanwhile no other child's exit is noticed (swift-corelibs-foundation#4795). With
/// two workers started over SSH, one killed worker was then never relaunched.
final class ChildProcess: @unchecked Sendable {
    let processIdentifier: pid_t
    private let lock = NSLock()
    private var waitStatus: Int32?
    private let onExit: @Sendable (ChildProcess) -> Void

    enum SpawnError: Error { case failed(String) }

    private init(pid: pid_t, onExit: @escaping @Sendable (ChildProcess) -> Void) {
        processIdentifier = pid
        self.onExit = onExit
    }

    var isRunning: Bool { lock.withLock { waitStatus == nil } }

    /// The exit code, or the number of the signal that ended it (as Foundation.Process reports it);
    /// nil while running.
    var terminationStatus: Int32? {
        lock.withLock {
            guard let status = waitStatus else { return nil }
            let signal = status & 0x7f
            return signal == 0 ? (status >> 8) & 0xff : signal
        }
    }

    /// SIGTERM, only while not reaped (under the lock the reaper takes, so never to a reused pid).
    func terminate() {
        lock.withLock { if waitStatus == nil { _ = kill(processIdentifier, SIGTERM) } }
    }

    /// Starts `arguments[0]` (a path, or a name looked up on PATH) with exactly `environment`, standard input
    /// from `input` (nil: /dev/null), standard output and error to `output` (nil: this process's), no other
    /// descriptor inherited, signal mask empty and default dispositions, in a process group of its own (so a
    /// terminal's Ctrl-C reaches the coordinator, which stops the workers). `onExit` runs once, on a queue.
    static func spawn(arguments: [String], environment: [String: String], input: Int32?, output: Int32?,
                      onExit: @escaping @Sendable (ChildProcess) -> Void) throws(SpawnError) -> ChildProcess {
        guard let executable = arguments.first, !executable.isEmpty else {
            throw SpawnError.failed("no executable")
        }
        var actions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawnattr_init(&attributes)
        defer {
            posix_spawn_file_actions_destroy(&actions)
            posix_spawnattr_destroy(&attributes)
        }
        if let input {
            posix_spawn_file_actions_adddup2(&actions, input, 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        if let output {
            posix_spawn_file_actions_adddup2(&actions, output, 1)
            posix_spawn_file_actions_adddup2(&actions, output, 2)
        }
        let closing = iba_spawn_add_close_from(&actions, 3)
        guard closing == 0 else { throw SpawnError.failed(String(cString: strerror(closing))) }

        var noSignals = sigset_t(), allSignals = sigset_t()
        sigemptyset(&noSignals)
        sigfillset(&allSignals)
        // Dispatch's threads block most signals and the coordinator ignores SIGINT/SIGTERM (it takes them
        // from a dispatch source); a child must not inherit either.
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid = pid_t()
        let error = executable.contains("/")
            ? posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
            : posix_spawnp(&pid, executable, &actions, &attributes, argv, envp)
        guard error == 0 else {
            throw SpawnError.failed(String(cString: strerror(error)))
        }
        let child = ChildProcess(pid: pid, onExit: onExit)
        Reaper.shared.watch(child)
        return child
    }

    /// Reaps it if it has exited; true then.
    fileprivate func reapIfExited() -> Bool {
        let reaped: Bool = lock.withLock {
            guard waitStatus == nil else { return false }
            var status: Int32 = 0
            let result = waitpid(processIdentifier, &status, WNOHANG)
            if result == processIdentifier {
                waitStatus = status
            } else if result < 0 && errno == ECHILD {
                waitStatus = 0xff << 8  // reaped by someone else: exit status unknown, reported as 255
            } else {
                return false
            }
            return true
        }
        return reaped
    }

    fileprivate func exited() { onExit(self) }

    /// One thread for all children: polls each pid with waitpid(pid, WNOHANG), so it never takes another
    /// library's child (a waitpid(-1) would) and a child that never exits blocks nothing.
    private final class Reaper: @unchecked Sendable {
        static let shared = Reaper()
        private let lock = NSLock()
        private var children: [ChildProcess] = []
        private var started = false
        private let callbacks = DispatchQueue(label: "child-process-exits")
        private let pollSeconds = 0.05

        func watch(_ child: ChildProcess) {
            lock.withLock {
                children.append(child)
                if !started {
                    started = true
                    let thread = Thread { [self] in run() }
                    thread.name = "child-reaper"
                    thread.start()
                }
            }
        }

        private func run() {
            while true {
                let watched = lock.withLock { children }
                let done = watched.filter { $0.reapIfExited() }
                if !done.isEmpty {
                    lock.withLock { children.removeAll { child in done.contains { $0 === child } } }
                    for child in done { callbacks.async { child.exited() } }
                }
                Thread.sleep(forTimeInterval: pollSeconds)
            }
        }
    }
}
