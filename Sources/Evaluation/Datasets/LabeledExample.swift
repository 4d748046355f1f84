import Foundation

/// One example of a classification (`textPair == nil`) or sentence-pair task.
public struct LabeledExample: Sendable, Codable, Equatable {
    public var text: String
    public var textPair: String?
    public var label: Int

    public init(text: String, textPair: String? = nil, label: Int) {
        self.text = text
        self.textPair = textPair
        self.label = label
    }

    enum CodingKeys: String, CodingKey {
        case text, textPair = "text_pair", label
    }
}

/// The dataset formats the original's `process_{dataset}` functions read, plus generic JSONL.
public enum DatasetKind: String, CaseIterable, Sendable, Codable {
    case imdb, agnews, mnli, rte, jsonl
}

/// A row left out because it was malformed and `skipBadRows` was set.
public struct SkippedRow: Sendable, Equatable {
    public var file: String
    /// 1-based line where the row starts (0 for a whole file, as in IMDB).
    public var line: Int
    public var reason: String
}

/// The examples of a dataset in file order, and what was skipped.
public struct DatasetLoad: Sendable {
    public var examples: [LabeledExample]
    public var skippedRows: [SkippedRow]
}

/// Reads a dataset the way the original's `process_{dataset}` does (see each
/// reader for the deliberate differences). With `skipBadRows` a malformed row is
/// left out and recorded; otherwise it is an error naming file and line. Rows are
/// never silently dropped or relabelled.
/// `encoding` decodes the text (UTF-8: a row with a byte that is not UTF-8 is malformed).
public func loadDataset(_ kind: DatasetKind, path: URL, skipBadRows: Bool,
                        encoding: TextEncoding = .utf8) throws -> DatasetLoad {
    var collector = RowCollector(skipBadRows: skipBadRows, encoding: encoding)
    switch kind {
    case .imdb: try readIMDBDirectory(path, into: &collector)
    case .agnews: try readAGNewsCSV(path, into: &collector)
    case .mnli: try readMNLITSV(path, into: &collector)
    case .rte: try readRTETSV(path, into: &collector)
    case .jsonl: try readJSONLDataset(path, into: &collector)
    }
    return DatasetLoad(examples: collector.examples, skippedRows: collector.skipped)
}

/// Gathers examples, and either throws on a bad row or records it.
struct RowCollector {
    let skipBadRows: Bool
    var encoding = TextEncoding.utf8
    var examples: [LabeledExample] = []
    var skipped: [SkippedRow] = []

    mutating func reject(file: URL, line: Int, reason: String) throws {
        if skipBadRows {
            skipped.append(SkippedRow(file: file.path, line: line, reason: reason))
        } else {
            throw EvaluationError.malformedRow(path: file.path, line: line, reason: reason)
        }
    }
}

extension DatasetKind {
    /// Class names in label order, as the readers number the classes (the original's orders):
    /// AG News classes.txt; MNLI contradiction, entailment, neutral; RTE entailment -> 0; IMDB pos -> 0.
    /// nil for JSONL, whose labels are plain numbers.
    public var classNames: [String]? {
        switch self {
        case .agnews: return ["World", "Sports", "Business", "Sci/Tech"]
        case .mnli: return mnliLabels
        case .rte: return ["entailment", "not_entailment"]
        case .imdb: return ["positive", "negative"]
        case .jsonl: return nil
        }
    }
}
