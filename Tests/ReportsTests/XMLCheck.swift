import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Parses `text` as XML; returns nil when well-formed, else the parser's error.
func xmlParseError(_ text: String) -> String? {
    let parser = XMLParser(data: Data(text.utf8))
    if parser.parse() { return nil }
    return parser.parserError.map { "\($0)" } ?? "unknown XML error"
}

/// Counts non-overlapping occurrences of `needle` in `haystack`.
func occurrences(of needle: String, in haystack: String) -> Int {
    haystack.components(separatedBy: needle).count - 1
}

/// Writes `text` to $REPORTS_SAMPLE_DIR/name when that variable is set, for looking at the output.
func writeSampleIfRequested(_ text: String, name: String) throws {
    guard let dir = ProcessInfo.processInfo.environment["REPORTS_SAMPLE_DIR"] else { return }
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
}
