import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The read-only bytes of a checkpoint: a file mapped with mmap, or a private copy of
/// bytes given in memory. Tensor views point into it, so it lives as long as the archive.
final class ByteStore: @unchecked Sendable {
    let base: UnsafeRawPointer
    let count: Int
    private let release: () -> Void

    private init(base: UnsafeRawPointer, count: Int, release: @escaping () -> Void) {
        self.base = base
        self.count = count
        self.release = release
    }

    deinit { release() }

    var view: ByteView { ByteView(base: base, count: count) }

    /// Maps the whole file read-only. Pages are loaded on first touch, so opening a large
    /// checkpoint costs nothing until tensors are read.
    static func map(path: String) throws -> ByteStore {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else {
            throw CheckpointError.cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw CheckpointError.cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
        if (status.st_mode & S_IFMT) == S_IFDIR {
            throw CheckpointError.cannotOpen(path: path, reason: "it is a directory; pass the checkpoint file "
                + "inside it (model.safetensors or pytorch_model.bin)")
        }
        let size = Int(status.st_size)
        guard size > 0 else { throw CheckpointError.cannotOpen(path: path, reason: "the file is empty") }
        guard let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0),
              address != MAP_FAILED else {
            throw CheckpointError.cannotOpen(path: path, reason: "mmap failed: \(String(cString: strerror(errno)))")
        }
        return ByteStore(base: UnsafeRawPointer(address), count: size) { munmap(address, size) }
    }

    /// Copies bytes into a page-aligned allocation, so alignment behaves as for a mapped file.
    static func copy(of bytes: [UInt8]) -> ByteStore {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 4096)
        bytes.withUnsafeBytes { source in
            if let sourceBase = source.baseAddress { buffer.copyMemory(from: sourceBase, byteCount: source.count) }
        }
        return ByteStore(base: UnsafeRawPointer(buffer), count: bytes.count) { buffer.deallocate() }
    }
}

/// A bounds-checked window on a `ByteStore`. Every read validates offsets before touching
/// memory, so damaged files raise `CheckpointError.truncated` instead of crashing.
struct ByteView {
    let base: UnsafeRawPointer
    let count: Int

    func contains(offset: Int, length: Int) -> Bool {
        offset >= 0 && length >= 0 && offset <= count && length <= count - offset
    }

    func slice(offset: Int, length: Int, _ what: @autoclosure () -> String) throws -> ByteView {
        guard contains(offset: offset, length: length) else {
            throw CheckpointError.truncated("\(what()) needs bytes \(offset)..<\(offset &+ length) of \(count)")
        }
        return ByteView(base: base + offset, count: length)
    }

    func byte(at offset: Int) throws -> UInt8 {
        try integer(at: offset, as: UInt8.self)
    }

    func uint16(at offset: Int) throws -> UInt16 { try integer(at: offset, as: UInt16.self) }
    func uint32(at offset: Int) throws -> UInt32 { try integer(at: offset, as: UInt32.self) }
    func uint64(at offset: Int) throws -> UInt64 { try integer(at: offset, as: UInt64.self) }

    /// A little-endian integer at `offset`.
    func integer<T: FixedWidthInteger>(at offset: Int, as type: T.Type) throws -> T {
        guard contains(offset: offset, length: MemoryLayout<T>.size) else {
            throw CheckpointError.truncated("reading \(MemoryLayout<T>.size) bytes at offset \(offset) of \(count)")
        }
        return T(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    func bytes(at offset: Int, length: Int) throws -> [UInt8] {
        let part = try slice(offset: offset, length: length, "a field")
        return Array(UnsafeRawBufferPointer(start: part.base, count: part.count))
    }

    func hasPrefix(_ prefix: [UInt8]) -> Bool {
        guard prefix.count <= count else { return false }
        return prefix.indices.allSatisfy { base.load(fromByteOffset: $0, as: UInt8.self) == prefix[$0] }
    }

    /// Position of `self` inside `outer`, for tensors addressed by absolute file offsets.
    func offset(in outer: ByteView) -> Int { base - outer.base }
}
