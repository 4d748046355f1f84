import ArgumentParser
import Foundation
import ClusterEvaluation
import Evaluation

/// `iba merge`: the parts of a job (`--part K/N`) put back together as the unsliced job's output directory.
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Combine the output directories of a job's parts (--part K/N) into the whole job's.",
        discussion: """
        Writes what the unsliced job writes (results.jsonl, summaries, .npy files, comparison and pairs \
        files, layers.svg, report.html), byte for byte apart from times; a one-method summary's seconds is \
        the sum of the parts' wall times. Refuses parts of different jobs (model, data, options, seed), a \
        part given twice, a missing part, or a part that did not finish. The dataset must be readable where \
        the parts read it.
        Example:
          iba evaluate --model M --test-sample 1000 --part 1/2 --output out/p1   (and --part 2/2 --output out/p2)
          iba merge out/p1 out/p2 --output out/all
        """)

    @Argument(help: "The parts' output directories.") var parts: [String]
    @Option(help: "Directory for the merged outputs.") var output: String
    @Option(name: .customLong("allow-failures"),
            help: "Examples that may have failed for good before merge exits with an error.")
    var allowFailures = 0

    func validate() throws {
        guard allowFailures >= 0 else { throw ValidationError("--allow-failures must be 0 or more") }
    }

    func run() throws {
        try failing {
            let output = URL(fileURLWithPath: output)
            let merge = try PartMerge(directories: parts.map { URL(fileURLWithPath: $0) }, output: output)
            try merge.write(allowedFailures: allowFailures) { outcome in
                print(resultsTable(outcome))
                note("merged \(merge.parts.count) part(s), \(merge.job.plan.indices.count) examples; "
                     + outputsNote(merge.job))
                openNote(output.appendingPathComponent("report.html").path)
            }
        }
    }
}
