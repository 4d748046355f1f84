import Foundation
import BERT
import Reports

/// report.html of an evaluation: settings, architecture, every method's summary and curve, the heatmaps of the
/// ten examples whose probability dropped most and least at the first removal step, and the failed rows.
/// `records` are the first summary's run (in selection order); `architecture` nil leaves its table empty. With
/// several methods, `comparison` and `pairs` add their tables (means with bootstrap intervals, paired tests).
public func evaluationReportHTML(summaries: [Summary], records: [ExampleRecord], architecture: ModelArchitecture?,
                                 comparison: MethodComparison? = nil, pairs: PairedComparison? = nil,
                                 layersFigure: String? = nil) -> String {
    let picked = examplesForReport(records)
    let failures = records.compactMap { r in r.failed.map { ReportedFailure(index: r.index, reason: $0) } }
    return evaluationReportHTML(summaries: summaries, picked: picked, failures: failures, architecture: architecture,
                                comparison: comparison, pairs: pairs, layersFigure: layersFigure)
}

/// A failed example as report.html lists it.
struct ReportedFailure {
    var index: Int
    var reason: String
}

/// report.html from the examples already picked (`examplesForReport`) and the failed ones in selection order.
func evaluationReportHTML(summaries: [Summary], picked: (mostDropped: [ExampleRecord], leastDropped: [ExampleRecord]),
                          failures: [ReportedFailure], architecture: ModelArchitecture?,
                          comparison: MethodComparison? = nil, pairs: PairedComparison? = nil,
                          layersFigure: String? = nil) -> String {
    let first = summaries.first
    var settings = [ReportEntry]()
    if let first {
        settings.append(ReportEntry("method", summaries.map(\.method.rawValue).joined(separator: ", ")))
        settings.append(ReportEntry("dataset", first.dataset.rawValue))
        // An option that differs between the methods (IBA's layer in a layer sweep) is not the run's setting.
        settings += first.options.sorted { $0.key < $1.key }.map { key, value in
            let values = summaries.map { $0.options[key] ?? "" }
            guard Set(values).count > 1 else { return ReportEntry(key, value) }
            let perMethod = zip(summaries, values).map { summary, value in
                summary.method.withoutLayer.rawValue + (summary.layer.map { "@\($0)" } ?? "") + ": " + value
            }
            return ReportEntry(key, "per method: " + perMethod.joined(separator: ", "))
        }
    }
    var table = [ReportEntry]()
    if let a = architecture {
        table = [
            ReportEntry("layers", "\(a.layers)"), ReportEntry("hidden size", "\(a.hiddenSize)"),
            ReportEntry("attention heads", "\(a.heads) of size \(a.headSize)"),
            ReportEntry("intermediate size", "\(a.intermediateSize)"),
            ReportEntry("max positions", "\(a.maxPositions)"),
            ReportEntry("vocabulary", "\(a.vocabSize)"),
            ReportEntry("labels", a.labelNames.map { $0.joined(separator: ", ") } ?? "\(a.labels)"),
            ReportEntry("read from", a.inferred ? "tensor shapes (no config.json: heads guessed)" : "config.json")
        ]
    }
    let methods = summaries.map { s -> ReportMethod in
        let evaluated = s.n + s.failed.count
        var extra = [ReportEntry]()
        extra.append(ReportEntry("AOPC comprehensiveness", s.aopcComprehensiveness.map { formatValue($0) } ?? ""))
        extra.append(ReportEntry("AOPC sufficiency", s.aopcSufficiency.map { formatValue($0) } ?? ""))
        return ReportMethod(name: "\(s.method) (\(s.dataset)\(s.layer.map { ", layer \($0)" } ?? ""))",
                            examples: s.n, failed: s.failed.count, accuracy: s.originalAccuracy,
                            originalProbability: s.originalProb, degradationProbability: s.degradationProb,
                            degradationAccuracy: s.degradationAccuracy, extraColumns: extra,
                            examplesPerSecond: s.seconds > 0 ? Double(evaluated) / s.seconds : nil)
    }
    func target(_ k: Int) -> String {
        architecture?.labelNames.flatMap { $0.indices.contains(k) ? "\($0[k]) (class \(k))" : nil } ?? "class \(k)"
    }
    func example(_ r: ExampleRecord) -> ReportExample {
        ReportExample(
            index: r.index, target: target(r.target), tokens: r.tokens, attribution: r.attribution,
            originalProbability: Double(r.originalProb),
            firstStepProbability: Double(r.degradationProb.first ?? r.originalProb))
    }
    let title =
        first.map { "Evaluation: \(summaries.map(\.method.rawValue).joined(separator: ", ")) on \($0.dataset)" }
        ?? "Evaluation"
    var report = EvaluationReport(
        title: title, settings: settings, architecture: table, methods: methods,
        mostDropped: picked.mostDropped.map(example), leastDropped: picked.leastDropped.map(example),
        failures: failures.map { ReportFailure(index: $0.index, reason: $0.reason) },
        tables: comparisonTables(comparison, pairs))
    report.warnings = comparison?.warning.map { [$0] } ?? []
    report.layersFigure = layersFigure
    return renderEvaluationReportHTML(report)
}

/// report.html's tables of a comparison: the same cells as comparison.md and pairs.md, the comparison with
/// one column per method (its cells hold two intervals each: too wide for a row per method).
func comparisonTables(_ comparison: MethodComparison?, _ pairs: PairedComparison?) -> [ReportTable] {
    var tables = [ReportTable]()
    if let comparison {
        tables.append(ReportTable(
            id: "headline", heading: "Comparison at a glance",
            note: "Per method: the probability of the target and the accuracy after the first removal step, and "
                + "AOPC, each mean with its 95% interval (all steps below). Lower probability and higher AOPC "
                + "comprehensiveness: the evidence went faster.",
            header: comparison.headlineHeader, rows: comparison.headlineRows))
        let rows = comparison.displayRows
        let transposed = comparison.displayHeader.indices.dropFirst().map { c in
            [comparison.displayHeader[c]] + rows.map { $0.indices.contains(c) ? $0[c] : "" }
        }
        tables.append(ReportTable(
            id: "comparison", heading: "Comparison with 95% intervals",
            note: "Mean [95% percentile bootstrap interval over examples; \(PairedBootstrap.standardResamples) "
                + "resamples seeded from the run seed, the same example sets for every method].",
            header: [""] + rows.map { $0.first ?? "" }, rows: transposed))
    }
    if let pairs {
        tables.append(ReportTable(
            id: "pairs", heading: "Paired differences between methods",
            note: "Per-example differences a - b over the examples both methods scored: mean [paired bootstrap 95% "
                + "interval], two-sided Wilcoxon signed-rank p (normal approximation, zeros dropped) and Holm's "
                + "adjustment over all rows. Faster: a lower probability after the first step, a higher AOPC "
                + "comprehensiveness.",
            header: pairs.displayHeader, rows: pairs.displayRows))
    }
    return tables
}
