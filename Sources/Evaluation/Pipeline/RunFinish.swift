import Foundation

/// The records of a finished run as its outputs read them: every method's numbers for each selection position
/// (`RunScalars`, complete: a position without a result holds failed records saying why), and the whole records
/// of one position at a time, read back when needed (results.jsonl, the report's heatmaps). So no step of
/// writing the outputs holds every example's tokens and attributions.
struct FinishedRecords {
    var scalars: RunScalars
    /// Dataset index and gold label per selection position.
    var indices: [Int]
    /// Every method's whole record at a selection position.
    var records: (Int) throws -> [ExampleRecord]
    /// Per method: compute seconds summed in selection order.
    var methodSeconds: [Double]
}

extension EvaluationJob {
    /// `finish` from the records of every example held in memory (tests, `runEvaluation`'s callers).
    func finishedRecords(_ run: MethodRecords) -> FinishedRecords {
        let positions = run.records.first?.count ?? 0
        // Records made elsewhere (tests) may have other steps than the settings: the first evaluated one's count.
        let steps = methods.indices.map { m in
            run.records[m].first { $0.failed == nil }?.degradationProb.count
                ?? settings(for: methods[m]).degradationSteps - 1
        }
        var scalars = RunScalars(methods: methods.count, positions: positions, steps: steps, keepsSeconds: false)
        for p in 0..<positions { scalars.set(position: p, records: run.records.map { $0[p] }, seconds: []) }
        return FinishedRecords(scalars: scalars, indices: (0..<positions).map { run.records[0][$0].index },
                               records: { p in run.records.map { $0[p] } }, methodSeconds: run.seconds)
    }

    /// Writes every output (see `finish(_:seconds:)`) from `run`: results.jsonl streamed in one pass over the
    /// positions (each example's records read once, for every method's file), the rest from the numbers.
    func finish(_ run: FinishedRecords, seconds: Double) throws -> Outcome {
        let scalars = run.scalars
        let directories = methods.map(directory(for:))
        for methodDirectory in directories {
            do { try FileManager.default.createDirectory(at: methodDirectory,
                withIntermediateDirectories: true) } catch {
                throw EvaluationError.outputFailed(path: methodDirectory.path, reason: error.localizedDescription)
            }
        }
        let staged = try streamResultsJSONL(run, into: directories)
        var summaries = [Summary]()
        do {
            for (m, method) in methods.enumerated() {
                let methodSummary = try summary(of: method, m, run,
                    seconds: methods.count == 1 ? seconds : run.methodSeconds[m])
                var files = try evaluationOutputFiles(records: [],
                    summary: methodSummary).filter { $0.name != "results.jsonl" }
                files.append(OutputFile(name: "degradation.svg",
                    data: Data(degradationPlotSVG(summaries: [methodSummary]).utf8)))
                try writeOutputFiles(files, staged: [(name: "results.jsonl", temporary: staged[m])],
                    into: directories[m])
                summaries.append(methodSummary)
            }
        } catch {
            for temporary in staged { try? FileManager.default.removeItem(at: temporary) }
            throw error
        }
        let picked = try reportExamples(run)
        let failures = (0..<scalars.positions).compactMap { p -> ReportedFailure? in
            guard scalars.isFailed(method: 0, position: p) else { return nil }
            return ReportedFailure(index: run.indices[p], reason: scalars.failureReasons[0][p] ?? "no result")
        }
        guard methods.count > 1 else {
            let report = OutputFile(name: "report.html", data: Data(evaluationReportHTML(
                summaries: summaries, picked: picked, failures: failures, architecture: architecture).utf8))
            try writeOutputFiles([report], into: outputDirectory)
            return Outcome(summaries: summaries, comparison: nil, pairs: nil)
        }
        // Rows are named as the job names its methods (iba@3), while each summary.json names IBA and its layer.
        var rows = summaries
        for m in rows.indices { rows[m].method = methods[m] }
        let secondsPerExample = methods.indices.map { run.methodSeconds[$0] / Double(max(1, summaries[$0].n)) }
        let steps = rows.map(\.degradationProb.count).max() ?? 0
        let values = methods.indices.map { exampleValues(scalars, method: $0, steps: steps) }
        var (comparison, pairs) = try compareMethods(summaries: rows, values: values, count: scalars.positions,
                                                     secondsPerExample: secondsPerExample, seed: settings.seed)
        comparison.explains = explainedTargets
        comparison.warning = targetWarning
        let layers = methods.map { $0.isIBA ? settings(for: $0).layer : nil }
        let figure = layersFigure(comparison: comparison, layers: layers,
                                  title: "IBA per layer against the other methods "
                                      + "(\(settings.dataset.rawValue), 95% intervals)")
        let report = OutputFile(name: "report.html", data: Data(evaluationReportHTML(
            summaries: rows, picked: picked, failures: failures, architecture: architecture,
            comparison: comparison, pairs: pairs, layersFigure: figure.map { String(decoding: $0.data,
                as: UTF8.self) }).utf8))
        try writeOutputFiles(comparison.files + pairs.files + [report] + (figure.map { [$0] } ?? []),
            into: outputDirectory)
        return Outcome(summaries: summaries, comparison: comparison, pairs: pairs)
    }

