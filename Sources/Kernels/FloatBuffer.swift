import CKernels

/// An owned, 64-byte aligned array for activations, workspaces and their bfloat16 copies.
/// Allocated once per model or batch shape and reused; `ensureCapacity` grows it
/// only when a larger batch arrives, so hot loops never allocate.
public final class AlignedBuffer<Element>: @unchecked Sendable {
    public private(set) var pointer: UnsafeMutablePointer<Element>
    public private(set) var capacity: Int

    public init(count: Int) {
        capacity = max(count, 1)
        pointer = AlignedBuffer.allocateZeroed(capacity)
    }

    private static var bytesPerElement: Int { MemoryLayout<Element>.stride }

    /// Zeroed, 64-byte aligned; large buffers are fresh mapped pages, faulted in by the kernels that first write
    /// them (see CKernels).
    private static func allocateZeroed(_ count: Int) -> UnsafeMutablePointer<Element> {
        guard let raw = iba_allocate_zeroed(count * bytesPerElement) else {
            fatalError("out of memory: \(count * bytesPerElement) bytes for a \(Element.self) buffer")
        }
        return raw.bindMemory(to: Element.self, capacity: count)
    }

    deinit { iba_deallocate(pointer, capacity * AlignedBuffer.bytesPerElement) }

    /// Gives the memory back (capacity 1, contents discarded); `ensureCapacity` grows it again.
    public func release() {
        guard capacity > 1 else { return }
        iba_deallocate(pointer, capacity * AlignedBuffer.bytesPerElement)
        capacity = 1
        pointer = AlignedBuffer.allocateZeroed(capacity)
    }

    /// Grows (contents discarded) when `count` exceeds the current capacity.
    public func ensureCapacity(_ count: Int) {
        guard count > capacity else { return }
        iba_deallocate(pointer, capacity * AlignedBuffer.bytesPerElement)
        capacity = count
        pointer = AlignedBuffer.allocateZeroed(capacity)
    }
}

/// float32 activations and workspaces.
public typealias FloatBuffer = AlignedBuffer<Float>

extension AlignedBuffer where Element == Float {
    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    public func zero(_ count: Int) { pointer.update(repeating: 0, count: count) }

    public func array(_ count: Int) -> [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}
