import Foundation
import Cluster
import Evaluation

/// `iba merge`: the output directories of a job's parts (`--part K/N`, from `iba evaluate` or
/// `iba-coordinator`) put back together as the unsliced job's. Every part is checked first: a finished part
/// (its part.json), of one job (the same run identity as its results log records: model, data, options,
/// seed), every slice once. The job is then rebuilt from the parts' manifest and its outputs are written by
/// `EvaluationJob.finish` from the parts' records in selection order, so they are the files the unsliced job
/// writes (the times aside: a merged one-method summary's `seconds` is the sum of the parts' wall times).
public struct PartMerge {
    /// One part's output directory, as read.
    public struct Part {
        public let directory: URL
        public let manifest: PartManifest
        public let identity: ResultsLogIdentity
    }

    public let parts: [Part]
    /// The unsliced job, writing into the merge's output directory.
    public let job: EvaluationJob

    /// Reads and checks the parts in `directories`; nothing is written yet. The dataset must be where the parts
    /// read it (the selection is recomputed from it) and unchanged (its hash is compared).
    public init(directories: [URL], output: URL) throws {
        guard !directories.isEmpty else { throw ClusterEvaluationError.parts("name the parts' output directories") }
        let outputPath = output.standardizedFileURL.resolvingSymlinksInPath().path
        parts = try directories.map { directory in
            guard directory.standardizedFileURL.resolvingSymlinksInPath().path != outputPath else {
                throw ClusterEvaluationError.parts(
                    "the output \(output.path) is one of the parts: merge into another directory")
            }
            let manifest = try PartManifest.read(from: directory)
            let identity = try ResultsLogIdentity.read(directory.appendingPathComponent(ResultsLogStore.fileName))
            return Part(directory: directory, manifest: manifest, identity: identity)
        }
        try Self.checkOneJob(parts)
        try Self.checkSlices(parts)
        let first = parts[0].manifest
        job = try EvaluationJob(settings: first.settings, model: first.model, outputDirectory: output,
                                architecture: first.architecture, methods: first.methods)
        try checkSelection()
    }

    /// Refuses parts of different jobs, naming the two directories and what differs.
    static func checkOneJob(_ parts: [Part]) throws {
        let first = parts[0]
        for part in parts {
            let logged = part.identity.options[RunIdentity.partOption]
            guard logged == part.manifest.part.description,
                  part.identity.options["settings"] == (try? part.manifest.settings.fingerprint()) else {
                throw ClusterEvaluationError.parts("\(part.directory.path): its part.json (part \(part.manifest.part)) "
                    + "does not match its results log (written for part \(logged ?? "none"), other settings?)")
            }
            guard part.manifest.part.count == first.manifest.part.count else {
                throw ClusterEvaluationError.parts("\(first.directory.path) is part \(first.manifest.part) but "
                    + "\(part.directory.path) is part \(part.manifest.part): the parts of a job split it the same way")
            }
            var mine = part.identity, theirs = first.identity
            mine.options[RunIdentity.partOption] = nil
            theirs.options[RunIdentity.partOption] = nil
            let differences = theirs.differences(from: mine, optionDefaults: RunIdentity.optionDefaults)
            guard differences.isEmpty, part.manifest.selected == first.manifest.selected,
                  part.manifest.methods == first.manifest.methods,
                  part.manifest.settings == first.manifest.settings else {
                let what = differences.isEmpty ? "their part.json files differ" : differences.joined(separator: "; ")
                throw ClusterEvaluationError.parts("\(first.directory.path) (part \(first.manifest.part)) and "
                    + "\(part.directory.path) (part \(part.manifest.part)) are parts of different jobs: \(what)")
            }
        }
    }

