import CKernels

/// An owned, 64-byte aligned float array for activations and workspaces.
/// Allocated once per model or batch shape and reused; `ensureCapacity` grows it
/// only when a larger batch arrives, so hot loops never allocate.
public final class FloatBuffer: @unchecked Sendable {
    public private(set) var pointer: UnsafeMutablePointer<Float>
    public private(set) var capacity: Int

    public init(count: Int) {
        capacity = max(count, 1)
        pointer = FloatBuffer.allocateZeroed(capacity)
    }

    /// Zeroed, 64-byte aligned; large buffers are fresh mapped pages, faulted in by the kernels that first write them (see CKernels).
    private static func allocateZeroed(_ count: Int) -> UnsafeMutablePointer<Float> {
        guard let raw = iba_allocate_zeroed(count * 4) else { fatalError("out of memory: \(count * 4) bytes for an activation buffer") }
        return raw.bindMemory(to: Float.self, capacity: count)
    }

    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    deinit { iba_deallocate(pointer, capacity * 4) }

    /// Grows (contents discarded) when `count` exceeds the current capacity.
    public func ensureCapacity(_ count: Int) {
        guard count > capacity else { return }
        iba_deallocate(pointer, capacity * 4)
        capacity = count
        pointer = FloatBuffer.allocateZeroed(capacity)
    }

    public func zero(_ count: Int) { pointer.update(repeating: 0, count: count) }

    public func array(_ count: Int) -> [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}
