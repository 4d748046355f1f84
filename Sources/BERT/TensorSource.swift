/// Where named float tensors come from: a checkpoint file, or tensors built in memory.
public protocol TensorSource: AnyObject {
    var tensorNames: [String] { get }
    func shape(of name: String) -> [Int]?
    /// True for float16/bfloat16/float32/float64 tensors; integer buffers (position_ids) are not weights.
    func isFloatingPoint(_ name: String) -> Bool
    func float32(_ name: String) throws -> [Float]
    /// A zero-copy view when the stored bytes already are float32 (memory-mapped; shared between processes).
    func float32Storage(_ name: String) -> UnsafeBufferPointer<Float>?
}

/// Tensors held in memory (tests, freshly initialised or fine-tuned models).
public final class InMemoryTensors: TensorSource {
    public private(set) var tensors: [String: (shape: [Int], values: [Float])]
    public init(_ tensors: [String: (shape: [Int], values: [Float])] = [:]) { self.tensors = tensors }
    public func set(_ name: String, shape: [Int], values: [Float]) { tensors[name] = (shape, values) }
    public var tensorNames: [String] { tensors.keys.sorted() }
    public func shape(of name: String) -> [Int]? { tensors[name]?.shape }
    public func isFloatingPoint(_ name: String) -> Bool { tensors[name] != nil }
    public func float32(_ name: String) throws -> [Float] {
        guard let t = tensors[name] else { throw BertError.missingTensor(name: name, path: "memory") }
        return t.values
    }
    public func float32Storage(_ name: String) -> UnsafeBufferPointer<Float>? { nil }
}
