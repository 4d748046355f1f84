import Foundation
import Attribution
import BERT
import Kernels
import Tokenizer

/// Evaluates one example end to end: tokenize, predict, attribute, degrade, score. The same code runs in
/// `iba evaluate` and in every cluster worker, so both write identical records. With several methods
/// (`--methods`) the example is tokenized and predicted once, then every method attributes and is scored.
public final class ExampleEvaluator {
    public let model: BertModel
    public let settings: EvaluationSettings
    /// The methods, in the order their records come back from `evaluateAll`.
    public let methods: [EvaluationMethod]
    let tokenizer: BertTokenizer
    /// One per method (nil for external attributions); each holds its method's workspaces.
    let attributors: [Attributor?]
    let tape: ForwardTape
    let externalAttributions: [Int: [Float]]?

    /// `methods` defaults to the settings' one method. Validates the settings against the model.
    /// `context`: the GEMM library and threads of every forward and backward (one thread in `runEvaluation`
    /// and the cluster workers, which is what makes their records bit-identical).
    public init(
        model: BertModel, settings: EvaluationSettings, methods: [EvaluationMethod]? = nil, context: ComputeContext
    ) throws {
        guard let tokenizer = model.tokenizer else {
            throw EvaluationError.mismatchedInput("the model has no vocabulary; pass --vocab")
        }
        let methods = methods ?? [settings.method]
        for method in methods {
            let one = settings.forMethod(method)
            try one.validate(model: model.config)
            if method.isIBA { try one.iba.validate(context: context) }
        }
        self.model = model
        self.settings = settings
        self.methods = methods
        self.tokenizer = tokenizer
        let estimator = try settings.loadingEstimator(for: methods).iba.estimator
        attributors = try methods.map { method in
            guard let attributionMethod = method.attributionMethod else { return nil }
            var options = AttributionOptions()
            options.iba = settings.forMethod(method).iba
            options.iba.estimator = estimator
            return try Attributor(model: model, method: attributionMethod, variant: settings.protocolVariant,
                                  options: options, tokenizer: tokenizer, context: context)
        }
        tape = ForwardTape.forwardOnly(config: model.config, context: context)
        if methods.contains(.external), let path = settings.attributionsFile {
            externalAttributions = try readAttributionsJSONL(URL(fileURLWithPath: path))
        } else {
            externalAttributions = nil
        }
    }

    /// Softmax probabilities of a batch of unpadded inputs (packed, no padding needed).
    public func probabilities(_ inputs: [ModelInput]) throws -> [[Float]] {
        try model.probabilities(inputs, tape: tape)
    }

    /// The record of the example at `index` (its position in the loaded dataset) for the first method.
    public func evaluate(_ example: LabeledExample, index: Int) throws -> ExampleRecord {
        try score(try prepare(example, index: index), method: 0)
    }

