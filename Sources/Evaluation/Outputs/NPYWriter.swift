import Foundation

/// The element types we write to `.npy`, by their NumPy `descr`.
public enum NPYDType: String, Sendable {
    case float64 = "<f8", float32 = "<f4", bool = "|b1", int64 = "<i8"
}

/// A C-order array ready for NumPy's `.npy` format (version 1.0).
public struct NPYArray: Sendable, Equatable {
    public let dtype: NPYDType
    /// `[]` is a 0-d array (a scalar, as `np.save(path, 0.5)` writes).
    public let shape: [Int]
    /// Little-endian element bytes in C order.
    public let payload: [UInt8]

    public init(float64 values: [Double], shape: [Int]? = nil) throws {
        try self.init(.float64, values.count, shape, values.flatMap { littleEndianBytes($0.bitPattern) })
    }

    public init(float32 values: [Float], shape: [Int]? = nil) throws {
        try self.init(.float32, values.count, shape, values.flatMap { littleEndianBytes($0.bitPattern) })
    }

    public init(bool values: [Bool], shape: [Int]? = nil) throws {
        try self.init(.bool, values.count, shape, values.map { $0 ? 1 : 0 })
    }

    public init(int64 values: [Int], shape: [Int]? = nil) throws {
        try self.init(.int64, values.count, shape, values.flatMap { littleEndianBytes(UInt64(bitPattern: Int64($0))) })
    }

    private init(_ dtype: NPYDType, _ count: Int, _ shape: [Int]?, _ payload: [UInt8]) throws {
        let shape = shape ?? [count]
        guard shape.reduce(1, *) == count, shape.allSatisfy({ $0 >= 0 }) else {
            throw EvaluationError.mismatchedInput("\(count) values cannot have the .npy shape \(shape)")
        }
        self.dtype = dtype
        self.shape = shape
        self.payload = payload
    }

    /// The file bytes, with the header NumPy 2 writes: the dict with sorted keys,
    /// spare spaces for growing the first axis, padded with spaces and a newline
    /// so the data starts at a multiple of 64 bytes.
    public var fileBytes: [UInt8] {
        let shapeText: String
        switch shape.count {
        case 0: shapeText = "()"
        case 1: shapeText = "(\(shape[0]),)"
        default: shapeText = "(" + shape.map(String.init).joined(separator: ", ") + ")"
        }
        var header = "{'descr': '\(dtype.rawValue)', 'fortran_order': False, 'shape': \(shapeText), }"
        // NumPy's GROWTH_AXIS_MAX_DIGITS (21) room to rewrite the first dimension in place.
        if let first = shape.first { header += String(repeating: " ", count: max(0, 21 - String(first).count)) }
        let magicAndLength = 10
        let padding = (64 - (magicAndLength + header.utf8.count + 1) % 64) % 64
        header += String(repeating: " ", count: padding) + "\n"
        let length = UInt16(header.utf8.count)
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(length & 0xff), UInt8(length >> 8)]
            + Array(header.utf8) + payload
    }

    public func write(to url: URL) throws {
        do {
            try Data(fileBytes).write(to: url, options: .atomic)
        } catch {
            throw EvaluationError.outputFailed(path: url.path, reason: error.localizedDescription)
        }
    }
}

private func littleEndianBytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.littleEndian) { Array($0) }
}
