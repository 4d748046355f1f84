import Foundation

/// 64-bit FNV-1a: a small, stable content hash for run manifests (not for security).
struct FNV1a64 {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add<C: Sequence>(_ bytes: C) where C.Element == UInt8 {
        for byte in bytes {
            value ^= UInt64(byte)
            value &*= 0x0000_0100_0000_01b3
        }
    }

    var hex: String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

/// A stable content hash of a dataset, "fnv1a64:<16 hex digits>", for run manifests.
/// Files: the file's bytes. IMDB directories: each `pos/` then `neg/` `*.txt` file
/// in reading order, as its relative path, a 0 byte, its bytes and a 0 byte.
public func datasetHash(_ kind: DatasetKind, path: URL) throws -> String {
    var hash = FNV1a64()
    if kind == .imdb {
        for subdirectory in ["pos", "neg"] {
            for file in try imdbFiles(in: path.appendingPathComponent(subdirectory)) {
                hash.add("\(subdirectory)/\(file.lastPathComponent)".utf8)
                hash.add([0])
                hash.add(try rawBytes(file))
                hash.add([0])
            }
        }
    } else {
        hash.add(try rawBytes(path))
    }
    return "fnv1a64:" + hash.hex
}

private func rawBytes(_ url: URL) throws -> Data {
    do { return try Data(contentsOf: url) } catch {
        throw EvaluationError.unreadable(path: url.path, reason: error.localizedDescription)
    }
}

/// "fnv1a64:<hex>" of a file's bytes (memory-mapped), e.g. a checkpoint for a run manifest.
public func fileContentHash(_ url: URL) throws -> String {
    let data: Data
    do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
        throw EvaluationError.unreadable(path: url.path, reason: error.localizedDescription)
    }
    var hash = FNV1a64()
    data.withUnsafeBytes { hash.add($0) }
    return "fnv1a64:" + hash.hex
}

/// "fnv1a64:<hex>" of bytes in memory (e.g. a list of file hashes naming a cache entry).
public func contentHash(_ bytes: Data) -> String {
    var hash = FNV1a64()
    bytes.withUnsafeBytes { hash.add($0) }
    return "fnv1a64:" + hash.hex
}