    /// Refuses a slice given twice (overlapping parts) or missing, naming them.
    static func checkSlices(_ parts: [Part]) throws {
        let count = parts[0].manifest.part.count
        var byNumber = [Int: URL]()
        for part in parts {
            if let other = byNumber[part.manifest.part.number] {
                throw ClusterEvaluationError.parts("\(other.path) and \(part.directory.path) are both part "
                    + "\(part.manifest.part): their examples overlap; give each part once")
            }
            byNumber[part.manifest.part.number] = part.directory
        }
        let missing = (1...count).filter { byNumber[$0] == nil }
        guard missing.isEmpty else {
            let given = parts.map { "\($0.manifest.part) in \($0.directory.path)" }.joined(separator: ", ")
            throw ClusterEvaluationError.parts("part\(missing.count == 1 ? "" : "s") "
                + missing.map { "\($0)/\(count)" }.joined(separator: ", ") + " of the job missing (given: \(given)): "
                + "run \(missing.count == 1 ? "it" : "them") with --part, then merge all \(count)")
        }
    }

    /// The rebuilt job selects what the parts were slices of, from the same data.
    private func checkSelection() throws {
        let identity = parts[0].identity
        guard job.plan.dataHash == identity.dataHash else {
            throw ClusterEvaluationError.parts("the dataset \(job.settings.dataPath) is not the one the parts ran on "
                + "(data hash \(job.plan.dataHash) now, \(identity.dataHash) in the parts)")
        }
        for part in parts where part.manifest.part.slice(job.plan.indices) != part.manifest.indices {
            throw ClusterEvaluationError.parts("\(part.directory.path) holds other examples than part "
                + "\(part.manifest.part) of the job's selection of \(job.plan.indices.count)")
        }
    }

    /// The parts' records per method in selection order, and their summed times (wall, per method).
    public func records() throws -> (run: MethodRecords, seconds: Double) {
        let count = parts[0].manifest.part.count
        let ordered = parts.sorted { $0.manifest.part.number < $1.manifest.part.number }
        var records = [[ExampleRecord]]()
        for method in job.methods {
            let slices = try ordered.map { part in try Self.records(of: method, in: part, methods: job.methods.count) }
            // Position p of the selection is position p / N of part p mod N + 1 (`JobPart.slice`).
            records.append(job.plan.indices.indices.map { slices[$0 % count][$0 / count] })
        }
        let methodSeconds = job.methods.indices.map { m in ordered.reduce(0) { $0 + $1.manifest.methodSeconds[m] } }
        let run = MethodRecords(methods: job.methods, records: records, seconds: methodSeconds)
        return (run, ordered.reduce(0) { $0 + $1.manifest.seconds })
    }

    /// One method's results.jsonl in one part, checked to hold the part's examples in order.
    static func records(of method: EvaluationMethod, in part: Part, methods: Int) throws -> [ExampleRecord] {
        let directory = methods == 1 ? part.directory : part.directory.appendingPathComponent(method.rawValue)
        let url = directory.appendingPathComponent("results.jsonl")
        let records = try readResultsJSONL(url, tolerateTornLastLine: false).records
        guard records.map(\.index) == part.manifest.indices, part.manifest.methodSeconds.count == methods else {
            throw ClusterEvaluationError.parts("\(url.path) holds \(records.count) record(s), not the "
                + "\(part.manifest.indices.count) examples of part \(part.manifest.part) in order")
        }
        return records
    }

    /// Writes the merged outputs (locking the output directory as a run does), hands them to `written`, then
    /// throws when more than `allowedFailures` examples failed, as the run would have.
    @discardableResult
    public func write(allowedFailures: Int = 0,
                      written: (EvaluationJob.Outcome) -> Void = { _ in }) throws -> EvaluationJob.Outcome {
        let (run, seconds) = try records()
        let lock = try OutputDirectoryLock(job.outputDirectory)
        defer { withExtendedLifetime(lock) {} }
        let outcome = try job.finish(run, seconds: seconds)
        written(outcome)
        try checkFailures(run, allowed: allowedFailures)
        return outcome
    }
}
