import Foundation
import Attribution
import BERT
import Kernels
import Tokenizer

/// Evaluates one example end to end: tokenize, predict, attribute, degrade, score. The same code runs in
/// `iba evaluate` and in every cluster worker, so both write identical records.
public final class ExampleEvaluator {
    public let model: BertModel
    public let settings: EvaluationSettings
    let tokenizer: BertTokenizer
    let attributor: Attributor?
    let tape: ForwardTape
    let externalAttributions: [Int: [Float]]?

    /// `context`: the GEMM library and threads of every forward and backward (one thread in `runEvaluation`
    /// and the cluster workers, which is what makes their records bit-identical).
    public init(model: BertModel, settings: EvaluationSettings, context: ComputeContext) throws {
        guard let tokenizer = model.tokenizer else {
            throw EvaluationError.mismatchedInput("the model has no vocabulary; pass --vocab")
        }
        self.model = model
        self.settings = settings
        self.tokenizer = tokenizer
        var options = IBAOptions()
        options.layer = settings.layer
        options.beta = settings.beta
        options.steps = settings.trainSteps
        options.learningRate = settings.learningRate
        options.batchSize = settings.batchSize
        options.precision = settings.precision
        if settings.method == "iba", !settings.precision.isSupported(in: context) {
            throw EvaluationError.mismatchedInput("--precision \(settings.precision.rawValue) needs oneDNN (not IBA_GEMM=openblas) and a CPU with AVX512_BF16 or AMX")
        }
        if let path = settings.estimatorFile {
            options.estimator = .dataset(try EstimatorStatistics.load(URL(fileURLWithPath: path)))
        }
        if settings.method == "iba", !(0..<model.config.numLayers).contains(settings.layer) {
            throw EvaluationError.mismatchedInput("--layer \(settings.layer) is outside 0...\(model.config.numLayers - 1): the model has \(model.config.numLayers) layers")
        }
        var methodOptions = AttributionOptions()
        methodOptions.iba = options
        if settings.method == "external" {
            attributor = nil
        } else {
            guard let method = AttributionMethod(rawValue: settings.method) else {
                throw EvaluationError.mismatchedInput("unknown method \(settings.method) (iba, ig, lime, random)")
            }
            guard let variant = ProtocolVariant(rawValue: settings.protocolVariant) else {
                throw EvaluationError.mismatchedInput("unknown protocol \(settings.protocolVariant) (original, corrected)")
            }
            attributor = try Attributor(model: model, method: method, variant: variant, options: methodOptions, tokenizer: tokenizer,
                                         context: context)
        }
        tape = ForwardTape(config: model.config, context: context, logitsOnly: true)
        if settings.method == "external" {
            guard let path = settings.attributionsFile else {
                throw EvaluationError.mismatchedInput("method external needs --attributions FILE")
            }
            externalAttributions = try readAttributionsJSONL(URL(fileURLWithPath: path))
        } else {
            externalAttributions = nil
        }
    }

    /// Softmax probabilities of a batch of unpadded inputs (packed, no padding needed).
    public func probabilities(_ inputs: [ModelInput]) throws -> [[Float]] {
        try model.probabilities(inputs, tape: tape)
    }

    /// The record of the example at `index` (its position in the loaded dataset).
    public func evaluate(_ example: LabeledExample, index: Int) throws -> ExampleRecord {
        let encoding = tokenizer.encode(example.text, pair: example.textPair, maxLength: settings.maxLength)
        let input = ModelInput(ids: encoding.inputIds, types: encoding.tokenTypeIds)
        let target = example.label
        guard (0..<model.config.numLabels).contains(target) else {
            throw EvaluationError.mismatchedInput("example \(index) has label \(target) but the model has \(model.config.numLabels) classes")
        }
        let original = try targetOutcome(probabilities: probabilities([input])[0], target: target)
        let seed = NormalGenerator.exampleSeed(runSeed: settings.seed, index: index)
        let attribution = try attribute(input: input, example: example, target: target, seed: seed, index: index)
        guard attribution.allSatisfy(\.isFinite) else {
            // e.g. IBA pushed so far (large --lr or --train-steps) that sigmoid(alpha) rounds to 1 and the
            // capacity is infinite, as it would in the original: record the example as failed, clearly.
            throw EvaluationError.mismatchedInput("example \(index): the \(settings.method) attribution is not finite (IBA diverged? lower --lr or --train-steps)")
        }
        guard attribution.count == input.count else {
            throw EvaluationError.mismatchedInput("example \(index): \(attribution.count) attribution values for \(input.count) tokens")
        }
        let isSpecial = specialTokenMask(encoding.tokens)
        let degradation = DegradationOptions(steps: settings.degradationSteps, reverse: settings.reverse,
                                             replaceWith: settings.replace ? tokenizer.maskId : nil)
        let outcome = try degradationTest(input: input, isSpecial: isSpecial, attribution: attribution, target: target,
                                          options: degradation, predict: probabilities)
        var record = ExampleRecord(index: index, target: target, tokens: encoding.tokens, attribution: attribution,
                                   originalProb: original.probability, originalCorrect: original.correct,
                                   degradationProb: outcome.degradationProb, degradationCorrect: outcome.degradationCorrect)
        if settings.aopc {
            let aopc = AOPCOptions(replaceWith: settings.replace ? tokenizer.maskId : nil)
            let inputs = try aopcInputs(input: input, isSpecial: isSpecial, attribution: attribution, options: aopc)
            let all = try probabilities(inputs.comprehensiveness + inputs.sufficiency)
            let comprehensive = all.prefix(inputs.comprehensiveness.count).map { $0[target] }
            let sufficient = all.suffix(inputs.sufficiency.count).map { $0[target] }
            record.aopcComprehensiveness = Float(aopcComprehensiveness(originalProbability: original.probability, perturbedProbabilities: comprehensive))
            record.aopcSufficiency = Float(aopcSufficiency(originalProbability: original.probability, perturbedProbabilities: sufficient))
        }
        return record
    }

    func attribute(input: ModelInput, example: LabeledExample, target: Int, seed: UInt64, index: Int) throws -> [Float] {
        guard let attributor else {
            guard let values = externalAttributions?[index] else {
                throw EvaluationError.mismatchedInput("the attributions file has no entry for index \(index)")
            }
            return values
        }
        return try attributor.attribute(ExampleToExplain(input: input, text: example.text, pair: example.textPair, gold: target), seed: seed)
    }
}
