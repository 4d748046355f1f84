import Foundation

/// GLUE RTE TSV (`index, sentence1, sentence2, label`), as the original's
/// `process_rte`: header skipped, "entailment" -> 0 and any other label -> 1.
/// A row without exactly 4 columns is reported (the original's unpacking fails).
func readRTETSV(_ url: URL, into collector: inout RowCollector) throws {
    for (line, columns) in try readTSVRows(url, into: &collector) {
        guard columns.count == 4 else {
            try collector.reject(
                file: url, line: line,
                reason: "expected 4 tab-separated columns (index, sentence1, sentence2, label), found \(columns.count)")
            continue
        }
        let label = columns[3] == "entailment" ? 0 : 1
        collector.examples.append(LabeledExample(text: columns[1], textPair: columns[2], label: label))
    }
}
