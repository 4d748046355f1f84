/// Element types a checkpoint may store. Only the floating types feed a model; the
/// others are reported so callers can skip buffers such as `position_ids` (int64).
public enum DType: String, Sendable, CaseIterable {
    case float32, float16, bfloat16, float64, int64, int32, int16, int8, uint8, bool

    public var byteSize: Int {
        switch self {
        case .float64, .int64: return 8
        case .float32, .int32: return 4
        case .float16, .bfloat16, .int16: return 2
        case .int8, .uint8, .bool: return 1
        }
    }

    public var isFloatingPoint: Bool {
        switch self {
        case .float32, .float16, .bfloat16, .float64: return true
        default: return false
        }
    }

    /// The dtype string of the safetensors header ("F32", "BF16", ...).
    public var safetensorsName: String {
        switch self {
        case .float32: return "F32"
        case .float16: return "F16"
        case .bfloat16: return "BF16"
        case .float64: return "F64"
        case .int64: return "I64"
        case .int32: return "I32"
        case .int16: return "I16"
        case .int8: return "I8"
        case .uint8: return "U8"
        case .bool: return "BOOL"
        }
    }

    init?(safetensorsName: String) {
        guard let match = DType.allCases.first(where: { $0.safetensorsName == safetensorsName }) else { return nil }
        self = match
    }

    /// The dtype of a `torch.<Name>Storage` class; `UntypedStorage` holds raw bytes.
    init?(torchStorageName name: String) {
        switch name {
        case "FloatStorage": self = .float32
        case "HalfStorage": self = .float16
        case "BFloat16Storage": self = .bfloat16
        case "DoubleStorage": self = .float64
        case "LongStorage": self = .int64
        case "IntStorage": self = .int32
        case "ShortStorage": self = .int16
        case "CharStorage": self = .int8
        case "ByteStorage", "UntypedStorage": self = .uint8
        case "BoolStorage": self = .bool
        default: return nil
        }
    }

    /// The dtype of a `torch.<name>` dtype object, as newer pickles may reference them.
    init?(torchDTypeName name: String) {
        switch name {
        case "float32", "float": self = .float32
        case "float16", "half": self = .float16
        case "bfloat16": self = .bfloat16
        case "float64", "double": self = .float64
        case "int64", "long": self = .int64
        case "int32", "int": self = .int32
        case "int16", "short": self = .int16
        case "int8": self = .int8
        case "uint8": self = .uint8
        case "bool": self = .bool
        default: return nil
        }
    }
}

/// The container formats `CheckpointArchive` reads.
public enum CheckpointFormat: String, Sendable {
    /// Hugging Face safetensors.
    case safetensors
    /// `torch.save` since PyTorch 1.6: a zip archive holding `data.pkl` and one entry per storage.
    case torchZip
    /// `torch.save` before PyTorch 1.6 (or `_use_new_zipfile_serialization=False`): pickles then raw storages.
    case torchLegacy

    var displayName: String {
        switch self {
        case .safetensors: return "safetensors"
        case .torchZip: return "PyTorch (zip)"
        case .torchLegacy: return "PyTorch (legacy)"
        }
    }
}

/// Name, element type and shape of one stored tensor.
public struct TensorInfo: Sendable, Equatable {
    public let name: String
    public let dtype: DType
    public let shape: [Int]

    public var elementCount: Int { shape.reduce(1, *) }
}
