import Foundation
import BERT

/// `--part K/N`: the K-th of N disjoint slices of a job's selected examples, for jobs beyond one
/// coordinator. The selection is the unsliced job's (same dataset, options and selection seed), and each
/// example's noise is seeded from the run seed and its dataset index, so the parts' records are the
/// unsliced job's and `iba merge` puts them back together.
///
/// Slices are strided over selection positions (position p belongs to part p mod N + 1), not blocks:
/// `--test-sample all` selects in dataset order, where neighbouring rows often have similar lengths (an
/// IMDB directory sorted by name), so blocks could differ in cost several times over.
public struct JobPart: Codable, Sendable, Hashable, CustomStringConvertible {
    /// K, 1-based.
    public let number: Int
    /// N.
    public let count: Int

    public init(number: Int, count: Int) throws {
        guard count >= 1, (1...count).contains(number) else {
            throw EvaluationError.invalidSetting(
                "--part \(number)/\(count): K must be 1...N and N at least 1 (e.g. --part 2/4)")
        }
        self.number = number
        self.count = count
    }

    /// "K/N".
    public init(parsing text: String) throws {
        let fields = text.split(separator: "/", omittingEmptySubsequences: false)
        guard fields.count == 2, let number = Int(fields[0]), let count = Int(fields[1]) else {
            throw EvaluationError.invalidSetting("--part wants K/N (the K-th of N slices, e.g. 2/4), not \(text)")
        }
        try self.init(number: number, count: count)
    }

    public var description: String { "\(number)/\(count)" }

    /// This part's share of `selection` (dataset indices in selection order), in selection order.
    public func slice(_ selection: [Int]) -> [Int] {
        stride(from: number - 1, to: selection.count, by: count).map { selection[$0] }
    }

    /// Refuses a part that would hold no example (more parts than selected examples).
    func checkNotEmpty(selected: Int) throws {
        guard number <= selected else {
            throw EvaluationError.invalidSetting("--part \(self) holds no example: the job selects \(selected), "
                + "so it splits into at most \(selected) parts")
        }
    }
}

/// `part.json`, written into a part's output directory after its outputs: what `iba merge` needs to put
/// the parts back together (the job to rebuild, this part's examples and times). Its presence means the
/// part finished; a part still running or stopped has none.
public struct PartManifest: Codable, Sendable {
    public static let fileName = "part.json"
    public static let currentFormat = "iba-part"
    public static let currentVersion = 1

    public var format = PartManifest.currentFormat
    public var version = PartManifest.currentVersion
    public var part: JobPart
    /// Examples the whole (unsliced) job selects.
    public var selected: Int
    /// This part's dataset indices, in selection order.
    public var indices: [Int]
    public var settings: EvaluationSettings
    public var methods: [EvaluationMethod]
    public var model: ModelReference
    public var architecture: ModelArchitecture?
    /// The part's wall time (a one-method summary's `seconds`).
    public var seconds: Double
    /// Each method's compute seconds summed over the part's examples.
    public var methodSeconds: [Double]

    /// Reads `directory`'s part.json, refusing a directory without one (not a finished part) or another format.
    public static func read(from directory: URL) throws -> PartManifest {
        let url = directory.appendingPathComponent(fileName)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw EvaluationError.invalidSetting("\(directory.path) has no \(fileName): it is not the output of a "
                + "finished --part K/N run (a part still running or stopped has none: finish it with --resume)")
        }
        let manifest: PartManifest
        do { manifest = try JSONDecoder().decode(PartManifest.self, from: data) } catch {
            throw EvaluationError.malformedRow(path: url.path, line: 1,
                                               reason: "not a part manifest (\(describeDecodingError(error)))")
        }
        guard manifest.format == currentFormat, manifest.version == currentVersion else {
            throw EvaluationError.malformedRow(path: url.path, line: 1, reason: "format \(manifest.format) version "
                + "\(manifest.version); this build reads \(currentFormat) version \(currentVersion)")
        }
        return manifest
    }
}

extension EvaluationJob {
    /// part.json for this part's run (nil for an unsliced job).
    func partManifestFile(methodSeconds: [Double], seconds: Double) throws -> OutputFile? {
        guard let part else { return nil }
        let manifest = PartManifest(part: part, selected: selected, indices: plan.indices, settings: settings,
                                    methods: methods, model: model, architecture: architecture, seconds: seconds,
                                    methodSeconds: methodSeconds)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let path = outputDirectory.appendingPathComponent(PartManifest.fileName)
        return OutputFile(name: PartManifest.fileName, data: try encode(manifest, with: encoder, path: path))
    }
}
