/// Where one tensor's elements lie in the checkpoint bytes. Built only after every
/// element has been checked to fall inside the file.
struct TensorLayout {
    let info: TensorInfo
    /// Byte offset of element 0 in the `ByteStore`.
    let byteOffset: Int
    /// Element strides (row-major order of `info.shape`), or nil when contiguous.
    let strides: [Int]?
    let elementCount: Int

    /// Validates the tensor against the `available` bytes that start at `byteOffset`.
    /// `strides` equal to the contiguous ones are normalised to nil.
    init(name: String, dtype: DType, shape: [Int], strides: [Int]?, byteOffset: Int, availableBytes: Int,
         format: CheckpointFormat) throws {
        func fail(_ detail: String) -> CheckpointError {
            .malformed(format: format, detail: "tensor '\(name)': \(detail)")
        }
        guard let count = TensorLayout.elementCount(of: shape) else {
            throw fail("shape \(shape) has a negative or overflowing size")
        }
        var layoutStrides = strides
        if let given = strides {
            guard given.count == shape.count else {
                throw fail("shape \(shape) has \(shape.count) dimensions but strides \(given) have \(given.count)")
            }
            guard given.allSatisfy({ $0 >= 0 }) else { throw fail("negative strides \(given)") }
            if TensorLayout.isContiguous(shape: shape, strides: given) { layoutStrides = nil }
        }
        // Elements needed from the start: the last index reached plus one (0 when empty).
        var span = count == 0 ? 0 : 1
        if count > 0 {
            if let given = layoutStrides {
                for (size, stride) in zip(shape, given) {
                    let (step, overflow1) = (size - 1).multipliedReportingOverflow(by: stride)
                    let (sum, overflow2) = span.addingReportingOverflow(step)
                    guard !overflow1, !overflow2 else { throw fail("strides \(given) overflow") }
                    span = sum
                }
            } else {
                span = count
            }
        }
        let (neededBytes, overflow) = span.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow, byteOffset >= 0, availableBytes >= 0, neededBytes <= availableBytes else {
            throw fail("needs \(span) \(dtype.rawValue) elements but its storage holds only "
                + "\(max(availableBytes, 0) / dtype.byteSize)")
        }
        self.info = TensorInfo(name: name, dtype: dtype, shape: shape)
        self.byteOffset = byteOffset
        self.strides = layoutStrides
        self.elementCount = count
    }

    /// Product of the dimensions, or nil for negative sizes or overflow.
    static func elementCount(of shape: [Int]) -> Int? {
        var count = 1
        for size in shape {
            guard size >= 0 else { return nil }
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow else { return nil }
            count = product
        }
        return count
    }

    /// Row-major strides; dimensions of size 1 may carry any stride.
    static func isContiguous(shape: [Int], strides: [Int]) -> Bool {
        var expected = 1
        for (size, stride) in zip(shape, strides).reversed() {
            if size != 1 && stride != expected { return false }
            expected &*= size
        }
        return true
    }
}
