import Foundation

/// The original's MNLI labels, in its order (`labels.index(label)`).
let mnliLabels = ["contradiction", "entailment", "neutral"]

/// GLUE MNLI TSV (dev_matched / dev_mismatched), as the original's `process_mnli`:
/// header skipped, sentence1 = column 8, sentence2 = column 9, label = the last
/// column. A row with fewer than 10 columns or an unknown label is reported
/// (the original would crash on it).
func readMNLITSV(_ url: URL, into collector: inout RowCollector) throws {
    for (line, columns) in try readTSVRows(url, into: &collector) {
        guard columns.count >= 10 else {
            try collector.reject(
                file: url, line: line,
                reason: "expected at least 10 tab-separated columns (GLUE MNLI), found \(columns.count)")
            continue
        }
        guard let last = columns.last, let label = mnliLabels.firstIndex(of: last) else {
            try collector.reject(
                file: url, line: line,
                reason: "label \"\(columns.last ?? "")\" is not one of \(mnliLabels.joined(separator: ", "))")
            continue
        }
        collector.examples.append(LabeledExample(text: columns[8], textPair: columns[9], label: label))
    }
}
