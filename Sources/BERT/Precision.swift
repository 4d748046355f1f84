import Foundation
import Kernels

/// Arithmetic of the encoder layers' dense GEMMs on a tape. The bfloat16 modes round the inputs and weights of
/// the six dense products per layer to bfloat16 and accumulate in float32: `bfloat16` in the forward and the
/// activation backward, `bfloat16Backward` in the backward only (gradients feed Adam, whose update is
/// insensitive to their last digits; the forward sets the loss). Attention products, LayerNorm, GELU, softmax
/// and everything else stay float32; training (weight gradients, dropout) always runs float32.
public enum Precision: String, Sendable, Codable, CaseIterable {
    case float32
    case bfloat16Backward = "bfloat16-backward"
    case bfloat16

    /// Accepts the command line's spellings: fp32, bf16-backward, bf16 (and the raw values).
    public init?(name: String) {
        switch name.lowercased() {
        case "float32", "fp32", "f32": self = .float32
        case "bfloat16-backward", "bf16-backward": self = .bfloat16Backward
        case "bfloat16", "bf16": self = .bfloat16
        default: return nil
        }
    }

    var forwardInBFloat16: Bool { self == .bfloat16 }
    var backwardInBFloat16: Bool { self != .float32 }

    /// Whether it runs in `context` (bfloat16 needs oneDNN and a CPU with AVX512_BF16 or AMX).
    public func isSupported(in context: ComputeContext) -> Bool { self == .float32 || context.runsBFloat16 }
}

/// bfloat16 copies of one layer's dense weights ((OC,C), as the float32 ones).
final class BFloat16LayerWeights: @unchecked Sendable {
    let query, key, value, attentionOutput, intermediate, output: BFloat16Buffer

    init(_ w: EncoderLayerWeights, _ c: BertConfig, context: ComputeContext) {
        let h = c.hiddenSize, i = c.intermediateSize
        query = BFloat16Buffer(rounding: w.queryWeight, count: h * h, context: context)
        key = BFloat16Buffer(rounding: w.keyWeight, count: h * h, context: context)
        value = BFloat16Buffer(rounding: w.valueWeight, count: h * h, context: context)
        attentionOutput = BFloat16Buffer(rounding: w.attentionOutputWeight, count: h * h, context: context)
        intermediate = BFloat16Buffer(rounding: w.intermediateWeight, count: i * h, context: context)
        output = BFloat16Buffer(rounding: w.outputWeight, count: h * i, context: context)
    }
}

/// The bfloat16 weights of a model, converted once per layer on first use; shared by the explainers of all threads.
final class BFloat16WeightCache: @unchecked Sendable {
    private let lock = NSLock()
    private var layers: [Int: BFloat16LayerWeights] = [:]

    func weights(_ l: Int, _ make: () -> BFloat16LayerWeights) -> BFloat16LayerWeights {
        lock.lock()
        defer { lock.unlock() }
        if let cached = layers[l] { return cached }
        let made = make()
        layers[l] = made
        return made
    }
}

/// The bfloat16 operands of one layer's dense products on a tape: nil in float32 (and in training), else the
/// product's float32 input (or, in the backward, its dout) rounded into the tape's scratch right before the
/// product, paired with the layer's bfloat16 weight.
struct DenseOperands {
    let tape: ForwardTape
    let weights: BFloat16LayerWeights?

    /// `values` (count) rounded, with the bfloat16 copy of `weight`; nil in float32. Valid until the next call.
    func rounding(_ values: UnsafePointer<Float>, count: Int,
                  _ weight: KeyPath<BFloat16LayerWeights, BFloat16Buffer>) -> BFloat16Operands? {
        guard let weights else { return nil }
        return BFloat16Operands(
            input: tape.roundedToBFloat16(values, count: count), weight: weights[keyPath: weight].pointer)
    }
}
