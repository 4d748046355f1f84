import Foundation

/// AG News CSV (`"label","title","description"`), as the original's
/// `process_agnews`: label = value - 1, text = the columns after the first joined
/// with a single space. Every row must have the 3 AG News columns and a label in
/// 1...4 (the original would join any extra columns and accept any integer; here
/// such a row is reported, since it means a damaged file or another dataset).
func readAGNewsCSV(_ url: URL, into collector: inout RowCollector) throws {
    let bytes = try readFileBytes(url)
    let records: [CSVRecord]
    do {
        records = try parseCSVRecords(bytes)
    } catch {
        // A broken quote makes every later row suspect: never skippable.
        throw EvaluationError.malformedRow(path: url.path, line: error.line, reason: error.reason)
    }
    let classCount = 4
    let expectedColumns = 3
    for record in records {
        // Quotes, commas and newlines are ASCII: the record's raw bytes decode iff every field does.
        if case let .failure(invalid) = decodeText(bytes[record.byteRange], encoding: collector.encoding,
                                                   firstLine: record.line) {
            try collector.reject(file: url, line: record.line, reason: invalid.reason)
            continue
        }
        let columns = record.fields.compactMap {
            try? decodeText($0[...], encoding: collector.encoding, firstLine: record.line).get()
        }
        guard columns.count == expectedColumns else {
            try collector.reject(
                file: url, line: record.line,
                reason: "expected \(expectedColumns) columns (label, title, description), found \(columns.count)")
            continue
        }
        // Python's int() accepts surrounding whitespace.
        guard let value = Int(pythonStrip(columns[0])), (1...classCount).contains(value) else {
            try collector.reject(file: url, line: record.line,
                                 reason: "label \"\(columns[0])\" is not an AG News class number 1...\(classCount)")
            continue
        }
        let text = columns.dropFirst().joined(separator: " ")
        collector.examples.append(LabeledExample(text: text, label: value - 1))
    }
}
