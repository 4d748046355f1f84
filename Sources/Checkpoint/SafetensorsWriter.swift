import Foundation

/// Writes float tensors as a safetensors file that Hugging Face tools read back. Tensors
/// are laid out in name order; the header is padded with spaces to a multiple of 8 bytes
/// so every tensor starts aligned, as the reference implementation does.
public enum SafetensorsWriter {
    /// Element types the writer can produce from float32 values.
    public static let writableTypes: [DType] = [.float32, .float16, .bfloat16]

    /// The bytes of a safetensors file holding `tensors` (name -> row-major shape and values),
    /// narrowed to `dtype` with round-to-nearest-even when it is float16 or bfloat16.
    public static func serialize(_ tensors: [String: (shape: [Int], values: [Float])], dtype: DType = .float32,
                                 metadata: [String: String] = [:]) throws -> [UInt8] {
        guard writableTypes.contains(dtype) else {
            throw CheckpointError.invalidTensorForWriting(name: "*", detail: "dtype \(dtype.rawValue) is not one of "
                + writableTypes.map(\.rawValue).joined(separator: ", "))
        }
        let names = tensors.keys.sorted()
        var entries: [String] = []
        var offset = 0
        for name in names {
            guard let tensor = tensors[name] else { continue }
            guard !name.isEmpty, name != "__metadata__" else {
                throw CheckpointError.invalidTensorForWriting(name: name, detail: "reserved or empty name")
            }
            guard let count = TensorLayout.elementCount(of: tensor.shape), count == tensor.values.count else {
                throw CheckpointError.invalidTensorForWriting(name: name, detail: "shape \(tensor.shape) does not "
                    + "hold \(tensor.values.count) values")
            }
            let length = count * dtype.byteSize
            let shapeText = tensor.shape.map(String.init).joined(separator: ",")
            entries.append("\(jsonString(name)):{\"dtype\":\"\(dtype.safetensorsName)\",\"shape\":[\(shapeText)],"
                + "\"data_offsets\":[\(offset),\(offset + length)]}")
            offset += length
        }
        if !metadata.isEmpty {
            let fields = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0] ?? ""))" }
            entries.insert("\"__metadata__\":{\(fields.joined(separator: ","))}", at: 0)
        }
        var header = Array("{\(entries.joined(separator: ","))}".utf8)
        while header.count % 8 != 0 { header.append(UInt8(ascii: " ")) }

        var bytes: [UInt8] = []
        bytes.reserveCapacity(8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: header)
        for name in names {
            guard let values = tensors[name]?.values else { continue }
            append(values, as: dtype, to: &bytes)
        }
        return bytes
    }

    /// Writes the file atomically (a temporary file renamed into place).
    public static func write(_ tensors: [String: (shape: [Int], values: [Float])], to url: URL,
                             dtype: DType = .float32, metadata: [String: String] = [:]) throws {
        let bytes = try serialize(tensors, dtype: dtype, metadata: metadata)
        do {
            try Data(bytes).write(to: url, options: .atomic)
        } catch {
            throw CheckpointError.writeFailed(path: url.path, reason: error.localizedDescription)
        }
    }

    private static func append(_ values: [Float], as dtype: DType, to bytes: inout [UInt8]) {
        switch dtype {
        case .float16:
            for value in values { appendLittleEndian(HalfPrecision.float16Bits(from: value), to: &bytes) }
        case .bfloat16:
            for value in values { appendLittleEndian(HalfPrecision.bfloat16Bits(from: value), to: &bytes) }
        default:
            for value in values { appendLittleEndian(value.bitPattern, to: &bytes) }
        }
    }

    private static func appendLittleEndian<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped.
    static func jsonString(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
