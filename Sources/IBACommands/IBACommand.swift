import ArgumentParser

/// `iba`: explain BERT classifiers with Information Bottleneck Attribution and score explanations.
public struct IBACommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "iba",
        abstract: "Information Bottleneck Attribution for BERT classifiers (Jiang et al., EMNLP 2020 Findings).",
        discussion: """
        Examples:
          iba explain                                   # explain a built-in sentence with the demo model
          iba explain --text "Stocks rallied." --format html --output x.html
          iba evaluate                                  # degradation test on the embedded AG News sample
          iba evaluate --model M --dataset agnews --data-path test.csv --method iba --layer 8 --test-sample 100
          iba merge out/p1 out/p2 --output out/all      # a job run as --part 1/2 and --part 2/2, put together
        """,
        subcommands: [PredictCommand.self, ExplainCommand.self, EvaluateCommand.self, MergeCommand.self,
                      PlotCommand.self, FinetuneCommand.self])

    public init() {}
}