    /// One record per method, in `methods` order, and each method's seconds (its attribution, degradation
    /// test and AOPC; the shared tokenization and prediction are not counted). A method that fails gives
    /// a failed record; the others go on.
    public func evaluateAll(_ example: LabeledExample, index: Int) -> ExampleResult {
        let prepared: PreparedExample
        do { prepared = try prepare(example, index: index) } catch {
            return .failure(index: index, example: example, methods: methods.count, reason: "\(error)")
        }
        var records = [ExampleRecord](), seconds = [Double]()
        for method in methods.indices {
            let start = DispatchTime.now().uptimeNanoseconds
            do { records.append(try score(prepared, method: method)) } catch {
                records.append(.failure(index: index, target: example.label, reason: "\(error)"))
            }
            // Methods take turns: each gives its workspaces back, so the process peaks at the largest method's
            // memory, not at their sum. Alone (or with no activation budget) a method keeps them for the next example.
            if methods.count > 1, tape.context.activationBudget != nil { attributors[method]?.releaseMemory() }
            seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return ExampleResult(records: records, seconds: seconds)
    }

    /// What every method shares: the encoding and the original prediction.
    struct PreparedExample {
        var example: LabeledExample
        var index: Int
        var tokens: [String]
        var input: ModelInput
        var isSpecial: [Bool]
        var original: (probability: Float, correct: Bool)
    }

    func prepare(_ example: LabeledExample, index: Int) throws -> PreparedExample {
        let encoding = tokenizer.encode(example.text, pair: example.textPair, maxLength: settings.maxLength)
        let input = ModelInput(ids: encoding.inputIds, types: encoding.tokenTypeIds)
        guard (0..<model.config.numLabels).contains(example.label) else {
            throw EvaluationError.mismatchedInput(
                "example \(index) has label \(example.label) but the model has \(model.config.numLabels) classes")
        }
        let original = try targetOutcome(probabilities: probabilities([input])[0], target: example.label)
        return PreparedExample(
            example: example, index: index, tokens: encoding.tokens, input: input,
            isSpecial: specialTokenMask(encoding.tokens), original: (original.probability, original.correct))
    }

    /// Attributes with `methods[method]`, then the degradation test and AOPC of that attribution.
    func score(_ e: PreparedExample, method: Int) throws -> ExampleRecord {
        let target = e.example.label, index = e.index
        let attribution = try attribute(e, method: method)
        guard attribution.allSatisfy(\.isFinite) else {
            // e.g. IBA pushed so far (large --lr or --train-steps) that sigmoid(alpha) rounds to 1 and the
            // capacity is infinite, as it would in the original: record the example as failed, clearly.
            throw EvaluationError.mismatchedInput("example \(index): the \(methods[method].rawValue) attribution "
                + "is not finite (IBA diverged? lower --lr or --train-steps)")
        }
        guard attribution.count == e.input.count else {
            throw EvaluationError.mismatchedInput(
                "example \(index): \(attribution.count) attribution values for \(e.input.count) tokens")
        }
        let replaceWith = settings.replace ? tokenizer.maskId : nil
        let degradation = DegradationOptions(
            steps: settings.degradationSteps, reverse: settings.reverse, replaceWith: replaceWith)
        let outcome = try degradationTest(
            input: e.input, isSpecial: e.isSpecial, attribution: attribution, target: target,
            options: degradation, predict: probabilities)
        var record = ExampleRecord(
            index: index, target: target, tokens: e.tokens, attribution: attribution,
            originalProb: e.original.probability, originalCorrect: e.original.correct,
            degradationProb: outcome.degradationProb, degradationCorrect: outcome.degradationCorrect)
        if settings.aopc {
            let inputs = try aopcInputs(input: e.input, isSpecial: e.isSpecial, attribution: attribution,
                                        options: AOPCOptions(replaceWith: replaceWith))
            let all = try probabilities(inputs.comprehensiveness + inputs.sufficiency)
            let comprehensive = all.prefix(inputs.comprehensiveness.count).map { $0[target] }
            let sufficient = all.suffix(inputs.sufficiency.count).map { $0[target] }
            record.aopcComprehensiveness = Float(
                aopcComprehensiveness(
                    originalProbability: e.original.probability, perturbedProbabilities: comprehensive))
            record.aopcSufficiency = Float(
                aopcSufficiency(originalProbability: e.original.probability, perturbedProbabilities: sufficient))
        }
        return record
    }

    func attribute(_ e: PreparedExample, method: Int) throws -> [Float] {
        guard let attributor = attributors[method] else {
            guard let values = externalAttributions?[e.index] else {
                throw EvaluationError.mismatchedInput("the attributions file has no entry for index \(e.index)")
            }
            return values
        }
        let seed = NormalGenerator.exampleSeed(runSeed: settings.seed, index: e.index)
        return try attributor.attribute(
            ExampleToExplain(input: e.input, text: e.example.text, pair: e.example.textPair, gold: e.example.label),
            seed: seed)
    }
}
