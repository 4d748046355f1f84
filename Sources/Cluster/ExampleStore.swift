import Foundation

/// The examples a coordinator streams with its TASKs, each as its encoded bytes (opaque here): held in one
/// buffer (400,000 examples are a few allocations, not 400,000 objects), or encoded by the caller when
/// leased (`encodingWhenLeased`: the coordinator then holds none, however large the dataset). A worker
/// receives an example only with a lease on it.
public struct ExampleStore: Sendable {
    private var bytes: [UInt8] = []
    private var ranges: [Int: Range<Int>] = [:]
    private var encode: (@Sendable (Int) throws -> Data)?
    /// The largest example's size (or a bound on it), to check that a shard's TASK fits its bound.
    public private(set) var largestBytes = 0

    public init() {}

    /// Examples encoded by `encode` when their lease is sent; `largestBytes` bounds every encoding (an
    /// example above it, or above what a task entry may carry, stops the run naming it).
    public init(encodingWhenLeased encode: @escaping @Sendable (Int) throws -> Data, largestBytes: Int) {
        self.encode = encode
        self.largestBytes = min(largestBytes, Wire.maxExampleBytes)
    }

    public var count: Int { ranges.count }
    public var isEmpty: Bool { ranges.isEmpty && encode == nil }
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
            throw ClusterError.invalidOption("example \(index) is \(example.count) bytes encoded, "
                + "above the \(Wire.maxExampleBytes) a task may carry")
        }
        ranges[index] = bytes.count..<bytes.count + example.count
        bytes.append(contentsOf: example)
        largestBytes = max(largestBytes, example.count)
    }

    public subscript(index: Int) -> Data? {
        ranges[index].map { Data(bytes[$0]) }
    }

    /// The bytes a TASK carries for `index`.
    public func bytes(for index: Int) throws -> Data {
        guard let encode else { return self[index] ?? Data() }
        let example: Data
        do { example = try encode(index) } catch {
            throw ClusterError.invalidSelection("example \(index) cannot be read for its task: \(error)")
        }
        guard example.count <= min(largestBytes, Wire.maxExampleBytes) else {
            throw ClusterError.invalidSelection("example \(index) is \(example.count) bytes encoded, above the "
                                                + "\(min(largestBytes, Wire.maxExampleBytes)) its task may carry")
        }
        return example
    }

    /// Checked by the coordinator before it binds: every selected index has its bytes, and a full
    /// shard of the largest examples fits one TASK.
    func validate(indices: [Int], shardSize: Int) throws {
        if encode == nil, let missing = indices.first(where: { ranges[$0] == nil }) {
            throw ClusterError.invalidOption("example \(missing) is selected but has no bytes to send")
        }
        guard shardSize * (largestBytes + Wire.taskEntryHeaderBytes) <= Wire.maxTaskBytes else {
            throw ClusterError.invalidOption(
                "a shard of \(shardSize) examples of up to \(largestBytes) bytes exceeds a task's "
                    + "\(Wire.maxTaskBytes) bytes: use a smaller shard size")
        }
    }
}
