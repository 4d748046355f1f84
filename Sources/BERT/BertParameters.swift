import Foundation
import Kernels

/// What loading found beside the parameters it used.
public struct LoadReport: Sendable, Equatable {
    /// Stored tensors that are not parameters of the classifier (e.g. a pretraining head).
    public var unused: [String] = []
    /// Parameters the checkpoint lacked and that were initialised (an encoder-only checkpoint's pooler/classifier).
    public var initialised: [String] = []
    /// Parameters viewed in place in the mapped file rather than copied.
    public var zeroCopyCount = 0
    public var warnings: [String] = []
    /// True when there was no config and the architecture was inferred from tensor shapes.
    public var architectureInferred = false
    public init() {}
}

// Typed views of the parameters, for weights and gradients alike (a gradient store is a `BertParameters`
// too): the forward reads `w.outputNormWeight`, the backward adds into `g.outputNormWeight`.

/// Pointers to the embedding tables (V,H), (P,H), (T,H) and the embedding LayerNorm (H).
public struct EmbeddingWeights {
    public var word, position, tokenType, normWeight, normBias: UnsafeMutablePointer<Float>
}

/// Pointers to the pooler (H,H), (H) and the classifier (K,H), (K).
public struct HeadWeights {
    public var poolerWeight, poolerBias, classifierWeight, classifierBias: UnsafeMutablePointer<Float>
}

/// Pointers to one encoder layer's weights, PyTorch [out, in] layout.
public struct EncoderLayerWeights {
    public var queryWeight, queryBias, keyWeight, keyBias, valueWeight, valueBias: UnsafeMutablePointer<Float>
    public var attentionOutputWeight, attentionOutputBias, attentionNormWeight,
        attentionNormBias: UnsafeMutablePointer<Float>
    public var intermediateWeight, intermediateBias, outputWeight, outputBias: UnsafeMutablePointer<Float>
    public var outputNormWeight, outputNormBias: UnsafeMutablePointer<Float>
}

/// Every parameter of the classifier, in `ParameterNames.specs` order. Tensors stored as float32 in a
/// memory-mapped checkpoint are used in place (N worker processes share one copy of the pages);
/// the others are converted into one owned allocation.
public final class BertParameters: @unchecked Sendable {
    public let config: BertConfig
    public let specs: [(name: String, shape: [Int])]
    public private(set) var pointers: [String: UnsafeMutablePointer<Float>] = [:]
    private var owned: FloatBuffer
    private let keepAlive: AnyObject?
    /// True when some tensors point into read-only mapped memory (copy before training).
    public private(set) var isMapped = false

    /// Uninitialised (zero) parameters in one owned allocation, e.g. for gradients or Adam moments.
    public init(zeroed config: BertConfig) {
        self.config = config
        specs = ParameterNames.specs(config)
        let total = specs.reduce(0) { $0 + $1.shape.reduce(1, *) }
        owned = FloatBuffer(count: total)
        keepAlive = nil
        var offset = 0
        for spec in specs {
            pointers[spec.name] = owned.pointer + offset
            offset += spec.shape.reduce(1, *)
        }
    }

