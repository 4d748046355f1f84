import Foundation

/// A dataset's examples as a run uses them: by position, each read when it is needed. A JSONL file is kept
/// as an offset index (where each valid row's line starts and ends, and its label), so a run over 400,000
/// rows holds a few bytes per row instead of every text; the other formats are held parsed in memory
/// (their rows can span lines: CSV quotes, IMDB files).
public struct DatasetRows: Sendable {
    enum Storage: Sendable {
        case memory([LabeledExample])
        case file(IndexedLines)
    }

    let storage: Storage

    public init(_ examples: [LabeledExample]) { storage = .memory(examples) }
    init(indexed: IndexedLines) { storage = .file(indexed) }

    public var count: Int {
        switch storage {
        case .memory(let examples): return examples.count
        case .file(let lines): return lines.labels.count
        }
    }

    public var indices: Range<Int> { 0..<count }

    /// The gold label of row `index` (kept in memory either way: every result is checked against it).
    public func label(_ index: Int) -> Int {
        switch storage {
        case .memory(let examples): return examples[index].label
        case .file(let lines): return Int(lines.labels[index])
        }
    }

    /// The largest label, -1 when there are no rows.
    public var largestLabel: Int {
        switch storage {
        case .memory(let examples): return examples.map(\.label).max() ?? -1
        case .file(let lines): return lines.labels.max().map(Int.init) ?? -1
        }
    }

    /// Row `index`, read back from the file when the rows are indexed (throws when the file can no longer
    /// be read or its row no longer parses: it changed under the run).
    public func example(_ index: Int) throws -> LabeledExample {
        switch storage {
        case .memory(let examples): return examples[index]
        case .file(let lines): return try lines.example(index)
        }
    }

    /// An upper bound on the bytes of any row's example as sorted-key JSON (a task carries it): JSON may
    /// escape a byte as up to six (\u001f), plus the keys and the label.
    public var encodedExampleBound: Int {
        switch storage {
        case .memory(let examples):
            return (examples.map { $0.text.utf8.count + ($0.textPair?.utf8.count ?? 0) }.max() ?? 0) * 6 + 64
        case .file(let lines): return lines.longestLine * 6 + 64
        }
    }
}

/// A JSONL dataset's valid rows as (offset, length) of their lines in the file, with their labels.
final class IndexedLines: @unchecked Sendable {
    let url: URL
    let encoding: TextEncoding
    /// Start of each valid row's line in the file and its length (no newline), by row position.
    private var starts: [UInt64] = []
    private var lengths: [UInt32] = []
    fileprivate(set) var labels: [Int32] = []
    private(set) var longestLine = 0
    private let lock = NSLock()
    private var handle: FileHandle?

    init(url: URL, encoding: TextEncoding) {
        self.url = url
        self.encoding = encoding
    }

    deinit { try? handle?.close() }

    func append(start: UInt64, length: Int, label: Int) {
        starts.append(start)
        lengths.append(UInt32(clamping: length))
        labels.append(Int32(clamping: label))
        longestLine = max(longestLine, length)
    }

    func example(_ position: Int) throws -> LabeledExample {
        let bytes: Data = try lock.withLock {
            if handle == nil {
                do { handle = try FileHandle(forReadingFrom: url) } catch {
                    throw EvaluationError.unreadable(path: url.path, reason: error.localizedDescription)
                }
            }
            guard let handle else { throw EvaluationError.unreadable(path: url.path, reason: "not open") }
            do {
                try handle.seek(toOffset: starts[position])
                return try handle.read(upToCount: Int(lengths[position])) ?? Data()
            } catch {
                throw EvaluationError.unreadable(path: url.path, reason: error.localizedDescription)
            }
        }
        guard bytes.count == Int(lengths[position]),
              case .success(let example)? = parseJSONLRow([UInt8](bytes)[...], encoding: encoding, line: 0),
              example.label == Int(labels[position]) else {
            throw EvaluationError.unreadable(path: url.path,
                reason: "row \(position) is no longer what it was when the "
                                             + "run started (the file changed under the run)")
        }
        return example
    }
}

