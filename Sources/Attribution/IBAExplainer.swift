import Foundation
import BERT
import Kernels

/// Where the bottleneck's mean and std come from.
public enum EstimatorKind: Sendable, Equatable, Codable {
    /// The original: the example's own hidden state entering layer L as the mean, std sqrt(1e-5).
    case sample
    /// Per-hidden-unit mean and std pooled over a dataset at that layer (Schulz et al.).
    case dataset(EstimatorStatistics)
}

/// IBA settings; defaults are the original's (contract section 2).
public struct IBAOptions: Sendable, Equatable, Codable {
    public var layer = 8
    public var beta: Float = 1e-5
    public var steps = 10
    public var learningRate: Float = 1
    public var batchSize = 10
    public var initialAlpha: Float = 5
    public var estimator: EstimatorKind = .sample
    /// Dense GEMMs of the layers above the bottleneck during the optimisation (the noise batch, forward and
    /// backward); layers 0...L always run float32. bfloat16 is an opt-in trade of fidelity for speed.
    public var precision = Precision.float32
    public init() {}
}

/// One IBA explanation.
public struct IBAResult: Sendable {
    /// Heatmap: capacity of the last forward summed over hidden units, min-subtracted and max-divided ([n]).
    public var attribution: [Float]
    /// Capacity per token before normalisation (nats summed over hidden units).
    public var capacityPerToken: [Float]
    /// Per step: cross-entropy, mean capacity, total loss.
    public var losses: [[Float]]
    public var target: Int
    public var layer: Int
}

/// Information Bottleneck Attribution for one BERT classifier. Layers 0...L run once per example;
/// each step runs layers L+1... for the whole noise batch as one packed pass and backpropagates
/// only down to the bottleneck. Holds its workspaces: reuse one explainer for many examples
/// (not thread-safe; one per thread).
public final class IBAExplainer {
    public let model: BertModel
    public var options: IBAOptions
    private let lowerTape: ForwardTape
    private var upperTapes: [Int: ForwardTape] = [:]
    private let workspace = BackwardWorkspace()
    /// The GEMM library and threads of every forward and backward.
    public let context: ComputeContext
    /// false: the top layer computes every token's row as round 1 did (same result up to float rounding);
    /// kept for benchmarks and cross-checks of the exact [CLS]-only saving.
    public let logitsOnlyTopLayer: Bool

    public init(
        model: BertModel, options: IBAOptions = IBAOptions(), context: ComputeContext, logitsOnlyTopLayer: Bool = true
    ) {
        self.model = model
        self.options = options
        self.context = context
        self.logitsOnlyTopLayer = logitsOnlyTopLayer
        // Layers 0...L run forward only: IBA reads the hidden states entering L and L + 1 alone.
        lowerTape = ForwardTape.forwardOnly(config: model.config, context: context, logitsOnly: false)
    }

    func validate(_ input: ModelInput, target: Int) throws {
        let config = model.config
        guard (0..<config.numLayers).contains(options.layer) else {
            throw AttributionError.invalidOption("layer \(options.layer) is outside 0...\(config.numLayers - 1) "
                + "(the model has \(config.numLayers) layers)")
        }
        guard (0..<config.numLabels).contains(target) else {
            throw AttributionError.invalidTarget(target, labels: config.numLabels)
        }
        guard options.steps >= 1, options.batchSize >= 1 else {
            throw AttributionError.invalidOption("steps and batch size must be at least 1")
        }
        guard options.beta.isFinite, options.learningRate.isFinite, options.beta >= 0 else {
            throw AttributionError.invalidOption("beta and the learning rate must be finite, beta >= 0")
        }
        if case let .dataset(stats) = options.estimator {
            guard stats.layer == options.layer, stats.mean.count == config.hiddenSize else {
                throw AttributionError.invalidOption(
                    "the estimator statistics are for layer \(stats.layer) with \(stats.mean.count) units; "
                        + "IBA runs at layer \(options.layer) with \(config.hiddenSize)")
            }
        }
        guard options.precision.isSupported(in: context) else {
            throw AttributionError.invalidOption("\(options.precision.rawValue) precision needs oneDNN "
                + "(not IBA_GEMM=openblas) and a CPU with AVX512_BF16 or AMX")
        }
        try model.validate([input])
    }

    /// State of the example being explained: the bottleneck input, its mean and std, the target.
    struct Prepared {
        var input: ModelInput
        var target: Int
        var x: [Float], mean: [Float], std: [Float]
        var count: Int { x.count }
    }

