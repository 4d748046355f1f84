import Digest
import Foundation

/// A stable content hash of a dataset, "sha256:<64 hex digits>", for run manifests.
/// Files: the file's bytes. IMDB directories: each `pos/` then `neg/` `*.txt` file
/// in reading order, as its relative path, a 0 byte, its bytes and a 0 byte.
public func datasetHash(_ kind: DatasetKind, path: URL) throws -> String {
    var hash = SHA256()
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
        // In chunks: a dataset of 400,000 rows is never held whole.
        let handle: FileHandle
        do { handle = try FileHandle(forReadingFrom: path) } catch {
            throw EvaluationError.unreadable(path: path.path, reason: error.localizedDescription)
        }
        defer { try? handle.close() }
        while true {
            let chunk: Data
            do { chunk = try handle.read(upToCount: 1 << 20) ?? Data() } catch {
                throw EvaluationError.unreadable(path: path.path, reason: error.localizedDescription)
            }
            if chunk.isEmpty { break }
            chunk.withUnsafeBytes { hash.add($0) }
        }
    }
    return "sha256:" + hash.finish()
}

private func rawBytes(_ url: URL) throws -> Data {
    do { return try Data(contentsOf: url) } catch {
        throw EvaluationError.unreadable(path: url.path, reason: error.localizedDescription)
    }
}

/// "sha256:<hex>" of a file's bytes (memory-mapped), e.g. a checkpoint for a run manifest.
public func fileContentHash(_ url: URL) throws -> String {
    let data: Data
    do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
        throw EvaluationError.unreadable(path: url.path, reason: error.localizedDescription)
    }
    var hash = SHA256()
    data.withUnsafeBytes { hash.add($0) }
    return "sha256:" + hash.finish()
}

/// "sha256:<hex>" of bytes in memory (e.g. a list of file hashes naming a cache entry).
public func contentHash(_ bytes: Data) -> String {
    var hash = SHA256()
    bytes.withUnsafeBytes { hash.add($0) }
    return "sha256:" + hash.finish()
}
