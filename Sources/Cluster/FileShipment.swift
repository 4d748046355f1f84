import Foundation

/// Files a coordinator streams to workers that lack them (the model of a run,
/// `--ship-model`). Workers cache them under `key`, so a second run with the
/// same files transfers nothing. `hash` is opaque here: the caller's setup
/// checks it (this module moves bytes and checks sizes). Integrity against an
/// attacker comes from CURVE, which authenticates every frame.
public struct FileShipment: Codable, Sendable, Equatable {
    public struct File: Codable, Sendable, Equatable {
        public var name: String
        public var size: UInt64
        public var hash: String

        public init(name: String, size: UInt64, hash: String) {
            self.name = name; self.size = size; self.hash = hash
        }
    }

    public var key: String
    public var files: [File]
    public var chunkBytes: UInt32

    public static let defaultChunkBytes: UInt32 = 1 << 20

    public init(key: String, files: [File], chunkBytes: UInt32 = FileShipment.defaultChunkBytes) {
        self.key = key; self.files = files; self.chunkBytes = chunkBytes
    }

    public var totalBytes: UInt64 { files.reduce(0) { $0 + $1.size } }

    /// The characters a key or file name may use: [A-Za-z0-9._-].
    private static func isPlain(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber || "._-".contains(character))
    }

    /// `name` made acceptable as a shipped file name: other characters become "_", leading dots go, at most 100
    /// characters.
    public static func plainName(_ name: String) -> String {
        let plain = String(name.map { isPlain($0) ? $0 : "_" }.drop(while: { $0 == "." }).prefix(100))
        return plain.isEmpty ? "file" : plain
    }

    /// Key and names become paths on the worker: plain names only, no separators, no dot-files.
    func validate() throws {
        func safe(_ name: String, _ what: String) throws {
            guard (1...128).contains(name.utf8.count), name.allSatisfy(Self.isPlain), !name.hasPrefix(".") else {
                throw ClusterError.shipment("\(what) \"\(name.prefix(64))\" "
                    + "must be 1...128 characters of [A-Za-z0-9._-], not starting with a dot")
            }
        }
        try safe(key, "shipment key")
        guard (1...64).contains(files.count) else {
            throw ClusterError.shipment("a shipment lists 1...64 files, not \(files.count)")
        }
        guard Set(files.map(\.name)).count == files.count else { throw ClusterError.shipment("file names repeat") }
        for file in files {
            try safe(file.name, "file name")
            guard file.hash.utf8.count <= 256 else { throw ClusterError.shipment("hash of \(file.name) is too long") }
        }
        guard (1...Wire.maxChunkBytes).contains(chunkBytes) else {
            throw ClusterError.shipment("chunk size \(chunkBytes) outside 1...\(Wire.maxChunkBytes)")
        }
    }

    /// The only FETCH a well-behaved worker sends for `offset`: chunk-aligned, inside the file, full length.
    func expectedLength(file: Int, offset: UInt64) -> UInt32? {
        guard files.indices.contains(file), offset < files[file].size, offset % UInt64(chunkBytes) == 0 else {
            return nil
        }
        return UInt32(min(UInt64(chunkBytes), files[file].size - offset))
    }
}

/// The coordinator's side: the shipment's files, opened once and served
/// chunk by chunk without per-transfer state. Chunks are read with pread, not
/// memory-mapped: a file truncated in place mid-run would make a mapped read
/// fault (SIGBUS); here the size is checked before each read and a changed
/// file is refused.
final class ShipmentSource {
    let shipment: FileShipment
    private let descriptors: [Int32]
    private let paths: [String]

    init(shipment: FileShipment, files: [URL]) throws {
        try shipment.validate()
        guard files.count == shipment.files.count else {
            throw ClusterError.shipment("\(files.count) file(s) given for a shipment of \(shipment.files.count)")
        }
        var descriptors: [Int32] = []
        for (url, file) in zip(files, shipment.files) {
            let fd = open(url.path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                descriptors.forEach { _ = close($0) }
                throw ClusterError.shipment("cannot read \(url.path): \(String(cString: strerror(errno)))")
            }
            descriptors.append(fd)
            let size = Self.size(fd)
            guard size == file.size else {
                descriptors.forEach { _ = close($0) }
                throw ClusterError.shipment("\(url.path) has \(size.map(String.init) ?? "unknown") bytes, "
                    + "the shipment says \(file.size) (changed on disk?)")
            }
        }
        self.shipment = shipment
        self.descriptors = descriptors
        self.paths = files.map(\.path)
    }

    deinit { descriptors.forEach { _ = close($0) } }

    private static func size(_ fd: Int32) -> UInt64? {
        var status = stat()
        guard fstat(fd, &status) == 0 else { return nil }
        return UInt64(status.st_size)
    }

