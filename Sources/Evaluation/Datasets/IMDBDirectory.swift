import Foundation

/// IMDB as the original's `process_imdb`: every `*.txt` in `pos/` (label 0),
/// then every `*.txt` in `neg/` (label 1); text = file content stripped.
/// The original lists files in filesystem order, which differs between machines;
/// we sort file names by code point (Python's `sorted`) so runs are reproducible.
/// A bad file is reported with line 0.
func readIMDBDirectory(_ url: URL, into collector: inout RowCollector) throws {
    for (subdirectory, label) in [("pos", 0), ("neg", 1)] {
        for file in try imdbFiles(in: url.appendingPathComponent(subdirectory)) {
            let bytes = try readFileBytes(file)
            let text: String
            switch decodeText(bytes, encoding: collector.encoding, firstLine: 1) {
            case let .success(decoded): text = decoded
            case let .failure(invalid):
                try collector.reject(file: file, line: 0, reason: invalid.reason)
                continue
            }
            collector.examples.append(LabeledExample(text: pythonStrip(text), label: label))
        }
    }
}

/// The `*.txt` files of one IMDB class directory, sorted by name (code point order).
func imdbFiles(in directory: URL) throws -> [URL] {
    let names: [String]
    do {
        names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
    } catch {
        throw EvaluationError.unreadable(
            path: directory.path,
            reason: "an IMDB directory needs pos/ and neg/ subdirectories of .txt files "
                + "(\(error.localizedDescription))")
    }
    return names.filter { $0.hasSuffix(".txt") }
        .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        .map { directory.appendingPathComponent($0) }
}