    /// Each method's results.jsonl under a temporary name in its directory, in selection order.
    private func streamResultsJSONL(_ run: FinishedRecords, into directories: [URL]) throws -> [URL] {
        let suffix = ".partial-\(ProcessInfo.processInfo.processIdentifier)"
        let temporaries = directories.map { $0.appendingPathComponent(".results.jsonl" + suffix) }
        var handles = [FileHandle]()
        defer { for handle in handles { try? handle.close() } }
        do {
            for temporary in temporaries {
                guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
                    throw EvaluationError.outputFailed(path: temporary.path, reason: "cannot create it")
                }
                handles.append(try FileHandle(forWritingTo: temporary))
            }
            var buffers = [Data](repeating: Data(), count: methods.count)
            let path = URL(fileURLWithPath: "results.jsonl")
            for p in 0..<run.scalars.positions {
                let records = try run.records(p)
                for m in methods.indices {
                    buffers[m].append(try resultLine(records[m], path: path))
                    if buffers[m].count >= 1 << 20 {
                        try handles[m].write(contentsOf: buffers[m])
                        buffers[m].removeAll(keepingCapacity: true)
                    }
                }
            }
            for m in methods.indices where !buffers[m].isEmpty { try handles[m].write(contentsOf: buffers[m]) }
        } catch {
            for temporary in temporaries { try? FileManager.default.removeItem(at: temporary) }
            if let error = error as? EvaluationError { throw error }
            throw EvaluationError.outputFailed(path: temporaries.first?.path ?? "results.jsonl", reason: "\(error)")
        }
        return temporaries
    }

    /// One method's summary from the numbers: the arithmetic of `summarize(records:)` (Double sums in selection
    /// order), so the summary is bit-identical to the records' one.
    func summary(of method: EvaluationMethod, _ m: Int, _ run: FinishedRecords, seconds: Double) throws -> Summary {
        let one = settings(for: method)
        let scalars = run.scalars
        if let mismatch = scalars.mismatchedSteps {
            throw EvaluationError.mismatchedInput(
                "example \(mismatch.index) has \(mismatch.count) degradation steps, the others \(mismatch.expected)")
        }
        let evaluated = (0..<scalars.positions).filter { !scalars.isFailed(method: m, position: $0) }
        let steps = evaluated.isEmpty ? 0 : scalars.steps[m]
        let count = Double(evaluated.count)
        var probSums = [Double](repeating: 0, count: steps), correctSums = [Double](repeating: 0, count: steps)
        var accuracySum = 0.0, probSum = 0.0
        var comprehensiveness = [Double](), sufficiency = [Double]()
        for p in evaluated {
            for step in 0..<steps {
                probSums[step] += Double(scalars.stepProbability(method: m, position: p, step: step))
                correctSums[step] += scalars.stepCorrect(method: m, position: p, step: step) ? 1 : 0
            }
            accuracySum += scalars.originallyCorrect(method: m, position: p) ? 1 : 0
            probSum += Double(scalars.originalProbability(method: m, position: p))
            if let value = scalars.comprehensiveness(method: m, position: p) { comprehensiveness.append(Double(value)) }
            if let value = scalars.sufficiency(method: m, position: p) { sufficiency.append(Double(value)) }
        }
        func mean(_ values: [Double]) -> Double { values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count) }
        var summary = Summary(
            method: one.method, dataset: one.dataset, layer: one.summaryLayer, n: evaluated.count,
            originalAccuracy: count > 0 ? accuracySum / count : 0, originalProb: count > 0 ? probSum / count : 0,
            degradationProb: probSums.map { count > 0 ? $0 / count : 0 },
            degradationAccuracy: correctSums.map { count > 0 ? $0 / count : 0 },
            aopcComprehensiveness: comprehensiveness.isEmpty ? nil : mean(comprehensiveness),
            aopcSufficiency: sufficiency.isEmpty ? nil : mean(sufficiency),
            failed: (0..<scalars.positions).filter { scalars.isFailed(method: m,
                position: $0) }.map { run.indices[$0] },
            seconds: seconds, options: one.summaryOptions)
        summary.architecture = architecture
        return summary
    }

    /// The report's examples (`examplesForReport`'s rule on the first method), read back whole.
    private func reportExamples(_ run: FinishedRecords) throws -> (mostDropped: [ExampleRecord],
        leastDropped: [ExampleRecord]) {
        let scalars = run.scalars
        let positions = reportPositions(count: scalars.positions, steps: scalars.steps.first ?? 0,
                                        failed: { scalars.isFailed(method: 0, position: $0) },
                                        drop: { p in
                                            scalars.originalProbability(method: 0, position: p)
                                                - scalars.stepProbability(method: 0, position: p, step: 0)
                                        })
        return (try positions.most.map { try run.records($0)[0] }, try positions.least.map { try run.records($0)[0] })
    }
}
