import BERT

/// Settings of a fine-tuning run; the defaults are those of transformers' Trainer for BERT classifiers,
/// except the learning rate, which suits small encoders such as MiniLM (use 2e-5 ... 5e-5 for BERT-base).
public struct FineTuneOptions: Sendable, Equatable {
    public var epochs = 3
    public var batchSize = 32
    public var learningRate: Float = 1e-4
    /// Tokens per example, specials included (longer texts are truncated).
    public var maxLength = 128
    /// Seeds the shuffling and the dropout masks.
    public var seed: UInt64 = 42
    /// Fraction of all updates spent warming the learning rate up from 0.
    public var warmupFraction = 0.1
    public var weightDecay: Float = 0.01
    /// Global L2 norm the gradient is clipped to (0: no clipping).
    public var clipNorm: Float = 1.0
    /// Hugging Face BERT's hidden, attention and classifier dropout (0: none).
    public var dropout: Float = 0.1
    /// Packed tokens per forward when evaluating.
    public var evaluationMaxRows = 8192
    /// false: the top layer computes every token's row (round 1's path, for benchmarks); the default computes
    /// its [CLS] row alone past K and V, the same gradients with less arithmetic.
    public var logitsOnlyTopLayer = true

    public init() {}

    /// Settings measured to pass 80% on the embedded AG News demo (1,000 rows) from all-MiniLM-L6-v2
    /// in under three minutes on two cores: 2 epochs, batches of 16, learning rate 1e-4, 64 tokens.
    public static var quickDemo: FineTuneOptions {
        var options = FineTuneOptions()
        options.epochs = 2; options.batchSize = 16; options.learningRate = 1e-4; options.maxLength = 64
        return options
    }

    func validate() throws {
        guard epochs > 0 else { throw TrainingError.invalidOptions("epochs must be at least 1 (got \(epochs))") }
        guard batchSize > 0 else {
            throw TrainingError.invalidOptions("the batch size must be at least 1 (got \(batchSize))")
        }
        guard learningRate.isFinite, learningRate > 0 else {
            throw TrainingError.invalidOptions("the learning rate must be positive")
        }
        guard maxLength >= 2 else {
            throw TrainingError.invalidOptions("maxLength must leave room for [CLS] and [SEP]")
        }
        guard (0...1).contains(warmupFraction) else {
            throw TrainingError.invalidOptions("warmupFraction must be in 0...1")
        }
        guard weightDecay.isFinite, weightDecay >= 0 else {
            throw TrainingError.invalidOptions("weight decay must be >= 0")
        }
        guard clipNorm.isFinite, clipNorm >= 0 else { throw TrainingError.invalidOptions("clipNorm must be >= 0") }
        guard dropout >= 0, dropout < 1 else { throw TrainingError.invalidOptions("dropout must be in [0, 1)") }
    }
}

/// Reported after every update.
public struct FineTuneProgress: Sendable {
    /// The epoch this update belongs to, counted from 1.
    public var epoch: Int
    /// Updates done so far (1...totalSteps).
    public var step: Int
    public var totalSteps: Int
    /// Mean cross-entropy of this update's batch, and of the epoch so far.
    public var loss: Float
    public var epochMeanLoss: Float
    public var learningRate: Float
    /// Training examples per second since the start of the run.
    public var examplesPerSecond: Double
}

/// What a run did. `model` is the fine-tuned classifier (the input model is left unchanged).
public struct FineTuneReport {
    public var model: BertModel
    public var steps: Int
    /// Mean training loss of each epoch (with dropout active).
    public var epochLosses: [Float]
    /// Accuracy on the evaluation set, in evaluation mode (nil when no set was given).
    public var evalAccuracy: Double?
    public var trainSeconds: Double
    public var examplesPerSecond: Double
    /// Examples whose text was cut at maxLength.
    public var truncatedExamples: Int
}