    /// Runs layers 0...L once and fixes the estimator for this example.
    func prepare(_ input: ModelInput, target: Int) throws -> Prepared {
        try validate(input, target: target)
        let config = model.config, layer = options.layer
        let n = input.count, h = config.hiddenSize, count = n * h
        model.embed([input], tape: lowerTape)
        model.forwardLayers(tape: lowerTape, from: 0, to: layer + 1)
        // The bottleneck's mean enters layer L; its input x leaves it (contract section 2).
        let x = Array(UnsafeBufferPointer(start: lowerTape.hiddenState(enteringLayer: layer + 1), count: count))
        switch options.estimator {
        case .sample:
            let mean = Array(UnsafeBufferPointer(start: lowerTape.hiddenState(enteringLayer: layer), count: count))
            // The original's estimator sees one sample: std = sqrt(max(0, 1e-5) / 1).
            return Prepared(
                input: input, target: target, x: x, mean: mean,
                std: [Float](repeating: Float(1e-5.squareRoot()), count: count))
        case let .dataset(stats):
            return Prepared(input: input, target: target, x: x,
                            mean: (0..<count).map { stats.mean[$0 % h] }, std: (0..<count).map { stats.std[$0 % h] })
        }
    }

    /// One forward + backward of the noise batch: fills `capacity` (n,H) and `dalpha` (n,H) and returns
    /// [cross-entropy, mean capacity, total loss] (in Double). `eps` is (copies, n, H). The copies run in
    /// passes that fit the activation budget (one at 512 MiniLM tokens); every copy is computed alone and the
    /// gradient sums over copies in order, so the result is the one-pass result bit for bit.
    /// `backward: false` (the last step, whose gradient no update reads) stops after the loss; `dalpha` is then zero.
    func lossAndGradient(_ p: Prepared, alpha: [Float], eps: [Float], capacity: inout [Float],
                         dalpha: inout [Float], backward: Bool = true) -> [Double] {
        let config = model.config, layer = options.layer, copies = options.batchSize, k = config.numLabels
        let upper = upperTape(forLayer: layer + 1)
        upper.precision = options.precision
        let passes = upper.passes(forLengths: [Int](repeating: p.input.count, count: copies), withBackward: true)
        var crossEntropy = 0.0
        dalpha.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        for pass in passes {
            let passCopies = pass.count, first = pass.lowerBound * p.count
            upper.prepare(lengths: [Int](repeating: p.input.count, count: passCopies))
            eps[first...].withUnsafeBufferPointer { passEps in
                guard let passEps = passEps.baseAddress else { return }
                bottleneckForward(
                    t: upper.hiddenState(enteringLayer: layer + 1), capacity: &capacity, alpha: alpha, x: p.x,
                    mean: p.mean, std: p.std, eps: passEps, count: p.count, copies: passCopies)
            }
            model.forwardLayers(tape: upper, from: layer + 1, to: config.numLayers)
            model.forwardHead(tape: upper)
            let targets = [Int](repeating: p.target, count: passCopies)
            var probabilities = [Float](repeating: 0, count: passCopies * k)
            let crossEntropies = softmaxCrossEntropyForward(
                probs: &probabilities, logits: upper.logits.pointer, targets: targets,
                batch: passCopies, classes: k)
            crossEntropy = crossEntropies.reduce(crossEntropy) { $0 + Double($1) }
            guard backward else { continue }
            var dlogits = [Float](repeating: 0, count: passCopies * k)
            softmaxCrossEntropyBackward(
                dlogits: &dlogits, probs: probabilities, targets: targets, batch: passCopies, classes: k,
                scale: 1 / Float(copies))
            model.backwardHead(tape: upper, dlogits: dlogits, workspace: workspace)
            model.backwardLayers(tape: upper, from: config.numLayers, downTo: layer + 1, workspace: workspace)
            eps[first...].withUnsafeBufferPointer { passEps in
                guard let passEps = passEps.baseAddress else { return }
                bottleneckBackwardCopies(dlam: &dalpha, dt: workspace.gradientEnteringLowestLayer, alpha: alpha, x: p.x,
                                         mean: p.mean, std: p.std, eps: passEps, count: p.count, copies: passCopies)
            }
        }
        crossEntropy /= Double(copies)
        let meanCapacity = capacity.reduce(0.0) { $0 + Double($1) } / Double(p.count)
        if backward {
            dalpha.withUnsafeMutableBufferPointer { d in
                guard let d = d.baseAddress else { return }
                bottleneckBackwardFinish(dalpha: d, dlam: d, alpha: alpha, x: p.x, mean: p.mean, std: p.std,
                                         capacityWeight: options.beta / Float(p.count), count: p.count)
            }
        }
        return [crossEntropy, meanCapacity, crossEntropy + Double(options.beta) * meanCapacity]
    }

