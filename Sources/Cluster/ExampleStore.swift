import Foundation

/// The examples a coordinator streams with its TASKs, each as its encoded bytes (opaque here). All bytes
/// live in one buffer, so 400,000 examples are a few allocations, not 400,000 objects; a worker receives
/// an example only with a lease on it.
public struct ExampleStore: Sendable {
    private var bytes: [UInt8] = []
    private var ranges: [Int: Range<Int>] = [:]
    /// The largest example's size, to check that a shard's TASK fits its bound.
    public private(set) var largestBytes = 0

    public init() {}

    public var count: Int { ranges.count }
    public var isEmpty: Bool { ranges.isEmpty }
    public var totalBytes: Int { bytes.count }

    /// Room for `examples` examples of `bytes` bytes together, so the buffer is allocated once.
    public mutating func reserveCapacity(examples: Int, bytes total: Int) {
        bytes.reserveCapacity(total)
        ranges.reserveCapacity(examples)
    }

    /// Adds example `index`; throws when it is already there or larger than a TASK entry may carry.
    public mutating func append(index: Int, bytes example: Data) throws {
        guard ranges[index] == nil else { throw ClusterError.invalidOption("example \(index) added twice") }
        guard example.count <= Wire.maxExampleBytes else {
            throw ClusterError.invalidOption("example \(index) is \(example.count) bytes encoded, above the \(Wire.maxExampleBytes) a task may carry")
        }
        ranges[index] = bytes.count..<bytes.count + example.count
        bytes.append(contentsOf: example)
        largestBytes = max(largestBytes, example.count)
    }

    public subscript(index: Int) -> Data? {
        ranges[index].map { Data(bytes[$0]) }
    }

    /// Checked by the coordinator before it binds: every selected index has its bytes, and a full
    /// shard of the largest examples fits one TASK.
    func validate(indices: [Int], shardSize: Int) throws {
        if let missing = indices.first(where: { ranges[$0] == nil }) {
            throw ClusterError.invalidOption("example \(missing) is selected but has no bytes to send")
        }
        guard shardSize * (largestBytes + Wire.taskEntryHeaderBytes) <= Wire.maxTaskBytes else {
            throw ClusterError.invalidOption("a shard of \(shardSize) examples of up to \(largestBytes) bytes exceeds a task's \(Wire.maxTaskBytes) bytes: use a smaller shard size")
        }
    }
}
