import Foundation

/// Reads a whole file as bytes; text is decoded per row so one bad row
/// (invalid UTF-8) is reported by line instead of failing the whole file.
func readFileBytes(_ url: URL) throws -> [UInt8] {
    do {
        var bytes = [UInt8](try Data(contentsOf: url))
        // A leading UTF-8 byte order mark is not part of the first row.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        return bytes
    } catch {
        throw EvaluationError.unreadable(path: url.path, reason: error.localizedDescription)
    }
}

/// Physical lines split on "\n" (a trailing "\r" is removed by `pythonStrip` later),
/// each with its 1-based line number. A final empty line after the last "\n" is dropped.
func splitLines(_ bytes: [UInt8]) -> [(line: Int, bytes: ArraySlice<UInt8>)] {
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

func decodeUTF8<C: Collection>(_ bytes: C) -> String? where C.Element == UInt8 {
    String(validating: bytes, as: UTF8.self)
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
        guard let text = decodeUTF8(lineBytes) else {
            try collector.reject(file: url, line: number, reason: "invalid UTF-8")
            continue
        }
        let stripped = pythonStrip(text)
        if stripped.isEmpty { continue }
        rows.append((number, stripped.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)))
    }
    return rows
}
