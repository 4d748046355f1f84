import BERT

/// Everything recorded about one evaluated example (one line of results.jsonl).
public struct ExampleRecord: Codable, Sendable, Equatable {
    /// Row of the example in the dataset file.
    public var index: Int
    public var target: Int
    public var tokens: [String]
    public var attribution: [Float]
    public var originalProb: Float
    public var originalCorrect: Bool
    public var degradationProb: [Float]
    public var degradationCorrect: [Bool]
    public var aopcComprehensiveness: Float?
    public var aopcSufficiency: Float?
    /// Why the example could not be evaluated; such records stay out of the means.
    public var failed: String?

    public init(index: Int, target: Int, tokens: [String], attribution: [Float], originalProb: Float,
                originalCorrect: Bool, degradationProb: [Float], degradationCorrect: [Bool],
                aopcComprehensiveness: Float? = nil, aopcSufficiency: Float? = nil, failed: String? = nil) {
        self.index = index
        self.target = target
        self.tokens = tokens
        self.attribution = attribution
        self.originalProb = originalProb
        self.originalCorrect = originalCorrect
        self.degradationProb = degradationProb
        self.degradationCorrect = degradationCorrect
        self.aopcComprehensiveness = aopcComprehensiveness
        self.aopcSufficiency = aopcSufficiency
        self.failed = failed
    }

    /// A record for an example that could not be evaluated.
    public static func failure(index: Int, target: Int, tokens: [String] = [], reason: String) -> ExampleRecord {
        ExampleRecord(index: index, target: target, tokens: tokens, attribution: [], originalProb: 0,
                      originalCorrect: false, degradationProb: [], degradationCorrect: [], failed: reason)
    }

    enum CodingKeys: String, CodingKey {
        case index, target, tokens, attribution
        case originalProb = "original_prob", originalCorrect = "original_correct"
        case degradationProb = "degradation_prob", degradationCorrect = "degradation_correct"
        case aopcComprehensiveness = "aopc_comprehensiveness", aopcSufficiency = "aopc_sufficiency"
        case failed = "error"
    }
}

/// The run's summary (summary.json): the original's four outputs and ours.
public struct Summary: Codable, Sendable, Equatable {
    /// The method without its layer (`iba`, with `layer` set); a comparison's rows name it as the job does (`iba@3`).
    public var method: EvaluationMethod
    public var dataset: DatasetKind
    public var layer: Int?
    /// Examples that entered the means (failed ones excluded).
    public var n: Int
    public var originalAccuracy: Double
    public var originalProb: Double
    public var degradationProb: [Double]
    public var degradationAccuracy: [Double]
    public var aopcComprehensiveness: Double?
    public var aopcSufficiency: Double?
    /// Dataset indices of the examples that failed.
    public var failed: [Int]
    public var seconds: Double
    public var options: [String: String]
    /// The architecture the model ran with (written when known; absent in older summaries).
    public var architecture: ModelArchitecture?

    enum CodingKeys: String, CodingKey {
        case method, dataset, layer, n
        case originalAccuracy = "original_accuracy", originalProb = "original_prob"
        case degradationProb = "degradation_prob", degradationAccuracy = "degradation_accuracy"
        case aopcComprehensiveness = "aopc_comprehensiveness", aopcSufficiency = "aopc_sufficiency"
        case failed, seconds, options, architecture
    }

    public init(
        method: EvaluationMethod, dataset: DatasetKind, layer: Int?, n: Int, originalAccuracy: Double,
        originalProb: Double, degradationProb: [Double], degradationAccuracy: [Double], aopcComprehensiveness: Double?,
        aopcSufficiency: Double?, failed: [Int], seconds: Double, options: [String: String],
        architecture: ModelArchitecture? = nil
    ) {
        self.method = method
        self.dataset = dataset
        self.layer = layer
        self.n = n
        self.originalAccuracy = originalAccuracy
        self.originalProb = originalProb
        self.degradationProb = degradationProb
        self.degradationAccuracy = degradationAccuracy
        self.aopcComprehensiveness = aopcComprehensiveness
        self.aopcSufficiency = aopcSufficiency
        self.failed = failed
        self.seconds = seconds
        self.options = options
        self.architecture = architecture
    }

    // Keys whose value is absent are written as null, so every summary has every key.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(method, forKey: .method)
        try container.encode(dataset, forKey: .dataset)
        try container.encode(layer, forKey: .layer)
        try container.encode(n, forKey: .n)
        try container.encode(originalAccuracy, forKey: .originalAccuracy)
        try container.encode(originalProb, forKey: .originalProb)
        try container.encode(degradationProb, forKey: .degradationProb)
        try container.encode(degradationAccuracy, forKey: .degradationAccuracy)
        try container.encode(aopcComprehensiveness, forKey: .aopcComprehensiveness)
        try container.encode(aopcSufficiency, forKey: .aopcSufficiency)
        try container.encode(failed, forKey: .failed)
        try container.encode(seconds, forKey: .seconds)
        try container.encode(options, forKey: .options)
        try container.encodeIfPresent(architecture, forKey: .architecture)
    }
}

/// The summary of a run, a pure function of the records in selection order so a
/// single process and a cluster produce identical numbers: each mean is a Double
/// sum in record order divided by the count, as the original's
/// `sum(...) / test_num` (which sums every example; failed records are left out
/// here and listed in `failed`). With no successful record every mean is 0.
public func summarize(records: [ExampleRecord], method: EvaluationMethod, dataset: DatasetKind, layer: Int?,
                      seconds: Double, options: [String: String]) throws -> Summary {
    let evaluated = records.filter { $0.failed == nil }
    let steps = evaluated.first?.degradationProb.count ?? 0
    for record in evaluated where record.degradationProb.count != steps || record.degradationCorrect.count != steps {
        throw EvaluationError.mismatchedInput(
            "example \(record.index) has \(record.degradationProb.count) degradation steps, the others \(steps)")
    }
    let count = Double(evaluated.count)
    func mean(_ values: [Double]) -> Double {
        values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
    }
    var probSums = [Double](repeating: 0, count: steps), correctSums = [Double](repeating: 0, count: steps)
    for record in evaluated {
        for step in 0..<steps {
            probSums[step] += Double(record.degradationProb[step])
            correctSums[step] += record.degradationCorrect[step] ? 1 : 0
        }
    }
    let comprehensiveness = evaluated.compactMap(\.aopcComprehensiveness).map(Double.init)
    let sufficiency = evaluated.compactMap(\.aopcSufficiency).map(Double.init)
    return Summary(
        method: method, dataset: dataset, layer: layer, n: evaluated.count,
        originalAccuracy: mean(evaluated.map { $0.originalCorrect ? 1 : 0 }),
        originalProb: mean(evaluated.map { Double($0.originalProb) }),
        degradationProb: probSums.map { count > 0 ? $0 / count : 0 },
        degradationAccuracy: correctSums.map { count > 0 ? $0 / count : 0 },
        aopcComprehensiveness: comprehensiveness.isEmpty ? nil : mean(comprehensiveness),
        aopcSufficiency: sufficiency.isEmpty ? nil : mean(sufficiency),
        failed: records.filter { $0.failed != nil }.map(\.index),
        seconds: seconds, options: options)
}
