import Foundation

/// An output directory held by one run from before its first example until its outputs are written:
/// created and checked writable up front (so a path that is a file, or a read-only or full disk, is
/// found before hours of computing), and locked so two runs cannot write into one directory. The lock
/// is an advisory `flock` on `.iba-run.lock`, released by the kernel when the process ends however it ends.
public final class OutputDirectoryLock {
    public let directory: URL
    private let descriptor: Int32
    static let lockFileName = ".iba-run.lock"
    /// Refuse to start with less free space than this on the output's file system.
    static let minimumFreeBytes: UInt64 = 1 << 20

    public init(_ directory: URL) throws {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: directory.path, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw EvaluationError.outputFailed(
                path: directory.path, reason: "it exists and is not a directory; choose another --output")
        }
        do { try fm.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
            throw EvaluationError.outputFailed(
                path: directory.path, reason: "cannot create the output directory (\(error.localizedDescription))")
        }
        let lockPath = directory.appendingPathComponent(Self.lockFileName).path
        let descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw EvaluationError.outputFailed(
                path: directory.path, reason: "cannot create a file in it (\(String(cString: strerror(errno))))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: lockPath, encoding: .utf8))?.trimmingCharacters(
                in: .whitespacesAndNewlines) ?? ""
            close(descriptor)
            throw EvaluationError.outputInUse(path: directory.path, holder: holder)
        }
        self.directory = directory
        self.descriptor = descriptor
        let pid = Data("pid \(ProcessInfo.processInfo.processIdentifier)\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = pid.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
        var stats = statvfs()
        if statvfs(directory.path, &stats) == 0,
           UInt64(stats.f_bavail) * UInt64(stats.f_frsize) < Self.minimumFreeBytes {
            throw EvaluationError.outputFailed(path: directory.path, reason: "the disk is full (less than 1 MiB free)")
        }
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