    enum Chunk: Equatable {
        case bytes(Data)
        /// Not a chunk a correct worker would ask for.
        case invalid
        /// The file on disk no longer has the shipment's size (or cannot be read).
        case changed(String)
    }

    /// The bytes of a valid request, read now.
    func chunk(file: UInt32, offset: UInt64, length: UInt32) -> Chunk {
        let index = Int(file)
        guard shipment.expectedLength(file: index, offset: offset) == length else { return .invalid }
        let fd = descriptors[index]
        guard Self.size(fd) == shipment.files[index].size else {
            return .changed("\(paths[index]) no longer has \(shipment.files[index].size) bytes")
        }
        var data = Data(count: Int(length))
        let read = data.withUnsafeMutableBytes { pread(fd, $0.baseAddress, Int(length), off_t(offset)) }
        guard read == Int(length) else { return .changed("\(paths[index]): short read at \(offset)") }
        return .bytes(data)
    }
}

/// A worker's on-disk cache of shipped files: `ROOT/KEY/NAME`. A directory
/// appears under its key only once complete (renamed from a partial one).
public struct ShipmentCache: Sendable {
    public let root: URL

    public init(root: URL) { self.root = root }

    /// `$XDG_CACHE_HOME/iba-swift/models`, else `~/.cache/iba-swift/models`.
    public static var defaultRoot: URL {
        if let xdg = ProcessInfo.processInfo.environment["XDG_CACHE_HOME"], !xdg.isEmpty {
            return URL(fileURLWithPath: xdg).appendingPathComponent("iba-swift/models")
        }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/iba-swift/models")
    }

    /// The complete directory for `shipment`, if this cache holds one with the right file sizes.
    public func directory(for shipment: FileShipment) -> URL? {
        guard (try? shipment.validate()) != nil else { return nil }
        let directory = root.appendingPathComponent(shipment.key)
        for file in shipment.files {
            let path = directory.appendingPathComponent(file.name).path
            guard let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber,
                  size.uint64Value == file.size else { return nil }
        }
        return directory
    }

    /// Drop a cached copy (e.g. its contents failed the caller's hash check).
    public func remove(_ shipment: FileShipment) {
        guard (try? shipment.validate()) != nil else { return }
        try? FileManager.default.removeItem(at: root.appendingPathComponent(shipment.key))
    }
}

/// One worker's transfer of a shipment into its cache, driven by the worker's
/// poll loop: `nextRequests` says what to FETCH (at most `credit` outstanding),
/// `receive` stores a CHUNK. Several workers on one host: the first takes a
/// lock file and downloads; the others wait for the directory to appear, and
/// download on their own after `lockWaitSeconds` (a frozen lock holder).
final class ShipmentDownload {
    enum State: Equatable { case downloading, waitingForOtherWorker, complete }

    let shipment: FileShipment
    private let cache: ShipmentCache
    private let credit: Int
    private let retrySeconds: Double
    private let lockWaitSeconds: Double
    private let log: (String) -> Void
    private var lockDescriptor: Int32 = -1
    private var partial: URL?
    private var handles: [FileHandle] = []
    private var nextFile = 0
    private var nextOffset: UInt64 = 0
    private var outstanding: [ChunkID: Double] = [:]  // requested chunk -> when
    private var retries: [ChunkID] = []
    private(set) var receivedBytes: UInt64 = 0
    private(set) var state = State.downloading
    let startedAt = monotonicSeconds()

    struct ChunkID: Hashable { var file: Int; var offset: UInt64 }

