/// One CSV record: its fields as raw bytes and the line where it starts.
struct CSVRecord {
    var line: Int
    var fields: [[UInt8]]
    /// The record's bytes in the input (its line end excluded), to locate a bad byte.
    var byteRange: Range<Int>
}

/// Why a CSV file cannot be split into records.
struct CSVSyntaxError: Error {
    var line: Int
    var reason: String
}

/// Splits CSV bytes into records like Python's `csv.reader` with the default
/// (excel) dialect reading a file opened in text mode, as the original does:
/// - "\r\n" and lone "\r" count as "\n" everywhere (universal newlines);
/// - a field that starts with `"` is quoted: `""` inside it is one quote, and
///   it may span lines; any other character after its closing quote is kept
///   (the dialect is not strict);
/// - a `"` inside an unquoted field is an ordinary character;
/// - backslashes are ordinary characters (no escape character).
/// Differences: blank lines are skipped (Python yields an empty row, on which
/// the original crashes), and a quote still open at the end of the file is an
/// error rather than a record that swallows the rest of the file.
func parseCSVRecords(_ input: ArraySlice<UInt8>) throws(CSVSyntaxError) -> [CSVRecord] {
    let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), newline = UInt8(ascii: "\n"),
        carriageReturn = UInt8(ascii: "\r")
    enum State { case startRecord, startField, inField, inQuotedField, quoteInQuotedField }

    var records: [CSVRecord] = []
    var fields: [[UInt8]] = []
    var field: [UInt8] = []
    var state = State.startRecord
    var line = 1
    var recordLine = 1
    var quoteLine = 1
    var recordStart = input.startIndex

    func endField() { fields.append(field); field.removeAll(keepingCapacity: true) }
    func endRecord(at end: Int) {
        endField()
        records.append(CSVRecord(line: recordLine, fields: fields, byteRange: recordStart..<end))
        fields.removeAll()
    }

    var index = input.startIndex
    while index < input.endIndex {
        let byteStart = index
        var byte = input[index]
        index += 1
        if byte == carriageReturn {
            if index < input.endIndex, input[index] == newline { index += 1 }
            byte = newline
        }
        switch state {
        case .startRecord:
            if byte == newline { break }  // blank line
            recordLine = line
            recordStart = byteStart
            state = .startField
            fallthrough
        case .startField:
            if byte == quote { state = .inQuotedField; quoteLine = line }
            else if byte == comma { endField() }
            else if byte == newline { endRecord(at: byteStart); state = .startRecord }
            else { field.append(byte); state = .inField }
        case .inField:
            if byte == comma { endField(); state = .startField }
            else if byte == newline { endRecord(at: byteStart); state = .startRecord }
            else { field.append(byte) }
        case .inQuotedField:
            if byte == quote { state = .quoteInQuotedField } else { field.append(byte) }
        case .quoteInQuotedField:
            if byte == quote { field.append(quote); state = .inQuotedField }
            else if byte == comma { endField(); state = .startField }
            else if byte == newline { endRecord(at: byteStart); state = .startRecord }
            else { field.append(byte); state = .inField }
        }
        if byte == newline { line += 1 }
    }
    switch state {
    case .startRecord: break
    case .inQuotedField:
        throw CSVSyntaxError(
            line: quoteLine, reason: "a quoted field opened on this line is never closed (unterminated quote)")
    case .startField, .inField, .quoteInQuotedField: endRecord(at: input.endIndex)
    }
    return records
}
