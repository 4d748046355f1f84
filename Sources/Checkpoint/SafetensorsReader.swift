import Foundation

/// Reads the header of a safetensors file: an 8-byte little-endian header length, a JSON
/// object `{name: {dtype, shape, data_offsets}, "__metadata__": {...}}`, then the data.
/// Offsets are relative to the end of the header.
enum SafetensorsReader {
    /// Headers larger than this are refused: real ones are a few hundred kilobytes.
    static let maximumHeaderBytes = 100 * 1024 * 1024

    /// True when the bytes start like a safetensors file (sane length, then '{').
    static func looksLikeSafetensors(_ file: ByteView) -> Bool {
        guard file.count > 9, let length = try? file.uint64(at: 0), length >= 2,
              length <= UInt64(min(maximumHeaderBytes, file.count - 8)),
              let first = try? file.byte(at: 8) else { return false }
        return first == UInt8(ascii: "{")
    }

    static func read(_ file: ByteView) throws -> (tensors: [TensorLayout], metadata: [String: String]) {
        let format = CheckpointFormat.safetensors
        let declaredLength = try file.uint64(at: 0)
        guard declaredLength <= UInt64(maximumHeaderBytes) else {
            throw CheckpointError.malformed(format: format, detail: "header length \(declaredLength) is over the "
                + "\(maximumHeaderBytes)-byte limit")
        }
        let headerLength = Int(declaredLength)
        let header = try file.slice(offset: 8, length: headerLength, "the JSON header")
        let dataStart = 8 + headerLength
        let dataBytes = file.count - dataStart

        let json = Data(bytes: header.base, count: header.count)
        let entries: [String: HeaderEntry]
        do {
            entries = try JSONDecoder().decode([String: HeaderEntry].self, from: json)
        } catch {
            throw CheckpointError.malformed(format: format, detail: "the JSON header does not parse as "
                + "{name: {dtype, shape, data_offsets}}: \(Self.summary(of: error))")
        }

        var tensors: [TensorLayout] = []
        var metadata: [String: String] = [:]
        for (name, entry) in entries {
            switch entry {
            case let .metadata(values):
                guard name == "__metadata__" else {
                    throw CheckpointError.malformed(format: format, detail: "entry '\(name)' is not a tensor")
                }
                metadata = values
            case let .tensor(dtypeName, shape, offsets):
                guard name != "__metadata__" else {
                    throw CheckpointError.malformed(format: format, detail: "__metadata__ must map strings to strings")
                }
                guard let dtype = DType(safetensorsName: dtypeName) else {
                    throw CheckpointError.unsupported("tensor '\(name)' has dtype \(dtypeName); supported: "
                        + DType.allCases.map(\.safetensorsName).joined(separator: ", "))
                }
                guard offsets.count == 2, offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= dataBytes else {
                    throw CheckpointError.malformed(format: format, detail: "tensor '\(name)' has data_offsets "
                        + "\(offsets) outside the \(dataBytes) data bytes")
                }
                let length = offsets[1] - offsets[0]
                let layout = try TensorLayout(name: name, dtype: dtype, shape: shape, strides: nil,
                                              byteOffset: dataStart + offsets[0], availableBytes: length,
                                              format: format)
                guard layout.elementCount * dtype.byteSize == length else {
                    throw CheckpointError.malformed(format: format, detail: "tensor '\(name)' spans \(length) bytes "
                        + "but shape \(shape) of \(dtypeName) needs \(layout.elementCount * dtype.byteSize)")
                }
                tensors.append(layout)
            }
        }
        return (tensors, metadata)
    }

    private static func summary(of error: Error) -> String {
        switch error {
        case let DecodingError.dataCorrupted(context): return context.debugDescription
        case let DecodingError.keyNotFound(key, context):
            return "missing '\(key.stringValue)' at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        case let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context):
            return "wrong type at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        default: return "\(error)"
        }
    }

    /// One value of the header object: a tensor description or the string metadata.
    private enum HeaderEntry: Decodable {
        case tensor(dtype: String, shape: [Int], offsets: [Int])
        case metadata([String: String])

        private enum Keys: String, CodingKey { case dtype, shape, data_offsets }

        init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: Keys.self)
            if container.contains(.dtype) {
                self = .tensor(dtype: try container.decode(String.self, forKey: .dtype),
                               shape: try container.decode([Int].self, forKey: .shape),
                               offsets: try container.decode([Int].self, forKey: .data_offsets))
            } else {
                self = .metadata(try decoder.singleValueContainer().decode([String: String].self))
            }
        }
    }
}
