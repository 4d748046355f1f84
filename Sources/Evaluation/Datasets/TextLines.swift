import Foundation

/// Reads a whole file as bytes; text is decoded per row so one bad row
/// (invalid UTF-8) is reported by line instead of failing the whole file.
/// The slice's indices are byte offsets in the file, so errors can name them.
func readFileBytes(_ url: URL) throws -> ArraySlice<UInt8> {
    do {
        let bytes = [UInt8](try Data(contentsOf: url))[...]
        // A leading UTF-8 byte order mark is not part of the first row.
        return bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? bytes.dropFirst(3) : bytes
    } catch {
        throw EvaluationError.unreadable(path: url.path, reason: error.localizedDescription)
    }
}

/// Physical lines split on "\n" (a trailing "\r" is removed by `pythonStrip` later),
/// each with its 1-based line number. A final empty line after the last "\n" is dropped.
func splitLines(_ bytes: ArraySlice<UInt8>) -> [(line: Int, bytes: ArraySlice<UInt8>)] {
    var lines: [(Int, ArraySlice<UInt8>)] = []
    var start = bytes.startIndex
    var number = 1
    for index in bytes.indices where bytes[index] == UInt8(ascii: "\n") {
        lines.append((number, bytes[start..<index]))
        start = index + 1
        number += 1
    }
    if start < bytes.endIndex { lines.append((number, bytes[start...])) }
    return lines
}

/// How dataset files are decoded: UTF-8 (invalid bytes refuse the row) or Latin-1
/// (every byte is the code point of the same value, so nothing is refused).
public enum TextEncoding: String, CaseIterable, Codable, Sendable {
    case utf8 = "utf-8"
    case latin1 = "latin-1"
}

/// The text of `bytes`, or why it is not text: the file offset (the slice's index) and
/// line of the first byte that is not UTF-8. `firstLine` is the line of `bytes.startIndex`.
func decodeText(_ bytes: ArraySlice<UInt8>, encoding: TextEncoding, firstLine: Int) -> Result<String, InvalidText> {
    switch encoding {
    case .latin1:
        var text = ""
        text.unicodeScalars.append(contentsOf: bytes.map { Unicode.Scalar($0) })
        return .success(text)
    case .utf8:
        if let text = String(validating: bytes, as: UTF8.self) { return .success(text) }
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = bytes.startIndex
        while case let .valid(scalar) = parser.parseScalar(from: &iterator) { offset += scalar.count }
        let line = firstLine + bytes[..<offset].count(where: { $0 == UInt8(ascii: "\n") })
        return .failure(InvalidText(offset: offset, line: line))
    }
}

/// Where a row stops being UTF-8.
struct InvalidText: Error {
    var offset: Int
    var line: Int

    var reason: String {
        "invalid UTF-8 at byte offset \(offset) (line \(line)); pass --encoding latin-1 if the file is Latin-1"
    }
}

/// The characters Python's `str.isspace()` accepts: `str.strip()` (used by the
/// original's readers) removes exactly these.
private let pythonWhitespace: Set<Unicode.Scalar> = {
    var set: Set<Unicode.Scalar> = []
    let values: [UInt32] = [0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x1F, 0x20, 0x85, 0xA0,
                            0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000] + Array(0x2000...0x200A)
    for value in values { if let scalar = Unicode.Scalar(value) { set.insert(scalar) } }
    return set
}()

/// Python's `str.strip()` with no arguments.
func pythonStrip(_ text: String) -> String {
    let scalars = text.unicodeScalars
    guard let first = scalars.firstIndex(where: { !pythonWhitespace.contains($0) }),
          let last = scalars.lastIndex(where: { !pythonWhitespace.contains($0) })
    else { return "" }
    return String(scalars[first...last])
}

/// Lines of a GLUE-style TSV after its header, as the original reads them:
/// `line.strip().split('\t')` (GLUE TSVs are read with no quoting). Blank lines
/// are skipped (the original would crash on them).
func readTSVRows(_ url: URL, into collector: inout RowCollector) throws -> [(line: Int, columns: [String])] {
    let bytes = try readFileBytes(url)
    var rows: [(Int, [String])] = []
    for (number, lineBytes) in splitLines(bytes).dropFirst() {
        let text: String
        switch decodeText(lineBytes, encoding: collector.encoding, firstLine: number) {
        case let .success(decoded): text = decoded
        case let .failure(invalid):
            try collector.reject(file: url, line: number, reason: invalid.reason)
            continue
        }
        let stripped = pythonStrip(text)
        if stripped.isEmpty { continue }
        rows.append((number, stripped.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)))
    }
    return rows
}