/// Reads a JSONL file in chunks into an offset index (no row's text is kept), with the same rules and
/// refusals as `readJSONLDataset`.
func indexJSONLDataset(_ url: URL, skipBadRows: Bool, encoding: TextEncoding) throws -> (DatasetRows, [SkippedRow]) {
    let index = IndexedLines(url: url, encoding: encoding)
    var collector = RowCollector(skipBadRows: skipBadRows, encoding: encoding)
    let handle: FileHandle
    do { handle = try FileHandle(forReadingFrom: url) } catch {
        throw EvaluationError.unreadable(path: url.path, reason: error.localizedDescription)
    }
    defer { try? handle.close() }
    var carry = [UInt8]()        // the start of a line the last chunk cut
    var carryStart: UInt64 = 0   // its offset in the file
    var offset: UInt64 = 0
    var lineNumber = 1
    var first = true
    func row(_ bytes: ArraySlice<UInt8>, start: UInt64) throws {
        defer { lineNumber += 1 }
        switch parseJSONLRow(bytes, encoding: encoding, line: lineNumber) {
        case nil: return
        case .success(let example)?: index.append(start: start, length: bytes.count, label: example.label)
        case .failure(let reason)?: try collector.reject(file: url, line: lineNumber, reason: reason.reason)
        }
    }
    while true {
        let chunk: [UInt8]
        do { chunk = [UInt8](try handle.read(upToCount: 1 << 20) ?? Data()) } catch {
            throw EvaluationError.unreadable(path: url.path, reason: error.localizedDescription)
        }
        if chunk.isEmpty { break }
        var lineStart = 0
        // A leading UTF-8 byte order mark is not part of the first row (as readFileBytes).
        if first, chunk.starts(with: [0xEF, 0xBB, 0xBF]) { lineStart = 3; carryStart = 3 }
        first = false
        for i in lineStart..<chunk.count where chunk[i] == UInt8(ascii: "\n") {
            if carry.isEmpty {
                try row(chunk[lineStart..<i], start: offset + UInt64(lineStart))
            } else {
                carry += chunk[lineStart..<i]
                try row(carry[...], start: carryStart)
                carry.removeAll(keepingCapacity: true)
            }
            lineStart = i + 1
        }
        if lineStart < chunk.count {
            if carry.isEmpty { carryStart = offset + UInt64(lineStart) }
            carry += chunk[lineStart...]
        }
        offset += UInt64(chunk.count)
    }
    if !carry.isEmpty { try row(carry[...], start: carryStart) }
    return (DatasetRows(indexed: index), collector.skipped)
}

/// A rejected row's reason.
struct RowProblem: Error { var reason: String }

/// One JSONL line: nil for a blank line, else the example or why the line is not one.
func parseJSONLRow(_ bytes: ArraySlice<UInt8>, encoding: TextEncoding,
    line: Int) -> Result<LabeledExample, RowProblem>? {
    let text: String
    switch decodeText(bytes, encoding: encoding, firstLine: line) {
    case let .success(decoded): text = decoded
    case let .failure(invalid): return .failure(RowProblem(reason: invalid.reason))
    }
    if pythonStrip(text).isEmpty { return nil }
    let example: LabeledExample
    do {
        // Decoded text re-encoded, so a Latin-1 line reaches JSONDecoder as UTF-8.
        example = try JSONDecoder().decode(LabeledExample.self, from: Data(text.utf8))
    } catch {
        return .failure(RowProblem(reason: "not a JSON object with \"text\", optional \"text_pair\" and integer "
                                   + "\"label\" "
                                   + "(\(describeDecodingError(error)))"))
    }
    guard example.label >= 0 else {
        return .failure(RowProblem(reason: "label \(example.label) is negative; labels are class indices 0, 1, ..."))
    }
    return .success(example)
}