    /// The capacity (n,H) the bottleneck would have with `alpha`: its forward without noise copies.
    func capacityAlone(_ p: Prepared, alpha: [Float], capacity: inout [Float]) {
        var unused: Float = 0  // t and eps: not read or written for zero copies
        withUnsafeMutablePointer(to: &unused) { none in
            bottleneckForward(t: none, capacity: &capacity, alpha: alpha, x: p.x, mean: p.mean, std: p.std, eps: none,
                              count: p.count, copies: 0)
        }
    }

    /// Frees the tapes' and the workspace's buffers (see `ForwardTape.releaseMemory`).
    public func releaseMemory() {
        lowerTape.releaseMemory()
        for tape in upperTapes.values { tape.releaseMemory() }
        workspace.releaseMemory()
    }

    /// Explains `target` for one example; `seed` drives the noise (derive it with `NormalGenerator.exampleSeed`).
    /// The heatmap is the last forward's capacity, a function of alpha and the bottleneck's input alone, so the last
    /// step never needs its backward, and with `lastStepLoss: false` (the evaluation's path, which reads only the
    /// attribution) not its noise batch either: the attribution is the same bit for bit, `losses` has steps - 1 rows.
    public func explain(_ input: ModelInput, target: Int, seed: UInt64, lastStepLoss: Bool = true) throws -> IBAResult {
        let prepared = try prepare(input, target: target)
        let count = prepared.count, n = input.count, h = model.config.hiddenSize
        var alpha = [Float](repeating: options.initialAlpha, count: count)
        var dalpha = [Float](repeating: 0, count: count)
        var capacity = [Float](repeating: 0, count: count)
        var eps = [Float](repeating: 0, count: options.batchSize * count)
        var adam = AdamOptimizer(count: count, learningRate: options.learningRate)
        var noise = NormalGenerator(seed: seed)
        var losses = [[Float]]()
        for step in 0..<options.steps {
            let last = step == options.steps - 1
            if last && !lastStepLoss {
                capacityAlone(prepared, alpha: alpha, capacity: &capacity)
                break
            }
            noise.fillNormal(&eps, count: eps.count)
            losses.append(
                lossAndGradient(prepared, alpha: alpha, eps: eps, capacity: &capacity, dalpha: &dalpha, backward: !last)
                    .map(Float.init))
            if !last { adam.update(&alpha, gradients: dalpha, count: count) }
        }
        // Heatmap from the last forward's capacity (alpha after steps-1 updates), as the original.
        var perToken = [Float](repeating: 0, count: n)
        for tok in 0..<n {
            var s: Float = 0
            for u in 0..<h { s += capacity[tok * h + u] }
            perToken[tok] = s
        }
        return IBAResult(
            attribution: normaliseMinMax(perToken), capacityPerToken: perToken, losses: losses, target: target,
            layer: options.layer)
    }

    private func upperTape(forLayer first: Int) -> ForwardTape {
        if let tape = upperTapes[first] { return tape }
        // Only the logits leave the upper layers: the top layer computes its [CLS] rows alone past K and V.
        let tape = ForwardTape(
            config: model.config, firstLayer: first, context: context, logitsOnly: logitsOnlyTopLayer)
        upperTapes[first] = tape
        return tape
    }
}

/// x - min, then divided by the (new) max, as the original's heatmap normalisation (all-equal input: zeros).
public func normaliseMinMax(_ values: [Float]) -> [Float] {
    guard let lowest = values.min() else { return [] }
    let shifted = values.map { $0 - lowest }
    let highest = shifted.max() ?? 0
    return highest > 0 ? shifted.map { $0 / highest } : shifted
}

extension IBAExplainer: MethodExplainer {
    public func attribution(of example: ExampleToExplain, target: Int, seed: UInt64) throws -> [Float] {
        try explain(example.input, target: target, seed: seed, lastStepLoss: false).attribution
    }
}
