import Foundation
import BERT
import Evaluation
import Kernels
import Tokenizer

/// Fine-tunes `model` into a sequence classifier on `train` (mean cross-entropy, AdamW, linear warm-up
/// and decay, clipping, dropout: transformers' Trainer recipe) and returns a new model; the input model's
/// weights are not touched (they may be read-only mapped memory). With `eval`, reports its accuracy.
/// `context`: the GEMM library and threads of every forward and backward.
public func fineTune(model: BertModel, train: [LabeledExample], eval: [LabeledExample]? = nil,
                     options: FineTuneOptions = FineTuneOptions(), context: ComputeContext,
                     progress: ((FineTuneProgress) -> Void)? = nil) throws -> FineTuneReport {
    try options.validate()
    guard !train.isEmpty else { throw TrainingError.noTrainingData }
    guard let tokenizer = model.tokenizer else { throw TrainingError.noTokenizer }
    let config = model.config
    let (inputs, truncated) = encode(
        train, tokenizer: tokenizer, maxLength: min(options.maxLength, config.maxPositions))
    let targets = try checkedLabels(train, numLabels: config.numLabels)
    try model.validate(inputs)

    let trained = BertModel(parameters: model.parameters.ownedCopy(), tokenizer: tokenizer,
                            source: model.source + " (fine-tuned)", loadReport: model.loadReport)
    let gradients = BertParameters(zeroed: config)
    let optimizer = AdamW(config: config, weightDecay: options.weightDecay)
    let stepsPerEpoch = (inputs.count + options.batchSize - 1) / options.batchSize
    let schedule = LinearWarmupSchedule(peak: options.learningRate, warmupFraction: options.warmupFraction,
                                        totalSteps: stepsPerEpoch * options.epochs)
    let tape = ForwardTape(config: config, context: context, logitsOnly: options.logitsOnlyTopLayer)
    let workspace = BackwardWorkspace()
    let dlogits = FloatBuffer(count: options.batchSize * config.numLabels)
    var shuffler = NormalGenerator(seed: options.seed)
    var order = Array(inputs.indices)
    var epochLosses = [Float]()
    var step = 0, seen = 0
    let start = Date()

    for epoch in 0..<options.epochs {
        shuffle(&order, with: &shuffler)
        var lossSum = 0.0, batches = 0
        for first in stride(from: 0, to: order.count, by: options.batchSize) {
            let picked = order[first..<min(first + options.batchSize, order.count)]
            let batch = picked.map { inputs[$0] }, batchTargets = picked.map { targets[$0] }
            // A fresh mask stream per update, reproducible from the run's seed.
            tape.dropout = options.dropout > 0
                ? DropoutConfig(
                    probability: options.dropout, seed: options.seed &+ UInt64(step + 1) &* 0x9E3779B97F4A7C15) : nil
            let loss = trainingStep(trained, batch, batchTargets, tape: tape, workspace: workspace, dlogits: dlogits,
                                    gradients: gradients)
            guard loss.isFinite else { throw TrainingError.nonFiniteLoss(step: step + 1) }
            if options.clipNorm > 0 { clipGlobalNorm(gradients, maxNorm: options.clipNorm) }
            let rate = schedule.rate(at: step)
            optimizer.step(parameters: trained.parameters, gradients: gradients, learningRate: rate)
            step += 1; seen += batch.count
            lossSum += Double(loss); batches += 1
            progress?(FineTuneProgress(epoch: epoch + 1, step: step, totalSteps: schedule.totalSteps, loss: loss,
                                       epochMeanLoss: Float(lossSum / Double(batches)), learningRate: rate,
                                       examplesPerSecond: Double(seen) / max(Date().timeIntervalSince(start), 1e-9)))
        }
        epochLosses.append(Float(lossSum / Double(max(batches, 1))))
    }
    let seconds = Date().timeIntervalSince(start)
    var accuracy: Double?
    if let eval, !eval.isEmpty {
        accuracy = try evaluateAccuracy(
            model: trained, examples: eval, maxLength: options.maxLength, maxRows: options.evaluationMaxRows,
            context: context)
    }
    return FineTuneReport(model: trained, steps: step, epochLosses: epochLosses, evalAccuracy: accuracy,
                          trainSeconds: seconds, examplesPerSecond: Double(seen) / max(seconds, 1e-9),
                          truncatedExamples: truncated)
}

