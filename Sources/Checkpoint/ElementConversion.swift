/// Widening stored elements to float32. Sources may be unaligned (legacy files put storages
/// right after an 8-byte count at any offset), so every load is an unaligned load.
enum ElementConversion {
    static func convert(_ dtype: DType, from source: UnsafeRawPointer, count: Int,
                        into destination: UnsafeMutableBufferPointer<Float>) {
        guard count > 0, let output = destination.baseAddress else { return }
        switch dtype {
        case .float32:
            UnsafeMutableRawPointer(output).copyMemory(from: source, byteCount: count * 4)
            #if _endian(big)
            for index in 0..<count { output[index] = Float(bitPattern: UInt32(littleEndian: output[index].bitPattern)) }
            #endif
        case .float16:
            for index in 0..<count {
                output[index] = HalfPrecision.float(fromFloat16Bits: load(UInt16.self, source, index))
            }
        case .bfloat16:
            for index in 0..<count {
                output[index] = HalfPrecision.float(fromBFloat16Bits: load(UInt16.self, source, index))
            }
        default:
            for index in 0..<count { output[index] = element(dtype, at: source + index * dtype.byteSize) }
        }
    }

    static func element(_ dtype: DType, at address: UnsafeRawPointer) -> Float {
        switch dtype {
        case .float32: return Float(bitPattern: load(UInt32.self, address, 0))
        case .float16: return HalfPrecision.float(fromFloat16Bits: load(UInt16.self, address, 0))
        case .bfloat16: return HalfPrecision.float(fromBFloat16Bits: load(UInt16.self, address, 0))
        case .float64: return Float(Double(bitPattern: load(UInt64.self, address, 0)))
        case .int64: return Float(Int64(bitPattern: load(UInt64.self, address, 0)))
        case .int32: return Float(Int32(bitPattern: load(UInt32.self, address, 0)))
        case .int16: return Float(Int16(bitPattern: load(UInt16.self, address, 0)))
        case .int8: return Float(Int8(bitPattern: load(UInt8.self, address, 0)))
        case .uint8: return Float(load(UInt8.self, address, 0))
        case .bool: return load(UInt8.self, address, 0) != 0 ? 1 : 0
        }
    }

    @inline(__always)
    private static func load<T: FixedWidthInteger>(_ type: T.Type, _ base: UnsafeRawPointer, _ index: Int) -> T {
        T(littleEndian: base.loadUnaligned(fromByteOffset: index * MemoryLayout<T>.size, as: T.self))
    }
}
