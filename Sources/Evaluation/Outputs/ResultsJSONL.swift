import Foundation

/// One results.jsonl line (sorted keys, newline-terminated) for a record.
func resultLine(_ record: ExampleRecord, path: URL) throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    var line = try encode(record, with: encoder, path: path)
    line.append(UInt8(ascii: "\n"))
    return line
}

/// Appends one record to a results.jsonl file (created if missing), so a long
/// run can be resumed from what it has finished.
public func appendResult(_ record: ExampleRecord, to url: URL) throws {
    let line = try resultLine(record, path: url)
    do {
        if !FileManager.default.fileExists(atPath: url.path) {
            try line.write(to: url)
            return
        }
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: line)
    } catch {
        throw EvaluationError.outputFailed(path: url.path, reason: error.localizedDescription)
    }
}

/// The records of a results.jsonl file and how many of its bytes they span.
public struct ResultsFileContents: Sendable {
    public var records: [ExampleRecord]
    /// Bytes up to the end of the last complete record; a resumed run truncates
    /// the file to this length before appending.
    public var validByteCount: Int
    /// Whether an unfinished last line (a crash mid-write) was ignored.
    public var droppedTornLastLine: Bool
}

/// Reads results.jsonl for a resume. A last line without its newline that does
/// not decode is a torn write: ignored with `tolerateTornLastLine`, an error
/// otherwise. Any other bad line is an error naming its line.
public func readResultsJSONL(_ url: URL, tolerateTornLastLine: Bool) throws -> ResultsFileContents {
    let bytes = try readFileBytes(url)
    let decoder = JSONDecoder()
    var records: [ExampleRecord] = []
    var validByteCount = 0
    var droppedTornLastLine = false
    let lines = splitLines(bytes)
    for (number, line) in lines {
        let terminated = line.endIndex < bytes.endIndex
        let lineEnd = terminated ? line.endIndex + 1 : line.endIndex
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) {
            validByteCount = lineEnd
            continue
        }
        do {
            records.append(try decoder.decode(ExampleRecord.self, from: Data(line)))
            validByteCount = lineEnd
        } catch {
            if !terminated && tolerateTornLastLine {
                droppedTornLastLine = true
                break
            }
            let reason = terminated ? "not a result record (\(describeDecodingError(error)))"
                : "the last line is incomplete (an interrupted write?); "
                    + "resume to ignore it (\(describeDecodingError(error)))"
            throw EvaluationError.malformedRow(path: url.path, line: number, reason: reason)
        }
    }
    return ResultsFileContents(
        records: records, validByteCount: validByteCount, droppedTornLastLine: droppedTornLastLine)
}