    init(shipment: FileShipment, cache: ShipmentCache, credit: Int, retrySeconds: Double,
         lockWaitSeconds: Double = 120, log: @escaping (String) -> Void = { _ in }) throws {
        try shipment.validate()
        self.shipment = shipment
        self.cache = cache
        self.credit = max(1, credit)
        self.retrySeconds = retrySeconds
        self.lockWaitSeconds = lockWaitSeconds
        self.log = log
        let fm = FileManager.default
        do { try fm.createDirectory(at: cache.root, withIntermediateDirectories: true) } catch {
            throw ClusterError.shipment("cannot create the cache \(cache.root.path): \(error.localizedDescription)")
        }
        if cache.directory(for: shipment) != nil { state = .complete; return }
        let lockPath = cache.root.appendingPathComponent("\(shipment.key).lock").path
        lockDescriptor = open(lockPath, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard lockDescriptor >= 0 else { throw ClusterError.shipment("cannot open \(lockPath): errno \(errno)") }
        try startIfLockFree()
    }

    deinit { abandon() }

    /// Takes the host-wide lock if nobody holds it (or goes ahead without it when `force`d) and opens the partial
    /// files.
    private func startIfLockFree(force: Bool = false) throws {
        guard flock(lockDescriptor, LOCK_EX | LOCK_NB) == 0 || force else { state = .waitingForOtherWorker; return }
        if cache.directory(for: shipment) != nil { finishWithoutDownload(); return }  // finished while we waited
        state = .downloading
        let fm = FileManager.default
        let partial = cache.root.appendingPathComponent("\(shipment.key).partial-\(getpid())")
        try? fm.removeItem(at: partial)
        do {
            try fm.createDirectory(at: partial, withIntermediateDirectories: false)
            for file in shipment.files {
                let url = partial.appendingPathComponent(file.name)
                guard fm.createFile(atPath: url.path, contents: nil) else { throw CocoaError(.fileWriteUnknown) }
                let handle = try FileHandle(forWritingTo: url)
                try handle.truncate(atOffset: file.size)  // sparse until written; checks the size fits
                handles.append(handle)
            }
        } catch {
            throw ClusterError.shipment("cannot create \(partial.path): \(error.localizedDescription)")
        }
        self.partial = partial
        // Empty files need no chunk.
        while nextFile < shipment.files.count, shipment.files[nextFile].size == 0 { nextFile += 1 }
    }

    private func finishWithoutDownload() {
        state = .complete
        releaseLock()
    }

    /// FETCH requests to send now: new chunks up to the credit, and chunks unanswered for `retrySeconds`.
    func nextRequests(now: Double) throws -> [WorkerMessage] {
        if state == .waitingForOtherWorker {
            if cache.directory(for: shipment) != nil { finishWithoutDownload(); return [] }
            // The other worker died (its lock is gone): take over. Frozen (lock held, nothing published): go ahead
            // anyway.
            let stuck = now - startedAt >= lockWaitSeconds
            if stuck {
                log("another worker on this host has held the download lock for \(Int(now - startedAt)) s: "
                    + "downloading anyway")
            }
            try startIfLockFree(force: stuck)
            if state != .downloading { return [] }
        }
        guard state == .downloading else { return [] }
        var requests: [WorkerMessage] = []
        for (id, sentAt) in outstanding where now - sentAt >= retrySeconds {
            outstanding[id] = now
            requests.append(request(id))
        }
        while outstanding.count < credit, nextFile < shipment.files.count {
            let id = ChunkID(file: nextFile, offset: nextOffset)
            outstanding[id] = now
            requests.append(request(id))
            nextOffset += UInt64(shipment.chunkBytes)
            if nextOffset >= shipment.files[nextFile].size {
                nextFile += 1
                nextOffset = 0
                while nextFile < shipment.files.count, shipment.files[nextFile].size == 0 { nextFile += 1 }
            }
        }
        if outstanding.isEmpty, nextFile >= shipment.files.count { try complete() }
        return requests
    }

    private func request(_ id: ChunkID) -> WorkerMessage {
        .fetch(file: UInt32(id.file), offset: id.offset,
               length: shipment.expectedLength(file: id.file, offset: id.offset) ?? 1)
    }

    /// Stores a CHUNK; false if it answers nothing outstanding (stale duplicate, bogus).
    func receive(file: UInt32, offset: UInt64, bytes: Data) throws -> Bool {
        let id = ChunkID(file: Int(file), offset: offset)
        guard state == .downloading, outstanding[id] != nil,
              shipment.expectedLength(file: id.file, offset: offset).map({ Int($0) }) == bytes.count else {
            return false
        }
        do {
            try handles[id.file].seek(toOffset: offset)
            try handles[id.file].write(contentsOf: bytes)
        } catch {
            throw ClusterError.shipment("cannot write the model cache: \(error.localizedDescription)")
        }
        outstanding[id] = nil
        receivedBytes += UInt64(bytes.count)
        if outstanding.isEmpty, nextFile >= shipment.files.count { try complete() }
        return true
    }

    /// All bytes are on disk: flush and publish the directory under its key.
    private func complete() throws {
        guard state == .downloading, let partial else { return }
        do {
            for handle in handles {
                try handle.synchronize()
                try handle.close()
            }
            handles = []
            let final = cache.root.appendingPathComponent(shipment.key)
            if cache.directory(for: shipment) != nil {
                // Another worker published a complete copy meanwhile (others may be loading it): keep that one.
                try? FileManager.default.removeItem(at: partial)
            } else {
                try? FileManager.default.removeItem(at: final)  // a stale, incomplete copy
                try FileManager.default.moveItem(at: partial, to: final)
            }
        } catch {
            throw ClusterError.shipment("cannot publish the downloaded model: \(error.localizedDescription)")
        }
        self.partial = nil
        state = .complete
        releaseLock()
    }

    /// Stop: remove partial files, release the lock.
    func abandon() {
        for handle in handles { try? handle.close() }
        handles = []
        if let partial { try? FileManager.default.removeItem(at: partial) }
        partial = nil
        releaseLock()
    }

    private func releaseLock() {
        if lockDescriptor >= 0 {
            flock(lockDescriptor, LOCK_UN)
            close(lockDescriptor)
            lockDescriptor = -1
        }
    }
}