    /// Loads from `source`, checking every shape against `config` before any compute.
    public init(config: BertConfig, source: TensorSource, sourcePath: String, allowZeroCopy: Bool = true,
                initialiseMissingHead: Bool = true, report: inout LoadReport) throws {
        self.config = config
        specs = ParameterNames.specs(config)
        keepAlive = source
        var byCanonical = [String: String]()
        for stored in source.tensorNames {
            let name = ParameterNames.canonical(stored)
            if ParameterNames.isIgnoredBuffer(name) || !source.isFloatingPoint(stored) { continue }
            byCanonical[name] = stored
        }
        let wanted = Set(specs.map(\.name))
        report.unused = byCanonical.keys.filter { !wanted.contains($0) }.map { byCanonical[$0] ?? $0 }.sorted()

        var total = 0
        var plan = [(name: String, shape: [Int], stored: String?, view: UnsafeBufferPointer<Float>?)]()
        for spec in specs {
            let count = spec.shape.reduce(1, *)
            guard let stored = byCanonical[spec.name] else {
                let headOnly = spec.name.hasPrefix("classifier.") || spec.name.hasPrefix("pooler.")
                guard initialiseMissingHead, headOnly else {
                    throw BertError.missingTensor(name: spec.name, path: sourcePath)
                }
                report.initialised.append(spec.name)
                plan.append((spec.name, spec.shape, nil, nil)); total += count
                continue
            }
            let shape = source.shape(of: stored) ?? []
            guard shape == spec.shape else {
                throw BertError.shapeMismatch(name: stored, expected: spec.shape, found: shape)
            }
            if allowZeroCopy, let view = source.float32Storage(stored), view.count == count {
                plan.append((spec.name, spec.shape, stored, view))
            } else {
                plan.append((spec.name, spec.shape, stored, nil)); total += count
            }
        }
        owned = FloatBuffer(count: total)
        var offset = 0
        for item in plan {
            let count = item.shape.reduce(1, *)
            if let view = item.view, let base = view.baseAddress {
                pointers[item.name] = UnsafeMutablePointer(mutating: base)
                report.zeroCopyCount += 1
                isMapped = true
                continue
            }
            let destination = owned.pointer + offset
            offset += count
            pointers[item.name] = destination
            if let stored = item.stored {
                let values = try source.float32(stored)
                guard values.count == count else {
                    throw BertError.shapeMismatch(name: stored, expected: item.shape, found: [values.count])
                }
                values.withUnsafeBufferPointer { destination.update(from: $0.baseAddress!, count: count) }
            } else {
                Self.initialiseLikeHuggingFace(item.name, destination, count, seed: UInt64(offset))
            }
        }
        if !report.initialised.isEmpty {
            report.warnings.append("the checkpoint has no classifier: \(report.initialised.joined(separator: ", ")) "
                + "initialised with normal(0, 0.02) and zero bias (fine-tune before trusting predictions)")
        }
        if !report.unused.isEmpty {
            report.warnings.append("unused tensors in the checkpoint: \(report.unused.joined(separator: ", "))")
        }
    }

    /// Hugging Face's init for a missing head: weights normal(0, initializer_range 0.02), biases zero; seeded so
    /// reruns agree.
    static func initialiseLikeHuggingFace(_ name: String, _ p: UnsafeMutablePointer<Float>, _ count: Int,
                                          seed: UInt64) {
        if name.hasSuffix(".bias") { p.update(repeating: 0, count: count); return }
        var generator = NormalGenerator(seed: 0x1BA5EED ^ seed)
        for i in 0..<count { p[i] = generator.next() * 0.02 }
    }

    public subscript(_ name: String) -> UnsafeMutablePointer<Float> {
        guard let p = pointers[name] else { preconditionFailure("unknown parameter \(name)") }
        return p
    }

    public func embeddings() -> EmbeddingWeights {
        EmbeddingWeights(
            word: self["embeddings.word_embeddings.weight"], position: self["embeddings.position_embeddings.weight"],
            tokenType: self["embeddings.token_type_embeddings.weight"],
            normWeight: self["embeddings.LayerNorm.weight"], normBias: self["embeddings.LayerNorm.bias"])
    }

    public func head() -> HeadWeights {
        HeadWeights(poolerWeight: self["pooler.dense.weight"], poolerBias: self["pooler.dense.bias"],
                    classifierWeight: self["classifier.weight"], classifierBias: self["classifier.bias"])
    }

    public func layer(_ l: Int) -> EncoderLayerWeights {
        let p = "encoder.layer.\(l)."
        return EncoderLayerWeights(
            queryWeight: self[p + "attention.self.query.weight"], queryBias: self[p + "attention.self.query.bias"],
            keyWeight: self[p + "attention.self.key.weight"], keyBias: self[p + "attention.self.key.bias"],
            valueWeight: self[p + "attention.self.value.weight"], valueBias: self[p + "attention.self.value.bias"],
            attentionOutputWeight: self[p + "attention.output.dense.weight"],
            attentionOutputBias: self[p + "attention.output.dense.bias"],
            attentionNormWeight: self[p + "attention.output.LayerNorm.weight"],
            attentionNormBias: self[p + "attention.output.LayerNorm.bias"],
            intermediateWeight: self[p + "intermediate.dense.weight"],
            intermediateBias: self[p + "intermediate.dense.bias"],
            outputWeight: self[p + "output.dense.weight"], outputBias: self[p + "output.dense.bias"],
            outputNormWeight: self[p + "output.LayerNorm.weight"], outputNormBias: self[p + "output.LayerNorm.bias"])
    }

    /// All parameters as (name, shape, values) copies, in spec order (for saving).
    public func exportTensors() -> [(name: String, shape: [Int], values: [Float])] {
        specs.map { spec in
            let count = spec.shape.reduce(1, *)
            return (spec.name, spec.shape, Array(UnsafeBufferPointer(start: self[spec.name], count: count)))
        }
    }
}