/// Forward (with the tape's dropout), mean cross-entropy, and weight gradients written into `gradients`.
/// Returns the batch's mean loss.
func trainingStep(_ model: BertModel, _ batch: [ModelInput], _ targets: [Int], tape: ForwardTape,
                  workspace: BackwardWorkspace, dlogits: FloatBuffer, gradients: BertParameters) -> Float {
    let classes = model.config.numLabels, count = batch.count
    model.embed(batch, tape: tape)
    model.forwardLayers(tape: tape, from: 0, to: model.config.numLayers)
    model.forwardHead(tape: tape)
    let losses = softmaxCrossEntropyForward(
        probs: tape.probabilities.pointer, logits: tape.logits.pointer, targets: targets,
        batch: count, classes: classes)
    dlogits.ensureCapacity(count * classes)
    dlogits.zero(count * classes)
    softmaxCrossEntropyBackward(dlogits: dlogits.pointer, probs: tape.probabilities.pointer, targets: targets,
                                batch: count, classes: classes, scale: 1 / Float(count))
    for spec in gradients.specs { gradients[spec.name].update(repeating: 0, count: spec.shape.reduce(1, *)) }
    model.backwardHead(tape: tape, dlogits: dlogits.pointer, workspace: workspace, gradients: gradients)
    model.backwardLayers(
        tape: tape, from: model.config.numLayers, downTo: 0, workspace: workspace, gradients: gradients)
    model.backwardEmbeddings(batch, tape: tape, workspace: workspace, gradients: gradients)
    return losses.reduce(0, +) / Float(count)
}

/// Scales every gradient by min(1, maxNorm / (norm + 1e-6)), norm the L2 norm over all of them
/// (torch.nn.utils.clip_grad_norm_). Returns the norm before clipping.
@discardableResult
public func clipGlobalNorm(_ gradients: BertParameters, maxNorm: Float) -> Float {
    var sumOfSquares = 0.0
    for spec in gradients.specs {
        let g = gradients[spec.name]
        var partial: Float = 0
        for i in 0..<spec.shape.reduce(1, *) { partial += g[i] * g[i] }
        sumOfSquares += Double(partial)
    }
    let norm = Float(sumOfSquares.squareRoot())
    let coefficient = maxNorm / (norm + 1e-6)
    if coefficient < 1 {
        for spec in gradients.specs {
            let g = gradients[spec.name]
            for i in 0..<spec.shape.reduce(1, *) { g[i] *= coefficient }
        }
    }
    return norm
}

/// Fraction of `examples` whose argmax prediction (evaluation mode) equals the label.
public func evaluateAccuracy(model: BertModel, examples: [LabeledExample], maxLength: Int = 128, maxRows: Int = 8192,
                             context: ComputeContext) throws -> Double {
    guard let tokenizer = model.tokenizer else { throw TrainingError.noTokenizer }
    guard !examples.isEmpty else { return 0 }
    let labels = try checkedLabels(examples, numLabels: model.config.numLabels)
    let (inputs, _) = encode(examples, tokenizer: tokenizer, maxLength: min(maxLength, model.config.maxPositions))
    let probabilities = try model.probabilities(inputs, context: context, maxRows: maxRows)
    var correct = 0
    for (p, label) in zip(probabilities, labels) {
        let predicted = p.indices.max { p[$0] < p[$1] } ?? -1
        if predicted == label { correct += 1 }
    }
    return Double(correct) / Double(examples.count)
}

/// Tokenized inputs and how many examples were truncated.
func encode(_ examples: [LabeledExample], tokenizer: BertTokenizer, maxLength: Int) -> ([ModelInput], Int) {
    var truncated = 0
    let inputs = examples.map { example -> ModelInput in
        let tokens = tokenizer.tokenize(example.text), pairTokens = example.textPair.map(tokenizer.tokenize)
        if tokens.count + (pairTokens?.count ?? 0) + (pairTokens == nil ? 2 : 3) > maxLength { truncated += 1 }
        let encoding = tokenizer.encode(tokens: tokens, pairTokens: pairTokens, maxLength: maxLength)
        return ModelInput(ids: encoding.inputIds, types: encoding.tokenTypeIds)
    }
    return (inputs, truncated)
}

func checkedLabels(_ examples: [LabeledExample], numLabels: Int) throws -> [Int] {
    for (i, example) in examples.enumerated() where example.label < 0 || example.label >= numLabels {
        throw TrainingError.labelOutOfRange(index: i, label: example.label, numLabels: numLabels)
    }
    return examples.map(\.label)
}

/// Fisher-Yates with the run's generator, so the epoch orders depend only on the seed.
func shuffle(_ order: inout [Int], with generator: inout NormalGenerator) {
    guard order.count > 1 else { return }
    for i in stride(from: order.count - 1, to: 0, by: -1) {
        let j = Int(generator.nextUInt64() % UInt64(i + 1))
        order.swapAt(i, j)
    }
}

extension BertParameters {
    /// A copy of every tensor in one owned, writable allocation (a loaded model may view read-only mapped pages).
    public func ownedCopy() -> BertParameters {
        let copy = BertParameters(zeroed: config)
        for spec in specs { copy[spec.name].update(from: self[spec.name], count: spec.shape.reduce(1, *)) }
        return copy
    }
}
